package driftprocessor

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr string
	}{
		{
			id: component.NewID(typ),
			want: &Config{IntentFile: "testdata/intent.yaml", ReloadInterval: 30 * time.Second, Annotate: AnnotateDrift,
				Pairing:   PairingConfig{TTL: 30 * time.Second, MaxPending: 100_000, WholeTraces: true},
				Behaviour: BehaviourConfig{Window: 5 * time.Minute, MinCalls: 20, MaxEdges: 1000}, BaselineStaleAfter: 24 * time.Hour,
				Absence: AbsenceConfig{Window: 24 * time.Hour, MinCallerCalls: 100}, Learn: LearnConfig{Interval: time.Minute}},
		},
		{
			id: component.NewIDWithName(typ, "custom"),
			want: &Config{IntentFile: "testdata/intent.yaml", ReloadInterval: 0, Annotate: AnnotateAll,
				Pairing:   PairingConfig{TTL: 5 * time.Second, MaxPending: 10, WholeTraces: false},
				Behaviour: BehaviourConfig{Window: time.Minute, MinCalls: 5, MaxEdges: 10}, BaselineStaleAfter: 24 * time.Hour,
				Absence: AbsenceConfig{Window: 24 * time.Hour, MinCallerCalls: 100}, Learn: LearnConfig{Interval: time.Minute}},
		},
		{id: component.NewIDWithName(typ, "no_intent"), wantErr: "intent_file: required"},
		{id: component.NewIDWithName(typ, "bad_annotate"), wantErr: `annotate: "some" is not one of drift, all, none`},
		{id: component.NewIDWithName(typ, "bad_pairing"), wantErr: "pairing.ttl: must be positive"},
		{id: component.NewIDWithName(typ, "negative_reload"), wantErr: "reload_interval: must not be negative"},
		{id: component.NewIDWithName(typ, "bad_behaviour"), wantErr: "behaviour.min_calls: must be at least 1"},
		{id: component.NewIDWithName(typ, "broken_intent"), wantErr: "testdata/broken-intent.yaml:4: services.frontend.depends_on[0]: depends on \"cart\""},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				require.Error(t, err)
				require.True(t, strings.Contains(err.Error(), tt.wantErr), "error %q lacks %q", err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, cfg)
		})
	}
}

func TestUnknownConfigKey(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	err := confmap.NewFromStringMap(map[string]any{"intent_fle": "x"}).Unmarshal(cfg)
	require.ErrorContains(t, err, "intent_fle")
}

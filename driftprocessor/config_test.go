package driftprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/absence"
	"github.com/driftprocessor/driftprocessor/internal/ancestry"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	defaults := func(change func(*Config)) *Config {
		cfg := createDefaultConfig().(*Config)
		cfg.IntentFile = "testdata/intent.yaml"
		change(cfg)
		return cfg
	}

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr error  // a sentinel the error wraps
		wantMsg string // or, for errors of the intent or baseline file, the message's file:line: key
	}{
		{
			id: component.NewID(typ),
			want: &Config{IntentFile: "testdata/intent.yaml", ReloadInterval: 30 * time.Second, Annotate: AnnotateDrift,
				Pairing:  PairingConfig{TTL: 30 * time.Second, MaxPending: 100_000, WholeTraces: true},
				Paths:    PathsConfig{MaxTraces: 20_000, MaxSpans: 200_000, TTL: 30 * time.Second},
				Behavior: BehaviorConfig{Window: 5 * time.Minute, MinCalls: 20, MaxEdges: 1000}, BaselineStaleAfter: 24 * time.Hour,
				Absence: AbsenceConfig{Window: 24 * time.Hour, MinCallerCalls: 100}, Learn: LearnConfig{Interval: time.Minute},
				MaxSeries: 1900, MaxOutsideNames: 200},
		},
		{
			id: component.NewIDWithName(typ, "custom"), // spells behavior the deprecated way
			want: &Config{IntentFile: "testdata/intent.yaml", ReloadInterval: 0, Annotate: AnnotateAll,
				Pairing:  PairingConfig{TTL: 5 * time.Second, MaxPending: 10, WholeTraces: false},
				Paths:    PathsConfig{MaxTraces: 100, MaxSpans: 5000, TTL: 10 * time.Second},
				Behavior: BehaviorConfig{Window: time.Minute, MinCalls: 5, MaxEdges: 10}, BaselineStaleAfter: 24 * time.Hour,
				Absence: AbsenceConfig{Window: 24 * time.Hour, MinCallerCalls: 100}, Learn: LearnConfig{Interval: time.Minute},
				MaxSeries: 5000, MaxOutsideNames: 50, usedBehaviourKey: true},
		},
		{
			id:   component.NewIDWithName(typ, "behavior_key"),
			want: defaults(func(c *Config) { c.Behavior.Window = 2 * time.Minute }),
		},
		{id: component.NewIDWithName(typ, "no_intent"), wantErr: ErrNoIntentFile},
		{id: component.NewIDWithName(typ, "bad_annotate"), wantErr: ErrAnnotate},
		{id: component.NewIDWithName(typ, "bad_pairing"), wantErr: pairing.ErrTTL},
		{id: component.NewIDWithName(typ, "no_max_pending"), wantErr: pairing.ErrMaxPending},
		{id: component.NewIDWithName(typ, "no_max_traces"), wantErr: ancestry.ErrMaxTraces},
		{id: component.NewIDWithName(typ, "bad_paths_ttl"), wantErr: ancestry.ErrTTL},
		{id: component.NewIDWithName(typ, "whole_batches_of_partial_traces"), wantErr: pairing.ErrBatchesOfPartialTraces},
		{id: component.NewIDWithName(typ, "negative_reload"), wantErr: ErrReloadInterval},
		{id: component.NewIDWithName(typ, "bad_behaviour"), wantErr: behaviour.ErrMinCalls},
		{id: component.NewIDWithName(typ, "short_window"), wantErr: behaviour.ErrWindowTooShort},
		{id: component.NewIDWithName(typ, "no_max_edges"), wantErr: behaviour.ErrMaxEdges},
		{id: component.NewIDWithName(typ, "bad_learn_interval"), wantErr: ErrLearnInterval},
		{id: component.NewIDWithName(typ, "negative_absence_window"), wantErr: absence.ErrWindow},
		{id: component.NewIDWithName(typ, "negative_min_caller_calls"), wantErr: absence.ErrMinCallerCalls},
		{id: component.NewIDWithName(typ, "bad_stale_after"), wantErr: verdict.ErrBaselineStaleAfter},
		{id: component.NewIDWithName(typ, "few_series"), wantErr: ErrMaxSeries},
		{id: component.NewIDWithName(typ, "negative_outside_names"), wantErr: ErrMaxOutsideNames},
		{id: component.NewIDWithName(typ, "broken_intent"), wantMsg: "testdata/broken-intent.yaml:4: services.frontend.depends_on[0]: depends on \"cart\""},
		{id: component.NewIDWithName(typ, "broken_baseline"), wantMsg: "testdata/broken-baseline.yaml:3: accepted[0].kind: \"forbidden_dependnecy\" is not a drift kind"},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			switch {
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
			case tt.wantMsg != "":
				require.ErrorContains(t, err, tt.wantMsg)
			default:
				require.NoError(t, err)
				require.Equal(t, tt.want, cfg)
			}
		})
	}
}

// Both spellings of behavior at once: which one is meant cannot be told.
func TestBothBehaviorKeys(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(typ, "both_behavior_keys").String())
	require.NoError(t, err)
	require.ErrorContains(t, sub.Unmarshal(NewFactory().CreateDefaultConfig()), "behaviour: set together with behavior")
}

// The deprecated spelling is read, and said once at start.
func TestDeprecatedBehaviourKeyWarns(t *testing.T) {
	cfg := testConfig(shopIntent)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"behaviour": map[string]any{"min_calls": 3}}).Unmarshal(cfg))
	require.Equal(t, 3, cfg.Behavior.MinCalls)
	require.Equal(t, 1000, cfg.Behavior.MaxEdges, "the section's other defaults stay")
	core, logs := observer.New(zap.WarnLevel)
	newHarnessLogging(t, cfg, componenttest.NewNopHost(), harnessEpoch, zap.New(core))
	require.Equal(t, 1, logs.FilterMessageSnippet("`behaviour` is deprecated").Len())
}

func TestUnknownConfigKey(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	err := confmap.NewFromStringMap(map[string]any{"intent_fle": "x"}).Unmarshal(cfg)
	require.ErrorContains(t, err, "intent_fle")
}

package driftconnector

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/driftprocessor/driftprocessor/internal/absence"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	with := func(change func(*Config)) *Config {
		cfg := createDefaultConfig().(*Config)
		change(cfg)
		return cfg
	}
	tests := []struct {
		name    string
		want    *Config
		wantErr error  // a sentinel the error wraps
		wantMsg string // or, for a broken intent or baseline, the message's file:line: key
	}{
		{name: "", want: with(func(c *Config) { c.IntentFile = "../testdata/online-boutique/intent.yaml" })},
		{name: "custom", want: with(func(c *Config) {
			c.IntentFile, c.BaselineFile, c.ReloadInterval = "../testdata/parity/intent.yaml", "../testdata/parity/baseline.yaml", 0
			c.Pairing = PairingConfig{TTL: 5 * time.Second, MaxPending: 10, WholeTraces: false}
			c.Behavior = BehaviorConfig{Window: time.Minute, MinCalls: 5, MaxEdges: 10}
			c.Absence = AbsenceConfig{Window: time.Hour, MinCallerCalls: 3}
			c.FlushInterval, c.Dimensions = time.Second, []string{"deployment.environment.name"}
		})},
		{name: "stamped", want: with(func(c *Config) { c.Mode = ModeStamped })},
		{name: "bad_mode", wantErr: ErrMode},
		{name: "no_intent", wantErr: ErrNoIntentFile},
		{name: "stamped_with_intent", wantErr: ErrFilesInStampedMode},
		{name: "stamped_with_baseline", wantErr: ErrFilesInStampedMode},
		{name: "bad_stale_after", wantErr: verdict.ErrBaselineStaleAfter},
		{name: "bad_pairing", wantErr: pairing.ErrTTL},
		{name: "bad_behavior", wantErr: behaviour.ErrMinCalls},
		{name: "bad_absence", wantErr: absence.ErrMinCallerCalls},
		{name: "negative_reload", wantErr: ErrReloadInterval},
		{name: "no_flush", wantErr: ErrFlushInterval},
		{name: "negative_expiration", wantErr: ErrExpiration},
		{name: "no_series", wantErr: ErrMaxSeries},
		{name: "bounds_out_of_order", wantErr: ErrBoundsOrder},
		{name: "exponential_too_small", wantErr: ErrHistogramMaxSize},
		{name: "broken_intent", wantMsg: "broken-intent.yaml:4: services.frontend.depends_on[0]"},
		{name: "broken_baseline", wantMsg: "broken-baseline.yaml:3: accepted[0].kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(typ, tt.name).String())
			require.NoError(t, err)
			cfg := NewFactory().CreateDefaultConfig()
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

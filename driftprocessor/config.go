package driftprocessor

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Annotate modes.
const (
	AnnotateDrift = "drift" // stamp drifting calls only
	AnnotateAll   = "all"   // stamp conforming calls too
	AnnotateNone  = "none"  // metrics only
)

// Config is the configuration of the drift processor.
type Config struct {
	// IntentFile is the path of the intent model. Required.
	IntentFile string `mapstructure:"intent_file"`
	// ReloadInterval is how often the intent file is re-read; 0 disables reloading.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`
	// Annotate chooses which judged calls get drift.* attributes: drift, all or none.
	Annotate string `mapstructure:"annotate"`
	// Pairing bounds the store of client and server spans waiting for their partner.
	Pairing PairingConfig `mapstructure:"pairing"`
	// Behaviour sets the windows that judge the `expect` blocks of the intent.
	Behaviour BehaviourConfig `mapstructure:"behaviour"`
	// Storage is a storage extension (such as file_storage) that keeps first-seen times, absence
	// watches and the learned model across restarts; without one they start afresh.
	Storage *component.ID `mapstructure:"storage"`
	// Learn writes the observed system as an intent model, merged with the current one.
	Learn LearnConfig `mapstructure:"learn"`
	// Absence notices declared and required dependencies that stop happening.
	Absence AbsenceConfig `mapstructure:"absence"`
	// BaselineFile lists accepted drift: calls it matches are stamped drift.status = known.
	// Optional; re-read every reload_interval like the intent.
	BaselineFile string `mapstructure:"baseline_file"`
	// BaselineStaleAfter reports a baseline entry as stale when nothing has matched it for this long.
	BaselineStaleAfter time.Duration `mapstructure:"baseline_stale_after"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DefaultPairingConfig is the pairing section's defaults, shared with the drift connector.
func DefaultPairingConfig() PairingConfig {
	return PairingConfig{TTL: 30 * time.Second, MaxPending: 100_000, WholeTraces: true}
}

// PairingConfig bounds the pairing store.
type PairingConfig struct {
	// TTL is how long a span waits for its partner before its call is judged without it: at least
	// the TTL, at most a quarter more.
	TTL time.Duration `mapstructure:"ttl"`
	// MaxPending is the most spans that wait at once; beyond it, the oldest is judged early.
	MaxPending int `mapstructure:"max_pending"`
	// WholeTraces says whether both sides of every call reach this collector (a gateway behind a
	// trace-id-aware load balancer, or a single collector). Set it to false in a sidecar or an agent:
	// a span whose partner never comes is then counted as unresolved instead of being judged.
	WholeTraces bool `mapstructure:"whole_traces"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// BehaviourConfig sets the windows of behaviour drift.
type BehaviourConfig struct {
	// Window is the sliding window of the p99 latency and the error rate.
	Window time.Duration `mapstructure:"window"`
	// MinCalls is how many calls a window needs before it may be judged.
	MinCalls int `mapstructure:"min_calls"`
	// MaxEdges bounds the edges that have a window; beyond, calls are judged one by one only.
	MaxEdges int `mapstructure:"max_edges"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// LearnConfig sets learn mode.
type LearnConfig struct {
	// Output is the file the observed model is written to (atomically); empty disables learn mode.
	Output string `mapstructure:"output"`
	// Interval is how often it is written (and once more at shutdown).
	Interval time.Duration `mapstructure:"interval"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// AbsenceConfig sets how absence is noticed.
type AbsenceConfig struct {
	// Window: a dependency not observed for this long is absent; 0 disables absence.
	Window time.Duration `mapstructure:"window"`
	// MinCallerCalls: ... but only when its caller made at least this many calls in the window.
	MinCallerCalls int `mapstructure:"min_caller_calls"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks the configuration, and loads the intent file so that `otelcol validate` reports a
// broken intent with its file, line and key.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.IntentFile == "" {
		errs = append(errs, errors.New("intent_file: required"))
	}
	if cfg.ReloadInterval < 0 {
		errs = append(errs, fmt.Errorf("reload_interval: must not be negative, got %s", cfg.ReloadInterval))
	}
	switch cfg.Annotate {
	case AnnotateDrift, AnnotateAll, AnnotateNone:
	default:
		errs = append(errs, fmt.Errorf("annotate: %q is not one of drift, all, none", cfg.Annotate))
	}
	if cfg.Pairing.TTL <= 0 {
		errs = append(errs, fmt.Errorf("pairing.ttl: must be positive, got %s", cfg.Pairing.TTL))
	}
	if cfg.Pairing.MaxPending <= 0 {
		errs = append(errs, fmt.Errorf("pairing.max_pending: must be positive, got %d", cfg.Pairing.MaxPending))
	}
	if cfg.Behaviour.Window < 6*time.Millisecond {
		errs = append(errs, fmt.Errorf("behaviour.window: must be at least 6ms, got %s", cfg.Behaviour.Window))
	}
	if cfg.Behaviour.MinCalls < 1 {
		errs = append(errs, fmt.Errorf("behaviour.min_calls: must be at least 1, got %d", cfg.Behaviour.MinCalls))
	}
	if cfg.Behaviour.MaxEdges < 1 {
		errs = append(errs, fmt.Errorf("behaviour.max_edges: must be at least 1, got %d", cfg.Behaviour.MaxEdges))
	}
	if cfg.IntentFile != "" {
		if _, _, err := intent.Load(cfg.IntentFile); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.BaselineFile != "" {
		if _, _, err := intent.LoadBaseline(cfg.BaselineFile); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.Learn.Output != "" && cfg.Learn.Interval <= 0 {
		errs = append(errs, fmt.Errorf("learn.interval: must be positive, got %s", cfg.Learn.Interval))
	}
	if cfg.Absence.Window < 0 || cfg.Absence.MinCallerCalls < 0 {
		errs = append(errs, fmt.Errorf("absence: window and min_caller_calls must not be negative"))
	}
	if cfg.BaselineStaleAfter <= 0 {
		errs = append(errs, fmt.Errorf("baseline_stale_after: must be positive, got %s", cfg.BaselineStaleAfter))
	}
	return errors.Join(errs...)
}

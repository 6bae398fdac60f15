package driftprocessor

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/driftprocessor/driftprocessor/internal/absence"
	"github.com/driftprocessor/driftprocessor/internal/ancestry"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/configkeys"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

// Annotate modes.
const (
	AnnotateDrift = "drift" // stamp drifting calls only
	AnnotateAll   = "all"   // stamp conforming calls too
	AnnotateNone  = "none"  // metrics only
)

// The sections the processor shares with the drift connector, defined once in the engine's packages
// (as memorylimiterprocessor aliases internal/memorylimiter.Config).
type (
	// PairingConfig bounds the store of client and server spans waiting for their partner.
	PairingConfig = pairing.Config
	// PathsConfig bounds the spans kept per trace for the intent's path rules.
	PathsConfig = ancestry.Config
	// BehaviorConfig sets the windows that judge the intent's expect blocks.
	BehaviorConfig = behaviour.Config
	// AbsenceConfig sets how declared and required dependencies that stop happening are noticed.
	AbsenceConfig = absence.Config
)

// deprecatedBehaviourKey is the British spelling of `behavior`, read until it is removed.
const deprecatedBehaviourKey = "behaviour"

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
	// Paths bounds the spans kept per trace, so that the intent's path rules see a trace that comes
	// in several batches whole; unused with pairing.whole_batches.
	Paths PathsConfig `mapstructure:"paths"`
	// Behavior sets the windows that judge the `expect` blocks of the intent. The key `behaviour`
	// is read too, with a deprecation warning.
	Behavior BehaviorConfig `mapstructure:"behavior"`
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
	// MaxSeries bounds the series of each metric of the processor's own telemetry (and the first
	// sights remembered). Keep it below the cardinality limit of the collector's own telemetry (the
	// OpenTelemetry Go SDK's 2,000 by default, OTEL_GO_X_CARDINALITY_LIMIT to change it): a few
	// series more hold what is folded. At the bound, conforming series are folded before drifting
	// ones, and names outside the model get at most half.
	MaxSeries int `mapstructure:"max_series"`
	// MaxOutsideNames bounds the distinct names outside the model (from span data) that get a label
	// value of their own in that telemetry; the others are counted under `_other`.
	MaxOutsideNames int `mapstructure:"max_outside_names"`

	// usedBehaviourKey is set when the configuration spelt `behavior` the deprecated way.
	usedBehaviourKey bool
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

var (
	_ confmap.Validator   = (*Config)(nil)
	_ confmap.Unmarshaler = (*Config)(nil)
)

// Unmarshal reads the configuration, taking the deprecated key `behaviour` as `behavior`.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	conf, used, err := configkeys.Rename(conf, deprecatedBehaviourKey, "behavior")
	if err != nil {
		return err
	}
	if used { // conf.Unmarshal calls this again with the key renamed: remember the first answer
		cfg.usedBehaviourKey = true
	}
	return conf.Unmarshal(cfg)
}

// Errors of Validate.
var (
	ErrNoIntentFile    = errors.New("intent_file: required")
	ErrReloadInterval  = errors.New("reload_interval: must not be negative")
	ErrAnnotate        = errors.New("annotate: not one of drift, all, none")
	ErrLearnInterval   = errors.New("learn.interval: must be positive")
	ErrMaxSeries       = fmt.Errorf("max_series: must be at least %d", minSeries)
	ErrMaxOutsideNames = errors.New("max_outside_names: must not be negative")
)

// minSeries is the fewest series a metric may be given: a few for the model's edges, besides the
// folds.
const minSeries = 10

// Validate checks the configuration, and loads the intent file so that `otelcol validate` reports a
// broken intent with its file, line and key. The shared sections validate themselves.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.IntentFile == "" {
		errs = append(errs, ErrNoIntentFile)
	}
	if cfg.ReloadInterval < 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrReloadInterval, cfg.ReloadInterval))
	}
	switch cfg.Annotate {
	case AnnotateDrift, AnnotateAll, AnnotateNone:
	default:
		errs = append(errs, fmt.Errorf("%w: %q", ErrAnnotate, cfg.Annotate))
	}
	if cfg.Learn.Output != "" && cfg.Learn.Interval <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrLearnInterval, cfg.Learn.Interval))
	}
	if cfg.MaxSeries < minSeries {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMaxSeries, cfg.MaxSeries))
	}
	if cfg.MaxOutsideNames < 0 {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMaxOutsideNames, cfg.MaxOutsideNames))
	}
	errs = append(errs, verdict.CheckFiles(cfg.IntentFile, cfg.BaselineFile, cfg.BaselineStaleAfter))
	return errors.Join(errs...)
}

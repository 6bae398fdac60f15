package driftconnector

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/confmap"

	"github.com/driftprocessor/driftprocessor/internal/absence"
	"github.com/driftprocessor/driftprocessor/internal/ancestry"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

// Where verdicts come from.
const (
	// ModeJudge: the connector judges the calls itself, against intent_file.
	ModeJudge = "judge"
	// ModeStamped: the connector reads the drift.* attributes that a drift processor upstream
	// stamped (with annotate: all, so that conforming calls are counted too), and judges nothing.
	ModeStamped = "stamped"
)

// The sections the connector shares with the drift processor, defined once in the engine's packages.
type (
	PairingConfig  = pairing.Config
	PathsConfig    = ancestry.Config
	BehaviorConfig = behaviour.Config
	AbsenceConfig  = absence.Config
)

// Config is the configuration of the drift connector.
type Config struct {
	// Mode is judge (default) or stamped.
	Mode string `mapstructure:"mode"`
	// IntentFile is the intent model; required in judge mode.
	IntentFile string `mapstructure:"intent_file"`
	// ReloadInterval is how often the intent file is re-read in judge mode; 0 disables reloading.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`
	// Pairing bounds the store of spans waiting for their partner, in judge mode, as in the processor.
	Pairing PairingConfig `mapstructure:"pairing"`
	// Paths bounds the spans kept per trace for the intent's path rules, in judge mode, as in the
	// processor.
	Paths PathsConfig `mapstructure:"paths"`
	// Behavior sets the windows that judge the intent's expect blocks, in judge mode, as in the
	// processor.
	Behavior BehaviorConfig `mapstructure:"behavior"`
	// Absence notices declared and required dependencies that stop happening (logged), in judge mode.
	Absence AbsenceConfig `mapstructure:"absence"`
	// BaselineFile lists accepted drift, in judge mode: calls it matches are counted with
	// drift.status = known. Optional; re-read every reload_interval like the intent.
	BaselineFile string `mapstructure:"baseline_file"`
	// BaselineStaleAfter reports a baseline entry as stale when nothing has matched it for this long.
	BaselineStaleAfter time.Duration `mapstructure:"baseline_stale_after"`
	// FlushInterval is how often the metrics are sent on.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// Expiration drops series not updated for this long.
	Expiration time.Duration `mapstructure:"expiration"`
	// MaxSeries bounds the series; beyond it, new series fold into one marked otel.metric.overflow.
	MaxSeries int `mapstructure:"max_series"`
	// Dimensions are resource attributes copied onto every series, such as deployment.environment.name.
	Dimensions []string `mapstructure:"dimensions"`
	// Histogram sets the buckets of drift.call.duration.
	Histogram HistogramConfig `mapstructure:"histogram"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// HistogramConfig chooses explicit bucket bounds, or an exponential histogram.
type HistogramConfig struct {
	// Explicit bucket upper bounds, in increasing order.
	Explicit []time.Duration `mapstructure:"explicit"`
	// Exponential, when true, makes an exponential histogram instead, of MaxSize buckets.
	Exponential bool `mapstructure:"exponential"`
	MaxSize     int  `mapstructure:"max_size"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Errors of Validate.
var (
	ErrNoIntentFile       = errors.New("intent_file: required in judge mode")
	ErrFilesInStampedMode = errors.New("intent_file, baseline_file: not read in stamped mode (the processor upstream judges)")
	ErrMode               = errors.New("mode: not one of judge, stamped")
	ErrReloadInterval     = errors.New("reload_interval: must not be negative")
	ErrFlushInterval      = errors.New("flush_interval: must be positive")
	ErrExpiration         = errors.New("expiration: must not be negative")
	ErrMaxSeries          = errors.New("max_series: must be at least 1")
	ErrBoundsOrder        = errors.New("histogram.explicit: bounds must increase")
	ErrHistogramMaxSize   = errors.New("histogram.max_size: must be between 4 and 1024")
)

// Validate checks the configuration, and in judge mode loads the intent file.
func (cfg *Config) Validate() error {
	var errs []error
	switch cfg.Mode {
	case ModeJudge:
		if cfg.IntentFile == "" {
			errs = append(errs, ErrNoIntentFile)
		}
		errs = append(errs, verdict.CheckFiles(cfg.IntentFile, cfg.BaselineFile, cfg.BaselineStaleAfter))
	case ModeStamped:
		if cfg.IntentFile != "" || cfg.BaselineFile != "" {
			errs = append(errs, ErrFilesInStampedMode)
		}
	default:
		errs = append(errs, fmt.Errorf("%w: %q", ErrMode, cfg.Mode))
	}
	if cfg.ReloadInterval < 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrReloadInterval, cfg.ReloadInterval))
	}
	if cfg.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrFlushInterval, cfg.FlushInterval))
	}
	if cfg.Expiration < 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrExpiration, cfg.Expiration))
	}
	if cfg.MaxSeries < 1 {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMaxSeries, cfg.MaxSeries))
	}
	for i := 1; i < len(cfg.Histogram.Explicit); i++ {
		if cfg.Histogram.Explicit[i] <= cfg.Histogram.Explicit[i-1] {
			errs = append(errs, fmt.Errorf("%w, %s then %s", ErrBoundsOrder, cfg.Histogram.Explicit[i-1], cfg.Histogram.Explicit[i]))
			break
		}
	}
	if cfg.Histogram.Exponential && (cfg.Histogram.MaxSize < 4 || cfg.Histogram.MaxSize > 1024) {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrHistogramMaxSize, cfg.Histogram.MaxSize))
	}
	return errors.Join(errs...)
}

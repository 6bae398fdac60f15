package ancestry

import (
	"errors"
	"fmt"
	"time"
)

// Config is the `paths` section of the drift components' configuration: the bounds of the spans
// kept per trace, so that the path rules of a call whose trace came in several batches see the
// spans of the earlier ones. In whole-trace batches (pairing.whole_batches) nothing is kept: each
// batch holds its traces whole.
type Config struct {
	// MaxTraces is the most traces kept at once; beyond it, the trace seen least recently is
	// dropped (counted in drift.paths.evicted).
	MaxTraces int `mapstructure:"max_traces"`
	// MaxSpans is the most spans kept at once, over all traces; beyond it, traces are dropped as for
	// MaxTraces.
	MaxSpans int `mapstructure:"max_spans"`
	// TTL is how long a trace is kept after its last span came.
	TTL time.Duration `mapstructure:"ttl"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DefaultConfig is the section's defaults: about 19 MiB at most, at the 98 bytes per span kept that
// BenchmarkStoreBytesPerTrace measures (4.4 KiB for a trace of 46 spans).
func DefaultConfig() Config {
	return Config{MaxTraces: 20_000, MaxSpans: 200_000, TTL: 30 * time.Second}
}

// Errors of Validate.
var (
	ErrMaxTraces = errors.New("max_traces: must be positive")
	ErrMaxSpans  = errors.New("max_spans: must be positive")
	ErrTTL       = errors.New("ttl: must be positive")
)

// Validate checks the section.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxTraces <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMaxTraces, c.MaxTraces))
	}
	if c.MaxSpans <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMaxSpans, c.MaxSpans))
	}
	if c.TTL <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrTTL, c.TTL))
	}
	return errors.Join(errs...)
}

package behaviour

import (
	"errors"
	"fmt"
	"time"
)

// Config is the `behavior` section of the drift components' configuration: the windows that judge
// the intent's expect blocks. The processor and the connector alias it, so both judge alike.
type Config struct {
	// Window is the sliding window of the p99 latency and the error rate.
	Window time.Duration `mapstructure:"window"`
	// MinCalls is how many calls a window needs before it may be judged.
	MinCalls int `mapstructure:"min_calls"`
	// MaxEdges bounds the edges that have a window; beyond, calls are judged one by one only.
	MaxEdges int `mapstructure:"max_edges"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DefaultConfig is the section's defaults.
func DefaultConfig() Config {
	return Config{Window: 5 * time.Minute, MinCalls: 20, MaxEdges: 1000}
}

// minWindow is the shortest window: the window has slots of a millisecond at least.
const minWindow = slots * time.Millisecond

// Errors of Validate.
var (
	ErrWindowTooShort = fmt.Errorf("window: must be at least %s", minWindow)
	ErrMinCalls       = errors.New("min_calls: must be at least 1")
	ErrMaxEdges       = errors.New("max_edges: must be at least 1")
)

// Validate checks the section.
func (c *Config) Validate() error {
	var errs []error
	if c.Window < minWindow {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrWindowTooShort, c.Window))
	}
	if c.MinCalls < 1 {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMinCalls, c.MinCalls))
	}
	if c.MaxEdges < 1 {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMaxEdges, c.MaxEdges))
	}
	return errors.Join(errs...)
}

// Options are the tracker's options for this section, with calls grouped under one parent for
// siblingTTL (the pairing window).
func (c *Config) Options(siblingTTL time.Duration) Options {
	o := DefaultOptions
	o.Window, o.MinCalls, o.MaxEdges, o.SiblingTTL = c.Window, c.MinCalls, c.MaxEdges, siblingTTL
	return o
}

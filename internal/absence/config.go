package absence

import (
	"errors"
	"fmt"
	"time"
)

// Config is the `absence` section of the drift components' configuration: how declared and
// required dependencies that stop happening are noticed. The processor and the connector alias it.
type Config struct {
	// Window: a dependency not observed for this long is absent; 0 disables absence.
	Window time.Duration `mapstructure:"window"`
	// MinCallerCalls: ... but only when its caller made at least this many calls in the window.
	MinCallerCalls int `mapstructure:"min_caller_calls"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DefaultConfig is the section's defaults.
func DefaultConfig() Config {
	return Config{Window: 24 * time.Hour, MinCallerCalls: 100}
}

// Errors of Validate.
var (
	ErrWindow         = errors.New("window: must not be negative")
	ErrMinCallerCalls = errors.New("min_caller_calls: must not be negative")
)

// Validate checks the section.
func (c *Config) Validate() error {
	var errs []error
	if c.Window < 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrWindow, c.Window))
	}
	if c.MinCallerCalls < 0 {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMinCallerCalls, c.MinCallerCalls))
	}
	return errors.Join(errs...)
}

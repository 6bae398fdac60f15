package pairing

import (
	"errors"
	"fmt"
	"time"
)

// Config is the `pairing` section of the drift components' configuration. The processor and the
// connector alias it, so both pair alike.
type Config struct {
	// TTL is how long a span waits for its partner before its call is judged without it: at least
	// the TTL, at most a quarter more.
	TTL time.Duration `mapstructure:"ttl"`
	// MaxPending is the most spans that wait at once; beyond it, the oldest is judged early.
	MaxPending int `mapstructure:"max_pending"`
	// WholeTraces says whether both sides of every call reach this collector (a gateway behind a
	// trace-id-aware load balancer, or a single collector). Set it to false in a sidecar or an agent:
	// a span whose partner never comes is then counted as unresolved instead of being judged.
	WholeTraces bool `mapstructure:"whole_traces"`
	// WholeBatches says that each batch holds whole traces (after contrib's groupbytrace processor,
	// or anything that delivers a trace in one batch): every call is paired and judged in its batch
	// and stamped on its span, client spans to peers outside the model included; nothing waits
	// across batches.
	WholeBatches bool `mapstructure:"whole_batches"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DefaultConfig is the section's defaults.
func DefaultConfig() Config {
	return Config{TTL: 30 * time.Second, MaxPending: 100_000, WholeTraces: true}
}

// Errors of Validate.
var (
	ErrTTL                    = errors.New("ttl: must be positive")
	ErrMaxPending             = errors.New("max_pending: must be positive")
	ErrBatchesOfPartialTraces = errors.New("whole_batches: needs whole_traces (a batch of whole traces holds both sides of every call)")
)

// Validate checks the section.
func (c *Config) Validate() error {
	var errs []error
	if c.TTL <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrTTL, c.TTL))
	}
	if c.MaxPending <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %d", ErrMaxPending, c.MaxPending))
	}
	if c.WholeBatches && !c.WholeTraces {
		errs = append(errs, ErrBatchesOfPartialTraces)
	}
	return errors.Join(errs...)
}

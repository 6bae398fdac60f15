package driftview

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// Config configures the drift view extension.
type Config struct {
	// Endpoint is where the page is served: loopback by default, as zpages and pprof are.
	Endpoint string `mapstructure:"endpoint"`
	// TraceURL links each edge to its example trace: {trace_id} is replaced by its id.
	TraceURL string `mapstructure:"trace_url"`
	// CollapseAbove: with more nodes, each zone is drawn as one node.
	CollapseAbove int `mapstructure:"collapse_above"`
	// MaxNodes and MaxEdges bound what is drawn; MaxRows bounds what is remembered.
	MaxNodes int `mapstructure:"max_nodes"`
	MaxEdges int `mapstructure:"max_edges"`
	MaxRows  int `mapstructure:"max_rows"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must be set"))
	}
	if c.TraceURL != "" && !strings.Contains(c.TraceURL, "{trace_id}") {
		errs = append(errs, fmt.Errorf("trace_url: %q has no {trace_id} to replace", c.TraceURL))
	}
	if c.CollapseAbove < 0 {
		errs = append(errs, fmt.Errorf("collapse_above: must not be negative (0 never collapses), got %d", c.CollapseAbove))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"max_nodes", c.MaxNodes}, {"max_edges", c.MaxEdges}, {"max_rows", c.MaxRows}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %d", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}

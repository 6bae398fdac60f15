// Package driftview is the drift view extension: it serves the live reflexion map of the
// collector's drift processors, on loopback by default.
package driftview

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/driftprocessor/driftprocessor/driftview/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/reflexion"
)

// DefaultEndpoint is loopback, as zpages' and pprof's are: the map names every service.
const DefaultEndpoint = "localhost:55690"

// NewFactory returns the factory of the drift view extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	d := reflexion.DefaultOptions()
	return &Config{Endpoint: DefaultEndpoint, CollapseAbove: d.CollapseAbove, MaxNodes: d.MaxNodes, MaxEdges: d.MaxEdges, MaxRows: 10_000}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newView(cfg.(*Config), set.Logger), nil
}

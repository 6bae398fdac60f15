// Package driftconnector is the drift connector: it turns the calls of a traces pipeline into drift
// metrics for a metrics pipeline, judging them itself or reading the verdicts a drift processor
// stamped upstream.
package driftconnector

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/driftprocessor/driftprocessor/driftconnector/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/absence"
	"github.com/driftprocessor/driftprocessor/internal/ancestry"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
)

// NewFactory returns the factory of the drift connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		metadata.Type,
		createDefaultConfig,
		connector.WithTracesToMetrics(createTracesToMetrics, metadata.TracesToMetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Mode:               ModeJudge,
		ReloadInterval:     30 * time.Second,
		Pairing:            pairing.DefaultConfig(),
		Paths:              ancestry.DefaultConfig(),
		Behavior:           behaviour.DefaultConfig(),
		Absence:            absence.DefaultConfig(),
		BaselineStaleAfter: 24 * time.Hour,
		FlushInterval:      15 * time.Second,
		Expiration:         5 * time.Minute,
		MaxSeries:          10_000,
		Histogram: HistogramConfig{
			Explicit: []time.Duration{2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
				50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
				time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second},
			MaxSize: 160,
		},
	}
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return newConnector(set, cfg.(*Config), next)
}

// Package driftprocessor is the drift processor: it judges every call in the span stream against a
// declared intent model, stamps drift verdicts on spans and counts them in its own telemetry.
package driftprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/driftprocessor/driftprocessor/driftprocessor/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/absence"
	"github.com/driftprocessor/driftprocessor/internal/ancestry"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
	"github.com/driftprocessor/driftprocessor/internal/record"
)

// NewFactory returns the factory of the drift processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(createTraces, metadata.TracesStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		ReloadInterval:     30 * time.Second,
		Annotate:           AnnotateDrift,
		Pairing:            pairing.DefaultConfig(),
		Paths:              ancestry.DefaultConfig(),
		Behavior:           behaviour.DefaultConfig(),
		BaselineStaleAfter: 24 * time.Hour,
		Absence:            absence.DefaultConfig(),
		Learn:              LearnConfig{Interval: time.Minute},
		MaxSeries:          record.DefaultLimits.MaxSeries,
		MaxOutsideNames:    record.DefaultLimits.MaxOtherNames,
	}
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newDriftProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return createTracesWith(ctx, set, cfg, next, p)
}

func createTracesWith(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces, p *driftProcessor) (processor.Traces, error) {
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown),
	)
}

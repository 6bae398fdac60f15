package driftprocessor

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/driftprocessor/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/record"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

// driftProcessor is the processor face of the verdict engine: it hands each batch to the engine,
// stamps the verdicts on the spans (pipeline.go), reports the engine's counts and state as its own
// telemetry (telemetry.go), and runs the engine's clock, reloads, learn file and saved state in a
// background loop (background.go, learnfile.go, persist.go).
type driftProcessor struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	engine    *verdict.Engine
	recorder  *record.Recorder
	id        component.ID
	storage   storage.Client // nil without a storage extension
	stamper   *stamper

	stop chan struct{}
	wg   sync.WaitGroup
}

func newDriftProcessor(set processor.Settings, cfg *Config) (*driftProcessor, error) {
	return newDriftProcessorWithClock(set, cfg, nil)
}

// newDriftProcessorWithClock is newDriftProcessor with the engine's clock given (tests move time).
func newDriftProcessorWithClock(set processor.Settings, cfg *Config, now func() time.Time) (*driftProcessor, error) {
	if cfg.usedBehaviourKey {
		set.Logger.Warn("The configuration key `behaviour` is deprecated and will be removed; write `behavior`")
	}
	limits := record.DefaultLimits
	limits.MaxSeries, limits.MaxOtherNames = cfg.MaxSeries, cfg.MaxOutsideNames
	recorder := record.New(limits)
	engine, err := verdict.New(verdict.Settings{
		IntentFile: cfg.IntentFile, Pairing: cfg.Pairing, Paths: cfg.Paths, Behavior: cfg.Behavior, Absence: cfg.Absence,
		BaselineFile: cfg.BaselineFile, BaselineStaleAfter: cfg.BaselineStaleAfter, Learn: cfg.Learn.Output != "",
		Owned: driftconv.Stamped, Recorder: recorder, MaxSeries: cfg.MaxSeries, Logger: set.Logger, Now: now,
	})
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &driftProcessor{cfg: cfg, id: set.ID, logger: set.Logger, telemetry: tb, engine: engine, recorder: recorder,
		stamper: newStamper(cfg.Annotate), stop: make(chan struct{})}
	if err := p.registerObservers(); err != nil {
		tb.Shutdown()
		return nil, err
	}
	m := engine.Model()
	p.logger.Info("Intent model loaded", zap.String("intent_file", cfg.IntentFile),
		zap.String("system", m.System), zap.Int("nodes", m.NumNodes()))
	return p, nil
}

func (p *driftProcessor) start(ctx context.Context, host component.Host) error {
	if err := p.openStorage(ctx, host); err != nil {
		return err
	}
	p.attachMaps(host)
	p.wg.Add(1)
	go p.background()
	return nil
}

func (p *driftProcessor) shutdown(ctx context.Context) error {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
	p.engine.Drain(p.stamper) // what still waits is judged as if its TTL ran out, before it is saved
	p.writeLearned()
	if p.storage != nil {
		p.save(ctx)
		if err := p.storage.Close(ctx); err != nil {
			p.logger.Warn("Storage client did not close", zap.Error(err))
		}
		p.storage = nil
	}
	p.telemetry.Shutdown()
	return nil
}

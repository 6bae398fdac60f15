package driftprocessor

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/driftprocessor/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/record"
	"github.com/driftprocessor/driftprocessor/internal/resolve"
)

// expiryTick is how often waiting spans are checked for an expired TTL.
const expiryTick = time.Second

type driftProcessor struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	resolver  *resolve.Resolver
	recorder  *record.Recorder
	now       func() time.Time

	model atomic.Pointer[intent.Compiled] // swapped whole on reload; read without locks

	// Owned by the background goroutine.
	lastData   []byte // content of the last attempt to load, good or bad
	lastErrMsg string

	stop chan struct{}
	wg   sync.WaitGroup
}

func newDriftProcessor(set processor.Settings, cfg *Config) (*driftProcessor, error) {
	m, data, err := intent.Load(cfg.IntentFile)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &driftProcessor{
		cfg:       cfg,
		logger:    set.Logger,
		telemetry: tb,
		resolver:  resolve.New(cfg.Pairing.TTL, cfg.Pairing.MaxPending),
		now:       time.Now,
		lastData:  data,
		stop:      make(chan struct{}),
	}
	p.recorder = record.New(record.Instruments{
		Calls: tb.DriftCalls, Violations: tb.DriftViolations, Unresolved: tb.DriftUnresolved,
		Malformed: tb.DriftSpansMalformed, Reloads: tb.DriftIntentReloads,
	}, record.DefaultLimits)
	p.model.Store(m)
	if err := p.registerGauges(); err != nil {
		tb.Shutdown()
		return nil, err
	}
	p.logger.Info("Intent model loaded", zap.String("intent_file", cfg.IntentFile),
		zap.String("system", m.System), zap.Int("nodes", m.NumNodes()))
	return p, nil
}

var (
	edgesConforming = metric.WithAttributeSet(attribute.NewSet(attribute.String(record.AttrStatus, record.StatusOK)))
	edgesDrift      = metric.WithAttributeSet(attribute.NewSet(attribute.String(record.AttrStatus, record.StatusDrift)))
)

func (p *driftProcessor) registerGauges() error {
	if err := p.telemetry.RegisterDriftEdgesCallback(func(_ context.Context, o metric.Int64Observer) error {
		ok, drift := p.recorder.Edges()
		o.Observe(ok, edgesConforming)
		o.Observe(drift, edgesDrift)
		return nil
	}); err != nil {
		return err
	}
	return p.telemetry.RegisterDriftPairingPendingCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(int64(p.resolver.Pending()))
		return nil
	})
}

func (p *driftProcessor) start(context.Context, component.Host) error {
	p.wg.Add(1)
	go p.background()
	return nil
}

func (p *driftProcessor) shutdown(context.Context) error {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
	p.telemetry.Shutdown()
	return nil
}

// background expires waiting spans and reloads the intent file.
func (p *driftProcessor) background() {
	defer p.wg.Done()
	expiry := time.NewTicker(min(expiryTick, p.cfg.Pairing.TTL))
	defer expiry.Stop()
	var reload <-chan time.Time
	if p.cfg.ReloadInterval > 0 {
		t := time.NewTicker(p.cfg.ReloadInterval)
		defer t.Stop()
		reload = t.C
	}
	for {
		select {
		case <-p.stop:
			return
		case <-expiry.C:
			p.expire(context.Background())
		case <-reload:
			p.reload(context.Background())
		}
	}
}

func (p *driftProcessor) expire(ctx context.Context) {
	m := p.model.Load()
	p.resolver.Expire(m, p.now(), &sink{p: p, ctx: ctx, m: m})
}

// reload re-reads the intent file. The path is opened anew each time, so a Kubernetes ConfigMap
// update (a symlink swap) is seen. A broken file keeps the last good model; the same broken content
// is reported once.
func (p *driftProcessor) reload(ctx context.Context) {
	data, err := intent.ReadFile(p.cfg.IntentFile)
	if err != nil {
		p.reloadFailed(ctx, err)
		return
	}
	if bytes.Equal(data, p.lastData) {
		return // unchanged: loaded already, or reported already
	}
	p.lastData = data
	m, err := intent.LoadBytes(p.cfg.IntentFile, data)
	if err != nil {
		p.reloadFailed(ctx, err)
		return
	}
	p.lastErrMsg = ""
	p.model.Store(m)
	p.recorder.ResetEdges()
	p.recorder.Reload(ctx, true)
	p.logger.Info("Intent model reloaded", zap.String("intent_file", p.cfg.IntentFile),
		zap.String("system", m.System), zap.Int("nodes", m.NumNodes()))
}

func (p *driftProcessor) reloadFailed(ctx context.Context, err error) {
	if err.Error() == p.lastErrMsg {
		return
	}
	p.lastErrMsg = err.Error()
	p.recorder.Reload(ctx, false)
	p.logger.Warn("Intent file reload failed; keeping the last good model",
		zap.String("intent_file", p.cfg.IntentFile), zap.Error(err))
}

func (p *driftProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	m := p.model.Load()
	p.resolver.Batch(m, td, p.now(), &sink{p: p, ctx: ctx, m: m})
	return td, nil
}

// sink judges, stamps and records the calls of one batch against one model.
type sink struct {
	p   *driftProcessor
	ctx context.Context
	m   *intent.Compiled
}

func (s *sink) Call(c *judge.Call, span ptrace.Span, stamp bool) {
	v := judge.Judge(s.m, c)
	s.p.recorder.Call(s.ctx, c, v)
	if stamp {
		annotate(s.p.cfg.Annotate, s.m, c, v, span)
	}
}

func (s *sink) Unresolved(caller string) { s.p.recorder.Unresolved(s.ctx, caller) }

func (s *sink) Malformed(reason string) { s.p.recorder.Malformed(s.ctx, reason) }

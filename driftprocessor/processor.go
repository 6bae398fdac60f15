package driftprocessor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/driftprocessor/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/history"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/record"
	"github.com/driftprocessor/driftprocessor/internal/resolve"
)

// expiryTick is how often waiting spans are checked for an expired TTL.
const expiryTick = time.Second

// model is a compiled intent with its binding to the recorder.
type model struct {
	intent  *intent.Compiled
	binding *record.Binding
	absence *history.Absence // nil when absence is disabled
}

type driftProcessor struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	resolver  *resolve.Resolver
	recorder  *record.Recorder
	behaviour *behaviour.Tracker
	sights    *history.FirstSights
	learner   *history.Learner // nil unless learn mode is on
	id        component.ID
	storage   storage.Client // nil without a storage extension
	now       func() time.Time

	current  atomic.Pointer[model]    // swapped whole on reload; read without locks
	baseline atomic.Pointer[baseline] // nil without a baseline file

	badSpans *badSpanLog

	// Owned by the background goroutine.
	watcher   *intent.Watcher[*intent.Compiled]
	baselines *intent.Watcher[*intent.Baseline] // nil without a baseline file

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
		id:        set.ID,
		logger:    set.Logger,
		telemetry: tb,
		resolver: resolve.New(resolve.Options{TTL: cfg.Pairing.TTL, MaxPending: cfg.Pairing.MaxPending, WholeTraces: cfg.Pairing.WholeTraces,
			Owned: stamped}),
		now:     time.Now,
		watcher: intent.NewWatcher(cfg.IntentFile, data, intent.LoadBytes),
		stop:    make(chan struct{}),
	}
	p.badSpans = &badSpanLog{logger: set.Logger, now: func() time.Time { return p.now() }}
	p.recorder = record.New(record.DefaultLimits, tb.IntentReloads)
	bc := behaviour.DefaultConfig
	bc.Window, bc.MinCalls, bc.MaxEdges, bc.SiblingTTL = cfg.Behaviour.Window, cfg.Behaviour.MinCalls, cfg.Behaviour.MaxEdges, cfg.Pairing.TTL
	p.behaviour = behaviour.New(bc)
	p.sights = history.NewFirstSights(maxFirstSights, firstSightLinesPerMinute, p.logFirstSight)
	if cfg.Learn.Output != "" {
		p.learner = history.NewLearner(maxLearnedNodes, maxLearnedEdges)
	}
	p.use(m)
	if cfg.BaselineFile != "" {
		b, data, err := intent.LoadBaseline(cfg.BaselineFile)
		if err != nil {
			tb.Shutdown()
			return nil, err
		}
		p.baselines = intent.NewWatcher(cfg.BaselineFile, data, intent.ParseBaseline)
		p.baseline.Store(newBaseline(b))
	}
	if err := p.registerObservers(); err != nil {
		tb.Shutdown()
		return nil, err
	}
	p.logger.Info("Intent model loaded", zap.String("intent_file", cfg.IntentFile),
		zap.String("system", m.System), zap.Int("nodes", m.NumNodes()))
	return p, nil
}

var edgeStatus = map[string]metric.ObserveOption{
	record.StatusOK:    metric.WithAttributeSet(attribute.NewSet(attribute.String(record.AttrStatus, record.StatusOK))),
	record.StatusDrift: metric.WithAttributeSet(attribute.NewSet(attribute.String(record.AttrStatus, record.StatusDrift))),
	record.StatusKnown: metric.WithAttributeSet(attribute.NewSet(attribute.String(record.AttrStatus, record.StatusKnown))),
}

// use makes m the model that judges from now on.
func (p *driftProcessor) use(m *intent.Compiled) {
	next := &model{intent: m, binding: p.recorder.Bind(m)}
	if p.cfg.Absence.Window > 0 {
		next.absence = history.NewAbsence(m, p.cfg.Absence.Window, p.cfg.Absence.MinCallerCalls)
		if prev := p.current.Load(); prev != nil && prev.absence != nil {
			next.absence.Continue(prev.absence, p.now())
		}
	}
	p.current.Store(next)
}

// registerObservers hands the recorder's counts to the MeterProvider at collection time.
func (p *driftProcessor) registerObservers() error {
	t, r := p.telemetry, p.recorder
	return errors.Join(
		t.RegisterCallsCallback(func(_ context.Context, o metric.Int64Observer) error {
			r.Observe(o, nil, nil, nil)
			return nil
		}),
		t.RegisterViolationsCallback(func(_ context.Context, o metric.Int64Observer) error {
			r.Observe(nil, o, nil, nil)
			return nil
		}),
		t.RegisterUnresolvedCallback(func(_ context.Context, o metric.Int64Observer) error {
			r.Observe(nil, nil, o, nil)
			return nil
		}),
		t.RegisterSpansMalformedCallback(func(_ context.Context, o metric.Int64Observer) error {
			r.Observe(nil, nil, nil, o)
			return nil
		}),
		t.RegisterEdgesCallback(func(_ context.Context, o metric.Int64Observer) error {
			for status, n := range r.Edges() {
				o.Observe(n, edgeStatus[status])
			}
			return nil
		}),
		t.RegisterPairingPendingCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(p.resolver.Pending()))
			return nil
		}),
		t.RegisterEdgeLatencyP99Callback(p.observeBehaviour(func(s behaviour.EdgeStats) (float64, bool) {
			return s.P99.Seconds(), s.Expect.LatencyP99 > 0
		})),
		t.RegisterEdgeLatencyP99ExpectedCallback(p.observeBehaviour(func(s behaviour.EdgeStats) (float64, bool) {
			return s.Expect.LatencyP99.Seconds(), s.Expect.LatencyP99 > 0
		})),
		t.RegisterEdgeErrorRateCallback(p.observeBehaviour(func(s behaviour.EdgeStats) (float64, bool) {
			return s.ErrorRate, s.Expect.HasErrorRate
		})),
		t.RegisterEdgeErrorRateExpectedCallback(p.observeBehaviour(func(s behaviour.EdgeStats) (float64, bool) {
			return s.Expect.ErrorRate, s.Expect.HasErrorRate
		})),
		t.RegisterEdgeAbsentCallback(func(_ context.Context, o metric.Int64Observer) error {
			m := p.current.Load()
			if m.absence == nil {
				return nil
			}
			m.absence.EachAbsent(func(e intent.TrackedEdge) {
				attrs := []attribute.KeyValue{attribute.String(record.AttrCaller, m.intent.Node(e.From).Name),
					attribute.String(record.AttrCallee, m.intent.Node(e.To).Name)}
				if e.Require != nil {
					attrs = append(attrs, attribute.String(record.AttrKind, "missing_dependency"))
				}
				o.Observe(1, metric.WithAttributeSet(attribute.NewSet(attrs...)))
			})
			return nil
		}),
		t.RegisterBaselineStaleCallback(func(_ context.Context, o metric.Int64Observer) error {
			if bl := p.baseline.Load(); bl != nil {
				bl.eachStale(func(e *intent.Accepted, reason string) {
					o.Observe(1, metric.WithAttributeSet(attribute.NewSet(attribute.String(record.AttrCaller, e.Caller),
						attribute.String(record.AttrCallee, e.Callee), attribute.String(record.AttrKind, e.Kind),
						attribute.String(record.AttrReason, reason))))
				})
			}
			return nil
		}),
		t.RegisterEdgeFirstSeenCallback(func(_ context.Context, o metric.Int64Observer) error {
			p.sights.Each(func(e history.Edge, at time.Time) {
				o.Observe(at.Unix(), metric.WithAttributeSet(attribute.NewSet(attribute.String(record.AttrCaller, e.Caller),
					attribute.String(record.AttrCallee, e.Callee), attribute.String(record.AttrKind, e.Kind))))
			})
			return nil
		}),
	)
}

// observeBehaviour makes the callback of one behaviour gauge: value picks the figure of an edge's
// window, and whether the edge has the expectation that figure belongs to.
func (p *driftProcessor) observeBehaviour(value func(behaviour.EdgeStats) (float64, bool)) metric.Float64Callback {
	return func(_ context.Context, o metric.Float64Observer) error {
		for _, s := range p.behaviour.Stats() {
			if v, ok := value(s); ok {
				o.Observe(v, metric.WithAttributeSet(attribute.NewSet(attribute.String(record.AttrCaller, s.Edge.Caller),
					attribute.String(record.AttrCallee, s.Edge.Callee))))
			}
		}
		return nil
	}
}

func (p *driftProcessor) start(ctx context.Context, host component.Host) error {
	if err := p.openStorage(ctx, host); err != nil {
		return err
	}
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

// background expires waiting spans and reloads the intent file.
func (p *driftProcessor) background() {
	defer p.wg.Done()
	expiry := time.NewTicker(min(expiryTick, p.cfg.Pairing.TTL))
	defer expiry.Stop()
	var reload, learn, persist <-chan time.Time
	if p.storage != nil {
		t := time.NewTicker(persistEvery)
		defer t.Stop()
		persist = t.C
	}
	if p.cfg.ReloadInterval > 0 {
		t := time.NewTicker(p.cfg.ReloadInterval)
		defer t.Stop()
		reload = t.C
	}
	if p.learner != nil {
		t := time.NewTicker(p.cfg.Learn.Interval)
		defer t.Stop()
		learn = t.C
	}
	for {
		select {
		case <-p.stop:
			return
		case <-expiry.C:
			p.expire()
			if bl := p.baseline.Load(); bl != nil {
				bl.checkStale(p.now(), p.cfg.BaselineStaleAfter, p.logger)
			}
			p.checkAbsence()
		case <-reload:
			p.reload(context.Background())
			p.reloadBaseline()
		case <-learn:
			p.writeLearned()
		case <-persist:
			p.save(context.Background())
		}
	}
}

func (p *driftProcessor) expire() {
	m := p.current.Load()
	s := sink{p: p, m: m, tally: p.recorder.Tally(m.binding), now: p.now()}
	p.resolver.Expire(m.intent, s.now, &s)
	s.tally.Done()
}

// reload re-reads the intent file. The path is opened anew each time, so a Kubernetes ConfigMap
// update (a symlink swap) is seen. A broken file keeps the last good model; the same broken content
// is reported once.
func (p *driftProcessor) reload(ctx context.Context) {
	m, changed, err := p.watcher.Check()
	if err != nil {
		p.recorder.Reload(ctx, false)
		p.logger.Warn("Intent file reload failed; keeping the last good model",
			zap.String("intent_file", p.cfg.IntentFile), zap.Error(err))
		return
	}
	if !changed {
		return
	}
	p.use(m)
	p.recorder.Reload(ctx, true)
	p.logger.Info("Intent model reloaded", zap.String("intent_file", p.cfg.IntentFile),
		zap.String("system", m.System), zap.Int("nodes", m.NumNodes()))
}

// What learn mode remembers at most.
const (
	maxLearnedNodes = 10_000
	maxLearnedEdges = 100_000
)

// writeLearned writes the observed system, merged with the current intent, to the learn output: to a
// temporary file beside it, then renamed over it, so a reader never sees half a file.
func (p *driftProcessor) writeLearned() {
	if p.learner == nil {
		return
	}
	m, notes := p.learner.Model(p.current.Load().intent.Model)
	data, err := intent.Write(m, notes)
	if err == nil {
		err = writeAtomically(p.cfg.Learn.Output, data)
	}
	if err != nil {
		p.logger.Warn("Learned intent could not be written", zap.String("output", p.cfg.Learn.Output), zap.Error(err))
	}
}

func writeAtomically(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up after a failure
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// absenceLinesPerCheck bounds the log lines one absence check writes.
const absenceLinesPerCheck = 20

// checkAbsence logs the edges that became absent or came back; run by the background goroutine only.
func (p *driftProcessor) checkAbsence() {
	m := p.current.Load()
	if m.absence == nil {
		return
	}
	lines, more := 0, 0
	m.absence.Check(p.now(), func(e intent.TrackedEdge, absent bool) {
		if lines >= absenceLinesPerCheck {
			more++
			return
		}
		lines++
		from, to := m.intent.Node(e.From).Name, m.intent.Node(e.To).Name
		fields := []zap.Field{zap.String("drift.caller", from), zap.String("drift.callee", to),
			zap.String("intent", fmt.Sprintf("%s:%d", m.intent.File, e.Line)), zap.Duration("window", p.cfg.Absence.Window)}
		switch {
		case !absent:
			p.logger.Info("Dependency observed again", fields...)
		case e.Require != nil:
			fields = append(fields, zap.String("drift.kind", "missing_dependency"), zap.String("drift.rule", e.Require.Rule))
			p.logger.Warn("Required dependency missing: not observed within the window", fields...)
		default:
			p.logger.Info("Declared dependency not observed within the window", fields...)
		}
	})
	if more > 0 {
		p.logger.Info("More dependencies changed absence state than are logged at once", zap.Int("not_logged", more))
	}
}

// reloadBaseline re-reads the baseline file; a broken one keeps the last good baseline.
func (p *driftProcessor) reloadBaseline() {
	if p.baselines == nil {
		return
	}
	b, changed, err := p.baselines.Check()
	switch {
	case err != nil:
		p.logger.Warn("Baseline file reload failed; keeping the last good baseline", zap.String("baseline_file", p.cfg.BaselineFile), zap.Error(err))
	case changed:
		p.baseline.Store(newBaseline(b))
		p.logger.Info("Baseline reloaded", zap.String("baseline_file", p.cfg.BaselineFile), zap.Int("entries", len(b.Entries)))
	}
}

func (p *driftProcessor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	m := p.current.Load()
	s := sink{p: p, m: m, tally: p.recorder.Tally(m.binding), now: p.now()}
	p.resolver.Batch(m.intent, td, s.now, &s)
	s.tally.Done()
	return td, nil
}

// sink judges, stamps and records the calls of one batch against one model.
type sink struct {
	p     *driftProcessor
	m     *model
	tally *record.Tally
	now   time.Time // read once per batch: the clock is not read per call
}

func (s *sink) Call(c judge.Call, span ptrace.Span, _ pcommon.Resource, stamp bool) {
	v := judge.Judge(s.m.intent, &c)
	if s.m.intent.HasExpectations() && c.Ops != nil {
		s.p.judgeBehaviour(s.m.intent, &c, &v, s.now)
	}
	if v.Drift() {
		if bl := s.p.baseline.Load(); bl != nil {
			v.Known = bl.accepts(c.Caller.Name, c.Callee.Name, v.Kind().String(), s.now)
		}
	}
	s.tally.Call(&c, v)
	if s.p.learner != nil {
		caller := c.Caller.Name
		if !c.External {
			caller = clean.Name(caller)
		}
		s.p.learner.Observe(caller, clean.Name(c.Callee.Name), c.Callee.Kind, clean.Name(c.Op().String()), s.now)
	}
	if a := s.m.absence; a != nil && !c.External {
		a.Call(c.Caller.ID, v.Edge(), s.now)
	}
	if v.Drift() && !v.Known {
		s.p.noteFirstSight(s.m.intent, &c, v, span, stamp, s.now)
	}
	if stamp && s.p.cfg.Annotate != AnnotateNone && (v.Drift() || s.p.cfg.Annotate == AnnotateAll) {
		annotate(s.m.intent, &c, v, span)
	}
}

// First sights remembered, and logged per minute at most.
const (
	maxFirstSights           = 10_000
	firstSightLinesPerMinute = 20
)

// noteFirstSight logs a drifting edge the first time it is seen; later calls cost a map lookup.
func (p *driftProcessor) noteFirstSight(m *intent.Compiled, c *judge.Call, v judge.Verdict, span ptrace.Span, stamped bool, now time.Time) {
	caller, callee, kind := clean.Name(c.Caller.Name), clean.Name(c.Callee.Name), v.Kind().String()
	if p.sights.Seen(history.Edge{Caller: caller, Callee: callee, Kind: kind}) {
		return
	}
	shown := *c
	shown.Caller.Name, shown.Callee.Name = caller, callee
	e := judge.Explain(m, &shown, v)
	s := history.Sighting{Caller: caller, Callee: callee, Kind: kind, Rule: e.Rule, Message: e.Message, At: now}
	if stamped {
		s.TraceID = span.TraceID().String()
	}
	p.sights.Note(s)
}

func (p *driftProcessor) logFirstSight(s history.Sighting, suppressed int) {
	fields := []zap.Field{zap.String("drift.caller", s.Caller), zap.String("drift.callee", s.Callee),
		zap.String("drift.kind", s.Kind), zap.String("drift.rule", s.Rule), zap.String("drift.message", s.Message)}
	if s.TraceID != "" {
		fields = append(fields, zap.String("trace_id", s.TraceID))
	}
	if suppressed > 0 {
		fields = append(fields, zap.Int("first_sights_not_logged", suppressed))
	}
	p.logger.Info("Drift seen for the first time", fields...)
}

// judgeBehaviour adds the behaviour kinds of a call whose edge has expectations. Calls judged at the
// end of their TTL have no spans at hand and are not counted in the windows.
func (p *driftProcessor) judgeBehaviour(m *intent.Compiled, c *judge.Call, v *judge.Verdict, now time.Time) {
	e, ok := m.Expectation(c.Caller.ID, c.Callee.ID)
	if !ok {
		return
	}
	op := ""
	if e.HasRetries {
		op = c.Op().String()
	}
	kinds, b := p.behaviour.Observe(behaviour.Edge{Caller: c.Caller.Name, Callee: c.Callee.Name}, e, op, c.Ops.Observe(), now)
	v.Kinds |= kinds
	v.Behaviour = b
}

func (s *sink) Unresolved(caller string) { s.p.recorder.Unresolved(caller) }

func (s *sink) Malformed(reason string) {
	s.p.recorder.Malformed(reason)
	s.p.badSpans.note(reason)
}

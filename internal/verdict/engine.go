// Package verdict is the verdict engine: it turns the spans of a batch into calls, decides each
// call's verdict (every kind: structural, behaviour, baseline) and records it, keeping the state
// that verdicts depend on (behaviour windows, first sights, absence watches, the learned model, the
// baseline's matches) in one object with an explicit clock. The drift processor, the drift
// connector and driftctl are faces over it: none decides a verdict of its own, so all give the same
// verdicts for the same spans.
package verdict

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/absence"
	"github.com/driftprocessor/driftprocessor/internal/ancestry"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/firstsight"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/learn"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
	"github.com/driftprocessor/driftprocessor/internal/record"
	"github.com/driftprocessor/driftprocessor/internal/resolve"
)

// Settings configure an engine.
type Settings struct {
	IntentFile string
	// IntentData, when set, is the intent's content, named IntentFile in errors and verdicts, and not
	// read again on Reload: an intent from git history, or the empty one driftctl learns from.
	IntentData []byte
	Pairing    pairing.Config
	// Paths bounds the spans kept per trace for the path rules, when batches do not hold whole traces.
	Paths              ancestry.Config
	Behavior           behaviour.Config
	Absence            absence.Config
	BaselineFile       string // optional: accepted drift, shown as known
	BaselineStaleAfter time.Duration
	// Learn keeps the observed system, to be written as an intent model (Learned).
	Learn bool
	// Owned are the span attributes the face stamps on the spans of calls (resolve.Options.Owned);
	// empty for a face that may not change its input.
	Owned []string
	// Recorder counts the verdicts for the face's own telemetry; nil records nothing.
	Recorder *record.Recorder
	// MaxSeries bounds the series per metric of that telemetry (record.Limits.MaxSeries) and, with
	// it, the first sights remembered, which the drift.edge.first_seen gauge shows; 0 takes the
	// default.
	MaxSeries int
	Logger    *zap.Logger
	// Now is the engine's clock, read once per batch and per tick: the recorded time when traffic
	// is replayed from files; nil takes Clock.
	Now func() time.Time
}

// Clock is the clock of the engines made without one: time.Now, in a collector. The tests that
// compare the faces through their factories set it, before making them, so that every face reads
// one clock they move.
var Clock = time.Now

// Output receives what the engine decides about a batch, for the face to show: the verdicts of its
// calls, and the calls and spans it could not judge.
type Output interface {
	// Judged hands over one judged call. j and what it points to are valid only during the call.
	Judged(j *Judged)
	// Unresolved is a call that is counted, not judged, with why (driftconv.Unresolved*).
	Unresolved(caller, reason string)
	// Malformed is a span that cannot be read as a call: it passes untouched.
	Malformed(reason string)
}

// Judged is one judged call.
type Judged struct {
	Model   *intent.Compiled // the model that judged it
	Call    *judge.Call
	Verdict judge.Verdict
	// OnSpan is true when Span (with its Resource) carries the call, as it passes; false when its
	// span has passed already (judged at the end of its TTL): it shows in metrics only.
	OnSpan   bool
	Span     ptrace.Span
	Resource pcommon.Resource
	Now      time.Time
}

// Engine is safe for concurrent use: batches are judged concurrently; Tick and Reload are called by
// one goroutine at a time (a face's background loop).
type Engine struct {
	set       Settings
	logger    *zap.Logger
	resolver  *resolve.Resolver
	behaviour *behaviour.Tracker
	sights    *firstsight.Memory
	learner   *learn.Learner // nil unless Learn
	badSpans  *badSpanLog
	batches   sync.Pool // of *calls
	late      atomic.Int64
	lateLog   *lateLog
	// trails keeps the spans of traces across batches for the path rules; nil in whole-trace
	// batches, which need none. partial counts the calls judged on part of their chain.
	trails  *ancestry.Store
	partial atomic.Int64
	indexes sync.Pool // of *ancestry.Index

	current  atomic.Pointer[model]    // swapped whole on reload; read without locks
	baseline atomic.Pointer[baseline] // nil without a baseline file

	// Owned by the goroutine that calls Reload.
	intents   *intent.Watcher[*intent.Compiled]
	baselines *intent.Watcher[*intent.Baseline] // nil without a baseline file
}

// model is a compiled intent with what is bound to it.
type model struct {
	intent  *intent.Compiled
	labels  *record.ModelLabels // nil without a recorder
	absence *absence.Watch      // nil when absence is disabled
}

// New loads the intent file (and the baseline file) and returns an engine that judges against it.
// A broken file is an error that names file, line and key.
func New(set Settings) (*Engine, error) {
	m, data, err := loadIntent(set)
	if err != nil {
		return nil, err
	}
	if set.Logger == nil {
		set.Logger = zap.NewNop()
	}
	if set.Now == nil {
		set.Now = Clock
	}
	e := &Engine{
		set: set, logger: set.Logger,
		resolver: resolve.New(resolve.Options{TTL: set.Pairing.TTL, MaxPending: set.Pairing.MaxPending,
			WholeTraces: set.Pairing.WholeTraces, WholeBatches: set.Pairing.WholeBatches, Owned: set.Owned, Start: set.Now()}),
		behaviour: behaviour.New(set.Behavior.Options(set.Pairing.TTL)),
	}
	if set.IntentData == nil {
		e.intents = intent.NewWatcher(set.IntentFile, data, intent.LoadBytes)
	}
	if !set.Pairing.WholeBatches {
		if set.Paths == (ancestry.Config{}) {
			set.Paths = ancestry.DefaultConfig()
		}
		e.trails = ancestry.NewStore(set.Paths)
	}
	e.badSpans = &badSpanLog{logger: e.logger, now: set.Now}
	e.lateLog = &lateLog{logger: e.logger, ttl: set.Pairing.TTL}
	e.sights = firstsight.New(firstSightLimits(set.MaxSeries), e.logFirstSight)
	if set.Learn {
		e.learner = learn.New(maxLearnedNodes, maxLearnedEdges)
	}
	if set.BaselineFile != "" {
		b, data, err := loadBaseline(set.BaselineFile)
		if err != nil {
			return nil, err
		}
		e.baselines = intent.NewWatcher(set.BaselineFile, data, parseBaseline)
		e.baseline.Store(newBaseline(b))
	}
	e.use(m)
	return e, nil
}

func loadIntent(set Settings) (*intent.Compiled, []byte, error) {
	if set.IntentData != nil {
		m, err := intent.LoadBytes(set.IntentFile, set.IntentData)
		return m, set.IntentData, err
	}
	return intent.Load(set.IntentFile)
}

// Decide judges one call against the current model at the engine's clock, as a batch would, and
// records nothing: what `driftctl explain` shows.
func (e *Engine) Decide(c *judge.Call) judge.Verdict {
	var v judge.Verdict
	e.decide(e.current.Load().intent, c, e.set.Now(), &v)
	return v
}

// Model is the compiled intent that judges now.
func (e *Engine) Model() *intent.Compiled { return e.current.Load().intent }

// Now reads the engine's clock.
func (e *Engine) Now() time.Time { return e.set.Now() }

// Late is the number of spans whose partner had waited out the TTL and was judged without them.
func (e *Engine) Late() int64 { return e.late.Load() }

// Pending is the number of spans waiting for their partner.
func (e *Engine) Pending() int { return e.resolver.Pending() }

// use makes m the model that judges from now on; absence watches carry over to it.
func (e *Engine) use(m *intent.Compiled) {
	next := &model{intent: m}
	if r := e.set.Recorder; r != nil {
		next.labels = r.Bind(m)
	}
	if e.set.Absence.Window > 0 {
		next.absence = absence.New(m, e.set.Absence.Window, e.set.Absence.MinCallerCalls)
		if prev := e.current.Load(); prev != nil && prev.absence != nil {
			next.absence.Continue(prev.absence, e.set.Now())
		}
	}
	e.current.Store(next)
}

// Batch judges the calls of td and hands each verdict to out. Spans are changed only to remove
// drift attributes that arrived on the spans of calls (Settings.Owned).
func (e *Engine) Batch(td ptrace.Traces, out Output) {
	c := e.newCalls(out)
	x := c.takeIndex()
	e.resolver.Batch(c.m.intent, td, c.now, c, x)
	if x != nil && e.trails != nil {
		e.trails.Add(x, c.now) // for the trace's later batches; this one's calls used the index
	}
	c.done()
	if x != nil {
		e.indexes.Put(x)
	}
}

// Partial is the number of calls whose path rules were judged on part of their chain: a span
// between them and their trace's root had not come (or had gone with its trace).
func (e *Engine) Partial() int64 { return e.partial.Load() }

// TracesEvicted is the number of traces whose kept spans were dropped before their TTL, to keep
// within paths.max_traces and paths.max_spans.
func (e *Engine) TracesEvicted() int64 {
	if e.trails == nil {
		return 0
	}
	return e.trails.Evicted()
}

// Tick does what time does: Expire, CheckBaseline and CheckAbsence.
func (e *Engine) Tick(out Output) {
	e.Expire(out)
	e.CheckBaseline()
	e.CheckAbsence()
}

// Expire judges the calls whose partner did not come within the TTL: their spans have passed, so
// they go to out, not on a span.
func (e *Engine) Expire(out Output) {
	if e.trails != nil {
		e.trails.Expire(e.set.Now())
	}
	c := e.newCalls(out)
	e.resolver.Expire(c.m.intent, c.now, c)
	c.done()
}

// Drain judges every call still waiting for its partner as if its TTL had run out: counted,
// learned, first sights logged. A face calls it at shutdown, so that nothing waiting is lost.
func (e *Engine) Drain(out Output) {
	c := e.newCalls(out)
	e.resolver.Drain(c.m.intent, c)
	c.done()
}

// CheckBaseline marks the baseline entries that are stale, and logs each once when it becomes so.
func (e *Engine) CheckBaseline() {
	if bl := e.baseline.Load(); bl != nil {
		bl.checkStale(e.set.Now(), e.set.BaselineStaleAfter, e.logger)
	}
}

// ReloadResult says what a reload did.
type ReloadResult uint8

// Results of Reload.
const (
	Unchanged ReloadResult = iota
	Reloaded
	Failed // a broken file: the last good model (or baseline) is kept
)

var reloadCounted = map[ReloadResult]metric.AddOption{
	Reloaded: metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrResult, driftconv.ResultSuccess))),
	Failed:   metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrResult, driftconv.ResultFailure))),
}

// Counted reports whether a face counts the result in drift.intent.reloads, and with which
// attributes: a change or a failure is counted, nothing else.
func (r ReloadResult) Counted() (metric.AddOption, bool) {
	opt, ok := reloadCounted[r]
	return opt, ok
}

// Reload re-reads the intent and baseline files. The paths are opened anew each time, so a
// Kubernetes ConfigMap update (a symlink swap) is seen. A broken file keeps the last good one; the
// same broken content is reported once.
func (e *Engine) Reload(context.Context) ReloadResult {
	res := e.reloadIntent()
	e.reloadBaseline()
	return res
}

func (e *Engine) reloadIntent() ReloadResult {
	if e.intents == nil {
		return Unchanged
	}
	m, changed, err := e.intents.Check()
	switch {
	case err != nil:
		e.logger.Warn("Intent file reload failed; keeping the last good model",
			zap.String("intent_file", e.set.IntentFile), zap.Error(err))
		return Failed
	case !changed:
		return Unchanged
	}
	e.use(m)
	e.logger.Info("Intent model reloaded", zap.String("intent_file", e.set.IntentFile),
		zap.String("system", m.System), zap.Int("nodes", m.NumNodes()))
	return Reloaded
}

// reloadBaseline re-reads the baseline file; a broken one keeps the last good baseline.
func (e *Engine) reloadBaseline() {
	if e.baselines == nil {
		return
	}
	b, changed, err := e.baselines.Check()
	switch {
	case err != nil:
		e.logger.Warn("Baseline file reload failed; keeping the last good baseline", zap.String("baseline_file", e.set.BaselineFile), zap.Error(err))
	case changed:
		e.baseline.Store(newBaseline(b))
		e.logger.Info("Baseline reloaded", zap.String("baseline_file", e.set.BaselineFile), zap.Int("entries", len(b.Entries)))
	}
}

// ErrBaselineStaleAfter is CheckFiles' error for a baseline_stale_after that is not positive.
var ErrBaselineStaleAfter = errors.New("baseline_stale_after: must be positive")

// CheckFiles checks the settings both faces take for their files: it loads the intent file and the
// baseline file (either may be empty) for their errors, so that a face's configuration check reports
// a broken file with its file, line and key, and checks baselineStaleAfter.
func CheckFiles(intentFile, baselineFile string, baselineStaleAfter time.Duration) error {
	var errs []error
	if baselineStaleAfter <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %s", ErrBaselineStaleAfter, baselineStaleAfter))
	}
	if intentFile != "" {
		if _, _, err := intent.Load(intentFile); err != nil {
			errs = append(errs, err)
		}
	}
	if baselineFile != "" {
		if _, _, err := loadBaseline(baselineFile); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

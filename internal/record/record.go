// Package record counts judged calls into the drift metrics, with label values bounded in length
// and in number. Counting a call is a map lookup on integer keys and an atomic add; the values reach
// the MeterProvider through observable instruments, at collection time.
package record

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// Limits bound the series the recorder creates.
type Limits struct {
	MaxOtherNames int // distinct names outside the model that get their own label value
	// MaxSeries bounds the series of each metric (budget.go). It must stay below the cardinality
	// limit of the collector's own telemetry (the OpenTelemetry Go SDK's, 2,000 by default), or the
	// SDK folds series by arrival into one without attributes.
	MaxSeries int
}

// DefaultLimits are the limits used when none are configured: 1,900 series a metric, and at most
// foldSeries more for what is folded, below the SDK's default limit of 2,000.
var DefaultLimits = Limits{MaxOtherNames: 200, MaxSeries: 1900}

// Which counter a series belongs to.
type counter uint8

const (
	counterCalls counter = iota
	counterViolations
	counterUnresolved
	counterMalformed
)

// conforming is the kind byte of a conforming call's series; knownBit marks drift a baseline accepts.
const (
	conforming = uint8(judge.NumKinds)
	knownBit   = uint8(0x40)
)

type seriesKey struct {
	counter        counter
	kind           uint8 // judge.Kind, or conforming; the reason for malformed spans
	caller, callee label
}

type series struct {
	value atomic.Int64
	gen   atomic.Uint64 // the model generation that last counted it, for drift.edges
	attrs attribute.Set
	// folded is set when the series gave its place to a drifting one (budget.go): what is counted
	// into it from then on (through a pointer cached before) goes to the series it was folded into.
	folded atomic.Pointer[series]
}

// addTo counts n into s, or into the series s was folded into.
func (s *series) addTo(n int64) *series {
	if f := s.folded.Load(); f != nil {
		f.value.Add(n)
		return f
	}
	s.value.Add(n)
	if f := s.folded.Load(); f != nil { // folded meanwhile: move what was just added on
		if v := s.value.Swap(0); v != 0 {
			f.value.Add(v)
		}
		return f
	}
	return s
}

const numShards = 16

type shard struct {
	mu sync.Mutex
	m  map[seriesKey]*series
}

// Recorder is safe for concurrent use.
type Recorder struct {
	labels  *labels
	limits  Limits
	shards  [numShards]shard
	count   atomic.Int64 // series in all shards
	gen     atomic.Uint64
	tallies sync.Pool
	budget  budget // series are made under its lock
}

// New returns a recorder.
func New(limits Limits) *Recorder {
	r := &Recorder{labels: newLabels(limits.MaxOtherNames), limits: limits}
	for i := range r.shards {
		r.shards[i].m = map[seriesKey]*series{}
	}
	return r
}

// Bind prepares the recording of calls judged against m, and starts a new generation of drift.edges.
func (r *Recorder) Bind(m *intent.Compiled) *ModelLabels {
	b := &ModelLabels{nodes: make([]label, m.NumNodes()), gen: r.gen.Add(1), edges: m.Tracked(),
		conforming: make([]atomic.Pointer[series], len(m.Tracked())+m.NumNodes())}
	for id := range b.nodes {
		b.nodes[id] = r.labels.model(m.Node(intent.NodeID(id)).Name)
	}
	return b
}

// Call counts one judged call (a batch of one).
func (r *Recorder) Call(b *ModelLabels, c *judge.Call, v *judge.Verdict) {
	t := r.Tally(b)
	t.Call(c, v)
	t.Done()
}

// Unresolved counts a call that is not judged, with why (one of driftconv.UnresolvedReasons).
func (r *Recorder) Unresolved(caller, reason string) {
	r.add(0, seriesKey{counter: counterUnresolved, kind: reasonIndex(driftconv.UnresolvedReasons, reason), caller: r.labels.other(caller)})
}

// reasonIndex is the index of reason in reasons; an unknown one counts as the last.
func reasonIndex(reasons []string, reason string) uint8 {
	var i uint8
	for i < uint8(len(reasons)-1) && reasons[i] != reason {
		i++
	}
	return i
}

// Malformed counts a span that could not be read as a call.
func (r *Recorder) Malformed(reason string) {
	r.add(0, seriesKey{counter: counterMalformed, kind: reasonIndex(driftconv.Reasons, reason)})
}

func (r *Recorder) add(gen uint64, k seriesKey) {
	s := r.series(k).addTo(1)
	if gen != 0 && s.gen.Load() != gen {
		s.gen.Store(gen)
	}
}

func (r *Recorder) shardOf(k seriesKey) *shard {
	h := uint64(k.caller)*0x9E3779B97F4A7C15 ^ uint64(k.callee)*0xC2B2AE3D27D4EB4F ^ uint64(k.kind)<<8 ^ uint64(k.counter)
	return &r.shards[(h>>32)%numShards]
}

// series finds or creates the series of k; a new series is made within the budget (budget.go),
// which may fold it into another.
func (r *Recorder) series(k seriesKey) *series {
	if s := r.lookup(k); s != nil {
		return s
	}
	return r.create(k)
}

func (r *Recorder) lookup(k seriesKey) *series {
	sh := r.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[k]
}

func (r *Recorder) insert(k seriesKey, s *series) {
	sh := r.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.m[k] = s
	r.count.Add(1)
}

func (r *Recorder) remove(k seriesKey) {
	sh := r.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.m, k)
	r.count.Add(-1)
}

func (r *Recorder) attributes(k seriesKey) attribute.Set {
	caller, callee := attribute.String(driftconv.AttrCaller, r.labels.name(k.caller)), attribute.String(driftconv.AttrCallee, r.labels.name(k.callee))
	switch k.counter {
	case counterCalls:
		switch {
		case k.kind == conforming:
			return attribute.NewSet(caller, callee, attribute.String(driftconv.AttrStatus, driftconv.StatusConforming))
		case k.kind&knownBit != 0:
			return attribute.NewSet(caller, callee, attribute.String(driftconv.AttrStatus, driftconv.StatusKnown),
				attribute.String(driftconv.AttrKind, judge.Kind(k.kind&^knownBit).String()))
		}
		return attribute.NewSet(caller, callee, attribute.String(driftconv.AttrStatus, driftconv.StatusDrift),
			attribute.String(driftconv.AttrKind, judge.Kind(k.kind).String()))
	case counterViolations:
		return attribute.NewSet(caller, callee, attribute.String(driftconv.AttrKind, judge.Kind(k.kind).String()))
	case counterUnresolved:
		return attribute.NewSet(caller, attribute.String(driftconv.AttrReason, driftconv.UnresolvedReasons[k.kind]))
	}
	return attribute.NewSet(attribute.String(driftconv.AttrReason, driftconv.Reasons[k.kind]))
}

// each calls fn for every series of counter c.
func (r *Recorder) each(c counter, fn func(seriesKey, *series)) {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for k, s := range sh.m {
			if k.counter == c {
				fn(k, s)
			}
		}
		sh.mu.Unlock()
	}
}

// Observe reports the counters' values: calls, violations, unresolved and malformed, in that order
// of the observers given.
func (r *Recorder) Observe(calls, violations, unresolved, malformed metric.Int64Observer) {
	for c, o := range []metric.Int64Observer{calls, violations, unresolved, malformed} {
		if o == nil {
			continue
		}
		r.each(counter(c), func(_ seriesKey, s *series) { o.Observe(s.value.Load(), metric.WithAttributeSet(s.attrs)) })
	}
}

// Edges returns the number of distinct edges seen under the current model, by status: conforming,
// drift and known.
func (r *Recorder) Edges() map[string]int64 {
	type edge struct {
		caller, callee label
		status         string
	}
	gen := r.gen.Load()
	seen := map[edge]bool{}
	r.each(counterCalls, func(k seriesKey, s *series) {
		if s.gen.Load() == gen {
			status := driftconv.StatusDrift
			switch {
			case k.kind == conforming:
				status = driftconv.StatusConforming
			case k.kind&knownBit != 0:
				status = driftconv.StatusKnown
			}
			seen[edge{k.caller, k.callee, status}] = true
		}
	})
	out := map[string]int64{driftconv.StatusConforming: 0, driftconv.StatusDrift: 0, driftconv.StatusKnown: 0}
	for e := range seen {
		out[e.status]++
	}
	return out
}

// Tally counts the calls of one batch locally, so that the shared series are touched once per
// distinct series per batch rather than once per call. Conforming calls on known edges and into
// nodes from outside, most calls, are counted in an array by slot (ModelLabels.conformingSlot); the rest
// in a map. It is not safe for concurrent use.
type Tally struct {
	r       *Recorder
	b       *ModelLabels
	counts  map[seriesKey]int64
	bySlot  []int32 // by conforming slot (ModelLabels.conformingSlot): conforming calls in this batch
	touched []int32 // the slots whose bySlot is not zero
}

// Tally starts counting a batch judged against the model bound by b.
func (r *Recorder) Tally(b *ModelLabels) *Tally {
	t, ok := r.tallies.Get().(*Tally)
	if !ok {
		t = &Tally{r: r, counts: map[seriesKey]int64{}}
	}
	t.b = b
	if len(t.bySlot) < len(b.conforming) {
		t.bySlot = make([]int32, len(b.conforming))
	}
	return t
}

// Call counts a judged call: once in drift.calls under the kind it shows, and once per applicable
// kind in drift.violations.
func (t *Tally) Call(c *judge.Call, v *judge.Verdict) {
	if !v.Drift() {
		if e := t.b.conformingSlot(c, v); e >= 0 {
			if t.bySlot[e] == 0 {
				t.touched = append(t.touched, int32(e))
			}
			t.bySlot[e]++
			return
		}
	}
	caller, callee := t.b.peer(t.r.labels, c.Caller), t.b.peer(t.r.labels, c.Callee)
	if !v.Drift() {
		t.counts[seriesKey{counter: counterCalls, kind: conforming, caller: caller, callee: callee}]++
		return
	}
	shown := uint8(v.Kind())
	if v.Known {
		shown |= knownBit
	}
	t.counts[seriesKey{counter: counterCalls, kind: shown, caller: caller, callee: callee}]++
	for k := judge.Kind(0); k < judge.NumKinds; k++ {
		if v.Kinds.Has(k) {
			t.counts[seriesKey{counter: counterViolations, kind: uint8(k), caller: caller, callee: callee}]++
		}
	}
}

// Done adds the batch's counts to the recorder's series and releases the tally.
func (t *Tally) Done() {
	for _, e := range t.touched {
		s := t.b.conforming[e].Load()
		if s == nil {
			caller, callee := t.b.conformingLabels(int(e))
			s = t.r.series(seriesKey{counter: counterCalls, kind: conforming, caller: caller, callee: callee})
			t.b.conforming[e].Store(s)
		}
		t.add(s, counterCalls, int64(t.bySlot[e]))
		t.bySlot[e] = 0
	}
	for k, n := range t.counts {
		t.add(t.r.series(k), k.counter, n)
	}
	clear(t.counts)
	t.touched = t.touched[:0]
	t.b = nil
	t.r.tallies.Put(t)
}

func (t *Tally) add(s *series, c counter, n int64) {
	s = s.addTo(n)
	if c == counterCalls && s.gen.Load() != t.b.gen {
		s.gen.Store(t.b.gen)
	}
}

// SeriesCount is the number of series of all counters.
func (r *Recorder) SeriesCount() int64 { return r.count.Load() }

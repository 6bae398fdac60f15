// Package record counts judged calls into the drift metrics, with label values bounded in length
// and in number, and keeps the set of observed edges.
package record

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// Attribute names and values of the drift vocabulary.
const (
	AttrStatus   = "drift.status"
	AttrKind     = "drift.kind"
	AttrCaller   = "drift.caller"
	AttrCallee   = "drift.callee"
	AttrReason   = "reason"
	AttrResult   = "result"
	StatusDrift  = "drift"
	StatusOK     = "conforming"
	ResultOK     = "success"
	ResultFailed = "failure"
	// Other stands for the names beyond the limit of distinct names outside the model.
	Other = "_other"
)

// Limits bound the series the recorder creates.
type Limits struct {
	MaxOtherNames int // distinct names outside the model that get their own label value
	MaxEdges      int // distinct (caller, callee, status) tracked for drift.edges
}

// DefaultLimits are the limits used when none are configured.
var DefaultLimits = Limits{MaxOtherNames: 200, MaxEdges: 100_000}

// Instruments are the counters the recorder writes to.
type Instruments struct {
	Calls      metric.Int64Counter
	Violations metric.Int64Counter
	Unresolved metric.Int64Counter
	Malformed  metric.Int64Counter
	Reloads    metric.Int64Counter
}

// Recorder is safe for concurrent use.
type Recorder struct {
	inst   Instruments
	limits Limits

	mu        sync.Mutex
	others    map[string]struct{} // names outside the model that were given a label value
	edges     map[edge]struct{}
	series    map[series][]metric.AddOption // cached attribute sets
	edgeCount [2]atomic.Int64               // by status: conforming, drift
}

type edge struct {
	caller, callee string
	drift          bool
}

type series struct {
	counter        uint8 // which counter the set is for
	caller, callee string
	drift          bool
	kind           judge.Kind
	reason         string
}

// Which counter a cached attribute set is for.
const (
	counterCalls uint8 = iota
	counterViolations
	counterUnresolved
	counterMalformed
)

const maxCachedSeries = 8192

// New returns a recorder writing to inst.
func New(inst Instruments, limits Limits) *Recorder {
	return &Recorder{
		inst: inst, limits: limits,
		others: map[string]struct{}{}, edges: map[edge]struct{}{}, series: map[series][]metric.AddOption{},
	}
}

// Call counts a judged call: once in drift.calls under the kind it shows, and once per applicable
// kind in drift.violations.
func (r *Recorder) Call(ctx context.Context, c *judge.Call, v judge.Verdict) {
	r.mu.Lock()
	caller, callee := r.label(c.Caller), r.label(c.Callee)
	drift := v.Drift()
	kind := v.Kind()
	opts := r.options(series{counter: counterCalls, caller: caller, callee: callee, drift: drift, kind: kind})
	r.observeEdge(edge{caller, callee, drift})
	var violations [judge.NumKinds][]metric.AddOption
	n := 0
	for k := judge.Kind(0); k < judge.NumKinds; k++ {
		if v.Kinds.Has(k) {
			violations[n] = r.options(series{counter: counterViolations, caller: caller, callee: callee, kind: k})
			n++
		}
	}
	r.mu.Unlock()
	r.inst.Calls.Add(ctx, 1, opts...)
	for _, o := range violations[:n] {
		r.inst.Violations.Add(ctx, 1, o...)
	}
}

// Unresolved counts a call whose callee nothing names.
func (r *Recorder) Unresolved(ctx context.Context, caller string) {
	r.mu.Lock()
	opts := r.options(series{counter: counterUnresolved, caller: r.labelName(caller, false)})
	r.mu.Unlock()
	r.inst.Unresolved.Add(ctx, 1, opts...)
}

// Malformed counts a span that could not be read as a call.
func (r *Recorder) Malformed(ctx context.Context, reason string) {
	r.mu.Lock()
	opts := r.options(series{counter: counterMalformed, reason: reason})
	r.mu.Unlock()
	r.inst.Malformed.Add(ctx, 1, opts...)
}

// Reload counts a reload of the intent file.
func (r *Recorder) Reload(ctx context.Context, ok bool) {
	result := ResultOK
	if !ok {
		result = ResultFailed
	}
	r.inst.Reloads.Add(ctx, 1, metric.WithAttributes(attribute.String(AttrResult, result)))
}

// ResetEdges forgets the observed edges: after a new model, verdicts may differ.
func (r *Recorder) ResetEdges() {
	r.mu.Lock()
	clear(r.edges)
	r.edgeCount[0].Store(0)
	r.edgeCount[1].Store(0)
	r.mu.Unlock()
}

// Edges returns the number of distinct observed edges that conformed and that drifted.
func (r *Recorder) Edges() (conforming, drifting int64) {
	return r.edgeCount[0].Load(), r.edgeCount[1].Load()
}

func (r *Recorder) observeEdge(e edge) {
	if _, ok := r.edges[e]; ok || len(r.edges) >= r.limits.MaxEdges {
		return
	}
	r.edges[e] = struct{}{}
	if e.drift {
		r.edgeCount[1].Add(1)
	} else {
		r.edgeCount[0].Add(1)
	}
}

// label returns the label value for a peer: names of the model as they are, others bounded.
func (r *Recorder) label(p intent.Peer) string {
	return r.labelName(p.Name, p.ID != intent.NoNode || p.Name == intent.External)
}

func (r *Recorder) labelName(name string, modelled bool) string {
	if modelled {
		return name
	}
	if _, ok := r.others[name]; ok {
		return name
	}
	if len(r.others) >= r.limits.MaxOtherNames {
		return Other
	}
	r.others[name] = struct{}{}
	return name
}

func (r *Recorder) options(s series) []metric.AddOption {
	if o, ok := r.series[s]; ok {
		return o
	}
	o := []metric.AddOption{metric.WithAttributeSet(s.attributes())}
	if len(r.series) < maxCachedSeries {
		r.series[s] = o
	}
	return o
}

func (s series) attributes() attribute.Set {
	switch s.counter {
	case counterCalls:
		if !s.drift {
			return attribute.NewSet(attribute.String(AttrCaller, s.caller), attribute.String(AttrCallee, s.callee),
				attribute.String(AttrStatus, StatusOK))
		}
		return attribute.NewSet(attribute.String(AttrCaller, s.caller), attribute.String(AttrCallee, s.callee),
			attribute.String(AttrStatus, StatusDrift), attribute.String(AttrKind, s.kind.String()))
	case counterViolations:
		return attribute.NewSet(attribute.String(AttrCaller, s.caller), attribute.String(AttrCallee, s.callee),
			attribute.String(AttrKind, s.kind.String()))
	case counterUnresolved:
		return attribute.NewSet(attribute.String(AttrCaller, s.caller))
	}
	return attribute.NewSet(attribute.String(AttrReason, s.reason))
}

package record

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"

	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// observer collects what Observe reports.
type observer struct {
	embedded.Int64Observer
	points []point
}

type point struct {
	value int64
	attrs attribute.Set
}

func (o *observer) Observe(v int64, opts ...metric.ObserveOption) {
	cfg := metric.NewObserveConfig(opts)
	o.points = append(o.points, point{v, cfg.Attributes()})
}

func (o *observer) sum(key, value string) (total int64) {
	for _, p := range o.points {
		if v, ok := p.attrs.Value(attribute.Key(key)); value == "" || ok && v.AsString() == value {
			total += p.value
		}
	}
	return total
}

func newRecorder(t *testing.T, limits Limits) (*Recorder, *ModelLabels) {
	r, b, _ := newRecorderAndModel(t, limits)
	return r, b
}

func newRecorderAndModel(t *testing.T, limits Limits) (*Recorder, *ModelLabels, *intent.Compiled) {
	m, err := intent.LoadBytes("m.yaml", []byte("version: 1\nservices:\n  frontend: {depends_on: [cart]}\n  cart: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := New(limits)
	return r, r.Bind(m), m
}

func calls(r *Recorder) *observer {
	o := &observer{}
	r.Observe(o, nil, nil, nil)
	return o
}

// TestSeriesBounded: a flood of distinct names outside the model folds into one label value.
func TestSeriesBounded(t *testing.T) {
	r, b := newRecorder(t, Limits{MaxOtherNames: 10, MaxSeries: 1000})
	v := judge.Verdict{Kinds: 1 << judge.UndeclaredDependency}
	for i := 0; i < 100_000; i++ {
		c := &judge.Call{Caller: intent.Peer{ID: 0, Name: "frontend"}, Callee: intent.Peer{ID: intent.NoNode, Name: fmt.Sprintf("peer-%d", i)}}
		r.Call(b, c, &v)
	}
	o := calls(r)
	if len(o.points) != 11 {
		t.Fatalf("%d series, want 10 names and %s", len(o.points), driftconv.Other)
	}
	if n := o.sum(driftconv.AttrCallee, driftconv.Other); n != 100_000-10 {
		t.Errorf("%s counted %d", driftconv.Other, n)
	}
	if e := r.Edges(); e[driftconv.StatusConforming] != 0 || e[driftconv.StatusDrift] != 11 {
		t.Errorf("edges %v", e)
	}
}

// TestSeriesLimit: past MaxSeries, new series fold into the driftconv.Other/driftconv.Other series.
func TestSeriesLimit(t *testing.T) {
	r, b := newRecorder(t, Limits{MaxOtherNames: 1000, MaxSeries: 20})
	for i := 0; i < 500; i++ {
		r.Call(b, &judge.Call{Caller: intent.Peer{ID: intent.NoNode, Name: fmt.Sprintf("svc-%d", i)}, Callee: intent.Peer{ID: 1, Name: "cart"}}, &judge.Verdict{})
	}
	o := calls(r)
	if r.count.Load() > 21 || o.sum("", "") != 500 {
		t.Fatalf("%d series, %d calls", r.count.Load(), o.sum("", ""))
	}
}

func TestCountsAndKinds(t *testing.T) {
	r, b := newRecorder(t, DefaultLimits)
	fe, cart := intent.Peer{ID: 0, Name: "frontend"}, intent.Peer{ID: 1, Name: "cart"}
	r.Call(b, &judge.Call{Caller: fe, Callee: cart}, &judge.Verdict{})
	r.Call(b, &judge.Call{Caller: fe, Callee: cart}, &judge.Verdict{})
	r.Call(b, &judge.Call{Caller: cart, Callee: fe}, &judge.Verdict{Kinds: 1<<judge.ForbiddenDependency | 1<<judge.UndeclaredDependency})
	r.Unresolved("frontend", driftconv.UnresolvedNoCallee)
	r.Malformed(driftconv.ReasonBadIDs)
	c, v, u, m := &observer{}, &observer{}, &observer{}, &observer{}
	r.Observe(c, v, u, m)
	if c.sum(driftconv.AttrStatus, driftconv.StatusConforming) != 2 || c.sum(driftconv.AttrKind, "forbidden_dependency") != 1 || c.sum("", "") != 3 {
		t.Errorf("calls %+v", c.points)
	}
	if v.sum(driftconv.AttrKind, "undeclared_dependency") != 1 || v.sum("", "") != 2 {
		t.Errorf("violations %+v", v.points)
	}
	if u.sum(driftconv.AttrCaller, "frontend") != 1 || m.sum(driftconv.AttrReason, driftconv.ReasonBadIDs) != 1 {
		t.Errorf("unresolved %+v, malformed %+v", u.points, m.points)
	}
	if e := r.Edges(); e[driftconv.StatusConforming] != 1 || e[driftconv.StatusDrift] != 1 {
		t.Errorf("edges %v", e)
	}
}

// TestEdgesFollowTheModel: after a new model, drift.edges counts what was seen under it only.
func TestEdgesFollowTheModel(t *testing.T) {
	r, b := newRecorder(t, DefaultLimits)
	r.Call(b, &judge.Call{Caller: intent.Peer{ID: 0, Name: "frontend"}, Callee: intent.Peer{ID: 1, Name: "cart"}}, &judge.Verdict{})
	m, _ := intent.LoadBytes("m.yaml", []byte("version: 1\nservices:\n  cart: {}\n  frontend: {}\n"))
	b2 := r.Bind(m)
	if e := r.Edges(); e[driftconv.StatusConforming] != 0 || e[driftconv.StatusDrift] != 0 {
		t.Fatalf("edges %v after a new model", e)
	}
	r.Call(b2, &judge.Call{Caller: intent.Peer{ID: 1, Name: "frontend"}, Callee: intent.Peer{ID: 0, Name: "cart"}}, &judge.Verdict{Kinds: 1 << judge.UndeclaredDependency})
	if e := r.Edges(); e[driftconv.StatusConforming] != 0 || e[driftconv.StatusDrift] != 1 {
		t.Fatalf("edges %v", e)
	}
	if n := calls(r).sum(driftconv.AttrCaller, "frontend"); n != 2 {
		t.Fatalf("the label ids of both models name frontend: %d", n)
	}
}

func TestConformingCallAllocatesNothing(t *testing.T) {
	r, b, m := newRecorderAndModel(t, DefaultLimits)
	c := &judge.Call{Caller: intent.Peer{ID: 0, Name: "frontend"}, Callee: intent.Peer{ID: 1, Name: "cart"}}
	for name, v := range map[string]judge.Verdict{"on a known edge": judge.Judge(m, c), "by labels": {}} {
		r.Call(b, c, &v) // the series exists from now on
		tally := r.Tally(b)
		// per call, within a batch: the tally itself comes from a pool, which the race detector makes lossy
		if n := testing.AllocsPerRun(100, func() { tally.Call(c, &v) }); n != 0 {
			t.Fatalf("%s: %v allocations", name, n)
		}
		tally.Done()
	}
}

// TestKnownEdgesCountLikeAnyOther: conforming calls counted by known edge (a verdict from the judge)
// land in the same series as those counted by their labels, batch after batch.
func TestKnownEdgesCountLikeAnyOther(t *testing.T) {
	r, b, m := newRecorderAndModel(t, DefaultLimits)
	c := &judge.Call{Caller: intent.Peer{ID: 0, Name: "frontend"}, Callee: intent.Peer{ID: 1, Name: "cart"}}
	v := judge.Judge(m, c)
	if v.Drift() || v.Edge() < 0 {
		t.Fatalf("frontend -> cart is declared: %+v, edge %d", v, v.Edge())
	}
	for batch := 0; batch < 3; batch++ {
		tally := r.Tally(b)
		tally.Call(c, &v)
		tally.Call(c, &v)
		tally.Call(c, &judge.Verdict{})
		tally.Done()
	}
	o := calls(r)
	if len(o.points) != 1 || o.sum(driftconv.AttrStatus, driftconv.StatusConforming) != 9 || o.sum(driftconv.AttrCallee, "cart") != 9 {
		t.Fatalf("want one series of 9 conforming calls to cart: %+v", o.points)
	}
	if e := r.Edges(); e[driftconv.StatusConforming] != 1 {
		t.Fatalf("edges %v", e)
	}
}

// TestCallsFromOutsideCountLikeAnyOther: conforming calls into a node from outside the system,
// counted by node rather than by labels, land in one series under caller "external", batch after
// batch, and allocate nothing once it exists.
func TestCallsFromOutsideCountLikeAnyOther(t *testing.T) {
	r, b := newRecorder(t, DefaultLimits)
	c := &judge.Call{Caller: intent.Peer{ID: intent.NoNode, Name: intent.External}, External: true,
		Callee: intent.Peer{ID: 0, Name: "frontend"}}
	for batch := 0; batch < 3; batch++ {
		tally := r.Tally(b)
		tally.Call(c, &judge.Verdict{})
		tally.Call(c, &judge.Verdict{})
		tally.Done()
	}
	o := calls(r)
	if len(o.points) != 1 || o.sum(driftconv.AttrCaller, intent.External) != 6 || o.sum(driftconv.AttrCallee, "frontend") != 6 ||
		o.sum(driftconv.AttrStatus, driftconv.StatusConforming) != 6 {
		t.Fatalf("want one series of 6 conforming calls from external to frontend: %+v", o.points)
	}
	if e := r.Edges(); e[driftconv.StatusConforming] != 1 {
		t.Fatalf("edges %v", e)
	}
	tally := r.Tally(b)
	if n := testing.AllocsPerRun(100, func() { tally.Call(c, &judge.Verdict{}) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
	tally.Done()
}

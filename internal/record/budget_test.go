package record

import (
	"fmt"
	"strings"
	"testing"

	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// chain compiles a model of n services, each depending on the next.
func chain(t *testing.T, n int) *intent.Compiled {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nservices:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  s%d: {depends_on: [s%d]}\n", i, (i+1)%n)
	}
	m, err := intent.LoadBytes("chain.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func peer(m *intent.Compiled, name string) intent.Peer {
	if id := m.Lookup(name); id != intent.NoNode {
		return m.Peer(id)
	}
	return intent.Peer{ID: intent.NoNode, Name: name}
}

// seriesOf sums the points of o by status and says how many points carry Other.
func seriesOf(o *observer) (byStatus map[string]int64, points map[string]int, folded map[string]int64) {
	byStatus, points, folded = map[string]int64{}, map[string]int{}, map[string]int64{}
	for _, p := range o.points {
		status, _ := p.attrs.Value(driftconv.AttrStatus)
		kind, _ := p.attrs.Value(driftconv.AttrKind)
		caller, _ := p.attrs.Value(driftconv.AttrCaller)
		byStatus[status.AsString()] += p.value
		points[status.AsString()]++
		if caller.AsString() == driftconv.Other {
			folded[status.AsString()+" "+kind.AsString()] += p.value
		}
	}
	return byStatus, points, folded
}

// TestDriftIsFoldedLast: 30 services, every edge of the chain conforming, then 40 drifting edges,
// with room for 20 series: every drifting edge keeps its series, the conforming ones are folded,
// and no call is lost.
func TestDriftIsFoldedLast(t *testing.T) {
	m := chain(t, 30)
	r := New(Limits{MaxOtherNames: 200, MaxSeries: 20})
	b := r.Bind(m)
	drift := judge.Verdict{Kinds: 1 << judge.UndeclaredDependency}
	for i := 0; i < 30; i++ { // conforming, through the tally's cached series as in a collector
		tally := r.Tally(b)
		c := &judge.Call{Caller: peer(m, fmt.Sprint("s", i)), Callee: peer(m, fmt.Sprint("s", (i+1)%30))}
		v := judge.Judge(m, c) // conforming, on a known edge: counted through the cached series
		tally.Call(c, &v)
		tally.Done()
	}
	for i := 0; i < 20; i++ {
		r.Call(b, &judge.Call{Caller: peer(m, fmt.Sprint("s", i)), Callee: peer(m, fmt.Sprint("s", (i+5)%30))}, &drift)
	}
	for i := 0; i < 30; i++ { // the conforming edges again: their series were folded
		tally := r.Tally(b)
		c := &judge.Call{Caller: peer(m, fmt.Sprint("s", i)), Callee: peer(m, fmt.Sprint("s", (i+1)%30))}
		v := judge.Judge(m, c) // conforming, on a known edge: counted through the cached series
		tally.Call(c, &v)
		tally.Done()
	}
	byStatus, points, folded := seriesOf(calls(r))
	if byStatus[driftconv.StatusConforming] != 60 || byStatus[driftconv.StatusDrift] != 20 {
		t.Fatalf("calls by status %v: want 60 conforming, 20 drift", byStatus)
	}
	if points[driftconv.StatusDrift] != 20 || folded[driftconv.StatusDrift+" undeclared_dependency"] != 0 {
		t.Fatalf("%d drift series, %d drift calls folded: every drifting edge keeps its series", points[driftconv.StatusDrift], folded[driftconv.StatusDrift+" undeclared_dependency"])
	}
	if folded[driftconv.StatusConforming+" "] == 0 {
		t.Fatal("no conforming call folded, though the budget is full")
	}
	for i := 0; i < 20; i++ { // beyond the budget, drift folds too, keeping its kind
		r.Call(b, &judge.Call{Caller: peer(m, fmt.Sprint("s", i)), Callee: peer(m, fmt.Sprint("s", (i+9)%30))}, &drift)
	}
	byStatus, _, folded = seriesOf(calls(r))
	if byStatus[driftconv.StatusDrift] != 40 || folded[driftconv.StatusDrift+" undeclared_dependency"] != 20 {
		t.Fatalf("calls by status %v, folded %v", byStatus, folded)
	}
	if n := r.SeriesCount(); n > int64(20+foldSeries) {
		t.Fatalf("%d series, want at most %d", n, 20+foldSeries)
	}
}

// TestNamesOutsideTheModelTakeAtMostHalf: junk callers cannot take the room a real drift needs: they
// get at most half of it, and a drifting edge of the model takes the place of a junk series.
func TestNamesOutsideTheModelTakeAtMostHalf(t *testing.T) {
	m := chain(t, 30)
	r := New(Limits{MaxOtherNames: 200, MaxSeries: 20})
	b := r.Bind(m)
	unknown := judge.Verdict{Kinds: 1 << judge.UnknownService}
	for i := 0; i < 100; i++ {
		r.Call(b, &judge.Call{Caller: peer(m, fmt.Sprint("junk-", i)), Callee: peer(m, "s1")}, &unknown)
	}
	forbidden := judge.Verdict{Kinds: 1 << judge.ForbiddenDependency}
	for i := 0; i < 15; i++ {
		r.Call(b, &judge.Call{Caller: peer(m, fmt.Sprint("s", i)), Callee: peer(m, fmt.Sprint("s", (i+7)%30))}, &forbidden)
	}
	o := calls(r)
	own := map[string]int{}
	var foldedJunk int64
	for _, p := range o.points {
		kind, _ := p.attrs.Value(driftconv.AttrKind)
		caller, _ := p.attrs.Value(driftconv.AttrCaller)
		switch {
		case caller.AsString() == driftconv.Other:
			foldedJunk += p.value
		default:
			own[kind.AsString()]++
		}
	}
	// The junk took its half; the model's 15 drifting edges took the other half, then the places of
	// 5 junk series, whose calls moved to the fold.
	if own["unknown_service"] != 5 || own["forbidden_dependency"] != 15 {
		t.Fatalf("own series by kind %v: want every forbidden edge (15), the junk in what is left (5)", own)
	}
	if foldedJunk != 95 || o.sum("", "") != 115 {
		t.Fatalf("%d junk calls folded (want 95), %d calls in all (want 115)", foldedJunk, o.sum("", ""))
	}
}

// TestFoldWhileCounting: conforming calls counted through cached series by 4 goroutines while
// drifting calls fold those series away: no call is lost (run with -race).
func TestFoldWhileCounting(t *testing.T) {
	m := chain(t, 30)
	r := New(Limits{MaxOtherNames: 200, MaxSeries: 30})
	b := r.Bind(m)
	const rounds = 2000
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for n := 0; n < rounds; n++ {
				tally := r.Tally(b)
				c := &judge.Call{Caller: peer(m, fmt.Sprint("s", n%30)), Callee: peer(m, fmt.Sprint("s", (n+1)%30))}
				v := judge.Judge(m, c)
				tally.Call(c, &v)
				tally.Done()
			}
		}()
	}
	drift := judge.Verdict{Kinds: 1 << judge.UndeclaredDependency}
	for i := 0; i < 30; i++ {
		r.Call(b, &judge.Call{Caller: peer(m, fmt.Sprint("s", i)), Callee: peer(m, fmt.Sprint("s", (i+3)%30))}, &drift)
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	byStatus, points, _ := seriesOf(calls(r))
	if byStatus[driftconv.StatusConforming] != 4*rounds || byStatus[driftconv.StatusDrift] != 30 || points[driftconv.StatusDrift] != 30 {
		t.Fatalf("calls by status %v, drift series %d", byStatus, points[driftconv.StatusDrift])
	}
}

package firstsight

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

type logged struct {
	s          Sighting
	suppressed int
}

func newLogged(limits Limits) (*Memory, *[]logged) {
	var lines []logged
	return New(limits, func(s Sighting, n int) { lines = append(lines, logged{s, n}) }), &lines
}

func junk(i int) Sighting {
	return Sighting{Caller: fmt.Sprint("junk-", i), Callee: "cart", Kind: "unknown_service", At: t0.Add(time.Duration(i) * time.Millisecond)}
}

var realDrift = Sighting{Caller: "web", Callee: "pay", Kind: "forbidden_dependency", Modelled: true}

func TestFirstSightOnce(t *testing.T) {
	f, lines := newLogged(Limits{Modelled: 100, Outside: 100, OutsidePerMinute: 10})
	e := Edge{"web", "pay", "forbidden_dependency"}
	for i := 0; i < 5; i++ {
		if i > 0 && !f.Seen(e, true) {
			t.Fatal("seen edge not remembered")
		}
		s := realDrift
		s.At = t0.Add(time.Duration(i) * time.Second)
		f.Note(s)
	}
	other := realDrift
	other.Kind, other.At = "undeclared_dependency", t0
	f.Note(other)
	if len(*lines) != 2 {
		t.Fatalf("%d lines, want one per edge and kind", len(*lines))
	}
	var first time.Time
	f.Each(func(e Edge, at time.Time, modelled bool) {
		if e.Kind == "forbidden_dependency" && modelled {
			first = at
		}
	})
	if !first.Equal(t0) {
		t.Fatalf("first seen %v", first)
	}
}

func TestFirstSightOutsideTheModelRateLimited(t *testing.T) {
	f, lines := newLogged(Limits{Modelled: 100, Outside: 100_000, OutsidePerMinute: 10})
	for i := 0; i < 1000; i++ { // a flood of new names in one minute
		f.Note(junk(i))
	}
	if len(*lines) != 10 {
		t.Fatalf("%d lines in a minute, want 10", len(*lines))
	}
	late := junk(1000)
	late.At = t0.Add(time.Minute)
	f.Note(late)
	if len(*lines) != 11 || (*lines)[10].suppressed != 990 {
		t.Fatalf("the next minute's line says %d suppressed, want 990", (*lines)[len(*lines)-1].suppressed)
	}
}

// TestFloodCannotBlindTheModelsEdges: junk names beyond their share, and logged beyond the minute's lines, neither forget nor
// silence an edge of the model: it is logged and remembered whenever it comes.
func TestFloodCannotBlindTheModelsEdges(t *testing.T) {
	f, lines := newLogged(Limits{Modelled: 100, Outside: 50, OutsidePerMinute: 10})
	for i := 0; i < 12_000; i++ {
		f.Note(junk(i))
	}
	s := realDrift
	s.At = t0.Add(12 * time.Second) // the same minute: the outside share's lines are spent
	f.Note(s)
	last := (*lines)[len(*lines)-1]
	if last.s.Caller != "web" || last.suppressed == 0 {
		t.Fatalf("the realDrift first sight is not logged (or the flood not counted in it): %+v", last)
	}
	outside, modelled := 0, 0
	f.Each(func(_ Edge, _ time.Time, m bool) {
		if m {
			modelled++
		} else {
			outside++
		}
	})
	if outside > 50 || modelled != 1 {
		t.Fatalf("%d outside edges remembered (at most 50), %d of the model (want 1)", outside, modelled)
	}
}

// TestOldEntriesAgeOut: an edge seen again in time is kept with its first time; one that is not
// seen for a generation is forgotten, and is a first sight again when it comes back.
func TestOldEntriesAgeOut(t *testing.T) {
	f, lines := newLogged(Limits{Modelled: 4, Outside: 4, OutsidePerMinute: 1000})
	kept, gone := junk(0), junk(1)
	f.Note(kept)
	f.Note(gone)
	for i := 2; i < 10; i++ {
		f.Note(junk(i))
		if !f.Seen(Edge{kept.Caller, kept.Callee, kept.Kind}, false) {
			t.Fatalf("an edge seen at every step was forgotten at step %d", i)
		}
	}
	if f.Seen(Edge{gone.Caller, gone.Callee, gone.Kind}, false) {
		t.Fatal("an edge not seen for two generations is still remembered")
	}
	n := len(*lines)
	f.Note(gone)
	if len(*lines) != n+1 {
		t.Fatal("the forgotten edge is not logged again when it comes back")
	}
	var at time.Time
	f.Each(func(e Edge, a time.Time, _ bool) {
		if e.Caller == kept.Caller {
			at = a
		}
	})
	if !at.Equal(kept.At) {
		t.Fatalf("the kept edge's first sight moved from %v to %v", kept.At, at)
	}
}

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

func TestFirstSightOnce(t *testing.T) {
	var lines []logged
	f := New(100, 10, func(s Sighting, n int) { lines = append(lines, logged{s, n}) })
	for i := 0; i < 5; i++ {
		e := Edge{"web", "pay", "forbidden_dependency"}
		if i > 0 && !f.Seen(e) {
			t.Fatal("seen edge not remembered")
		}
		f.Note(Sighting{Caller: "web", Callee: "pay", Kind: "forbidden_dependency", At: t0.Add(time.Duration(i) * time.Second)})
	}
	f.Note(Sighting{Caller: "web", Callee: "pay", Kind: "undeclared_dependency", At: t0})
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per edge and kind", len(lines))
	}
	var first time.Time
	f.Each(func(e Edge, at time.Time) {
		if e.Kind == "forbidden_dependency" {
			first = at
		}
	})
	if !first.Equal(t0) {
		t.Fatalf("first seen %v", first)
	}
}

func TestFirstSightRateLimited(t *testing.T) {
	var lines []logged
	f := New(100_000, 10, func(s Sighting, n int) { lines = append(lines, logged{s, n}) })
	for i := 0; i < 1000; i++ { // a flood of new names in one minute
		f.Note(Sighting{Caller: "web", Callee: fmt.Sprint("svc-", i), Kind: "unknown_service", At: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	if len(lines) != 10 {
		t.Fatalf("%d lines in a minute, want 10", len(lines))
	}
	f.Note(Sighting{Caller: "web", Callee: "late", Kind: "unknown_service", At: t0.Add(time.Minute)})
	if len(lines) != 11 || lines[10].suppressed != 990 {
		t.Fatalf("the next minute's line says %d suppressed, want 990", lines[len(lines)-1].suppressed)
	}
}

func TestFirstSightBounded(t *testing.T) {
	f := New(50, 1000, func(Sighting, int) {})
	for i := 0; i < 1000; i++ {
		f.Note(Sighting{Caller: "web", Callee: fmt.Sprint("svc-", i), Kind: "unknown_service", At: t0})
	}
	n := 0
	f.Each(func(Edge, time.Time) { n++ })
	if n != 50 || !f.Seen(Edge{"web", "new", "x"}) {
		t.Fatalf("%d edges remembered, want 50 (and no more taken)", n)
	}
}

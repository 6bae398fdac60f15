// Package firstsight remembers when each drifting edge (caller, callee, kind) was first seen, with
// bounded memory that a flood of junk names cannot fill for good, and logs each first sight once,
// rate-limited.
package firstsight

import (
	"sync"
	"time"
)

// Sighting is the first sight of a drifting edge.
type Sighting struct {
	Caller, Callee, Kind string
	Rule, Message        string // what the span showed, naming the intent file and line
	TraceID              string // one trace to look up, when a span carried the call
	At                   time.Time
}

// Edge names a drifting edge by caller, callee and kind.
type Edge struct{ Caller, Callee, Kind string }

// Memory keeps the first-seen time of each drifting edge (at most max of them) and logs each
// first sight once, at most perMinute lines a minute; first sights beyond are counted and said in
// the next line. It is safe for concurrent use.
type Memory struct {
	max       int
	perMinute int
	log       func(s Sighting, suppressed int)

	mu         sync.Mutex
	seen       map[Edge]time.Time
	minute     time.Time
	logged     int
	suppressed int
}

// NewFirstSights returns a tracker that logs through log.
func New(max, perMinute int, log func(s Sighting, suppressed int)) *Memory {
	return &Memory{max: max, perMinute: perMinute, log: log, seen: map[Edge]time.Time{}}
}

// Seen reports whether e has been seen already (or can no longer be remembered), so that a caller
// builds a Sighting only for a new edge.
func (f *Memory) Seen(e Edge) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.seen[e]
	return ok || len(f.seen) >= f.max
}

// Note records the first sight s, and logs it unless the minute's lines are spent.
func (f *Memory) Note(s Sighting) {
	e := Edge{s.Caller, s.Callee, s.Kind}
	f.mu.Lock()
	if _, ok := f.seen[e]; ok || len(f.seen) >= f.max {
		f.mu.Unlock()
		return
	}
	f.seen[e] = s.At
	if s.At.Sub(f.minute) >= time.Minute {
		f.minute, f.logged = s.At, 0
	}
	if f.logged >= f.perMinute {
		f.suppressed++
		f.mu.Unlock()
		return
	}
	f.logged++
	suppressed := f.suppressed
	f.suppressed = 0
	f.mu.Unlock()
	f.log(s, suppressed)
}

// Restore sets first-seen times remembered from an earlier run, without logging them.
func (f *Memory) Restore(e Edge, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.seen[e]; !ok && len(f.seen) < f.max {
		f.seen[e] = at
	}
}

// Each calls fn for every edge seen, with its first-seen time.
func (f *Memory) Each(fn func(e Edge, at time.Time)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for e, at := range f.seen {
		fn(e, at)
	}
}

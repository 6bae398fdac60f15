// Package firstsight remembers when each drifting edge (caller, callee, kind) was first seen, with
// bounded memory that a flood of junk names cannot fill for good, and logs each first sight once.
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
	// Modelled is set when both ends are nodes of the model (or the caller is outside the traced
	// system): such edges are bounded by the model, so they are always remembered and logged.
	Modelled bool
}

// Edge names a drifting edge by caller, callee and kind.
type Edge struct{ Caller, Callee, Kind string }

// Limits bound what a Memory keeps and logs.
type Limits struct {
	Modelled int // edges between nodes of the model remembered at most
	Outside  int // edges with a name outside the model remembered at most: their own share
	// OutsidePerMinute is the most first sights of edges outside the model logged in a minute;
	// beyond, they are counted and said in the next line. Edges of the model are always logged.
	OutsidePerMinute int
}

// Memory keeps the first-seen time of each drifting edge. Edges of the model and edges with names
// outside it have separate shares, so junk names cannot take the room the model's edges need. A
// share ages: it keeps two generations of half its size; when the newer fills, the older is
// forgotten, and an edge seen again since the older began is carried into the newer. An edge not
// seen for a whole generation is forgotten, and logged again if it comes back. It is safe for
// concurrent use.
type Memory struct {
	limits Limits
	log    func(s Sighting, suppressed int)

	mu                 sync.Mutex
	modelled, outside  share
	minute             time.Time
	logged, suppressed int
}

// New returns a memory that logs through log.
func New(limits Limits, log func(s Sighting, suppressed int)) *Memory {
	return &Memory{limits: limits, log: log, modelled: newShare(limits.Modelled), outside: newShare(limits.Outside)}
}

// share is a bounded, ageing set of edges with their first-seen times.
type share struct {
	half     int // the size of a generation
	cur, old map[Edge]time.Time
}

func newShare(size int) share {
	half := max(size/2, 1)
	return share{half: half, cur: map[Edge]time.Time{}, old: map[Edge]time.Time{}}
}

// seen reports whether e is remembered, carrying it into the newer generation if it was in the
// older only.
func (s *share) seen(e Edge) bool {
	if _, ok := s.cur[e]; ok {
		return true
	}
	at, ok := s.old[e]
	if ok {
		delete(s.old, e)
		s.put(e, at)
	}
	return ok
}

func (s *share) put(e Edge, at time.Time) {
	if len(s.cur) >= s.half {
		s.old, s.cur = s.cur, make(map[Edge]time.Time, s.half)
	}
	s.cur[e] = at
}

func (s *share) each(fn func(Edge, time.Time)) {
	for e, at := range s.cur {
		fn(e, at)
	}
	for e, at := range s.old {
		fn(e, at)
	}
}

func (m *Memory) share(modelled bool) *share {
	if modelled {
		return &m.modelled
	}
	return &m.outside
}

// Seen reports whether e has been seen already, so that a caller builds a Sighting only for a new
// edge.
func (m *Memory) Seen(e Edge, modelled bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.share(modelled).seen(e)
}

// Note records the first sight s, and logs it: always for an edge of the model, within the minute's
// lines for one outside it.
func (m *Memory) Note(s Sighting) {
	e := Edge{s.Caller, s.Callee, s.Kind}
	m.mu.Lock()
	sh := m.share(s.Modelled)
	if sh.seen(e) {
		m.mu.Unlock()
		return
	}
	sh.put(e, s.At)
	if s.At.Sub(m.minute) >= time.Minute {
		m.minute, m.logged = s.At, 0
	}
	if !s.Modelled {
		if m.logged >= m.limits.OutsidePerMinute {
			m.suppressed++
			m.mu.Unlock()
			return
		}
		m.logged++
	}
	suppressed := m.suppressed
	m.suppressed = 0
	m.mu.Unlock()
	m.log(s, suppressed)
}

// Restore sets a first-seen time remembered from an earlier run, without logging it.
func (m *Memory) Restore(e Edge, at time.Time, modelled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if sh := m.share(modelled); !sh.seen(e) {
		sh.put(e, at)
	}
}

// Each calls fn for every edge remembered, with its first-seen time and whether it is of the model.
func (m *Memory) Each(fn func(e Edge, at time.Time, modelled bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.modelled.each(func(e Edge, at time.Time) { fn(e, at, true) })
	m.outside.each(func(e Edge, at time.Time) { fn(e, at, false) })
}

package ancestry

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/clean"
)

// Store keeps the spans of recent traces across batches, for the calls of a trace that comes in
// several: a span's parent and its service, by name (a reload in between must not mix two models'
// ids). It is bounded in traces, in spans and in time; the trace seen least recently goes first.
// It is safe for concurrent use.
type Store struct {
	cfg     Config
	mu      sync.Mutex
	spans   map[spanKey]stored
	traces  map[uint64]*held // by the trace id's fold, as the index keeps it
	oldest  *held            // the trace seen least recently; its next was seen after it
	newest  *held
	evicted atomic.Int64
}

type spanKey struct {
	trace uint64 // fold of the trace id
	span  uint64
}

type stored struct {
	parent  uint64
	service string
}

// held is a trace the store keeps, in the list of traces by when they were last seen.
type held struct {
	id         uint64
	spans      []uint64
	last       time.Time
	prev, next *held
}

// NewStore returns an empty store bounded by cfg.
func NewStore(cfg Config) *Store {
	return &Store{cfg: cfg, spans: map[spanKey]stored{}, traces: map[uint64]*held{}}
}

// Evicted is the number of traces dropped before their TTL ran out, to keep within the bounds.
func (s *Store) Evicted() int64 { return s.evicted.Load() }

// Traces is the number of traces kept.
func (s *Store) Traces() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.traces)
}

// Add keeps the spans of the batch x indexes, at now.
func (s *Store) Add(x *Index, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t *held
	for i := range x.spans {
		e := &x.spans[i]
		if t == nil || t.id != e.trace {
			t = s.trace(e.trace, now)
		}
		k := spanKey{trace: e.trace, span: e.span}
		if _, ok := s.spans[k]; ok {
			continue
		}
		if !s.room(t) {
			continue // one trace larger than max_spans: its newest spans are not kept
		}
		s.spans[k] = stored{parent: e.parent, service: clean.Storable(x.peers[e.res].Name)}
		t.spans = append(t.spans, e.span)
	}
}

// trace returns the held trace id, made the newest, or a new one.
func (s *Store) trace(id uint64, now time.Time) *held {
	t := s.traces[id]
	if t != nil {
		s.unlink(t)
	} else {
		for len(s.traces) >= s.cfg.MaxTraces && s.oldest != nil {
			s.drop(s.oldest)
			s.evicted.Add(1)
		}
		t = &held{id: id}
		s.traces[id] = t
	}
	t.last = now
	t.prev = s.newest
	if s.newest != nil {
		s.newest.next = t
	} else {
		s.oldest = t
	}
	s.newest = t
	return t
}

// room makes room for one more span of t by dropping older traces; false if only t is left.
func (s *Store) room(t *held) bool {
	for len(s.spans) >= s.cfg.MaxSpans {
		if s.oldest == t {
			return false
		}
		s.drop(s.oldest)
		s.evicted.Add(1)
	}
	return true
}

func (s *Store) unlink(t *held) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		s.oldest = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		s.newest = t.prev
	}
	t.prev, t.next = nil, nil
}

func (s *Store) drop(t *held) {
	s.unlink(t)
	for _, span := range t.spans {
		delete(s.spans, spanKey{trace: t.id, span: span})
	}
	delete(s.traces, t.id)
}

// Expire drops the traces whose last span came a TTL before now or earlier.
func (s *Store) Expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.oldest != nil && !now.Before(s.oldest.last.Add(s.cfg.TTL)) {
		s.drop(s.oldest)
	}
}

// find returns the parent and the service of a kept span. The caller holds s.mu.
func (s *Store) find(trace, span uint64) (stored, bool) {
	e, ok := s.spans[spanKey{trace: trace, span: span}]
	return e, ok
}

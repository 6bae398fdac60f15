// Package pairing holds the half-seen calls: a client span waiting for its server span, a server span
// waiting for its client, a judged client whose server span must not be judged again. The store is
// bounded in entries and in time.
package pairing

import (
	"sync"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// Key identifies a call: the trace, and the span id of the client span (the server span's parent).
type Key struct {
	Trace [16]byte
	Span  [8]byte
}

// State says which side of the call is waiting.
type State uint8

// States.
const (
	PendingClient State = iota + 1 // a client whose callee is not named yet
	SeenServer                     // a server whose client has not been seen yet
	JudgedClient                   // a client already judged: its server must not be judged again
)

// Entry is one waiting side of a call. Names are stored, not node ids, so that a reload in between
// does not mix two models.
type Entry struct {
	State     State
	PeerKind  uint8
	Service   string // the waiting span's own service
	Peer      string // PendingClient: the unmodelled peer its attributes name, "" if none
	Operation judge.Operation
	expires   int64
	seq       uint64
}

type queued struct {
	key     Key
	seq     uint64
	expires int64
}

// Store is a bounded map of waiting entries with a time-to-live. Entries leave in arrival order, so a
// FIFO queue gives the expiry order; taken entries leave stale queue items that are skipped and
// compacted away.
type Store struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[Key]Entry
	queue   []queued
	head    int
	seq     uint64
}

// New returns a store holding at most max entries for at most ttl each.
func New(ttl time.Duration, max int) *Store {
	return &Store{ttl: ttl, max: max, entries: make(map[Key]Entry)}
}

// Len is the number of waiting entries.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Take removes and returns the entry for k.
func (s *Store) Take(k Key) (Entry, bool) {
	s.mu.Lock()
	e, ok := s.entries[k]
	if ok {
		delete(s.entries, k)
	}
	s.mu.Unlock()
	return e, ok
}

// Put stores e under k, replacing any entry there. When the store is full, the oldest entry is
// evicted and handed to evicted, as if its time had run out.
func (s *Store) Put(k Key, e Entry, now time.Time, evicted func(Entry)) {
	s.mu.Lock()
	var out Entry
	var dropped bool
	if _, exists := s.entries[k]; !exists && len(s.entries) >= s.max {
		out, dropped = s.popOldest()
	}
	s.seq++
	e.seq = s.seq
	e.expires = now.Add(s.ttl).UnixNano()
	s.entries[k] = e
	s.queue = append(s.queue, queued{key: k, seq: e.seq, expires: e.expires})
	s.compact()
	s.mu.Unlock()
	if dropped && evicted != nil {
		evicted(out)
	}
}

// Expire removes the entries whose time has run out and hands them to fn, outside the lock.
func (s *Store) Expire(now time.Time, fn func(Entry)) {
	var out []Entry
	s.mu.Lock()
	t := now.UnixNano()
	for s.head < len(s.queue) && s.queue[s.head].expires <= t {
		if e, ok := s.live(s.queue[s.head]); ok {
			delete(s.entries, s.queue[s.head].key)
			out = append(out, e)
		}
		s.head++
	}
	s.compact()
	s.mu.Unlock()
	for _, e := range out {
		fn(e)
	}
}

// live returns the entry a queue item stands for, unless it was taken or replaced since.
func (s *Store) live(q queued) (Entry, bool) {
	e, ok := s.entries[q.key]
	return e, ok && e.seq == q.seq
}

func (s *Store) popOldest() (Entry, bool) {
	for s.head < len(s.queue) {
		q := s.queue[s.head]
		s.head++
		if e, ok := s.live(q); ok {
			delete(s.entries, q.key)
			return e, true
		}
	}
	return Entry{}, false
}

// compact drops consumed and stale queue items once they outnumber the live ones, so the queue
// stays within twice the number of entries (amortised O(1) per operation).
func (s *Store) compact() {
	if len(s.queue) < 64 || len(s.queue) <= 2*len(s.entries) {
		return
	}
	live := s.queue[:0]
	for _, q := range s.queue[s.head:] {
		if _, ok := s.live(q); ok {
			live = append(live, q)
		}
	}
	clear(s.queue[len(live):])
	s.queue = live
	s.head = 0
}

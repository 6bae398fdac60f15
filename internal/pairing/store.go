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
	Failed    bool          // PendingClient: the client span's error, for behaviour
	Duration  time.Duration // PendingClient: the client span's latency, for behaviour
	Service   string        // the waiting span's own service
	Peer      string        // PendingClient: the unmodelled peer its attributes name, "" if none
	Operation judge.Operation
	expires   int64
	seq       uint64
}

type queued struct {
	key     Key
	seq     uint64
	expires int64
}

// Store is a bounded map of waiting entries with a time-to-live, in shards by span id so that
// concurrent batches rarely wait for each other. Entries leave in arrival order, so a FIFO queue per
// shard gives the expiry order; taken entries leave stale queue items that are skipped and compacted
// away.
type Store struct {
	shards [numShards]shard
}

const numShards = 16

type shard struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[Key]Entry
	queue   []queued
	head    int
	seq     uint64
}

// New returns a store holding at most maxEntries entries (each shard its share; at least one per
// shard) for at most ttl each.
func New(ttl time.Duration, maxEntries int) *Store {
	s := &Store{}
	for i := range s.shards {
		s.shards[i] = shard{ttl: ttl, max: max(1, maxEntries/numShards), entries: map[Key]Entry{}}
	}
	return s
}

func (s *Store) shard(k Key) *shard {
	return &s.shards[(k.Span[0]^k.Span[3]^k.Span[5]^k.Span[7])%numShards]
}

// Len is the number of waiting entries.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n
}

// Take removes and returns the entry for k.
func (s *Store) Take(k Key) (Entry, bool) {
	sh := s.shard(k)
	sh.mu.Lock()
	e, ok := sh.entries[k]
	if ok {
		delete(sh.entries, k)
	}
	sh.mu.Unlock()
	return e, ok
}

// Put stores e under k, replacing any entry there. When the store is full, the oldest entry of k's
// shard is evicted and handed to evicted, as if its time had run out.
func (s *Store) Put(k Key, e Entry, now time.Time, evicted func(Entry)) {
	sh := s.shard(k)
	sh.mu.Lock()
	var out Entry
	var dropped bool
	if _, exists := sh.entries[k]; !exists && len(sh.entries) >= sh.max {
		out, dropped = sh.popOldest()
	}
	sh.seq++
	e.seq = sh.seq
	e.expires = now.Add(sh.ttl).UnixNano()
	sh.entries[k] = e
	sh.queue = append(sh.queue, queued{key: k, seq: e.seq, expires: e.expires})
	sh.compact()
	sh.mu.Unlock()
	if dropped && evicted != nil {
		evicted(out)
	}
}

// Expire removes the entries whose time has run out and hands them to fn, outside the locks.
func (s *Store) Expire(now time.Time, fn func(Entry)) {
	var out []Entry
	t := now.UnixNano()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for sh.head < len(sh.queue) && sh.queue[sh.head].expires <= t {
			if e, ok := sh.live(sh.queue[sh.head]); ok {
				delete(sh.entries, sh.queue[sh.head].key)
				out = append(out, e)
			}
			sh.head++
		}
		sh.compact()
		sh.mu.Unlock()
	}
	for _, e := range out {
		fn(e)
	}
}

// live returns the entry a queue item stands for, unless it was taken or replaced since.
func (sh *shard) live(q queued) (Entry, bool) {
	e, ok := sh.entries[q.key]
	return e, ok && e.seq == q.seq
}

func (sh *shard) popOldest() (Entry, bool) {
	for sh.head < len(sh.queue) {
		q := sh.queue[sh.head]
		sh.head++
		if e, ok := sh.live(q); ok {
			delete(sh.entries, q.key)
			return e, true
		}
	}
	return Entry{}, false
}

// compact drops consumed and stale queue items once they outnumber the live ones, so the queue
// stays within twice the number of entries (amortised O(1) per operation).
func (sh *shard) compact() {
	if len(sh.queue) < 64 || len(sh.queue) <= 2*len(sh.entries) {
		return
	}
	live := sh.queue[:0]
	for _, q := range sh.queue[sh.head:] {
		if _, ok := sh.live(q); ok {
			live = append(live, q)
		}
	}
	clear(sh.queue[len(live):])
	sh.queue = live
	sh.head = 0
}

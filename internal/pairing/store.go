// Package pairing holds the half-seen calls: a client span waiting for its server span, a server span
// waiting for its client, a judged client whose server span must not be judged again. The store is
// bounded in entries and in time.
package pairing

import (
	"hash/maphash"
	"math"
	"math/rand/v2"
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
	// Expired marks a side that waited out its TTL and was judged without its partner: a partner
	// that comes now is late (counted), and is not judged again. It is kept one more TTL, and only
	// while the store has room.
	Expired
)

// Entry is one waiting side of a call. Names are stored, not node ids, so that a reload in between
// does not mix two models.
type Entry struct {
	State    State
	PeerKind uint8
	Failed   bool // the waiting span's error, for behaviour
	// Early marks a server span that arrived within one TTL of the start: its client span may have
	// come before the start, so it is not judged as a call from outside when nothing pairs it.
	Early     bool
	Duration  time.Duration // the waiting span's latency, for behaviour (kept in µs)
	Service   string        // the waiting span's own service
	Peer      string        // PendingClient: the unmodelled peer its attributes name, "" if none
	Operation judge.Operation
	// OpText is the operation as one string, Name+Sep+Detail, when the caller has it at hand (a span
	// name often is): the store keeps it rather than joining the parts anew. It is ignored when it
	// is not exactly that.
	OpText string
}

// slot is an entry as the store keeps it: 48 bytes, for a key of 24. The operation and the peer lie
// end to end in one string; the expiry is the period the entry arrived in.
type slot struct {
	service  string
	text     string // the operation's name, separator and detail, then the peer
	micros   uint32 // the duration, in microseconds (saturated)
	nameLen  uint16
	opLen    uint16 // name, separator and detail
	sepLen   uint8
	state    State
	peerKind uint8
	flags    uint8
	period   uint16 // when it arrived, in periods of a quarter of the ttl (wrapping)
}

const (
	flagFailed = 1 << iota
	flagStructured
	flagEarly
)

// periodsPerTTL divides the ttl: an entry expires once periodsPerTTL whole periods have passed
// since the one it arrived in, so it waits at least the ttl and at most a quarter more (plus the
// time until the next call to Expire).
const periodsPerTTL = 4

// Store is a bounded map of waiting entries with a time-to-live, in shards by a seeded hash of the
// key so that concurrent batches rarely wait for each other. An entry carries the period it arrived
// in rather than a deadline in a queue: expiry walks the entries once per period, which costs far
// less memory than a queue would (the store is sized for the busiest minute, the walk is once per
// period).
type Store struct {
	shards [numShards]shard
	seed   maphash.Seed
	period int64 // nanoseconds

	expiring sync.Mutex
	lastWalk int64   // the period last walked by Expire
	scratch  []Entry // expired entries of one shard, handed out after its lock is released
	expired  []rec   // the Expired entries that one shard's walk leaves behind
}

// evictionSample is how many entries a full shard looks at to choose one to evict.
const evictionSample = 8

const numShards = 16

type shard struct {
	mu      sync.Mutex
	max     int
	entries table
	expired int // entries of state Expired: not waiting spans
}

// removed notes that an entry of state st left the shard.
func (sh *shard) removed(st State) {
	if st == Expired {
		sh.expired--
	}
}

// New returns a store holding at most maxEntries entries (each shard its share; at least one per
// shard) for at least ttl each.
func New(ttl time.Duration, maxEntries int) *Store {
	s := &Store{period: max(int64(ttl)/periodsPerTTL, 1), lastWalk: math.MinInt64,
		seed: maphash.MakeSeed()}
	for i := range s.shards {
		perShard := max(1, maxEntries/numShards)
		s.shards[i] = shard{max: perShard, entries: newTable(perShard)}
	}
	return s
}

// shard returns k's shard and hash. The shard is chosen by the hash's low bits; the place within
// it by its high bits.
func (s *Store) shard(k Key) (*shard, uint64) {
	h := hashOf(k, s.seed)
	return &s.shards[h%numShards], h
}

// periodOf is the period now falls in.
func (s *Store) periodOf(now time.Time) int64 { return floorDiv(now.UnixNano(), s.period) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// age is how many whole periods lie between an entry's period and now's; an entry from the future
// (the clock went back) is of age 0.
func age(now int64, sl slot) int { return max(0, int(int16(uint16(now)-sl.period))) }

// Len is the number of waiting entries (Expired ones are not waiting).
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.entries.n - sh.expired
		sh.mu.Unlock()
	}
	return n
}

// Take removes and returns the entry for k.
func (s *Store) Take(k Key) (Entry, bool) {
	sh, h := s.shard(k)
	sh.mu.Lock()
	i := sh.entries.find(k, h)
	if i < 0 {
		sh.mu.Unlock()
		return Entry{}, false
	}
	sl := sh.entries.recs[i].sl
	sh.entries.remove(i)
	sh.removed(sl.state)
	sh.mu.Unlock()
	return sl.entry(), true
}

// PutIfAbsent stores e under k unless an entry is there already: then that entry is removed and
// returned instead, and e is not stored. The two sides of a call can arrive in batches judged at
// the same time, each finding nothing when it looks (Take); whichever stores second finds the first
// here, in one critical section, so that the two pair rather than the second replacing the first.
func (s *Store) PutIfAbsent(k Key, e Entry, now time.Time, evicted func(Entry)) (Entry, bool) {
	p := s.periodOf(now)
	sh, h := s.shard(k)
	sh.mu.Lock()
	if i := sh.entries.find(k, h); i >= 0 {
		sl := sh.entries.recs[i].sl
		sh.entries.remove(i)
		sh.removed(sl.state)
		sh.mu.Unlock()
		return sl.entry(), true
	}
	var out slot
	var dropped bool
	if sh.entries.n >= sh.max {
		out, dropped = sh.evictOld(p)
	}
	sh.entries.insert(k, h, pack(e, p))
	sh.mu.Unlock()
	if dropped && evicted != nil && out.state != Expired {
		evicted(out.entry())
	}
	return Entry{}, false
}

// Put stores e under k, replacing any entry there. When the store is full, an entry among the
// oldest of k's shard is evicted and handed to evicted, as if its time had run out.
func (s *Store) Put(k Key, e Entry, now time.Time, evicted func(Entry)) {
	p := s.periodOf(now)
	sl := pack(e, p)
	sh, h := s.shard(k)
	sh.mu.Lock()
	var out slot
	var dropped bool
	if i := sh.entries.find(k, h); i >= 0 {
		sh.removed(sh.entries.recs[i].sl.state)
		sh.entries.recs[i].sl = sl
	} else {
		if sh.entries.n >= sh.max {
			out, dropped = sh.evictOld(p)
		}
		sh.entries.insert(k, h, sl)
	}
	sh.mu.Unlock()
	if dropped && evicted != nil && out.state != Expired { // a mark of an expired side is no one's
		evicted(out.entry())
	}
}

// evictOld removes an entry to make room: a mark of an expired side if the shard holds one (a mark
// never takes the place of a waiting span), else the oldest of a few entries, those nearest a random
// place: the entries of one period are of one age, so this finds one of the oldest whenever they are
// many.
func (sh *shard) evictOld(now int64) (slot, bool) {
	t := &sh.entries
	if t.n == 0 {
		return slot{}, false
	}
	if sh.expired > 0 {
		for i := range t.hashes {
			if t.hashes[i] != 0 && t.recs[i].sl.state == Expired {
				found := t.recs[i].sl
				t.remove(i)
				sh.removed(found.state)
				return found, true
			}
		}
	}
	oldest, best := -1, -1
	for i, seen := rand.IntN(len(t.hashes)), 0; seen < min(evictionSample, t.n); i = t.next(i) {
		if t.hashes[i] == 0 {
			continue
		}
		if a := age(now, t.recs[i].sl); a > best {
			oldest, best = i, a
		}
		seen++
	}
	found := t.recs[oldest].sl
	t.remove(oldest)
	sh.removed(found.state)
	return found, true
}

// Expire removes the entries whose time has run out and hands them to fn, outside the locks. It
// walks the entries at most once per period.
func (s *Store) Expire(now time.Time, fn func(Entry)) {
	s.expiring.Lock()
	defer s.expiring.Unlock()
	p := s.periodOf(now)
	if p == s.lastWalk {
		return
	}
	s.lastWalk = p
	s.walk(func(sl *slot) bool { return age(p, *sl) > periodsPerTTL }, p, fn)
}

// Drain takes every entry out of the store, as if its TTL had run out, and calls fn with each: at
// shutdown, nothing waiting is lost.
func (s *Store) Drain(fn func(Entry)) {
	s.expiring.Lock()
	defer s.expiring.Unlock()
	s.walk(func(*slot) bool { return true }, noTombstones, fn)
}

// noTombstones tells walk to leave no Expired entries behind.
const noTombstones = math.MinInt64

// walk removes the entries whose slot out says, shard by shard, and calls fn with each after its
// shard is unlocked. A waiting side (PendingClient, SeenServer) removed leaves an Expired entry of
// period p behind, while the shard has room (not when p is noTombstones); Expired entries removed are
// dropped, not handed to fn.
func (s *Store) walk(out func(*slot) bool, p int64, fn func(Entry)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		t := &sh.entries
		s.expired = s.expired[:0]
		for j := 0; j < len(t.hashes); {
			if t.hashes[j] != 0 && out(&t.recs[j].sl) {
				switch st := t.recs[j].sl.state; st {
				case Expired: // its partner never came: dropped
				case PendingClient, SeenServer:
					s.expired = append(s.expired, rec{key: t.recs[j].key, sl: slot{state: Expired, period: uint16(p)}})
					fallthrough
				default:
					s.scratch = append(s.scratch, t.recs[j].sl.entry())
				}
				sh.removed(t.recs[j].sl.state)
				t.remove(j) // and look at j again: remove may have moved an entry there
				continue
			}
			j++
		}
		if p != noTombstones {
			for _, r := range s.expired[:min(len(s.expired), sh.max-t.n)] { // after the walk: an insert may move entries
				t.insert(r.key, hashOf(r.key, s.seed), r.sl)
				sh.expired++
			}
		}
		sh.mu.Unlock()
		for _, e := range s.scratch {
			fn(e)
		}
		clear(s.scratch)
		s.scratch = s.scratch[:0]
	}
}

// pack keeps e in a slot: the operation's parts and the peer end to end, joined only when they are
// not one string already.
func pack(e Entry, period int64) slot {
	op := e.Operation
	op.Name, op.Sep, op.Detail = fit(op.Name), op.Sep[:min(len(op.Sep), math.MaxUint8)], fit(op.Detail)
	opLen := len(op.Name) + len(op.Sep) + len(op.Detail)
	peer := e.Peer[:min(len(e.Peer), math.MaxUint16-opLen)]
	var text string
	switch {
	case op.Sep == "" && op.Detail == "" && peer == "":
		text = op.Name
	case op == (judge.Operation{Structured: op.Structured}):
		text = peer
	case peer == "" && isJoined(e.OpText, op):
		text = e.OpText
	default:
		text = op.Name + op.Sep + op.Detail + peer
	}
	sl := slot{
		service: e.Service, text: text, micros: uint32(min(max(e.Duration.Microseconds(), 0), math.MaxUint32)),
		nameLen: uint16(len(op.Name)), opLen: uint16(opLen), sepLen: uint8(len(op.Sep)),
		state: e.State, peerKind: e.PeerKind, period: uint16(period),
	}
	if e.Early {
		sl.flags |= flagEarly
	}
	if e.Failed {
		sl.flags |= flagFailed
	}
	if op.Structured {
		sl.flags |= flagStructured
	}
	return sl
}

// fit cuts an operation part to what a slot can measure (parts are far shorter in practice).
func fit(s string) string { return s[:min(len(s), math.MaxUint16/4)] }

func isJoined(text string, op judge.Operation) bool {
	return len(text) == len(op.Name)+len(op.Sep)+len(op.Detail) &&
		text[:len(op.Name)] == op.Name && text[len(op.Name):len(op.Name)+len(op.Sep)] == op.Sep &&
		text[len(op.Name)+len(op.Sep):] == op.Detail
}

func (sl slot) entry() Entry {
	sep := int(sl.nameLen) + int(sl.sepLen)
	return Entry{
		State: sl.state, PeerKind: sl.peerKind, Failed: sl.flags&flagFailed != 0, Early: sl.flags&flagEarly != 0,
		Duration: time.Duration(sl.micros) * time.Microsecond, Service: sl.service,
		Peer: sl.text[sl.opLen:],
		Operation: judge.Operation{Name: sl.text[:sl.nameLen], Sep: sl.text[sl.nameLen:sep], Detail: sl.text[sep:sl.opLen],
			Structured: sl.flags&flagStructured != 0},
	}
}

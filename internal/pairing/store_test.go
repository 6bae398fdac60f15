package pairing

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// key makes distinct keys.
func key(i int) Key { return Key{Trace: [16]byte{byte(i >> 8), byte(i)}, Span: [8]byte{1}} }

// keysOfOneShard makes n distinct keys that fall in one shard of s, so that bounds are those of one
// shard.
func keysOfOneShard(s *Store, n int) []Key {
	var keys []Key
	first, _ := s.shard(key(0))
	for i := 0; len(keys) < n; i++ {
		if sh, _ := s.shard(key(i)); sh == first {
			keys = append(keys, key(i))
		}
	}
	return keys
}

var t0 = time.Unix(1_700_000_000, 0)

func TestTakeReturnsWhatWasPut(t *testing.T) {
	s := New(time.Second, 10)
	for _, e := range []Entry{
		{State: SeenServer, Service: "cart", Operation: judge.Operation{Name: "shop.Cart", Sep: "/", Detail: "Get", Structured: true}},
		{State: PendingClient, Service: "checkout", Peer: "10.0.0.7", PeerKind: 3, Failed: true, Duration: 1234567 * time.Nanosecond,
			Operation: judge.Operation{Name: "GET", Sep: " ", Detail: "/cart/42", Structured: true}},
		{State: PendingClient, Service: "checkout", Peer: "redis", Operation: judge.Op("HGET")},
		{State: PendingClient, Service: "checkout", Peer: "redis"},
		{State: SeenServer, Service: "cart", Operation: judge.Op("serve")},
		{State: JudgedClient},
		{State: SeenServer, Operation: judge.Operation{Name: strings.Repeat("n", 300), Sep: strings.Repeat("/", 300), Detail: "d"}},
	} {
		s.Put(key(1), e, t0, nil)
		got, ok := s.Take(key(1))
		want := e
		want.Duration = e.Duration.Truncate(time.Microsecond)
		want.Operation.Sep = e.Operation.Sep[:min(len(e.Operation.Sep), 255)] // a separator is a byte or two; longer is cut
		if !ok || got != want {
			t.Fatalf("got %+v, %v; want %+v", got, ok, want)
		}
		if _, ok := s.Take(key(1)); ok {
			t.Fatal("an entry is taken once")
		}
	}
}

// TestOperationTextSavesJoining: an operation whose joined text is at hand (a span name) is kept
// without allocating; a text that is not the operation is not used.
func TestOperationTextSavesJoining(t *testing.T) {
	s := New(time.Second, 10)
	op := judge.Operation{Name: "shop.Cart", Sep: "/", Detail: "Get", Structured: true}
	name := strings.Clone("shop.Cart/Get")
	s.Put(key(1), Entry{State: SeenServer, Service: "cart", Operation: op, OpText: name}, t0, nil)
	if n := testing.AllocsPerRun(100, func() {
		s.Put(key(1), Entry{State: SeenServer, Service: "cart", Operation: op, OpText: name}, t0, nil)
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
	s.Put(key(2), Entry{State: SeenServer, Operation: op, OpText: "shop.Cart/Put"}, t0, nil)
	if e, _ := s.Take(key(2)); e.Operation != op {
		t.Fatalf("got %+v", e.Operation)
	}
}

// TestEntryWaitsAtLeastTTL: with Expire called every 100 ms, each entry expires no sooner than the
// ttl after it arrived, and no later than a quarter of the ttl more (and one call).
func TestEntryWaitsAtLeastTTL(t *testing.T) {
	const ttl, tick = 10 * time.Second, 100 * time.Millisecond
	s := New(ttl, 1000)
	put := map[string]time.Time{}
	expired := func(now time.Time) func(Entry) {
		return func(e Entry) {
			at, ok := put[e.Service]
			if !ok {
				t.Fatalf("%s expired twice, or after it was taken", e.Service)
			}
			if waited := now.Sub(at); waited < ttl || waited > ttl+ttl/periodsPerTTL+tick {
				t.Fatalf("%s waited %s with a ttl of %s", e.Service, waited, ttl)
			}
			delete(put, e.Service)
		}
	}
	now := t0.Add(123 * time.Millisecond)
	rnd := rand.New(rand.NewPCG(5, 6))
	// arrivals during the first two TTLs, at any time in a period; then time enough for the last to go
	arrived, expiredCount := 0, 0
	for i := 0; now.Before(t0.Add(4 * ttl)); now = now.Add(tick) {
		if i < 40 && now.Before(t0.Add(2*ttl)) && rnd.IntN(5) == 0 {
			arrived++
			name, at := string(rune('A'+i)), now.Add(time.Duration(rnd.IntN(100))*time.Millisecond)
			s.Put(key(i), Entry{Service: name}, at, nil)
			put[name] = at
			if i == 3 {
				s.Take(key(3))
				delete(put, name)
			}
			i++
		}
		s.Expire(now, func(e Entry) { expiredCount++; expired(now)(e) })
	}
	if len(put) != 0 || s.Len() != 0 {
		t.Fatalf("never expired: %v; %d left", put, s.Len())
	}
	if arrived < 20 || expiredCount != arrived-1 { // one was taken
		t.Fatalf("%d arrived, %d expired", arrived, expiredCount)
	}
}

// TestClockGoingBackExpiresNothing: entries from the future wait rather than expire at once.
func TestClockGoingBackExpiresNothing(t *testing.T) {
	s := New(time.Second, 10)
	s.Put(key(1), Entry{Service: "cart"}, t0, nil)
	s.Expire(t0.Add(-time.Hour), func(e Entry) { t.Fatalf("expired %+v", e) })
	if s.Len() != 1 {
		t.Fatal("the entry is gone")
	}
}

func TestFullStoreEvictsAnOldEntry(t *testing.T) {
	ttl := time.Minute
	s := New(ttl, 3*numShards)
	keys := keysOfOneShard(s, 5)
	var evicted []string
	for i := 0; i < 5; i++ {
		at := t0.Add(time.Duration(i) * ttl / periodsPerTTL)
		s.Put(keys[i], Entry{Service: string(rune('a' + i))}, at, func(e Entry) { evicted = append(evicted, e.Service) })
	}
	if s.Len() != 3 || len(evicted) != 2 || evicted[0] != "a" || evicted[1] != "b" {
		t.Fatalf("len %d, evicted %v", s.Len(), evicted)
	}
}

func TestReplacedEntryExpiresOnce(t *testing.T) {
	s := New(time.Second, 10)
	s.Put(key(1), Entry{Service: "old"}, t0, nil)
	s.Put(key(1), Entry{Service: "new"}, t0.Add(500*time.Millisecond), nil)
	var got []string
	for now := t0; now.Before(t0.Add(3 * time.Second)); now = now.Add(50 * time.Millisecond) {
		s.Expire(now, func(e Entry) { got = append(got, e.Service) })
	}
	if len(got) != 1 || got[0] != "new" {
		t.Fatalf("expired %v", got)
	}
}

// TestNeverMoreThanMax: whatever comes, a shard holds at most its share.
func TestNeverMoreThanMax(t *testing.T) {
	s := New(time.Second, 10*numShards)
	rnd := rand.New(rand.NewPCG(1, 2))
	now := t0
	for i := 0; i < 20_000; i++ {
		k := Key{Span: [8]byte{byte(rnd.IntN(4))}, Trace: [16]byte{byte(rnd.IntN(256)), byte(rnd.IntN(256))}}
		switch rnd.IntN(3) {
		case 0:
			s.Take(k)
		default:
			s.Put(k, Entry{State: SeenServer}, now, nil)
		}
		now = now.Add(time.Duration(rnd.IntN(5)) * time.Millisecond)
		if rnd.IntN(100) == 0 {
			s.Expire(now, func(Entry) {})
		}
		for j := range s.shards {
			if n := s.shards[j].entries.n; n > 10 {
				t.Fatalf("shard %d holds %d", j, n)
			}
		}
	}
}

// BenchmarkBytesPerPending reports the heap a waiting span costs in the store (its key and entry,
// and the table's slack), when the store is full and when it is a fifth full: the span's service and
// operation are strings of the span that the store keeps, not copies.
func BenchmarkBytesPerPending(b *testing.B) {
	const n = 200_000
	for _, bound := range []int{n, 5 * n} {
		b.Run(fmt.Sprintf("max=%d", bound), func(b *testing.B) {
			var before, after runtime.MemStats
			op := judge.Operation{Name: "hipstershop.CartService", Sep: "/", Detail: "GetCart", Structured: true}
			for b.Loop() {
				runtime.GC()
				runtime.ReadMemStats(&before)
				s := New(time.Hour, bound)
				for i := 0; i < n; i++ {
					k := Key{Trace: [16]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}, Span: [8]byte{byte(i), byte(i >> 8), byte(i >> 16)}}
					s.Put(k, Entry{State: SeenServer, Service: "cartservice", Operation: op, OpText: "hipstershop.CartService/GetCart"}, t0, nil)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/pending")
				runtime.KeepAlive(s)
			}
		})
	}
}

// TestExpiredLeavesAMark: a waiting side that expires leaves a mark for one more TTL, which Take
// finds (a late partner) and which is no waiting span; Drain leaves none.
func TestExpiredLeavesAMark(t *testing.T) {
	const ttl = time.Second
	s := New(ttl, 1000)
	s.Put(key(1), Entry{State: SeenServer, Service: "cart"}, t0, nil)
	s.Put(key(2), Entry{State: PendingClient, Service: "web"}, t0, nil)
	var expired []string
	s.Expire(t0.Add(2*ttl), func(e Entry) { expired = append(expired, e.Service) })
	if len(expired) != 2 || s.Len() != 0 {
		t.Fatalf("expired %v, %d waiting", expired, s.Len())
	}
	if e, ok := s.Take(key(1)); !ok || e.State != Expired {
		t.Fatalf("took %+v, %v: want the mark of the expired side", e, ok)
	}
	s.Expire(t0.Add(4*ttl), func(e Entry) { t.Fatalf("a mark handed out: %+v", e) })
	if _, ok := s.Take(key(2)); ok {
		t.Fatal("a mark outlived its second TTL")
	}
	s.Put(key(3), Entry{State: SeenServer, Service: "cart"}, t0.Add(4*ttl), nil)
	n := 0
	s.Drain(func(Entry) { n++ })
	if _, ok := s.Take(key(3)); ok || n != 1 {
		t.Fatalf("drained %d; a mark left behind: %v", n, ok)
	}
}

// TestAMarkNeverTakesAWaitingSpansPlace: in a full shard, the mark of an expired side goes first,
// though the waiting span beside it is older than the mark.
func TestAMarkNeverTakesAWaitingSpansPlace(t *testing.T) {
	const ttl = time.Second
	s := New(ttl, 2*numShards) // two places a shard
	var keys []Key             // keys of one shard
	first, _ := s.shard(key(0))
	for i := 0; len(keys) < 3; i++ {
		if sh, _ := s.shard(key(i)); sh == first {
			keys = append(keys, key(i))
		}
	}
	s.Put(keys[0], Entry{State: SeenServer, Service: "expires"}, t0, nil)
	s.Put(keys[1], Entry{State: SeenServer, Service: "waits"}, t0.Add(ttl/2), nil)
	s.Expire(t0.Add(ttl+ttl/4+ttl/8), func(Entry) {}) // keys[0] expired and left a mark; keys[1] waits
	var evicted []string
	s.Put(keys[2], Entry{State: SeenServer, Service: "new"}, t0.Add(ttl+ttl/4+ttl/8), func(e Entry) { evicted = append(evicted, e.Service) })
	if len(evicted) != 0 || s.Len() != 2 {
		t.Fatalf("evicted %v, %d waiting: the mark should have made room", evicted, s.Len())
	}
	if e, ok := s.Take(keys[1]); !ok || e.Service != "waits" {
		t.Fatalf("the waiting span is gone: %+v %v", e, ok)
	}
}

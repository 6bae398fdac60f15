package pairing

import (
	"runtime"
	"testing"
	"time"
)

// key makes keys that all fall in one shard, so that order and bounds are those of one queue.
func key(i int) Key { return Key{Trace: [16]byte{byte(i >> 8), byte(i)}, Span: [8]byte{1}} }

var t0 = time.Unix(1_700_000_000, 0)

func TestTakeReturnsWhatWasPut(t *testing.T) {
	s := New(time.Second, 10)
	s.Put(key(1), Entry{State: SeenServer, Service: "cart"}, t0, nil)
	e, ok := s.Take(key(1))
	if !ok || e.State != SeenServer || e.Service != "cart" {
		t.Fatalf("got %+v, %v", e, ok)
	}
	if _, ok := s.Take(key(1)); ok {
		t.Fatal("an entry is taken once")
	}
}

func TestExpireInArrivalOrder(t *testing.T) {
	s := New(10*time.Second, 100)
	for i := 0; i < 5; i++ {
		s.Put(key(i), Entry{Service: string(rune('a' + i))}, t0.Add(time.Duration(i)*time.Second), nil)
	}
	s.Take(key(1))
	var got string
	s.Expire(t0.Add(12*time.Second), func(e Entry) { got += e.Service })
	if got != "ac" {
		t.Fatalf("expired %q, want a and c (b was taken, d and e are younger)", got)
	}
	if s.Len() != 2 {
		t.Fatalf("len %d", s.Len())
	}
}

func TestFullStoreEvictsOldest(t *testing.T) {
	s := New(time.Minute, 3*numShards)
	var evicted []string
	for i := 0; i < 5; i++ {
		s.Put(key(i), Entry{Service: string(rune('a' + i))}, t0, func(e Entry) { evicted = append(evicted, e.Service) })
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
	s.Expire(t0.Add(time.Second), func(e Entry) { got = append(got, e.Service) })
	if len(got) != 0 {
		t.Fatalf("the replacement is not due yet, expired %v", got)
	}
	s.Expire(t0.Add(2*time.Second), func(e Entry) { got = append(got, e.Service) })
	if len(got) != 1 || got[0] != "new" {
		t.Fatalf("expired %v", got)
	}
}

// TestQueueStaysBounded: entries taken before they expire leave stale queue items; the queue is
// compacted so that it never holds more than about twice the live entries.
func TestQueueStaysBounded(t *testing.T) {
	s := New(time.Hour, 1000*numShards)
	sh := s.shard(key(0))
	for i := 0; i < 100_000; i++ {
		s.Put(key(i%50_000), Entry{}, t0, nil)
		s.Take(key(i % 50_000))
		if len(sh.queue) > 2*len(sh.entries)+64 {
			t.Fatalf("queue %d for %d entries", len(sh.queue), len(sh.entries))
		}
	}
}

// BenchmarkBytesPerPending reports the heap a waiting client span costs in the store (the entry, its
// key, the map's slack and the expiry queue), with names that are not allocated anew.
func BenchmarkBytesPerPending(b *testing.B) {
	const n = 200_000
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := New(time.Hour, n)
		for i := 0; i < n; i++ {
			k := Key{Trace: [16]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}, Span: [8]byte{byte(i), byte(i >> 8), byte(i >> 16)}}
			s.Put(k, Entry{State: PendingClient, Service: "frontend", Peer: "cart"}, t0, nil)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/pending")
		runtime.KeepAlive(s)
	}
}

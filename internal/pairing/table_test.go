package pairing

import (
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestTableAgreesWithAMap: random puts and removals on a small table, with hashes chosen so that
// entries collide, clusters wrap around the end and the table grows, find what a Go map finds.
func TestTableAgreesWithAMap(t *testing.T) {
	seed := maphash.MakeSeed()
	for _, hashes := range []struct {
		name string
		of   func(i int) uint64
	}{
		{"seeded", func(i int) uint64 { return hashOf(key(i), seed) }},
		{"four homes", func(i int) uint64 { return uint64(i%4) << 62 }},
		{"all at the end", func(i int) uint64 { return ^uint64(i % 3) }},
		{"zero", func(int) uint64 { return 0 }},
	} {
		t.Run(hashes.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(7, 8))
			tb, want := newTable(40), map[int]string{}
			for op := 0; op < 5_000; op++ {
				i := rnd.IntN(60)
				k, h := key(i), hashes.of(i)
				v := string(rune('a' + op%26))
				switch at, put := tb.find(k, h), rnd.IntN(2) == 0; {
				case put && at >= 0: // as Store.Put replaces
					tb.recs[at].sl = slot{service: v}
					want[i] = v
				case put && len(want) < 40:
					tb.insert(k, h, slot{service: v})
					want[i] = v
				case at >= 0:
					tb.remove(at)
					delete(want, i)
				}
				checkTable(t, &tb, want, hashes.of)
			}
		})
	}
}

func checkTable(t *testing.T, tb *table, want map[int]string, hash func(int) uint64) {
	t.Helper()
	if tb.n != len(want) {
		t.Fatalf("table holds %d, map %d", tb.n, len(want))
	}
	for i := 0; i < 60; i++ {
		at := tb.find(key(i), hash(i))
		v, ok := want[i]
		if (at >= 0) != ok || (ok && tb.recs[at].sl.service != v) {
			t.Fatalf("key %d: found at %d, map has %q, %v", i, at, v, ok)
		}
	}
	used := 0
	for i, h := range tb.hashes {
		if h == 0 {
			if tb.recs[i] != (rec{}) {
				t.Fatalf("empty place %d keeps an entry", i)
			}
			continue
		}
		used++
	}
	if used != tb.n || used*maxLoadDen > len(tb.hashes)*maxLoadNum || len(tb.hashes) > tb.limit {
		t.Fatalf("%d places in use of %d (limit %d), n %d", used, len(tb.hashes), tb.limit, tb.n)
	}
}

// TestEveryEntryLeavesOnce: whatever the order of puts, takes, evictions and expiries, each entry
// put (and not replaced) leaves the store once: taken, evicted or expired, or is still there.
func TestEveryEntryLeavesOnce(t *testing.T) {
	s := New(time.Second, 4*numShards)
	rnd := rand.New(rand.NewPCG(3, 4))
	in := map[string]Key{}    // the entries in the store, by a unique name
	names := map[Key]string{} // and by key
	left := map[string]int{}
	out := func(how string) func(Entry) {
		return func(e Entry) {
			left[how]++
			k, ok := in[e.Service]
			if !ok {
				t.Fatalf("%s %q, which is not in the store", how, e.Service)
			}
			delete(in, e.Service)
			delete(names, k)
		}
	}
	now := t0
	for op := 0; op < 100_000; op++ {
		k := key(rnd.IntN(300))
		switch rnd.IntN(4) {
		case 0:
			e, ok := s.Take(k)
			switch {
			case ok && e.State == Expired: // the mark an expired entry leaves: no entry of the test
				if names[k] != "" {
					t.Fatalf("%q was put and a mark of an expired one found", names[k])
				}
			case ok:
				out("took")(e)
			case names[k] != "":
				t.Fatalf("%q was put and not found", names[k])
			}
		case 1:
			now = now.Add(time.Duration(rnd.IntN(40)) * time.Millisecond)
			s.Expire(now, out("expired"))
		default:
			name := strconv.Itoa(op)
			if old, ok := names[k]; ok {
				delete(in, old) // replaced
			}
			in[name], names[k] = k, name
			s.Put(k, Entry{State: SeenServer, Service: name}, now, out("evicted"))
		}
		if s.Len() != len(in) {
			t.Fatalf("op %d: store holds %d, %d expected", op, s.Len(), len(in))
		}
	}
	if left["took"] < 1000 || left["evicted"] < 1000 || left["expired"] < 1000 {
		t.Fatalf("too few of some way out to tell: %v", left)
	}
	t.Logf("%v", left)
}

// evictBuffer is walked between rounds of lookups to push the store out of the caches, as a
// collector's other work does between two batches.
var evictBuffer = make([]byte, 64<<20)

// BenchmarkColdLookup looks up 300 keys (a batch's worth that pair across batches) among 20,000
// waiting entries whose memory is out of the caches: in the store's table, and, side by side, in a
// Go map of the same keys and entries under the same lock (what the store used before). ns/op is per
// lookup.
func BenchmarkColdLookup(b *testing.B) {
	const entries, perRound = 20_000, 300
	rnd := rand.New(rand.NewPCG(1, 2))
	keys := make([]Key, entries)
	s, m := New(time.Hour, 2*entries), map[Key]slot{}
	for i := range keys {
		for j := range keys[i].Trace {
			keys[i].Trace[j] = byte(rnd.Uint32())
		}
		for j := range keys[i].Span {
			keys[i].Span[j] = byte(rnd.Uint32())
		}
		s.Put(keys[i], Entry{State: SeenServer, Service: "cart"}, t0, nil)
		m[keys[i]] = slot{service: "cart"}
	}
	lookups := map[string]func(Key) bool{
		"store": func(k Key) bool {
			sh, h := s.shard(k)
			sh.mu.Lock()
			defer sh.mu.Unlock()
			return sh.entries.find(k, h) >= 0
		},
		"map": func(k Key) bool {
			sh, _ := s.shard(k) // the same lock
			sh.mu.Lock()
			defer sh.mu.Unlock()
			_, ok := m[k]
			return ok
		},
	}
	for _, name := range []string{"store", "map"} {
		lookup := lookups[name]
		b.Run(name, func(b *testing.B) {
			found := 0
			for i := 0; i < b.N; i += perRound {
				b.StopTimer()
				for j := 0; j < len(evictBuffer); j += 64 {
					evictBuffer[j]++
				}
				from := rnd.IntN(entries - perRound)
				b.StartTimer()
				for _, k := range keys[from : from+min(perRound, b.N-i)] {
					if lookup(k) {
						found++
					}
				}
			}
			if found != b.N {
				b.Fatalf("found %d of %d", found, b.N)
			}
		})
	}
}

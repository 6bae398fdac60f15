package pairing

import (
	"hash/maphash"
	"math/bits"
)

// table is one shard's entries: open addressing with linear probing, in two flat arrays, a hash per
// place and the entries themselves. Why not a Go map: the store is looked up once or twice per call
// whose sides arrive in different batches (at a gateway, most calls), and by then a collector's
// other work has pushed the store out of the caches. A Go map of more than eight entries reaches an
// entry through its directory, a table and a group, one cache miss after another; this table
// reaches it in one step, its hash and its entry fetched at once. BenchmarkColdLookup: 0.72 times the
// Go map's time per lookup among 20,000 entries out of the caches.
type table struct {
	hashes []uint64 // 0: the place is empty; else the hash of the entry there (0 is stored as 1)
	recs   []rec
	n      int
	limit  int // the most places the table grows to
}

type rec struct {
	key Key
	sl  slot
}

// maxLoad is the share of places in use beyond which the table grows: with linear probing, a lookup
// that finds nothing then reads about eight hashes, one or two cache lines.
const maxLoadNum, maxLoadDen = 3, 4

const minPlaces = 8

// newTable returns a table that holds up to maxEntries entries without passing maxLoad.
func newTable(maxEntries int) table {
	return table{limit: max(minPlaces, (maxEntries*maxLoadDen+maxLoadNum-1)/maxLoadNum)}
}

// hashOf hashes a key with the store's seed: the ids come from the network, so they must not choose
// the places. A seeded multiply-and-fold of our own was faster (9 ns against 15 in a loop; about 10 ns
// a lookup out of the caches, 2-3% of what the processor costs a span at a gateway), not enough to
// keep a hash of our own rather than the standard library's.
func hashOf(k Key, seed maphash.Seed) uint64 { return maphash.Comparable(seed, k) }

// home is the place where probing for h starts: h's high bits scaled to the table's size, so that
// the size need not be a power of two (its last growth stops at the limit).
func (t *table) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(t.hashes)))
	return int(hi)
}

func (t *table) next(i int) int {
	if i++; i == len(t.hashes) {
		return 0
	}
	return i
}

func stored(h uint64) uint64 { return max(h, 1) }

// find returns the place of k, or -1.
func (t *table) find(k Key, h uint64) int {
	if t.n == 0 {
		return -1
	}
	h = stored(h)
	for i := t.home(h); t.hashes[i] != 0; i = t.next(i) {
		if t.hashes[i] == h && t.recs[i].key == k {
			return i
		}
	}
	return -1
}

// insert stores sl under k, which the table does not hold (find said so). The caller keeps the table
// within its bound.
func (t *table) insert(k Key, h uint64, sl slot) {
	if (t.n+1)*maxLoadDen > len(t.hashes)*maxLoadNum {
		t.grow()
	}
	h = stored(h)
	i := t.home(h)
	for t.hashes[i] != 0 {
		i = t.next(i)
	}
	t.hashes[i], t.recs[i] = h, rec{key: k, sl: sl}
	t.n++
}

// grow makes the table half as large again (not twice, so that a table just grown is still half
// full: its memory per entry stays near what it is at the bound).
func (t *table) grow() {
	size := min(max(minPlaces, len(t.hashes)*3/2), t.limit)
	if size <= len(t.hashes) { // never, while the store evicts at its bound; a table must not fill
		size = len(t.hashes) + 1
	}
	old, oldRecs := t.hashes, t.recs
	t.hashes, t.recs = make([]uint64, size), make([]rec, size)
	for j, h := range old {
		if h != 0 {
			i := t.home(h)
			for t.hashes[i] != 0 {
				i = t.next(i)
			}
			t.hashes[i], t.recs[i] = h, oldRecs[j]
		}
	}
}

// remove empties place i, moving back the entries after it that probing would no longer find
// (deletion without tombstones, so that lookups never slow down as entries come and go).
func (t *table) remove(i int) {
	t.n--
	for j := t.next(i); t.hashes[j] != 0; j = t.next(j) {
		// The entry at j can fill the hole at i when its home is not in (i, j], cyclically.
		home := t.home(t.hashes[j])
		if (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
			t.hashes[i], t.recs[i] = t.hashes[j], t.recs[j]
			i = j
		}
	}
	t.hashes[i], t.recs[i] = 0, rec{} // drop the references to the span's strings
}

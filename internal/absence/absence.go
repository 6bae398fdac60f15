// Package absence watches the declared and required dependencies of a model for the ones that stop
// happening: a declared edge not seen for a window is absent, a required one is missing
// (missing_dependency), decided over time rather than on a call.
package absence

import (
	"sync/atomic"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

const activitySlots = 6

// Watch notices declared (and required) edges that stop happening: an edge is absent when it has
// not been seen for the window, but only when its caller made at least minCalls calls in the window,
// so that a quiet (or sampled) caller does not make its edges look absent. Counting is lock-free;
// caller activity is counted in slots of a sixth of the window, approximately under concurrency.
type Watch struct {
	m        *intent.Compiled
	window   time.Duration
	slot     int64 // nanoseconds: a sixth of the window
	minCalls int64
	start    atomic.Int64 // unix nanoseconds of the first call or check: edges are judged from then

	lastSeen []atomic.Int64 // by tracked edge
	activity []activity     // by caller node
	absent   []atomic.Bool  // by tracked edge, as last checked; only Check writes it
}

// activity counts a caller's calls by slot, each slot's period and count side by side: a call reads
// one cache line of it (out of the caches when a batch arrives in a collector).
type activity [activitySlots]struct {
	period atomic.Int64
	calls  atomic.Int64
}

// NewAbsence starts watching the tracked edges of m.
func New(m *intent.Compiled, window time.Duration, minCalls int) *Watch {
	n := len(m.Tracked())
	return &Watch{m: m, window: window, slot: max(int64(window)/activitySlots, 1), minCalls: int64(minCalls),
		lastSeen: make([]atomic.Int64, n), activity: make([]activity, m.NumNodes()), absent: make([]atomic.Bool, n)}
}

// Call counts a call from caller on the tracked edge edge (-1 when the edge is not tracked).
func (a *Watch) Call(caller intent.NodeID, edge int, now time.Time) {
	t := now.UnixNano()
	if a.start.Load() == 0 {
		a.start.CompareAndSwap(0, t)
	}
	if edge >= 0 && a.lastSeen[edge].Load() != t { // a batch's calls share one time: store it once
		a.lastSeen[edge].Store(t)
	}
	if caller == intent.NoNode {
		return
	}
	p := t / a.slot
	s := &a.activity[caller][p%activitySlots]
	if s.period.Load() != p {
		s.period.Store(p)
		s.calls.Store(0)
	}
	s.calls.Add(1)
}

func (a *Watch) callsInWindow(caller intent.NodeID, now int64) int64 {
	p := now / a.slot
	var n int64
	for i := range a.activity[caller] {
		if s := &a.activity[caller][i]; p-s.period.Load() < activitySlots {
			n += s.calls.Load()
		}
	}
	return n
}

// Check updates which edges are absent at now and calls changed for each edge whose state changed.
// It must not be called concurrently with itself.
func (a *Watch) Check(now time.Time, changed func(e intent.TrackedEdge, absent bool)) {
	t := now.UnixNano()
	a.start.CompareAndSwap(0, t)
	start := a.start.Load()
	for i, e := range a.m.Tracked() {
		since := max(a.lastSeen[i].Load(), start)
		absent := t-since > int64(a.window) && a.callsInWindow(e.From, t) >= a.minCalls
		if absent != a.absent[i].Load() {
			a.absent[i].Store(absent)
			changed(e, absent)
		}
	}
}

// Continue carries on the watch of prev, made for an earlier model, after an intent reload at now:
// edges and callers are matched by name, so an edge both models know keeps when it was last seen and
// whether it was absent, and a caller keeps its activity; an edge new to the model is watched from
// now, as every edge is from the start. Without it, every edit of the intent file would restart
// every watch: absent edges would clear for a window, then be reported again. Calls that reach prev
// while it is copied may be missed; they only make an edge look older.
func (a *Watch) Continue(prev *Watch, now time.Time) {
	start := prev.start.Load()
	a.start.Store(start)
	for i, e := range a.m.Tracked() {
		if j := prev.find(a.m.Node(e.From).Name, a.m.Node(e.To).Name); j >= 0 {
			a.lastSeen[i].Store(prev.lastSeen[j].Load())
			a.absent[i].Store(prev.absent[j].Load())
		} else if start != 0 {
			a.lastSeen[i].Store(now.UnixNano())
		}
	}
	for id := range a.activity {
		if old := prev.m.Lookup(a.m.Node(intent.NodeID(id)).Name); old != intent.NoNode {
			from, to := &prev.activity[old], &a.activity[id]
			for k := range from {
				to[k].period.Store(from[k].period.Load())
				to[k].calls.Store(from[k].calls.Load())
			}
		}
	}
}

// find returns the index of the tracked edge from -> to, by name, or -1.
func (a *Watch) find(from, to string) int {
	f, t := a.m.Lookup(from), a.m.Lookup(to)
	if f == intent.NoNode || t == intent.NoNode {
		return -1
	}
	return a.m.Edge(f, t).Index
}

// EachAbsent calls fn for every edge absent at the last check.
func (a *Watch) EachAbsent(fn func(e intent.TrackedEdge)) {
	for i, e := range a.m.Tracked() {
		if a.absent[i].Load() {
			fn(e)
		}
	}
}

// EachSeen calls fn with the last time each tracked edge was seen (0 if never), for saving.
func (a *Watch) EachSeen(fn func(e intent.TrackedEdge, at int64)) {
	for i, e := range a.m.Tracked() {
		fn(e, a.lastSeen[i].Load())
	}
}

// Resume restores a watch saved by an earlier run: when watching started, and when each edge was
// last seen, by caller and callee name (0: never). An edge the saved watch does not know was added
// to the model since (often the very change the restart rolls out), and is watched from now.
func (a *Watch) Resume(start int64, now time.Time, saved func(from, to string) (lastSeen int64, ok bool)) {
	if start == 0 {
		return
	}
	a.start.CompareAndSwap(0, start)
	for i, e := range a.m.Tracked() {
		at, ok := saved(a.m.Node(e.From).Name, a.m.Node(e.To).Name)
		if !ok {
			at = now.UnixNano()
		}
		if at > a.lastSeen[i].Load() {
			a.lastSeen[i].Store(at)
		}
	}
}

// Start is when watching started (0 before the first call or check).
func (a *Watch) Start() int64 { return a.start.Load() }

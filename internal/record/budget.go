package record

import (
	"sync"

	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// foldSeries is the most series a metric has beyond Limits.MaxSeries: the ones that collect what is
// folded, one per status and kind (and per unresolved reason), with Other as caller and callee.
const foldSeries = 2*int(judge.NumKinds) + 1

// budget decides which series a metric keeps when Limits.MaxSeries is reached, so that drift is
// the last thing folded away:
//   - a new series whose caller or callee is a name outside the model may take at most half of the
//     budget, so junk names cannot take the room the model's own edges need;
//   - at the bound, a new conforming series is folded into the conforming series of Other -> Other;
//   - a new drifting series takes the place of a conforming one (outside the model first), whose
//     count moves to the conforming fold; failing that, a drifting series between nodes of the
//     model takes the place of one with a name outside the model; failing that, it is folded into
//     Other -> Other of its status and kind, which keeps the kind.
//
// A fold is counted from then on: its series keeps counting through pointers cached before, into
// the fold (series.addTo). Sums are kept: a call counted is never lost.
type budget struct {
	mu      sync.Mutex
	metrics [numCounters]metricBudget
}

// metricBudget is what one metric holds: its series that are not folds, by kind of place.
type metricBudget struct {
	n                 int // series that are not folds
	outside           int // ... of which have a name outside the model
	conformingOutside []seriesKey
	conformingModel   []seriesKey
	driftOutside      []seriesKey
}

const numCounters = int(counterMalformed) + 1

// create makes the series of k, or of the fold the budget sends it to.
func (r *Recorder) create(k seriesKey) *series {
	b := &r.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := r.lookup(k); s != nil { // made meanwhile
		return s
	}
	if k.counter == counterMalformed || isFold(k) { // a few series, never refused
		return r.make(k)
	}
	m := &b.metrics[k.counter]
	outside := r.labels.outside(k.caller) || (k.counter != counterUnresolved && r.labels.outside(k.callee))
	drift := k.counter == counterViolations || (k.counter == counterCalls && k.kind != conforming)
	switch {
	case outside && m.outside >= r.limits.MaxSeries/2:
		if !drift || !r.evict(m, &m.conformingOutside, true) {
			return r.fold(k)
		}
	case m.n >= r.limits.MaxSeries:
		if !drift || !(r.evict(m, &m.conformingOutside, true) || r.evict(m, &m.conformingModel, false) || (!outside && r.evict(m, &m.driftOutside, true))) {
			return r.fold(k)
		}
	}
	s := r.make(k)
	m.n++
	switch {
	case outside && drift:
		m.outside++
		m.driftOutside = append(m.driftOutside, k)
	case outside:
		m.outside++
		m.conformingOutside = append(m.conformingOutside, k)
	case !drift && k.counter == counterCalls:
		m.conformingModel = append(m.conformingModel, k)
	}
	return s
}

func isFold(k seriesKey) bool { return k.caller == labelOther && k.callee == labelOther }

// foldKey is the fold of k: Other -> Other, with k's status and kind.
func foldKey(k seriesKey) seriesKey {
	k.caller, k.callee = labelOther, labelOther
	return k
}

// fold returns the fold series of k, made if need be.
func (r *Recorder) fold(k seriesKey) *series {
	f := foldKey(k)
	if s := r.lookup(f); s != nil {
		return s
	}
	return r.make(f)
}

func (r *Recorder) make(k seriesKey) *series {
	s := &series{attrs: r.attributes(k)}
	r.insert(k, s)
	return s
}

// evict folds the last series of keys, one of m's lists, away to make room; outside says whether the
// list's series have a name outside the model. It reports whether there was one.
func (r *Recorder) evict(m *metricBudget, keys *[]seriesKey, outside bool) bool {
	n := len(*keys)
	if n == 0 {
		return false
	}
	k := (*keys)[n-1]
	*keys = (*keys)[:n-1]
	s := r.lookup(k)
	r.remove(k)
	f := r.fold(k)
	s.folded.Store(f) // first: an add that comes later goes to f, or moves itself there
	f.value.Add(s.value.Swap(0))
	m.n--
	if outside {
		m.outside--
	}
	return true
}

// Package behaviour judges how a dependency behaves against what the intent expects of it: latency
// per call and as a p99 over a sliding window, error rate over the window, re-sends of one call and
// calls under one parent span. Memory is bounded: a fixed-size window per edge, a bounded number of
// edges, a bounded store of recent siblings.
package behaviour

import (
	"math"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Latencies are counted in log-scaled buckets: bucket i holds (lowest*growth^(i-1), lowest*growth^i],
// so a quantile is known within 6% up to about 90 s, above which everything is the last bucket.
const (
	numBuckets = 120
	lowest     = 100 * time.Microsecond
	growth     = 1.12
	slots      = 6 // a window is six slots; the oldest is cleared as time moves on
)

var logGrowth = math.Log(growth)

func bucketOf(d time.Duration) int {
	if d <= lowest {
		return 0
	}
	return min(numBuckets-1, 1+int(math.Log(float64(d)/float64(lowest))/logGrowth))
}

// upper is the largest duration bucket i holds.
func upper(i int) time.Duration {
	return time.Duration(float64(lowest) * math.Pow(growth, float64(i)))
}

// slot counts the calls of one slot of the window.
type slot struct {
	period  int64 // which slot-long period of time it counts; stale when older than the window
	calls   uint32
	errors  uint32
	buckets [numBuckets]uint32
}

// window is one edge's sliding window.
type window struct {
	slots [slots]slot
	// summary, recomputed at most every refresh
	computed  time.Time
	calls     int
	p99, p999 time.Duration
	errorRate float64
	expect    intent.Expect // the last expectation the edge was judged against
}

func (w *window) add(period int64, d time.Duration, failed bool) {
	s := &w.slots[period%slots]
	if s.period != period {
		*s = slot{period: period}
	}
	s.calls++
	if failed {
		s.errors++
	}
	s.buckets[bucketOf(d)]++
}

// summarize recomputes the window's p99 and error rate from the slots still inside it.
func (w *window) summarize(period int64) {
	var buckets [numBuckets]uint64
	var calls, errors uint64
	for i := range w.slots {
		s := &w.slots[i]
		if s.calls == 0 || period-s.period >= slots {
			continue
		}
		calls += uint64(s.calls)
		errors += uint64(s.errors)
		for b, n := range s.buckets {
			buckets[b] += uint64(n)
		}
	}
	w.calls, w.errorRate = int(calls), 0
	if calls > 0 {
		w.errorRate = float64(errors) / float64(calls)
	}
	w.p99, w.p999 = quantile(&buckets, calls, 0.99), quantile(&buckets, calls, 0.999)
}

// quantile returns the upper bound of the bucket that holds the q-quantile.
func quantile(buckets *[numBuckets]uint64, calls uint64, q float64) time.Duration {
	if calls == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(calls)))
	var seen uint64
	for b, n := range buckets {
		seen += n
		if seen >= rank {
			return upper(b)
		}
	}
	return upper(numBuckets - 1)
}

package behaviour

import (
	"sync"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// Options tune the tracker: the configured windows and the bounds the components set.
type Options struct {
	Window   time.Duration // the sliding window of p99 and error rate
	MinCalls int           // calls a window needs before it may be judged
	MaxEdges int           // edges with a window; beyond, new edges are judged per call only
	Siblings int           // recent (parent, callee, operation) groups kept to find retries and fan-out
	// SiblingTTL is how long calls under one parent are grouped: the pairing window.
	SiblingTTL time.Duration
	Refresh    time.Duration // how often an edge's p99 and error rate are recomputed
}

// DefaultOptions are the options used when none are given.
var DefaultOptions = Options{Window: 5 * time.Minute, MinCalls: 20, MaxEdges: 1000, Siblings: 100_000, SiblingTTL: 30 * time.Second, Refresh: time.Second}

// Tracker holds the windows of the edges that have expectations. It is safe for concurrent use.
type Tracker struct {
	cfg      Options
	slotSize time.Duration

	mu      sync.Mutex
	windows map[Edge]*window
	sibs    siblings
}

// Edge names an edge by its caller and callee.
type Edge struct{ Caller, Callee string }

// New returns a tracker.
func New(cfg Options) *Tracker {
	return &Tracker{
		cfg: cfg, slotSize: max(cfg.Window/slots, time.Millisecond),
		windows: map[Edge]*window{}, sibs: newSiblings(cfg.Siblings),
	}
}

// Observe counts one call of edge and judges it against e. op names the operation, for finding
// re-sends among siblings. It returns the behaviour kinds that apply, and what was seen.
func (t *Tracker) Observe(edge Edge, e intent.Expect, op string, o judge.Observation, now time.Time) (judge.Kinds, judge.Behaviour) {
	b := judge.Behaviour{Expect: e, Latency: o.Duration, Window: t.cfg.Window, Resends: o.Resends}
	var kinds judge.Kinds
	if e.LatencyMax > 0 && o.Duration > e.LatencyMax {
		kinds.Add(judge.LatencyExceeded)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.LatencyP99 > 0 || e.HasErrorRate {
		if w := t.window(edge); w != nil {
			period := now.UnixNano() / int64(t.slotSize)
			w.add(period, o.Duration, o.Failed)
			w.expect = e
			// recomputed at most every Refresh, and at every call while the window warms up
			if now.Sub(w.computed) >= t.cfg.Refresh || w.calls < t.cfg.MinCalls {
				w.summarize(period)
				w.computed = now
			}
			b.P99, b.ErrorRate = w.p99, w.errorRate
			if w.calls >= t.cfg.MinCalls {
				if e.LatencyP99 > 0 && w.p99 > e.LatencyP99 {
					kinds.Add(judge.LatencyExceeded)
				}
				if e.HasErrorRate && w.errorRate > e.ErrorRate {
					kinds.Add(judge.ErrorRateExceeded)
				}
			}
		}
	}
	if (e.HasRetries || e.CallsPerRequest > 0) && o.Parent != ([8]byte{}) {
		same, all := t.sibs.add(o.Trace, o.Parent, edge.Callee, op, now, t.cfg.SiblingTTL)
		b.Resends = max(b.Resends, same-1)
		b.Fanout = all
		if e.HasRetries && b.Resends > e.Retries {
			kinds.Add(judge.RetryAmplification)
		}
		if e.CallsPerRequest > 0 && all > e.CallsPerRequest {
			kinds.Add(judge.FanoutExceeded)
		}
	}
	return kinds, b
}

// window returns the edge's window, making one while there is room.
func (t *Tracker) window(edge Edge) *window {
	if w, ok := t.windows[edge]; ok {
		return w
	}
	if len(t.windows) >= t.cfg.MaxEdges {
		return nil
	}
	w := &window{}
	t.windows[edge] = w
	return w
}

// EdgeStats is an edge's window as the metrics show it.
type EdgeStats struct {
	Edge      Edge
	P99, P999 time.Duration
	ErrorRate float64
	Calls     int
	Expect    intent.Expect
}

// Stats returns every edge's window summary.
func (t *Tracker) Stats() []EdgeStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]EdgeStats, 0, len(t.windows))
	for e, w := range t.windows {
		out = append(out, EdgeStats{Edge: e, P99: w.p99, P999: w.p999, ErrorRate: w.errorRate, Calls: w.calls, Expect: w.expect})
	}
	return out
}

// Edges is the number of edges with a window.
func (t *Tracker) Edges() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.windows)
}

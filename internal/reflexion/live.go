package reflexion

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Attacher is what a drift processor looks for among the collector's extensions (as it looks for
// storage): each one it finds, it feeds every call it judges.
type Attacher interface {
	Attach(source string, model func() *intent.Compiled) *Feed
}

// Live is the map of a running collector: the calls its drift processors judge, by edge, status
// and kind, bounded in edges. Safe for concurrent use.
type Live struct {
	mu       sync.Mutex
	sources  map[string]func() *intent.Compiled
	edges    map[liveKey]*liveEdge
	maxEdges int
	dropped  int64 // calls of edges beyond maxEdges
	paths    map[string]*ObservedPath
}

type liveKey struct{ caller, callee, status, kind string }

// slots of the last minute, for calls per minute
const (
	slots    = 6
	slotSize = 10 * time.Second
)

type liveEdge struct {
	calls   int64
	first   time.Time
	trace   string
	counts  [slots]int64
	periods [slots]int64 // the slot period each count belongs to
}

// NewLive returns an empty map that remembers at most maxEdges (edge, status, kind) rows.
func NewLive(maxEdges int) *Live {
	return &Live{sources: map[string]func() *intent.Compiled{}, edges: map[liveKey]*liveEdge{}, maxEdges: maxEdges,
		paths: map[string]*ObservedPath{}}
}

// Feed is one processor's way in.
type Feed struct{ l *Live }

// Attach registers a processor (source names it) and the model it judges with now.
func (l *Live) Attach(source string, model func() *intent.Compiled) *Feed {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sources[source] = model
	return &Feed{l: l}
}

// Call counts one judged call. status and kind are the verdict's names (kind empty when it
// conforms); trace is read only for the first call of its row.
func (f *Feed) Call(caller, callee, status, kind string, trace pcommon.TraceID, now time.Time) {
	l := f.l
	l.mu.Lock()
	defer l.mu.Unlock()
	k := liveKey{caller, callee, status, kind}
	e := l.edges[k]
	if e == nil {
		if len(l.edges) >= l.maxEdges {
			l.dropped++
			return
		}
		e = &liveEdge{first: now}
		l.edges[k] = e
	}
	e.calls++
	if e.trace == "" && !trace.IsEmpty() {
		e.trace = trace.String()
	}
	period := now.UnixNano() / int64(slotSize)
	i := period % slots
	if e.periods[i] != period {
		e.periods[i], e.counts[i] = period, 0
	}
	e.counts[i]++
}

// maxLivePaths bounds the chains a live map remembers; the map draws the most called MaxPaths.
const maxLivePaths = 4 * MaxPaths

// Path counts one call that completed a chain breaking a path rule. nodes is copied: it is kept.
func (f *Feed) Path(rule, kind string, nodes []string, trace pcommon.TraceID, now time.Time) {
	l := f.l
	nodes = BoundPath(nodes)
	k := PathKey(rule, nodes)
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.paths[k]
	if p == nil {
		if len(l.paths) >= maxLivePaths {
			return
		}
		p = &ObservedPath{Rule: strings.Clone(rule), Kind: kind, FirstSeen: now}
		for _, n := range nodes {
			p.Nodes = append(p.Nodes, strings.Clone(n))
		}
		if !trace.IsEmpty() {
			p.ExampleTrace = trace.String()
		}
		l.paths[k] = p
	}
	p.Calls++
}

// Paths is every chain remembered.
func (l *Live) Paths() []ObservedPath {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ObservedPath, 0, len(l.paths))
	for _, p := range l.paths {
		out = append(out, *p)
	}
	return out
}

// Model is the model the map is drawn over: the first attached processor's (by name), now.
func (l *Live) Model() *intent.Compiled {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.sources))
	for n := range l.sources {
		names = append(names, n)
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return l.sources[names[0]]()
}

// Observed is every row, with its calls in the minute before now.
func (l *Live) Observed(now time.Time) (rows []Observed, dropped int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	current := now.UnixNano() / int64(slotSize)
	rows = make([]Observed, 0, len(l.edges))
	for k, e := range l.edges {
		var minute int64
		for i := range slots {
			if current-e.periods[i] < slots {
				minute += e.counts[i]
			}
		}
		rows = append(rows, Observed{Caller: k.caller, Callee: k.callee, Status: k.status, Kind: k.kind,
			Calls: e.calls, PerMinute: float64(minute), FirstSeen: e.first, ExampleTrace: e.trace})
	}
	slices.SortFunc(rows, func(a, b Observed) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Kind, b.Kind))
	})
	return rows, l.dropped
}

// Package learn keeps the observed system (services, resources, dependencies and operations), bounded,
// and writes it as an intent model merged with the current one: learn mode, to start an intent from
// real traffic.
package learn

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Learner remembers the system as it is observed: its services, the peers they call, and the
// operations of each edge, with when each was first seen. Bounded: at most maxNodes nodes and maxEdges
// edges; an edge keeps at most maxOps operations, beyond which it is learned with any operation.
type Learner struct {
	maxNodes, maxEdges int

	mu    sync.Mutex
	nodes map[string]*learnedNode
	edges map[[2]string]*learnedEdge
}

const maxOps = 20

type learnedNode struct {
	kind    intent.Kind
	ingress bool
	first   time.Time
}

type learnedEdge struct {
	ops   map[string]bool // nil once more than maxOps were seen: any operation
	first time.Time
}

// NewLearner returns an empty learner.
func New(maxNodes, maxEdges int) *Learner {
	return &Learner{maxNodes: maxNodes, maxEdges: maxEdges, nodes: map[string]*learnedNode{}, edges: map[[2]string]*learnedEdge{}}
}

// Observe records one call; caller is intent.External for a call from outside.
func (l *Learner) Observe(caller, callee string, calleeKind intent.Kind, op string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	to := l.node(callee, calleeKind, now)
	if caller == intent.External {
		if to != nil {
			to.ingress = true
		}
		return
	}
	if l.node(caller, intent.KindService, now) == nil || to == nil {
		return
	}
	k := [2]string{caller, callee}
	e, ok := l.edges[k]
	if !ok {
		if len(l.edges) >= l.maxEdges {
			return
		}
		e = &learnedEdge{ops: map[string]bool{}, first: now}
		l.edges[k] = e
	}
	if e.ops != nil && op != "" {
		e.ops[op] = true
		if len(e.ops) > maxOps {
			e.ops = nil
		}
	}
}

func (l *Learner) node(name string, kind intent.Kind, now time.Time) *learnedNode {
	if n, ok := l.nodes[name]; ok {
		if kind == intent.KindService {
			// first seen as a peer no span named (a resource), it turned out to send spans of its
			// own: a service, which may declare dependencies
			n.kind = intent.KindService
		}
		return n
	}
	if len(l.nodes) >= l.maxNodes {
		return nil
	}
	n := &learnedNode{kind: kind, first: now}
	l.nodes[name] = n
	return n
}

// Model returns current extended with what was observed, and a comment for each addition saying when
// it was first seen. Nothing of current is lost.
func (l *Learner) Model(current *intent.Model) (*intent.Model, map[string]intent.Note) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := *current
	m.Nodes = slices.Clone(current.Nodes)
	notes := map[string]intent.Note{}
	index := map[string]int{}
	for i := range m.Nodes {
		index[m.Nodes[i].Name] = i
		for _, a := range m.Nodes[i].Aliases {
			index[a] = i
		}
	}
	// new nodes, in a stable order
	names := make([]string, 0, len(l.nodes))
	for n := range l.nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		seen := l.nodes[name]
		if i, ok := index[name]; ok {
			if seen.ingress && !m.Nodes[i].Ingress && m.Nodes[i].Kind == intent.KindService {
				m.Nodes[i].Ingress = true
				notes[m.Nodes[i].Name] = "learned: called from outside the traced system, first seen " + stamp(seen.first)
			}
			continue
		}
		index[name] = len(m.Nodes)
		m.Nodes = append(m.Nodes, learnedSpec(name, seen))
		notes[name] = "learned: first seen " + stamp(seen.first)
	}
	// new dependencies, and operations of declared ones that were not declared
	keys := make([][2]string, 0, len(l.edges))
	for k := range l.edges {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1] })
	for _, k := range keys {
		from := &m.Nodes[index[k[0]]]
		if from.Kind != intent.KindService {
			continue // the current intent declares it a resource, which has no dependencies
		}
		to := m.Nodes[index[k[1]]].Name
		e := l.edges[k]
		if j := dependencyIndex(from, to); j >= 0 {
			dep := &from.DependsOn[j]
			if len(dep.Operations) > 0 && e.ops == nil {
				dep.Operations = nil // seen with more operations than are worth listing: any
			} else if len(dep.Operations) > 0 {
				dep.Operations = slices.Clone(dep.Operations)
				for _, op := range sortedOps(e.ops) {
					if !slices.Contains(dep.Operations, op) {
						dep.Operations = append(dep.Operations, op)
					}
				}
			}
			continue
		}
		from.DependsOn = append(slices.Clone(from.DependsOn), intent.DependencySpec{To: to, Operations: sortedOps(e.ops)})
		notes[from.Name+" -> "+to] = "learned: first seen " + stamp(e.first)
	}
	return &m, notes
}

func dependencyIndex(n *intent.NodeSpec, to string) int {
	for j, d := range n.DependsOn {
		if d.To == to {
			return j
		}
	}
	return -1
}

// learnedSpec makes a node of what was observed: a service, or a resource with the matcher that
// will name it next time (the database system, the messaging destination, the address).
func learnedSpec(name string, n *learnedNode) intent.NodeSpec {
	s := intent.NodeSpec{Name: name, Kind: n.kind, Ingress: n.ingress}
	switch n.kind {
	case intent.KindDatabase:
		s.Match = []intent.MatchSpec{{Key: "db.system.name", Glob: quoteGlob(name)}}
	case intent.KindMessaging:
		s.Match = []intent.MatchSpec{{Key: "messaging.destination.name", Glob: quoteGlob(name)}}
	case intent.KindUnknown:
		s.Kind = intent.KindExternal
		s.Match = []intent.MatchSpec{{Key: "server.address", Glob: quoteGlob(name)}}
	}
	if s.Kind != intent.KindService {
		s.Ingress = false
	}
	return s
}

func sortedOps(ops map[string]bool) []string {
	if ops == nil {
		return nil
	}
	out := make([]string, 0, len(ops))
	for op := range ops {
		out = append(out, quoteGlob(op))
	}
	sort.Strings(out)
	return out
}

// quoteGlob escapes the glob characters of a literal name.
func quoteGlob(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '{', '}', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// State is what a learner remembers, for saving across restarts.
type State struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Node is a node as saved.
type Node struct {
	Name    string    `json:"name"`
	Kind    uint8     `json:"kind"`
	Ingress bool      `json:"ingress,omitempty"`
	First   time.Time `json:"first"`
}

// Edge is an edge as saved; Any is set when it was seen with too many operations to list.
type Edge struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	Ops   []string  `json:"ops,omitempty"`
	Any   bool      `json:"any,omitempty"`
	First time.Time `json:"first"`
}

// Export returns what the learner remembers.
func (l *Learner) Export() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s State
	for name, n := range l.nodes {
		s.Nodes = append(s.Nodes, Node{Name: name, Kind: uint8(n.kind), Ingress: n.ingress, First: n.first})
	}
	for k, e := range l.edges {
		le := Edge{From: k[0], To: k[1], Any: e.ops == nil, First: e.first}
		for op := range e.ops {
			le.Ops = append(le.Ops, op)
		}
		s.Edges = append(s.Edges, le)
	}
	return s
}

// Restore adds what an earlier run learned.
func (l *Learner) Restore(s State) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range s.Nodes {
		if got := l.node(n.Name, intent.Kind(n.Kind), n.First); got != nil {
			got.ingress = got.ingress || n.Ingress
		}
	}
	for _, e := range s.Edges {
		k := [2]string{e.From, e.To}
		if _, ok := l.edges[k]; ok || len(l.edges) >= l.maxEdges {
			continue
		}
		le := &learnedEdge{first: e.First}
		if !e.Any {
			le.ops = map[string]bool{}
			for _, op := range e.Ops {
				le.ops[op] = true
			}
		}
		l.edges[k] = le
	}
}

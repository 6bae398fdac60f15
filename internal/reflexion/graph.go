// Package reflexion is the reflexion map: the declared graph of an intent with what traffic did laid
// over it. Each edge is convergent (declared and observed: conforming), divergent (observed drift,
// by kind), known (drift a baseline accepts) or absent (declared, never observed). The same graph
// is built from a live collector (Live, fed by drift processors) and from recorded traffic
// (driftctl map), and drawn by the same code (package draw; this package does not draw, so that a
// processor feeding a map does not link Graphviz).
package reflexion

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Edge statuses, the values of data-status.
const (
	Conforming = "conforming"
	Drift      = "drift"
	Known      = "known"
	Absent     = "absent"
)

// Observed is what traffic showed of one edge with one status and kind.
type Observed struct {
	Caller, Callee string
	Status         string // conforming, drift or known
	Kind           string // empty when conforming
	Calls          int64
	PerMinute      float64 // over the last minute; 0 for a recording
	FirstSeen      time.Time
	ExampleTrace   string
}

// Node is a node of the map: a service or resource of the model, a name outside it, or (when
// zones are collapsed) a zone.
type Node struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Zone     string `json:"zone,omitempty"`
	Layer    string `json:"layer,omitempty"`
	Kind     string `json:"kind"`              // service, database, messaging, external, unknown, zone
	Declared bool   `json:"declared"`          // false for a name outside the model
	Members  int    `json:"members,omitempty"` // a collapsed zone's nodes
	// Rank is the node's layer's index (-1 without one): the drawing ranks by it.
	Rank int `json:"-"`
}

// Edge is an edge of the map: every observed status and kind of one caller and callee, bundled.
type Edge struct {
	Caller       string    `json:"caller"`
	Callee       string    `json:"callee"`
	Status       string    `json:"status"` // drift over known over conforming; absent when never observed
	Kinds        []string  `json:"kinds"`
	Calls        int64     `json:"calls"`
	PerMinute    float64   `json:"per_minute"`
	FirstSeen    time.Time `json:"first_seen,omitzero"`
	ExampleTrace string    `json:"example_trace,omitempty"`
	Declared     bool      `json:"declared"`
	Bundled      int       `json:"bundled,omitempty"` // edges of collapsed zones drawn as this one
}

// Graph is the map: what the page draws and /api/graph answers.
type Graph struct {
	System    string   `json:"system"`
	Layers    []string `json:"layers"`
	Nodes     []Node   `json:"nodes"`
	Edges     []Edge   `json:"edges"`
	Paths     []Path   `json:"paths"`      // chains that broke path rules, highlighted
	Collapsed bool     `json:"collapsed"`  // zones are drawn as nodes
	MoreNodes int      `json:"more_nodes"` // left out by MaxNodes
	MoreEdges int      `json:"more_edges"` // left out by MaxEdges
}

// Options bound what is drawn.
type Options struct {
	// CollapseAbove: with more nodes than this, each zone is drawn as one node and the edges
	// between zones are bundled; 0 never collapses.
	CollapseAbove int
	// MaxNodes and MaxEdges bound the drawing; what is left out is counted ("and M more"). Drift
	// is kept first, then known drift, conforming edges by calls, absent edges last.
	MaxNodes, MaxEdges int
}

// DefaultOptions are readable at 200 services and 2,000 dependencies.
func DefaultOptions() Options { return Options{CollapseAbove: 60, MaxNodes: 200, MaxEdges: 1000} }

var statusRank = map[string]int{Drift: 0, Known: 1, Conforming: 2, Absent: 3}

// Build lays what was observed over the model's declared graph, with the chains that broke path
// rules over it.
func Build(m *intent.Compiled, observed []Observed, paths []ObservedPath, opts Options) *Graph {
	g := &Graph{System: m.System, Layers: m.Layers, Paths: []Path{}}
	nodes := map[string]*Node{}
	for i := range m.NumNodes() {
		n := m.Node(intent.NodeID(i))
		node := &Node{Name: n.Name, Zone: n.Zone, Kind: n.Kind.String(), Declared: true, Rank: n.Layer}
		if n.Layer >= 0 {
			node.Layer = m.Layers[n.Layer]
		}
		nodes[n.Name] = node
	}
	edges := map[[2]string]*Edge{}
	edge := func(caller, callee string) *Edge {
		k := [2]string{caller, callee}
		e := edges[k]
		if e == nil {
			e = &Edge{Caller: caller, Callee: callee, Status: Absent, Kinds: []string{}}
			edges[k] = e
		}
		return e
	}
	m.Declared(func(from, to intent.NodeID, _ int) { edge(m.Node(from).Name, m.Node(to).Name).Declared = true })
	for _, o := range observed {
		for _, name := range []string{o.Caller, o.Callee} {
			if nodes[name] == nil {
				kind := "unknown"
				if name == intent.External {
					kind = intent.External
				}
				nodes[name] = &Node{Name: name, Kind: kind, Rank: -1}
			}
		}
		e := edge(o.Caller, o.Callee)
		e.observe(o)
	}
	for _, n := range nodes {
		g.Nodes = append(g.Nodes, *n)
	}
	for _, e := range edges {
		slices.Sort(e.Kinds)
		g.Edges = append(g.Edges, *e)
	}
	drawn := func(n string) string { return n }
	if opts.CollapseAbove > 0 && len(g.Nodes) > opts.CollapseAbove {
		drawn = g.collapse()
	}
	g.addPaths(paths, drawn)
	g.bound(opts)
	g.number()
	return g
}

// observe adds one observed row to the edge: the worst status wins, kinds and calls add up, the
// earliest first sight and a trace of the worst status are kept.
func (e *Edge) observe(o Observed) {
	if e.Status == Absent || statusRank[o.Status] < statusRank[e.Status] {
		e.Status = o.Status
		if o.ExampleTrace != "" {
			e.ExampleTrace = o.ExampleTrace
		}
	}
	if e.ExampleTrace == "" {
		e.ExampleTrace = o.ExampleTrace
	}
	if o.Kind != "" && !slices.Contains(e.Kinds, o.Kind) {
		e.Kinds = append(e.Kinds, o.Kind)
	}
	e.Calls += o.Calls
	e.PerMinute += o.PerMinute
	if !o.FirstSeen.IsZero() && (e.FirstSeen.IsZero() || o.FirstSeen.Before(e.FirstSeen)) {
		e.FirstSeen = o.FirstSeen
	}
}

// collapse draws each zone as one node (nodes without a zone stay themselves) and bundles the
// edges between the same two nodes. It returns the drawn node of each name.
func (g *Graph) collapse() func(string) string {
	g.Collapsed = true
	of := map[string]string{}
	zones := map[string]*Node{}
	var kept []Node
	for _, n := range g.Nodes {
		if n.Zone == "" {
			of[n.Name] = n.Name
			kept = append(kept, n)
			continue
		}
		name := "zone " + n.Zone
		of[n.Name] = name
		z := zones[name]
		if z == nil {
			z = &Node{Name: name, Zone: n.Zone, Kind: "zone", Declared: true, Rank: n.Rank}
			zones[name] = z
		}
		z.Members++
		z.Rank = min(z.Rank, n.Rank)
	}
	for _, z := range zones {
		kept = append(kept, *z)
	}
	g.Nodes = kept
	bundled := map[[2]string]int{} // index in edges
	var edges []Edge
	for _, e := range g.Edges {
		k := [2]string{of[e.Caller], of[e.Callee]}
		i, ok := bundled[k]
		if !ok {
			i = len(edges)
			bundled[k] = i
			edges = append(edges, Edge{Caller: k[0], Callee: k[1], Status: Absent, Kinds: []string{}})
		}
		b := &edges[i]
		b.Bundled++
		b.Declared = b.Declared || e.Declared
		if e.Status == Absent {
			continue
		}
		b.observe(Observed{Status: e.Status, Calls: e.Calls, PerMinute: e.PerMinute, FirstSeen: e.FirstSeen, ExampleTrace: e.ExampleTrace})
		for _, k := range e.Kinds {
			if !slices.Contains(b.Kinds, k) {
				b.Kinds = append(b.Kinds, k)
			}
		}
	}
	for i := range edges {
		slices.Sort(edges[i].Kinds)
	}
	g.Edges = edges
	return func(n string) string {
		if d, ok := of[n]; ok {
			return d
		}
		return n
	}
}

// bound keeps the most telling edges and the nodes they need, within the limits.
func (g *Graph) bound(opts Options) {
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(statusRank[a.Status], statusRank[b.Status]), cmp.Compare(b.Calls, a.Calls),
			cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	})
	if opts.MaxEdges > 0 && len(g.Edges) > opts.MaxEdges {
		g.MoreEdges = len(g.Edges) - opts.MaxEdges
		g.Edges = g.Edges[:opts.MaxEdges]
	}
	slices.SortFunc(g.Nodes, func(a, b Node) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.Name, b.Name))
	})
	if opts.MaxNodes > 0 && len(g.Nodes) > opts.MaxNodes {
		g.keepNodes(opts.MaxNodes)
	}
}

// keepNodes keeps at most max nodes: first those the kept edges join, in the edges' order, then
// the others; the edges of nodes left out go too. Both are counted.
func (g *Graph) keepNodes(max int) {
	keep := map[string]bool{}
	for _, e := range g.Edges {
		for _, n := range []string{e.Caller, e.Callee} {
			if !keep[n] && len(keep) < max {
				keep[n] = true
			}
		}
	}
	for _, n := range g.Nodes {
		if len(keep) < max {
			keep[n.Name] = true
		}
	}
	nodes := g.Nodes[:0]
	for _, n := range g.Nodes {
		if keep[n.Name] {
			nodes = append(nodes, n)
		} else {
			g.MoreNodes++
		}
	}
	g.Nodes = nodes
	edges := g.Edges[:0]
	for _, e := range g.Edges {
		if keep[e.Caller] && keep[e.Callee] {
			edges = append(edges, e)
		} else {
			g.MoreEdges++
		}
	}
	g.Edges = edges
	paths := g.Paths[:0]
	for _, p := range g.Paths {
		if !slices.ContainsFunc(p.Nodes, func(n string) bool { return !keep[n] }) {
			paths = append(paths, p)
		}
	}
	g.Paths = paths
}

// number gives each node the id the drawing uses.
func (g *Graph) number() {
	for i := range g.Nodes {
		g.Nodes[i].ID = "n" + strconv.Itoa(i)
	}
}

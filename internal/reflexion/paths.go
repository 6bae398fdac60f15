package reflexion

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// ObservedPath is a chain of calls that broke a path rule of the intent, as traffic showed it:
// the services its request passed through, the first of the trace first, the callee of the call
// that completed it last.
type ObservedPath struct {
	Rule, Kind   string // the path rule, and its kind: forbidden_path, missing_waypoint, ...
	Nodes        []string
	Calls        int64
	FirstSeen    time.Time
	ExampleTrace string
}

// Path is a chain the map highlights. Nodes are the map's nodes (zones, when collapsed).
type Path struct {
	Rule         string   `json:"rule"`
	Kind         string   `json:"kind"`
	Nodes        []string `json:"nodes"`
	Calls        int64    `json:"calls"`
	ExampleTrace string   `json:"example_trace,omitempty"`
}

// MaxPaths bounds the chains a map keeps and draws: the most called first.
const MaxPaths = 20

// maxPathNodes bounds a chain's nodes as the map keeps it: the first and the last ones.
const maxPathNodes = 16

// PathKey is how chains are told apart: the rule and the nodes.
func PathKey(rule string, nodes []string) string { return rule + "\x00" + strings.Join(nodes, "\x00") }

// BoundPath keeps a chain's first node and its last ones, within maxPathNodes.
func BoundPath(nodes []string) []string {
	if len(nodes) <= maxPathNodes {
		return nodes
	}
	return append([]string{nodes[0]}, nodes[len(nodes)-(maxPathNodes-1):]...)
}

// addPaths lays the chains over the graph: each node renamed as drawn (its zone when collapsed),
// the chains that then share their nodes and rule added up, the most called kept.
func (g *Graph) addPaths(paths []ObservedPath, drawn func(string) string) {
	byKey := map[string]int{}
	for _, o := range paths {
		var nodes []string
		for _, n := range o.Nodes {
			if d := drawn(n); len(nodes) == 0 || nodes[len(nodes)-1] != d {
				nodes = append(nodes, d)
			}
		}
		if len(nodes) < 2 {
			continue // a chain within one zone is a loop on one node: its edges show it
		}
		k := PathKey(o.Rule, nodes)
		i, ok := byKey[k]
		if !ok {
			i = len(g.Paths)
			byKey[k] = i
			g.Paths = append(g.Paths, Path{Rule: o.Rule, Kind: o.Kind, Nodes: nodes})
		}
		p := &g.Paths[i]
		p.Calls += o.Calls
		if p.ExampleTrace == "" {
			p.ExampleTrace = o.ExampleTrace
		}
	}
	slices.SortFunc(g.Paths, func(a, b Path) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Rule, b.Rule), slices.Compare(a.Nodes, b.Nodes))
	})
	if len(g.Paths) > MaxPaths {
		g.Paths = g.Paths[:MaxPaths]
	}
}

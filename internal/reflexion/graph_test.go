package reflexion

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

const shop = `version: 1
system: shop
layers: [web, core, data]
services:
  web: {layer: web, zone: front, ingress: true, depends_on: [cart, pay]}
  cart: {layer: core, zone: front, depends_on: [cart-db]}
  pay: {layer: core, zone: money}
resources:
  cart-db: {kind: database, layer: data, zone: front, match: {db.system.name: sqlite}}
`

func model(t *testing.T, text string) *intent.Compiled {
	t.Helper()
	m, err := intent.LoadBytes("shop.yaml", []byte(text))
	require.NoError(t, err)
	return m
}

func edgeOf(g *Graph, caller, callee string) *Edge {
	for i := range g.Edges {
		if g.Edges[i].Caller == caller && g.Edges[i].Callee == callee {
			return &g.Edges[i]
		}
	}
	return nil
}

// TestBuild: declared and observed is conforming, declared and never observed absent, observed
// drift divergent with its kinds united, known where the baseline accepts it and nothing worse
// was seen; a name outside the model is a node of its own.
func TestBuild(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := Build(model(t, shop), []Observed{
		{Caller: "external", Callee: "web", Status: Conforming, Calls: 10},
		{Caller: "web", Callee: "cart", Status: Conforming, Calls: 7, FirstSeen: t0.Add(time.Minute), ExampleTrace: "aa"},
		{Caller: "web", Callee: "cart", Status: Drift, Kind: "retry_amplification", Calls: 2, FirstSeen: t0, ExampleTrace: "bb"},
		{Caller: "cart", Callee: "pay", Status: Drift, Kind: "undeclared_dependency", Calls: 3},
		{Caller: "cart", Callee: "pay", Status: Drift, Kind: "forbidden_dependency", Calls: 1},
		{Caller: "pay", Callee: "cart-db", Status: Known, Kind: "forbidden_dependency", Calls: 4},
		{Caller: "web", Callee: "mystery", Status: Drift, Kind: "unknown_service", Calls: 1},
	}, []ObservedPath{
		{Rule: "r", Kind: "forbidden_path", Nodes: []string{"web", "cart", "pay"}, Calls: 2, ExampleTrace: "cc"},
		{Rule: "r", Kind: "forbidden_path", Nodes: []string{"web", "cart", "pay"}, Calls: 1},
		{Rule: "deep", Kind: "depth_exceeded", Nodes: []string{"web", "cart", "pay", "cart-db"}, Calls: 1},
	}, DefaultOptions())
	assert.Equal(t, []Path{
		{Rule: "r", Kind: "forbidden_path", Nodes: []string{"web", "cart", "pay"}, Calls: 3, ExampleTrace: "cc"},
		{Rule: "deep", Kind: "depth_exceeded", Nodes: []string{"web", "cart", "pay", "cart-db"}, Calls: 1},
	}, g.Paths, "one chain per rule and nodes, the most called first")

	assert.Equal(t, &Edge{Caller: "web", Callee: "cart", Status: Drift, Kinds: []string{"retry_amplification"}, Calls: 9,
		FirstSeen: t0, ExampleTrace: "bb", Declared: true}, edgeOf(g, "web", "cart"), "drift wins over conforming, with its trace")
	assert.Equal(t, []string{"forbidden_dependency", "undeclared_dependency"}, edgeOf(g, "cart", "pay").Kinds)
	assert.Equal(t, Known, edgeOf(g, "pay", "cart-db").Status)
	assert.Equal(t, Absent, edgeOf(g, "web", "pay").Status)
	assert.True(t, edgeOf(g, "web", "pay").Declared)
	assert.Equal(t, Absent, edgeOf(g, "cart", "cart-db").Status)
	assert.Equal(t, &Edge{Caller: "external", Callee: "web", Status: Conforming, Kinds: []string{}, Calls: 10}, edgeOf(g, "external", "web"))
	assert.Equal(t, Drift, g.Edges[0].Status, "drift is listed (and kept under bounds) first")

	names := map[string]Node{}
	for _, n := range g.Nodes {
		names[n.Name] = n
	}
	assert.False(t, names["mystery"].Declared)
	assert.Equal(t, "database", names["cart-db"].Kind)
	assert.Equal(t, "core", names["cart"].Layer)
	assert.Len(t, g.Nodes, 6, "four of the model, external and mystery")
}

// TestCollapseAndBounds: above CollapseAbove nodes each zone is one node and the edges between
// two of them are bundled (the worst status shown); beyond MaxEdges the rest is counted, drift kept.
func TestCollapseAndBounds(t *testing.T) {
	m := model(t, shop)
	rows := []Observed{
		{Caller: "web", Callee: "cart", Status: Conforming, Calls: 5},
		{Caller: "web", Callee: "pay", Status: Drift, Kind: "layer_violation", Calls: 1},
		{Caller: "cart", Callee: "pay", Status: Conforming, Calls: 2},
	}
	paths := []ObservedPath{
		{Rule: "r", Kind: "forbidden_path", Nodes: []string{"web", "cart", "pay"}, Calls: 1},
		{Rule: "in-one-zone", Kind: "call_cycle", Nodes: []string{"web", "cart", "web"}, Calls: 1},
	}
	g := Build(m, rows, paths, Options{CollapseAbove: 3})
	require.True(t, g.Collapsed)
	assert.Equal(t, []Path{{Rule: "r", Kind: "forbidden_path", Nodes: []string{"zone front", "zone money"}, Calls: 1}}, g.Paths,
		"a chain goes from zone to zone; one within a zone is not drawn")
	zones := map[string]int{}
	for _, n := range g.Nodes {
		zones[n.Name] = n.Members
	}
	assert.Equal(t, map[string]int{"zone front": 3, "zone money": 1}, zones)
	e := edgeOf(g, "zone front", "zone money")
	require.NotNil(t, e)
	assert.Equal(t, Drift, e.Status)
	assert.Equal(t, 2, e.Bundled, "web -> pay and cart -> pay")
	assert.EqualValues(t, 3, e.Calls)
	assert.Equal(t, []string{"layer_violation"}, e.Kinds)

	g = Build(m, rows, nil, Options{MaxEdges: 1, MaxNodes: 10})
	require.Len(t, g.Edges, 1)
	assert.Equal(t, Drift, g.Edges[0].Status)
	assert.Equal(t, 3, g.MoreEdges, "web -> cart, cart -> pay and cart -> cart-db (absent) are left out, counted")

	g = Build(m, rows, paths, Options{MaxNodes: 2, MaxEdges: 10})
	assert.Empty(t, g.Paths, "a chain through a node left out is not drawn")
	assert.Len(t, g.Nodes, 2)
	assert.Equal(t, 2, g.MoreNodes)
	assert.Equal(t, "web", g.Edges[0].Caller, "the nodes of the drifting edge are kept")
	assert.Equal(t, "pay", g.Edges[0].Callee)
}

// TestLive: calls in, rows out, with calls per minute over the last minute only, one trace per
// row, and the rows bounded.
func TestLive(t *testing.T) {
	l := NewLive(2)
	m := model(t, shop)
	f := l.Attach("drift/a", func() *intent.Compiled { return m })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	id := pcommon.TraceID{1}
	f.Call("web", "cart", Conforming, "", id, t0)
	f.Call("web", "cart", Conforming, "", pcommon.TraceID{2}, t0.Add(30*time.Second))
	f.Call("web", "cart", Conforming, "", pcommon.TraceID{3}, t0.Add(65*time.Second))
	f.Call("web", "pay", Drift, "layer_violation", pcommon.TraceID{}, t0)
	f.Call("cart", "pay", Drift, "undeclared_dependency", id, t0) // a third row: beyond the bound
	rows, dropped := l.Observed(t0.Add(70 * time.Second))
	assert.Equal(t, int64(1), dropped)
	require.Len(t, rows, 2)
	assert.Equal(t, Observed{Caller: "web", Callee: "cart", Status: Conforming, Calls: 3, PerMinute: 2, FirstSeen: t0, ExampleTrace: id.String()}, rows[0])
	assert.Empty(t, rows[1].ExampleTrace, "a call judged without its span has no trace to show")
	assert.Same(t, m, l.Model())
}

package draw

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/reflexion"
	"github.com/driftprocessor/driftprocessor/internal/synthtest"
)

const hostile = `<img src=x onerror=alert(1)>`

func shopGraph(t testing.TB) *reflexion.Graph {
	m, err := intent.LoadBytes("shop.yaml", []byte(`version: 1
layers: [web, core]
services:
  web: {layer: web, zone: front, ingress: true, depends_on: [cart, pay]}
  cart: {layer: core, zone: front}
  pay: {layer: core, zone: money}
`))
	require.NoError(t, err)
	return reflexion.Build(m, []reflexion.Observed{
		{Caller: "web", Callee: "cart", Status: reflexion.Conforming, Calls: 5, ExampleTrace: "0af7651916cd43dd8448eb211c80319c"},
		{Caller: "cart", Callee: "pay", Status: reflexion.Drift, Kind: "layer_violation", Calls: 1},
		{Caller: "cart", Callee: hostile, Status: reflexion.Drift, Kind: "unknown_service", Calls: 1},
	}, []reflexion.ObservedPath{
		{Rule: "no-web-to-pay-via-cart", Kind: "forbidden_path", Nodes: []string{"web", "cart", "pay"}, Calls: 1},
		{Rule: hostile, Kind: "call_cycle", Nodes: []string{"web", "cart", hostile}, Calls: 1},
	}, reflexion.DefaultOptions())
}

type svgGroup struct {
	Class  string     `xml:"class,attr"`
	Caller string     `xml:"data-caller,attr"`
	Callee string     `xml:"data-callee,attr"`
	Status string     `xml:"data-status,attr"`
	Kind   string     `xml:"data-kind,attr"`
	Node   string     `xml:"data-node,attr"`
	Rule   string     `xml:"data-rule,attr"`
	Path   string     `xml:"data-path,attr"`
	Groups []svgGroup `xml:"g"`
	Hops   []svgGroup `xml:"path"`
}

func groups(t *testing.T, svg []byte) []svgGroup {
	var doc struct {
		Groups []svgGroup `xml:"g"`
	}
	require.NoError(t, xml.Unmarshal(svg, &doc), "the SVG is well-formed XML")
	var all []svgGroup
	var walk func([]svgGroup)
	walk = func(gs []svgGroup) {
		for _, g := range gs {
			all = append(all, g)
			walk(g.Groups)
		}
	}
	walk(doc.Groups)
	return all
}

// TestSVGContract: every edge element carries its caller, callee, status and kinds, every node its
// name, as the graph says; a name that is markup is text, escaped, in the SVG and on the page.
func TestSVGContract(t *testing.T) {
	r := Renderer{TraceURL: "http://jaeger:16686/trace/{trace_id}"}
	g := shopGraph(t)
	svg := r.SVG(g)

	var edges, nodes []svgGroup
	for _, el := range groups(t, svg) {
		switch el.Class {
		case "edge":
			edges = append(edges, el)
		case "node":
			nodes = append(nodes, el)
		}
	}
	require.Len(t, edges, len(g.Edges))
	require.Len(t, nodes, len(g.Nodes))
	got := map[string]string{}
	for _, e := range edges {
		got[e.Caller+" -> "+e.Callee] = e.Status + " " + e.Kind
	}
	assert.Equal(t, map[string]string{
		"web -> cart": "conforming ", "web -> pay": "absent ", "cart -> pay": "drift layer_violation",
		"cart -> " + hostile: "drift unknown_service",
	}, got)
	names := map[string]bool{}
	for _, n := range nodes {
		names[n.Node] = true
	}
	assert.True(t, names[hostile], "the attribute holds the name, escaped, and reads back as it was")
	assert.NotContains(t, string(svg), "<img", "no markup from a name")
	assert.Contains(t, string(svg), `href="http://jaeger:16686/trace/0af7651916cd43dd8448eb211c80319c"`)

	var page bytes.Buffer
	require.NoError(t, Page(&page, g, svg, ""))
	assert.NotContains(t, page.String(), "<img")
	assert.Equal(t, 1, strings.Count(page.String(), "<svg"))
}

// TestSVGHighlightsPaths: a chain that broke a path rule is drawn as a halo over each of its edges,
// under them, named by rule, kind and chain; names that are markup stay text.
func TestSVGHighlightsPaths(t *testing.T) {
	g := shopGraph(t)
	svg := Renderer{}.SVG(g)
	var paths []svgGroup
	for _, el := range groups(t, svg) {
		if el.Class == "path" {
			paths = append(paths, el)
		}
	}
	require.Len(t, paths, 2)
	byRule := map[string]svgGroup{}
	for _, p := range paths {
		byRule[p.Rule] = p
	}
	p := byRule["no-web-to-pay-via-cart"]
	assert.Equal(t, "forbidden_path", p.Kind)
	assert.Equal(t, "web -> cart -> pay", p.Path)
	var hops []string
	for _, h := range p.Hops {
		if h.Class == "hop" {
			hops = append(hops, h.Caller+" -> "+h.Callee)
		}
	}
	assert.Equal(t, []string{"web -> cart", "cart -> pay"}, hops)
	assert.Equal(t, "web -> cart -> "+hostile, byRule[hostile].Path, "escaped, and read back as it was")
	assert.Less(t, strings.Index(string(svg), `class="path"`), strings.Index(string(svg), `class="edge"`), "drawn under the edges")
	var page bytes.Buffer
	require.NoError(t, Page(&page, g, svg, ""))
	assert.Contains(t, page.String(), `<option value="forbidden_path">`, "the kind filter offers the path kinds")
	assert.NotContains(t, page.String(), "<img")
}

// BenchmarkDrawSynthetic: building and drawing the map of the synthetic 200-service,
// 2,000-dependency model with every dependency observed and a tenth drifting (zones collapse:
// 20 zones), and the same without collapsing, for the comparison of readability and speed.
func BenchmarkDrawSynthetic(b *testing.B) {
	sys := synthtest.New(200, 10, 1) // 10 per service: 2,000 dependencies, and a database each
	m, err := intent.LoadBytes("synthetic.yaml", []byte(sys.Intent()))
	if err != nil {
		b.Fatal(err)
	}
	var rows []reflexion.Observed
	for i, d := range sys.Dependencies() {
		status, kind := reflexion.Conforming, ""
		if i%10 == 0 {
			status, kind = reflexion.Drift, "undeclared_operation"
		}
		rows = append(rows, reflexion.Observed{Caller: d[0], Callee: d[1], Status: status, Kind: kind, Calls: int64(i%50 + 1)})
	}
	var r Renderer
	for _, c := range []struct {
		name string
		opts reflexion.Options
	}{{"collapsed", reflexion.DefaultOptions()}, {"every-node", reflexion.Options{MaxNodes: 1000, MaxEdges: 5000}}} {
		b.Run(c.name, func(b *testing.B) {
			var g *reflexion.Graph
			for b.Loop() {
				g = reflexion.Build(m, rows, nil, c.opts)
				r.SVG(g)
			}
			b.ReportMetric(float64(len(g.Nodes)), "nodes")
			b.ReportMetric(float64(len(g.Edges)), "edges")
		})
	}
}

// Package draw draws reflexion maps: SVG by Graphviz's dot, and the HTML page around it.
package draw

import (
	"github.com/driftprocessor/driftprocessor/internal/reflexion"

	"bytes"
	"context"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-graphviz"
)

// Renderer draws graphs as SVG with Graphviz's dot (compiled to WebAssembly: no cgo, nothing to
// install). One instance is not safe for concurrent use, so it is held under a lock.
type Renderer struct {
	mu sync.Mutex
	gv *graphviz.Graphviz
	// TraceURL links an edge to its example trace: "{trace_id}" is replaced by the trace id
	// (Jaeger: http://host:16686/trace/{trace_id}); empty links nothing.
	TraceURL string
}

// NewRenderer starts Graphviz.
func NewRenderer(ctx context.Context, traceURL string) (*Renderer, error) {
	gv, err := graphviz.New(ctx)
	if err != nil {
		return nil, err
	}
	return &Renderer{gv: gv.SetLayout(graphviz.DOT), TraceURL: traceURL}, nil
}

// Close stops Graphviz.
func (r *Renderer) Close() error { return r.gv.Close() }

// SVG draws g: nodes grouped by zone and ranked by layer, resources in shapes of their own, each
// edge styled by its status and kind. Every element the page and tests read carries data-*
// attributes: an edge data-caller, data-callee, data-status and data-kind (its kinds, space
// separated), a node data-node, data-zone and data-node-kind.
func (r *Renderer) SVG(ctx context.Context, g *reflexion.Graph) ([]byte, error) {
	parsed, err := graphviz.ParseBytes(r.dot(g))
	if err != nil {
		return nil, fmt.Errorf("reflexion: the map's graph does not parse: %w", err)
	}
	defer parsed.Close()
	var buf bytes.Buffer
	r.mu.Lock()
	err = r.gv.Render(ctx, parsed, graphviz.SVG, &buf)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return annotate(buf.Bytes(), g), nil
}

var kindColours = map[string]string{
	"forbidden_dependency": "#c62828", "layer_violation": "#ef6c00", "undeclared_dependency": "#ad1457",
	"unknown_service": "#6a1b9a", "undeclared_operation": "#4e342e", "undeclared_ingress": "#9e9d24",
	"latency_exceeded": "#00838f", "error_rate_exceeded": "#1565c0", "retry_amplification": "#7b1fa2",
	"fanout_exceeded": "#bf360c",
}

const (
	colourConforming = "#2e7d32"
	colourAbsent     = "#9e9e9e"
	colourKnown      = "#bdbdbd"
)

var nodeShapes = map[string]string{"database": "cylinder", "messaging": "cds", "external": "component", "unknown": "octagon", "zone": "box3d"}

// dot writes the graph in the DOT language. Names from spans are quoted, never markup: Graphviz
// escapes them in the SVG.
func (r *Renderer) dot(g *reflexion.Graph) []byte {
	var b bytes.Buffer
	b.WriteString("digraph map {\n  graph [rankdir=TB, newrank=true, fontname=\"Helvetica\", fontsize=12, nodesep=0.35, ranksep=0.6, tooltip=\" \"];\n")
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=11, shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#455a64\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7];\n")
	byZone := map[string][]int{}
	var zones []string
	byRank := map[int][]int{}
	for i, n := range g.Nodes {
		if n.Zone != "" && n.Kind != "zone" {
			if byZone[n.Zone] == nil {
				zones = append(zones, n.Zone)
			}
			byZone[n.Zone] = append(byZone[n.Zone], i)
		}
		byRank[n.Rank] = append(byRank[n.Rank], i)
	}
	for zi, z := range zones {
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%s; style=\"rounded,dashed\"; color=\"#90a4ae\"; fontcolor=\"#546e7a\";\n", zi, quote("zone "+z))
		for _, i := range byZone[z] {
			b.WriteString("    ")
			writeNode(&b, &g.Nodes[i])
		}
		b.WriteString("  }\n")
	}
	for i := range g.Nodes {
		if n := &g.Nodes[i]; n.Zone == "" || n.Kind == "zone" {
			b.WriteString("  ")
			writeNode(&b, n)
		}
	}
	// one rank per layer, top to bottom in the model's order; nodes without a layer find their own
	for rank := 0; rank < len(g.Layers); rank++ {
		if ids := byRank[rank]; len(ids) > 0 {
			b.WriteString("  { rank=same;")
			for _, i := range ids {
				fmt.Fprintf(&b, " %s;", g.Nodes[i].ID)
			}
			b.WriteString(" }\n")
		}
	}
	ids := make(map[string]string, len(g.Nodes))
	for _, n := range g.Nodes {
		ids[n.Name] = n.ID
	}
	for i := range g.Edges {
		r.writeEdge(&b, i, &g.Edges[i], ids)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func writeNode(b *bytes.Buffer, n *reflexion.Node) {
	shape := nodeShapes[n.Kind]
	if shape == "" {
		shape = "box"
	}
	fill := "#ffffff"
	switch {
	case !n.Declared:
		fill = "#fff3e0"
	case n.Kind != "service" && n.Kind != "zone":
		fill = "#eceff1"
	}
	label := n.Name
	if n.Members > 0 {
		label = fmt.Sprintf("%s (%d)", n.Name, n.Members)
	}
	fmt.Fprintf(b, "%s [id=%q, label=%s, shape=%s, fillcolor=%q, tooltip=%s];\n", n.ID, n.ID, quote(label), shape, fill, quote(nodeTooltip(n)))
}

func nodeTooltip(n *reflexion.Node) string {
	parts := []string{n.Name, n.Kind}
	if n.Layer != "" {
		parts = append(parts, "layer "+n.Layer)
	}
	if n.Zone != "" {
		parts = append(parts, "zone "+n.Zone)
	}
	if !n.Declared {
		parts = append(parts, "not in the model")
	}
	return strings.Join(parts, " · ")
}

func (r *Renderer) writeEdge(b *bytes.Buffer, i int, e *reflexion.Edge, ids map[string]string) {
	colour, style, width := colourConforming, "solid", "1.2"
	switch e.Status {
	case reflexion.Drift:
		colour, width = colourConforming, "2.2"
		if len(e.Kinds) > 0 {
			colour = kindColours[e.Kinds[0]]
		}
	case reflexion.Known:
		colour = colourKnown
	case reflexion.Absent:
		colour, style = colourAbsent, "dashed"
	}
	attrs := fmt.Sprintf("id=\"e%d\", color=%q, fontcolor=%q, style=%s, penwidth=%s, label=%s, tooltip=%s",
		i, colour, colour, style, width, quote(edgeLabel(e)), quote(edgeTooltip(e)))
	if e.Status == reflexion.Absent || (e.Status == reflexion.Drift && !e.Declared) {
		attrs += ", constraint=false" // drift and absence do not move the declared layout
	}
	if r.TraceURL != "" && e.ExampleTrace != "" {
		attrs += ", URL=" + quote(strings.ReplaceAll(r.TraceURL, "{trace_id}", e.ExampleTrace)) + ", target=\"_blank\""
	}
	fmt.Fprintf(b, "  %s -> %s [%s];\n", ids[e.Caller], ids[e.Callee], attrs)
}

func edgeLabel(e *reflexion.Edge) string {
	var parts []string
	if e.Status == reflexion.Drift || e.Status == reflexion.Known {
		parts = append(parts, strings.Join(e.Kinds, ", "))
	}
	switch {
	case e.Status == reflexion.Absent:
		parts = append(parts, "absent")
	case e.PerMinute > 0:
		parts = append(parts, strconv.FormatFloat(e.PerMinute, 'f', 1, 64)+"/min")
	default:
		parts = append(parts, strconv.FormatInt(e.Calls, 10)+" calls")
	}
	return strings.Join(parts, "\n")
}

func edgeTooltip(e *reflexion.Edge) string {
	t := fmt.Sprintf("%s -> %s: %s", e.Caller, e.Callee, e.Status)
	if len(e.Kinds) > 0 {
		t += " (" + strings.Join(e.Kinds, ", ") + ")"
	}
	if e.Status != reflexion.Absent {
		t += fmt.Sprintf("; %d calls", e.Calls)
	}
	if !e.FirstSeen.IsZero() {
		t += "; first seen " + e.FirstSeen.UTC().Format(time.RFC3339)
	}
	if e.ExampleTrace != "" {
		t += "; trace " + e.ExampleTrace
	}
	if e.Bundled > 1 {
		t += fmt.Sprintf("; %d edges bundled", e.Bundled)
	}
	return t
}

// quote writes s as a DOT string: quotes and backslashes escaped, so that nothing in a name is
// read as a Graphviz escape (\N, \G, \l ...).
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

var elementOpen = regexp.MustCompile(`<g id="([ne])(\d+)" class="(?:node|edge)"`)

// annotate adds the data-* attributes to the elements Graphviz drew for nodes and edges, escaped.
func annotate(svg []byte, g *reflexion.Graph) []byte {
	return elementOpen.ReplaceAllFunc(svg, func(m []byte) []byte {
		sub := elementOpen.FindSubmatch(m)
		i, err := strconv.Atoi(string(sub[2]))
		if err != nil {
			return m
		}
		var attrs string
		switch {
		case sub[1][0] == 'n' && i < len(g.Nodes):
			n := &g.Nodes[i]
			attrs = fmt.Sprintf(` data-node="%s" data-zone="%s" data-node-kind="%s"`, html.EscapeString(n.Name), html.EscapeString(n.Zone), n.Kind)
		case sub[1][0] == 'e' && i < len(g.Edges):
			e := &g.Edges[i]
			attrs = fmt.Sprintf(` data-caller="%s" data-callee="%s" data-status="%s" data-kind="%s"`,
				html.EscapeString(e.Caller), html.EscapeString(e.Callee), e.Status, strings.Join(e.Kinds, " "))
		}
		return append(m[:len(m):len(m)], attrs...)
	})
}

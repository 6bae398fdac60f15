// Package draw draws reflexion maps as SVG, with a layered layout of its own (layout.go), and the
// HTML page around them. The live map of the driftview extension and `driftctl map` both draw
// with it.
package draw

import (
	"bytes"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/reflexion"
)

// Renderer draws graphs. TraceURL links an edge to its example trace: "{trace_id}" is replaced by
// the trace id (Jaeger: http://host:16686/trace/{trace_id}); empty links nothing.
type Renderer struct {
	TraceURL string
}

var kindColours = map[string]string{
	"forbidden_dependency": "#c62828", "layer_violation": "#ef6c00", "undeclared_dependency": "#ad1457",
	"unknown_service": "#6a1b9a", "undeclared_operation": "#4e342e", "undeclared_ingress": "#9e9d24",
	"latency_exceeded": "#00838f", "error_rate_exceeded": "#1565c0", "retry_amplification": "#7b1fa2",
	"fanout_exceeded": "#bf360c", "forbidden_path": "#e65100", "missing_waypoint": "#827717", "call_cycle": "#283593",
	"depth_exceeded": "#00695c",
}

const (
	colourConforming = "#2e7d32"
	colourAbsent     = "#9e9e9e"
	colourKnown      = "#bdbdbd"
	colourDrift      = "#c62828" // a kind without a colour of its own
)

// SVG draws g: nodes in zone bands, ranked top to bottom by layer, resources in shapes of their
// own, each edge styled by its status and kind. Every element the page and tests read carries
// data-* attributes: an edge data-caller, data-callee, data-status and data-kind (its kinds, space
// separated), a node data-node, data-zone and data-node-kind. Every name is escaped.
func (r Renderer) SVG(g *reflexion.Graph) []byte {
	p := layout(g)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="%s" height="%s" viewBox="0 0 %s %s" font-family="Helvetica, Arial, sans-serif" font-size="11">`+"\n",
		num(p.width), num(p.height), num(p.width), num(p.height))
	b.WriteString(`<style>g.edge:hover path { stroke-width: 4; } g.node:hover rect, g.node:hover path { stroke-width: 2.5; } text { pointer-events: none; }</style>` + "\n")
	writeMarkers(&b)
	for _, z := range p.zones {
		fmt.Fprintf(&b, `<g class="zone" data-zone="%s"><rect x="%s" y="%s" width="%s" height="%s" rx="10" fill="#fafafa" stroke="#90a4ae" stroke-dasharray="6,3"/><text x="%s" y="%s" fill="#546e7a" font-size="12">zone %s</text></g>`+"\n",
			esc(z.name), num(z.box.x), num(z.box.y), num(z.box.w), num(z.box.h), num(z.box.x+8), num(z.box.y+15), esc(z.name))
	}
	index := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n.Name] = i
	}
	for i := range g.Paths {
		writePath(&b, &g.Paths[i], index, p)
	}
	pairs := map[[2]int]bool{}
	for i := range g.Edges {
		e := &g.Edges[i]
		a, b2 := index[e.Caller], index[e.Callee]
		pairs[[2]int{a, b2}] = true
		r.writeEdge(&b, i, e, p.nodes[a], p.nodes[b2], a == b2, pairs[[2]int{b2, a}])
	}
	for i := range g.Nodes {
		writeNode(&b, &g.Nodes[i], p.nodes[i])
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// colourPath is the halo drawn under the edges of a chain that broke a path rule.
const colourPath = "#ff6f00"

// writePath highlights a chain that broke a path rule: a wide halo under each of its edges, drawn
// before the edges so that they stay on top. Each hop carries data-caller and data-callee, the
// group data-rule, data-kind and data-path.
func writePath(b *bytes.Buffer, path *reflexion.Path, index map[string]int, p placed) {
	text := strings.Join(path.Nodes, " -> ")
	fmt.Fprintf(b, `<g class="path" data-rule="%s" data-kind="%s" data-path="%s"><title>%s</title>`,
		esc(path.Rule), esc(path.Kind), esc(text), esc(fmt.Sprintf("%s: %s, path rule %s, %d calls", path.Kind, text, path.Rule, path.Calls)))
	for i := 1; i < len(path.Nodes); i++ {
		a, ok1 := index[path.Nodes[i-1]]
		c, ok2 := index[path.Nodes[i]]
		if !ok1 || !ok2 {
			continue
		}
		d, _, _ := curve(p.nodes[a], p.nodes[c], a == c, false)
		fmt.Fprintf(b, `<path class="hop" data-caller="%s" data-callee="%s" d="%s" fill="none" stroke="%s" stroke-width="9" stroke-opacity="0.35" stroke-linecap="round"/>`,
			esc(path.Nodes[i-1]), esc(path.Nodes[i]), d, colourPath)
	}
	b.WriteString("</g>\n")
}

func writeMarkers(b *bytes.Buffer) {
	b.WriteString("<defs>")
	colours := []string{colourConforming, colourAbsent, colourKnown, colourDrift}
	for _, c := range kindColours {
		colours = append(colours, c)
	}
	seen := map[string]bool{}
	for _, c := range colours {
		if seen[c] {
			continue
		}
		seen[c] = true
		fmt.Fprintf(b, `<marker id="arrow-%s" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>`, c[1:], c)
	}
	b.WriteString("</defs>\n")
}

func writeNode(b *bytes.Buffer, n *reflexion.Node, at box) {
	stroke, fill, dash := "#455a64", "#ffffff", ""
	switch {
	case !n.Declared:
		fill, dash = "#fff3e0", ` stroke-dasharray="4,2"`
	case n.Kind != "service" && n.Kind != "zone":
		fill = "#eceff1"
	}
	fmt.Fprintf(b, `<g id="%s" class="node" data-node="%s" data-zone="%s" data-node-kind="%s"><title>%s</title>`,
		n.ID, esc(n.Name), esc(n.Zone), esc(n.Kind), esc(nodeTooltip(n)))
	x, y, w, h := at.x, at.y, at.w, at.h
	switch n.Kind {
	case "database":
		ry := 5.0
		fmt.Fprintf(b, `<path d="M%s,%s A%s,%s 0 0 1 %s,%s V%s A%s,%s 0 0 1 %s,%s Z M%s,%s A%s,%s 0 0 0 %s,%s" fill="%s" stroke="%s"%s/>`,
			num(x), num(y+ry), num(w/2), num(ry), num(x+w), num(y+ry), num(y+h-ry), num(w/2), num(ry), num(x), num(y+h-ry),
			num(x), num(y+ry), num(w/2), num(ry), num(x+w), num(y+ry), fill, stroke, dash)
	case "messaging":
		fmt.Fprintf(b, `<path d="M%s,%s H%s L%s,%s L%s,%s H%s Z" fill="%s" stroke="%s"%s/>`,
			num(x), num(y), num(x+w-10), num(x+w), num(y+h/2), num(x+w-10), num(y+h), num(x), fill, stroke, dash)
	case "zone":
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="4" fill="%s" stroke="%s"/><rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="none" stroke="%s"/>`,
			num(x), num(y), num(w), num(h), fill, stroke, num(x+3), num(y+3), num(w-6), num(h-6), stroke)
	default:
		rx := "8"
		if n.Kind == "external" || n.Kind == "unknown" {
			rx, dash = "2", ` stroke-dasharray="4,2"`
		}
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="%s" fill="%s" stroke="%s"%s/>`, num(x), num(y), num(w), num(h), rx, fill, stroke, dash)
	}
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" fill="#263238">%s</text></g>`+"\n", num(at.cx()), num(y+h/2+4), esc(label(n)))
}

func label(n *reflexion.Node) string {
	if n.Members > 0 {
		return fmt.Sprintf("%s (%d)", n.Name, n.Members)
	}
	return n.Name
}

func nodeTooltip(n *reflexion.Node) string {
	parts := []string{n.Name, n.Kind}
	if n.Layer != "" {
		parts = append(parts, "layer "+n.Layer)
	}
	if n.Zone != "" && n.Kind != "zone" {
		parts = append(parts, "zone "+n.Zone)
	}
	if n.Members > 0 {
		parts = append(parts, strconv.Itoa(n.Members)+" nodes")
	}
	if !n.Declared {
		parts = append(parts, "not in the model")
	}
	return strings.Join(parts, " · ")
}

// writeEdge draws a curve from the caller to the callee: down from the bottom of the caller when
// the callee is below, up from its top when above, an arc under the row between nodes of one rank,
// a loop for a call to itself. The two directions of one pair are drawn apart.
func (r Renderer) writeEdge(b *bytes.Buffer, i int, e *reflexion.Edge, from, to box, self, reverse bool) {
	colour, dash, width := colourConforming, "", "1.3"
	switch e.Status {
	case reflexion.Drift:
		colour, width = colourDrift, "2.4"
		if c, ok := kindColours[firstKind(e)]; ok {
			colour = c
		}
	case reflexion.Known:
		colour = colourKnown
	case reflexion.Absent:
		colour, dash = colourAbsent, ` stroke-dasharray="6,4"`
	}
	d, lx, ly := curve(from, to, self, reverse)
	fmt.Fprintf(b, `<g id="e%d" class="edge" data-caller="%s" data-callee="%s" data-status="%s" data-kind="%s"><title>%s</title>`,
		i, esc(e.Caller), esc(e.Callee), e.Status, esc(strings.Join(e.Kinds, " ")), esc(edgeTooltip(e)))
	link := r.TraceURL != "" && e.ExampleTrace != ""
	if link {
		fmt.Fprintf(b, `<a href="%s" xlink:href="%s" target="_blank">`, esc(r.traceLink(e)), esc(r.traceLink(e)))
	}
	fmt.Fprintf(b, `<path d="%s" fill="none" stroke="%s" stroke-width="%s"%s marker-end="url(#arrow-%s)"/>`, d, colour, width, dash, colour[1:])
	if link {
		b.WriteString("</a>")
	}
	lines := edgeLabel(e)
	for j, line := range lines {
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="9" fill="%s" stroke="#ffffff" stroke-width="3" paint-order="stroke">%s</text>`,
			num(lx), num(ly+float64(j)*11-float64(len(lines)-1)*5.5), colour, esc(line))
	}
	b.WriteString("</g>\n")
}

func (r Renderer) traceLink(e *reflexion.Edge) string {
	return strings.ReplaceAll(r.TraceURL, "{trace_id}", e.ExampleTrace)
}

func firstKind(e *reflexion.Edge) string {
	if len(e.Kinds) == 0 {
		return ""
	}
	return e.Kinds[0]
}

// curve is the path of an edge and where its label goes (the curve's middle).
func curve(from, to box, self, reverse bool) (d string, lx, ly float64) {
	shift := 0.0
	if reverse {
		shift = 9
	}
	if self {
		x, y := from.x+from.w, from.y+from.h/2
		return fmt.Sprintf("M%s,%s C%s,%s %s,%s %s,%s", num(x), num(y-6), num(x+36), num(y-30), num(x+36), num(y+30), num(x), num(y+6)), x + 30, y
	}
	var x0, y0, x3, y3, c float64
	switch {
	case to.y > from.y:
		x0, y0, x3, y3 = from.cx()+shift, from.y+from.h, to.cx()+shift, to.y
		c = (y3 - y0) / 2
	case to.y < from.y:
		x0, y0, x3, y3 = from.cx()+shift, from.y, to.cx()+shift, to.y+to.h
		c = (y3 - y0) / 2
	default: // one rank: an arc below it, apart from the calls that come in from above
		x0, y0, x3, y3 = from.cx(), from.y+from.h, to.cx()+shift, to.y+to.h
		c = 28 + shift
		d = fmt.Sprintf("M%s,%s C%s,%s %s,%s %s,%s", num(x0), num(y0), num(x0), num(y0+c), num(x3), num(y3+c), num(x3), num(y3))
		return d, (x0 + x3) / 2, y0 + c*0.75
	}
	x1, y1, x2, y2 := x0, y0+c, x3, y3-c
	d = fmt.Sprintf("M%s,%s C%s,%s %s,%s %s,%s", num(x0), num(y0), num(x1), num(y1), num(x2), num(y2), num(x3), num(y3))
	return d, (x0 + 3*x1 + 3*x2 + x3) / 8, (y0 + 3*y1 + 3*y2 + y3) / 8
}

func edgeLabel(e *reflexion.Edge) []string {
	var lines []string
	if (e.Status == reflexion.Drift || e.Status == reflexion.Known) && len(e.Kinds) > 0 {
		lines = append(lines, strings.Join(e.Kinds, ", "))
	}
	switch {
	case e.Status == reflexion.Absent:
		lines = append(lines, "absent")
	case e.PerMinute > 0:
		lines = append(lines, strconv.FormatFloat(e.PerMinute, 'f', 0, 64)+"/min")
	default:
		lines = append(lines, strconv.FormatInt(e.Calls, 10)+" calls")
	}
	return lines
}

func edgeTooltip(e *reflexion.Edge) string {
	t := fmt.Sprintf("%s -> %s: %s", e.Caller, e.Callee, e.Status)
	if len(e.Kinds) > 0 {
		t += " (" + strings.Join(e.Kinds, ", ") + ")"
	}
	if e.Status != reflexion.Absent {
		t += fmt.Sprintf("; %d calls", e.Calls)
		if e.PerMinute > 0 {
			t += ", " + strconv.FormatFloat(e.PerMinute, 'f', 0, 64) + " in the last minute"
		}
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

func esc(s string) string { return html.EscapeString(s) }

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

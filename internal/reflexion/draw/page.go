package draw

import (
	"github.com/driftprocessor/driftprocessor/internal/reflexion"

	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// Page writes the map as one HTML page that works offline: the SVG inline, a few lines of plain
// JavaScript for the filters (zone, kind, status) and, when refresh is set, for fetching the SVG
// again from that address every 10 seconds.
func Page(w io.Writer, g *reflexion.Graph, svg []byte, refresh string) error {
	var b strings.Builder
	title := "drift map"
	if g.System != "" {
		title += ": " + g.System
	}
	fmt.Fprintf(&b, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #263238; }
header { padding: 8px 16px; background: #eceff1; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
h1 { font-size: 16px; margin: 0 16px 0 0; }
#map { padding: 8px; overflow: auto; }
#map svg { max-width: 100%%; height: auto; }
.legend span { margin-right: 12px; font-size: 12px; }
.hidden { display: none; }
</style></head>
<body><header><h1>%s</h1>
`, html.EscapeString(title), html.EscapeString(title))
	writeSelect(&b, "zone", "zone", zonesOf(g))
	writeSelect(&b, "kind", "kind", kindsOf(g))
	writeSelect(&b, "status", "status", []string{reflexion.Drift, reflexion.Known, reflexion.Conforming, reflexion.Absent})
	b.WriteString(`<span class="legend"><span style="color:#2e7d32">&#9472; conforming</span><span style="color:#c62828">&#9473; drift (by kind)</span><span style="color:#9e9e9e">&#9476; absent</span><span style="color:#9e9e9e">&#9472; known</span><span style="color:#ff6f00">&#9608; path rule broken</span></span>`)
	b.WriteString("</header>\n<div id=\"map\">")
	b.Write(svg)
	b.WriteString("</div>\n")
	if g.MoreNodes > 0 || g.MoreEdges > 0 || g.Collapsed {
		b.WriteString(`<p id="more" style="padding:0 16px">`)
		if g.Collapsed {
			b.WriteString("Zones are drawn as one node each, and the edges between them bundled. ")
		}
		if g.MoreNodes > 0 || g.MoreEdges > 0 {
			fmt.Fprintf(&b, "And %d more nodes and %d more edges, not drawn.", g.MoreNodes, g.MoreEdges)
		}
		b.WriteString("</p>\n")
	}
	fmt.Fprintf(&b, "<script>\n%s\n", pageScript)
	if refresh != "" {
		fmt.Fprintf(&b, "setInterval(function () { fetch(%q).then(function (r) { return r.ok ? r.text() : null; }).then(function (t) { if (t) { document.getElementById('map').innerHTML = t; apply(); } }); }, 10000);\n", refresh)
	}
	b.WriteString("</script></body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSelect(b *strings.Builder, id, label string, values []string) {
	fmt.Fprintf(b, `<label>%s <select id="%s" onchange="apply()"><option value="">all</option>`, label, id)
	for _, v := range values {
		fmt.Fprintf(b, `<option value="%s">%s</option>`, html.EscapeString(v), html.EscapeString(v))
	}
	b.WriteString("</select></label>\n")
}

func zonesOf(g *reflexion.Graph) []string {
	var zones []string
	for _, n := range g.Nodes {
		if n.Zone != "" && !slices.Contains(zones, n.Zone) {
			zones = append(zones, n.Zone)
		}
	}
	slices.Sort(zones)
	return zones
}

func kindsOf(g *reflexion.Graph) []string {
	var kinds []string
	for _, e := range g.Edges {
		for _, k := range e.Kinds {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	for _, p := range g.Paths {
		if !slices.Contains(kinds, p.Kind) {
			kinds = append(kinds, p.Kind)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// pageScript hides what the filters leave out: edges by status and kind, nodes by zone (and the
// edges of hidden nodes), highlighted paths by kind and zone. With a path kind chosen, the edges
// of the paths of that kind stay, whatever their own kinds.
const pageScript = `function apply() {
  var zone = document.getElementById('zone').value, kind = document.getElementById('kind').value,
      status = document.getElementById('status').value, hidden = {}, onPath = {};
  document.querySelectorAll('#map g.node').forEach(function (n) {
    var out = zone !== '' && n.getAttribute('data-zone') !== zone;
    n.classList.toggle('hidden', out);
    if (out) { hidden[n.getAttribute('data-node')] = true; }
  });
  document.querySelectorAll('#map g.path').forEach(function (p) {
    var hops = p.querySelectorAll('path.hop'), out = (kind !== '' && p.getAttribute('data-kind') !== kind) ||
      (status !== '' && status !== 'drift');
    hops.forEach(function (h) { out = out || hidden[h.getAttribute('data-caller')] || hidden[h.getAttribute('data-callee')]; });
    p.classList.toggle('hidden', !!out);
    if (!out && kind !== '') {
      hops.forEach(function (h) { onPath[h.getAttribute('data-caller') + '\n' + h.getAttribute('data-callee')] = true; });
    }
  });
  document.querySelectorAll('#map g.edge').forEach(function (e) {
    var kinds = (e.getAttribute('data-kind') || '').split(' ');
    var out = (status !== '' && e.getAttribute('data-status') !== status) ||
      (kind !== '' && kinds.indexOf(kind) < 0 && !onPath[e.getAttribute('data-caller') + '\n' + e.getAttribute('data-callee')]) ||
      hidden[e.getAttribute('data-caller')] || hidden[e.getAttribute('data-callee')];
    e.classList.toggle('hidden', !!out);
  });
}`

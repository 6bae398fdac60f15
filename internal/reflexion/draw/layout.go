package draw

import (
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/driftprocessor/driftprocessor/internal/reflexion"
)

// A layered layout of our own (see the README for why not Graphviz): ranks are the intent's layers
// top to bottom, each zone is a band of columns, and within a band and rank nodes are ordered by
// the mean position of their neighbours, swept down and up a few times to uncross edges.

const (
	nodeHeight = 34.0
	rankGap    = 96.0 // from one rank's top to the next
	nodeGap    = 26.0 // between nodes of a rank
	zoneGap    = 36.0 // between zone bands
	margin     = 24.0
	charWidth  = 6.6 // of the 11px sans-serif the labels use
	sweeps     = 4
)

type box struct {
	x, y, w, h float64 // x, y: the top left corner
}

func (b box) cx() float64 { return b.x + b.w/2 }

// placed is a laid out graph: a box per node, a box per zone band, the canvas size.
type placed struct {
	nodes         []box
	zones         []zoneBand
	width, height float64
}

type zoneBand struct {
	name string
	box  box
}

// layout places the nodes of g.
func layout(g *reflexion.Graph) placed {
	rank := ranks(g)
	zones := zoneOrder(g)
	// rows[zone][rank] are the node indexes of that band and rank, in order
	maxRank := 0
	for _, r := range rank {
		maxRank = max(maxRank, r)
	}
	rows := make([][][]int, len(zones))
	zoneIndex := map[string]int{}
	for i, z := range zones {
		zoneIndex[z] = i
		rows[i] = make([][]int, maxRank+1)
	}
	for i, n := range g.Nodes {
		z := zoneIndex[zoneOf(n)]
		rows[z][rank[i]] = append(rows[z][rank[i]], i)
	}
	for _, band := range rows {
		for _, row := range band {
			slices.SortFunc(row, func(a, b int) int { return cmp.Compare(g.Nodes[a].Name, g.Nodes[b].Name) })
		}
	}
	order(g, rows, rank)
	return place(g, rows, zones, maxRank)
}

func zoneOf(n reflexion.Node) string {
	if n.Kind == "zone" {
		return n.Name
	}
	return n.Zone
}

// ranks gives each node its row: external at the top, then the layers in order; a node without a
// layer sits one below the lowest of its callers (a resource: at the bottom).
func ranks(g *reflexion.Graph) []int {
	index := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n.Name] = i
	}
	rank := make([]int, len(g.Nodes))
	bottom := len(g.Layers) + 1
	for i, n := range g.Nodes {
		switch {
		case n.Kind == "external":
			rank[i] = 0
		case n.Rank >= 0:
			rank[i] = n.Rank + 1
		case n.Kind != "service" && n.Kind != "unknown" && n.Kind != "zone":
			rank[i] = bottom
		default:
			rank[i] = -1 // placed by its callers below
		}
	}
	for range 3 { // callers of unplaced nodes may be unplaced themselves: a few rounds settle it
		for _, e := range g.Edges {
			from, ok1 := index[e.Caller]
			to, ok2 := index[e.Callee]
			if ok1 && ok2 && rank[to] < 0 && rank[from] >= 0 && g.Nodes[to].Rank < 0 {
				rank[to] = min(rank[from]+1, bottom)
			}
		}
	}
	for i := range rank {
		rank[i] = max(rank[i], 1) // never beside external
		if g.Nodes[i].Kind == "external" {
			rank[i] = 0
		}
	}
	return rank
}

// zoneOrder is the bands left to right: the zones by name, nodes without a zone last.
func zoneOrder(g *reflexion.Graph) []string {
	var zones []string
	for _, n := range g.Nodes {
		if z := zoneOf(n); !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	slices.SortFunc(zones, func(a, b string) int {
		return cmp.Or(cmp.Compare(noZone(a), noZone(b)), cmp.Compare(a, b))
	})
	return zones
}

func noZone(z string) int {
	if z == "" {
		return 1
	}
	return 0
}

// order sweeps down and up, sorting each row by the mean position of the node's neighbours in the
// rows already placed: the barycentre heuristic.
func order(g *reflexion.Graph, rows [][][]int, rank []int) {
	index := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n.Name] = i
	}
	neighbours := make([][]int, len(g.Nodes))
	for _, e := range g.Edges {
		a, ok1 := index[e.Caller]
		b, ok2 := index[e.Callee]
		if ok1 && ok2 && a != b {
			neighbours[a] = append(neighbours[a], b)
			neighbours[b] = append(neighbours[b], a)
		}
	}
	pos := make([]float64, len(g.Nodes))
	number := func() {
		for _, band := range rows {
			for _, row := range band {
				for j, n := range row {
					pos[n] = float64(j) / float64(max(len(row), 1))
				}
			}
		}
	}
	number()
	maxRank := len(rows[0]) - 1
	for s := range sweeps {
		for step := range maxRank + 1 {
			r := step
			if s%2 == 1 {
				r = maxRank - step
			}
			for _, band := range rows {
				sortByNeighbours(band[r], neighbours, pos, rank, r, s%2 == 0)
			}
			number()
		}
	}
}

func sortByNeighbours(row []int, neighbours [][]int, pos []float64, rank []int, r int, above bool) {
	centre := make(map[int]float64, len(row))
	for _, n := range row {
		sum, k := 0.0, 0
		for _, m := range neighbours[n] {
			if (above && rank[m] < r) || (!above && rank[m] > r) {
				sum += pos[m]
				k++
			}
		}
		if k == 0 {
			centre[n] = pos[n]
		} else {
			centre[n] = sum / float64(k)
		}
	}
	slices.SortStableFunc(row, func(a, b int) int { return cmp.Compare(centre[a], centre[b]) })
}

// place gives the boxes their coordinates: bands side by side, each as wide as its widest row,
// each row centred in its band.
func place(g *reflexion.Graph, rows [][][]int, zones []string, maxRank int) placed {
	p := placed{nodes: make([]box, len(g.Nodes))}
	x := margin
	for zi, band := range rows {
		width := 0.0
		for _, row := range band {
			w := 0.0
			for _, n := range row {
				w += nodeWidth(&g.Nodes[n]) + nodeGap
			}
			width = max(width, w-nodeGap)
		}
		top, bottom := -1, -1
		for r, row := range band {
			w := 0.0
			for _, n := range row {
				w += nodeWidth(&g.Nodes[n]) + nodeGap
			}
			cx := x + (width-(w-nodeGap))/2
			for _, n := range row {
				nw := nodeWidth(&g.Nodes[n])
				p.nodes[n] = box{x: cx, y: margin + 20 + float64(r)*rankGap, w: nw, h: nodeHeight}
				cx += nw + nodeGap
			}
			if len(row) > 0 {
				if top < 0 {
					top = r
				}
				bottom = r
			}
		}
		if zones[zi] != "" && top >= 0 && g.Nodes[band[top][0]].Kind != "zone" {
			p.zones = append(p.zones, zoneBand{name: zones[zi], box: box{
				x: x - 12, y: margin + float64(top)*rankGap, w: width + 24, h: float64(bottom-top)*rankGap + nodeHeight + 32}})
		}
		x += width + zoneGap
	}
	p.width = x - zoneGap + margin
	p.height = margin*2 + 20 + float64(maxRank)*rankGap + nodeHeight + 12
	return p
}

func nodeWidth(n *reflexion.Node) float64 {
	return max(64, float64(utf8.RuneCountInString(label(n)))*charWidth+24)
}

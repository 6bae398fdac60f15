package intent

import "sort"

// edgeIndex finds a known edge (declared or required) by its two nodes without hashing: the edges
// of each caller lie side by side, sorted by callee, so that a lookup reads one short run of a flat
// array. A service has few dependencies, so the run is usually scanned; a long one is searched.
type edgeIndex struct {
	start []int32   // by caller node: where its run begins in refs; start[n+1] is where it ends
	refs  []edgeRef // sorted by caller, then callee
}

type edgeRef struct {
	to   NodeID
	edge int32 // index among the known edges
	// what a judge needs of the edge, kept here so that a conforming call reads no more memory
	rule                 int32 // the first deny rule that matches it, plus one; 0 for none
	declared, operations bool
}

// Edge is a known edge as a lookup finds it.
type Edge struct {
	Index      int  // among the known edges (Tracked); -1 when the edge is not known
	Declared   bool // a dependency declares it (else a require rule only names it)
	Operations bool // its declaration lists operations
	// Rule is the index (in Rules) of the first deny rule that matches the edge, -1 when none: rules
	// select nodes by what the model says of them, so for an edge between two nodes the answer is
	// found once, when the model is compiled.
	Rule int
}

// noEdge is the lookup of an edge that is not known.
var noEdge = Edge{Index: -1, Rule: -1}

// shortRun is the longest run that is scanned rather than searched.
const shortRun = 16

// newEdgeIndex indexes edges; describe fills in what a judge needs of edge i.
func newEdgeIndex(nodes int, edges []TrackedEdge, describe func(i int, r *edgeRef)) edgeIndex {
	x := edgeIndex{start: make([]int32, nodes+1), refs: make([]edgeRef, len(edges))}
	for _, e := range edges {
		x.start[e.From+1]++
	}
	for n := 1; n <= nodes; n++ {
		x.start[n] += x.start[n-1]
	}
	next := append([]int32(nil), x.start[:nodes]...)
	for i, e := range edges {
		r := edgeRef{to: e.To, edge: int32(i)}
		if describe != nil {
			describe(i, &r)
		}
		x.refs[next[e.From]] = r
		next[e.From]++
	}
	for n := 0; n < nodes; n++ {
		run := x.refs[x.start[n]:x.start[n+1]]
		sort.Slice(run, func(i, j int) bool { return run[i].to < run[j].to })
	}
	return x
}

// find returns the known edge from -> to.
func (x *edgeIndex) find(from, to NodeID) Edge {
	if from < 0 || to < 0 || int(from)+1 >= len(x.start) {
		return noEdge
	}
	run := x.refs[x.start[from]:x.start[from+1]]
	if len(run) > shortRun {
		i := sort.Search(len(run), func(i int) bool { return run[i].to >= to })
		run = run[i:min(i+1, len(run))]
	}
	for _, r := range run {
		if r.to == to {
			return Edge{Index: int(r.edge), Declared: r.declared, Operations: r.operations, Rule: int(r.rule) - 1}
		}
	}
	return noEdge
}

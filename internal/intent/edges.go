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
	declared, operations bool
}

// Edge is a known edge as a lookup finds it.
type Edge struct {
	Index      int  // among the known edges (Tracked); -1 when the edge is not known
	Declared   bool // a dependency declares it (else a require rule only names it)
	Operations bool // its declaration lists operations
}

// noEdge is the lookup of an edge that is not known.
var noEdge = Edge{Index: -1}

// shortRun is the longest run that is scanned rather than searched.
const shortRun = 16

func newEdgeIndex(nodes int, edges []TrackedEdge, deps []*Dependency) edgeIndex {
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
		if deps != nil && deps[i] != nil {
			r.declared, r.operations = true, deps[i].HasOperations()
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
			return Edge{Index: int(r.edge), Declared: r.declared, Operations: r.operations}
		}
	}
	return noEdge
}

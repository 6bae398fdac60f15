package intent

import (
	"math/rand/v2"
	"testing"
)

// TestEdgeIndexFindsEveryEdgeAndNothingElse: against a map, on random graphs whose callers have
// from no edge to many (long runs are searched, short ones scanned).
func TestEdgeIndexFindsEveryEdgeAndNothingElse(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	for round := 0; round < 50; round++ {
		nodes := 1 + rnd.IntN(60)
		want := map[[2]NodeID]int{}
		var edges []TrackedEdge
		for from := 0; from < nodes; from++ {
			for n := rnd.IntN(3 * shortRun); n > 0; n-- {
				k := [2]NodeID{NodeID(from), NodeID(rnd.IntN(nodes))}
				if _, dup := want[k]; !dup {
					want[k] = len(edges)
					edges = append(edges, TrackedEdge{From: k[0], To: k[1]})
				}
			}
		}
		x := newEdgeIndex(nodes, edges, nil)
		for from := NodeID(-1); from <= NodeID(nodes); from++ {
			for to := NodeID(-1); to <= NodeID(nodes); to++ {
				i, ok := want[[2]NodeID{from, to}]
				if !ok {
					i = -1
				}
				if got := x.find(from, to).Index; got != i {
					t.Fatalf("round %d: find(%d, %d) = %d, want %d", round, from, to, got, i)
				}
			}
		}
	}
}

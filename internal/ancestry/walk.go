package ancestry

import (
	"slices"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// Bounds of one walk: parent links may loop or run long in hostile data.
const (
	maxSteps = 512 // spans
	MaxNodes = 64  // services in a chain; a longer one is judged as a part
)

// Walker walks the chains of the calls of one batch; its buffer is reused from call to call.
type Walker struct {
	nodes []intent.Peer
}

// Chain returns the chain of services of the call caller -> callee carried by span: up from span's
// parent, over x and then, when set, s. The chain is valid until the next call.
func (w *Walker) Chain(m *intent.Compiled, x *Index, s *Store, span ptrace.Span, caller, callee intent.Peer) judge.Chain {
	if cap(w.nodes) == 0 {
		w.nodes = make([]intent.Peer, 0, MaxNodes)
	}
	nodes := append(w.nodes[:0], callee, caller) // nearest first; reversed at the end
	trace, cur := span.TraceID(), spanID(span.ParentSpanID())
	folded := fold(trace)
	at := x.find(folded, cur) // then parent by parent through the index, with no lookup
	locked := false
	complete := false
	lastRes := int32(-1) // the resource of the last node added from the index: its spans are its service's
	for range maxSteps {
		if cur == 0 {
			complete = true
			break
		}
		var p intent.Peer
		if at != noParent {
			e := &x.spans[at]
			cur, at = e.parent, e.up
			if e.res == lastRes {
				continue
			}
			p, lastRes = x.peers[e.res], e.res
		} else if s != nil {
			if !locked {
				s.mu.Lock()
				locked = true
			}
			e, ok := s.find(folded, cur)
			if !ok {
				break
			}
			p, cur, lastRes = peerOf(m, e.service), e.parent, -1
			at = x.find(folded, cur) // a later batch's span may have an earlier one's parent, or not
		} else {
			break
		}
		if judge.SamePeer(p, nodes[len(nodes)-1]) {
			continue
		}
		if len(nodes) == MaxNodes {
			break
		}
		nodes = append(nodes, p)
	}
	if locked {
		s.mu.Unlock()
	}
	slices.Reverse(nodes)
	w.nodes = nodes
	return judge.Chain{Nodes: nodes, Complete: complete}
}

package judge

import (
	"math/bits"
	"strings"

	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// pathKind is the kind a path rule's check decides.
var pathKind = [...]Kind{
	intent.PathDeny:     ForbiddenPath,
	intent.PathRequire:  MissingWaypoint,
	intent.PathMaxDepth: DepthExceeded,
	intent.PathCycles:   CallCycle,
}

// PathKind is the kind a verdict of path rule r has.
func PathKind(r *intent.PathRule) Kind { return pathKind[r.Kind] }

// Chain is the services a call's request passed through: the first service of the trace first, the
// call's caller and then its callee last, with consecutive spans of one service as one node.
type Chain struct {
	Nodes []intent.Peer
	// Complete is set when the walk reached the trace's root span. Without it, Nodes is only the part
	// nearest the call: what is decided on a part holds on the whole, except a missing waypoint,
	// which the unseen part may hold, and is not decided.
	Complete bool
}

// JudgePaths adds the path kinds of a call whose chain is ch to v. The first rule of the lowest kind
// that applies names the verdict (drift.rule). It allocates nothing.
func JudgePaths(m *intent.Compiled, ch *Chain, v *Verdict) {
	if len(ch.Nodes) < 2 {
		return
	}
	rules := m.Paths()
	last := len(ch.Nodes) - 1
	if m.PathsMasked() {
		broken := maskedBreaks(m, ch)
		for broken != 0 {
			i := bits.TrailingZeros64(broken)
			broken &^= 1 << i
			addPath(v, &rules[i])
		}
	} else {
		for i := range rules {
			if rules[i].Kind != intent.PathMaxDepth && breaks(&rules[i], ch) {
				addPath(v, &rules[i])
			}
		}
	}
	if depth, least := m.DepthPaths(); len(depth) > 0 && last > least {
		for _, i := range depth {
			if breaks(&rules[i], ch) {
				addPath(v, &rules[i])
			}
		}
	}
}

// maskedBreaks finds the deny, require and cycles rules the chain breaks in one pass over it, rule
// i as bit i: a deny rule's from with a via after it (or none needed), the waypoints passed. A rule
// with except entries that the masks find is checked in full (breaks), which applies them.
func maskedBreaks(m *intent.Compiled, ch *Chain) uint64 {
	nodes := ch.Nodes
	last := len(nodes) - 1
	kinds := m.PathKindMasks()
	to := m.MasksOf(nodes[last]).To & (kinds.Deny | kinds.Require | kinds.Cycles)
	if to == 0 {
		return 0
	}
	var denied, viaAfter uint64 // viaAfter: the vias between the node looked at and the callee
	for i := last - 1; i >= 0; i-- {
		n := m.MasksOf(nodes[i])
		denied |= n.From & (viaAfter | kinds.NoVia)
		viaAfter |= n.Via
	}
	broken := to & kinds.Deny & denied
	if ch.Complete {
		broken |= to & kinds.Require &^ viaAfter
	}
	if to&kinds.Cycles != 0 && calledBefore(nodes[:last], nodes[last]) {
		broken |= to & kinds.Cycles
	}
	if check := broken & kinds.Except; check != 0 {
		rules := m.Paths()
		for check != 0 {
			i := bits.TrailingZeros64(check)
			check &^= 1 << i
			if !breaks(&rules[i], ch) {
				broken &^= 1 << i
			}
		}
	}
	return broken
}

func addPath(v *Verdict, r *intent.PathRule) {
	k := PathKind(r)
	v.Kinds.Add(k)
	if v.PathRule == nil || k < PathKind(v.PathRule) {
		v.PathRule = r
	}
}

// Breaks reports whether the chain breaks rule r, as JudgePaths decides it: for driftctl's lint,
// which judges the chains of declared dependencies.
func Breaks(r *intent.PathRule, ch *Chain) bool { return breaks(r, ch) }

// breaks reports whether the chain breaks rule r. The call is the chain's last step; the path a rule
// names ends with it, so each call is judged once for the paths it completes.
func breaks(r *intent.PathRule, ch *Chain) bool {
	nodes := ch.Nodes
	last := len(nodes) - 1
	callee, first := nodes[last], nodes[0]
	switch r.Kind {
	case intent.PathDeny:
		return r.To(callee) && deniedFrom(r, nodes)
	case intent.PathRequire:
		return ch.Complete && r.To(callee) && !passed(r, nodes[:last]) && !r.Excepted(first, callee)
	case intent.PathMaxDepth:
		return last > r.MaxDepth && !r.Excepted(first, callee)
	case intent.PathCycles:
		return r.To(callee) && calledBefore(nodes[:last], callee) && !r.Excepted(first, callee)
	}
	return false
}

// deniedFrom reports whether a node before the callee is a from of deny rule r, with a via between
// them when the rule names one, and no except entry for the pair.
func deniedFrom(r *intent.PathRule, nodes []intent.Peer) bool {
	last := len(nodes) - 1
	callee := nodes[last]
	viaSeen := false // a via between position i and the callee
	for i := last - 1; i >= 0; i-- {
		if r.From(nodes[i]) && (!r.HasVia || viaSeen) && !r.Excepted(nodes[i], callee) {
			return true
		}
		viaSeen = viaSeen || (r.HasVia && r.Via(nodes[i]))
	}
	return false
}

// passed reports whether a node of the chain is a via of r.
func passed(r *intent.PathRule, nodes []intent.Peer) bool {
	for _, n := range nodes {
		if r.Via(n) {
			return true
		}
	}
	return false
}

func calledBefore(nodes []intent.Peer, callee intent.Peer) bool {
	for _, n := range nodes {
		if SamePeer(n, callee) {
			return true
		}
	}
	return false
}

// SamePeer reports whether a and b are one node: by id in the model, by name outside it.
func SamePeer(a, b intent.Peer) bool {
	if a.ID != intent.NoNode || b.ID != intent.NoNode {
		return a.ID == b.ID
	}
	return a.Name == b.Name
}

// MaxPathNodes bounds the nodes drift.path names: a longer chain keeps its first node and its last
// ones, with "…" for the rest. MaxPathName bounds each name in it, in bytes, so that drift.path
// stays under 1 KiB whatever the span data.
const (
	MaxPathNodes = 12
	MaxPathName  = 64
)

// Text is the value of drift.path for a call whose chain is ch: PathText of its nodes.
func (ch *Chain) Text() string { return PathText(ch.Nodes) }

// PathText is the value of drift.path: the chain's names joined by " -> ", bounded.
func PathText(nodes []intent.Peer) string {
	var b strings.Builder
	write := func(i int, n intent.Peer) {
		if i > 0 {
			b.WriteString(" -> ")
		}
		b.WriteString(clean.NameWithin(n.Name, MaxPathName)) // names from span data are bounded, one by one
	}
	if len(nodes) <= MaxPathNodes {
		for i, n := range nodes {
			write(i, n)
		}
		return b.String()
	}
	write(0, nodes[0])
	b.WriteString(" -> …")
	for _, n := range nodes[len(nodes)-(MaxPathNodes-2):] {
		write(1, n)
	}
	return b.String()
}

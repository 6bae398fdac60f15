// Package judge decides whether one call conforms to a compiled intent model. It is pure: no pdata,
// no state, no allocation for a conforming call.
package judge

import (
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Kinds is a set of drift kinds.
type Kinds uint16

// Has reports whether k is in the set.
func (s Kinds) Has(k Kind) bool { return s&(1<<k) != 0 }

// Add puts k in the set.
func (s *Kinds) Add(k Kind) { *s |= 1 << k }

// Call is one observed interaction.
type Call struct {
	Caller   intent.Peer // Name is intent.External and ID NoNode when the call came from outside
	Callee   intent.Peer
	External bool
	// Operation is what the call did. When it is not known yet, Ops names it on demand: most calls
	// are judged without it.
	Operation Operation
	Ops       OperationSource
	// Chain is the chain of services the call's request passed through, when the model has path
	// rules and the call's span is at hand; nil otherwise (no path rule is decided).
	Chain *Chain
}

// OperationSource names a call's operation, and what its spans observed, when they are needed.
type OperationSource interface {
	Operation() Operation
	Observe() Observation
}

// Observation is what the spans of a call showed about its behaviour.
type Observation struct {
	Duration time.Duration // of the client span when there is one, else of the server span
	Failed   bool          // span status error, or an HTTP 5xx or a gRPC error where the status is unset
	Resends  int           // http.request.resend_count
	Trace    [16]byte      // the client span's trace and parent, to find its siblings; zero without a client span
	Parent   [8]byte
}

// Op returns the call's operation, naming it (once) from Ops when it is not known yet.
func (c *Call) Op() Operation {
	if c.Operation == (Operation{}) && c.Ops != nil {
		c.Operation = c.Ops.Operation()
	}
	return c.Operation
}

// Operation is what a call did, kept in parts (such as "a.Svc", "/", "Get") so that nothing is built
// until a span shows it.
type Operation struct {
	Name, Sep, Detail string
	// Structured is false when the operation is only the span's name.
	Structured bool
}

// Op makes an unstructured operation from a name.
func Op(name string) Operation { return Operation{Name: name} }

func (o Operation) String() string {
	if o.Sep == "" && o.Detail == "" {
		return o.Name
	}
	return o.Name + o.Sep + o.Detail
}

// Verdict is the judgement of one call.
type Verdict struct {
	Kinds     Kinds        // every kind that applies; empty when the call conforms
	Rule      *intent.Rule // the first deny rule that matched, when Kinds has ForbiddenDependency
	Behaviour Behaviour    // what the behaviour kinds saw
	// PathRule is the path rule that names a verdict of a path kind (the first of the lowest kind
	// that applies); nil without one. The chain it saw is the call's (Call.Chain).
	PathRule *intent.PathRule
	// Known is set when a baseline accepts the drift: the call is shown and counted as known drift.
	Known bool
	edge  int32 // the known edge the call took, plus one; 0 when it took none
}

// Edge returns the index of the model's known edge (declared or required, as from
// intent.Compiled.Edge) that the call took, or -1.
func (v Verdict) Edge() int { return int(v.edge) - 1 }

// Behaviour is what a call and its edge's window showed against what was expected.
type Behaviour struct {
	Expect    intent.Expect
	Latency   time.Duration // this call
	P99       time.Duration // over the window
	ErrorRate float64       // over the window
	Window    time.Duration
	Resends   int // re-sends of this logical call
	Fanout    int // calls to the dependency under the call's parent span
}

// Drift reports whether the call drifts.
func (v Verdict) Drift() bool { return v.Kinds != 0 }

// Kind is the kind a span shows: the first that applies in table order.
func (v Verdict) Kind() Kind {
	for k := Kind(0); k < NumKinds; k++ {
		if v.Kinds.Has(k) {
			return k
		}
	}
	return NumKinds
}

// Judge judges c against m.
func Judge(m *intent.Compiled, c *Call) Verdict {
	var v Verdict
	JudgeInto(m, c, &v)
	return v
}

// JudgeInto judges c against m into v, which it resets. The verdict is written in place, not
// returned: a verdict is large, and a copy of it in the frames of every call's path made each
// request's goroutine grow its stack (BENCHMARKS.md).
func JudgeInto(m *intent.Compiled, c *Call, v *Verdict) {
	*v = Verdict{}
	if c.External {
		judgeRules(m, c, v)
		judgeIngress(m, c, v)
		return
	}
	edge := m.Edge(c.Caller.ID, c.Callee.ID) // not known unless both ends are nodes of the model
	if edge.Index >= 0 {
		if edge.Rule >= 0 { // the rules were tried on the edge when the model was compiled
			v.Kinds.Add(ForbiddenDependency)
			v.Rule = &m.Rules()[edge.Rule]
		}
	} else {
		judgeRules(m, c, v)
	}
	judgeStructure(m, c, v, edge)
}

// judgeRules finds the first deny rule that matches the call.
func judgeRules(m *intent.Compiled, c *Call, v *Verdict) {
	rules := m.Rules()
	for i := range rules {
		if rules[i].Matches(c.Caller, c.Callee) {
			v.Kinds.Add(ForbiddenDependency)
			v.Rule = &rules[i]
			return
		}
	}
}

func judgeIngress(m *intent.Compiled, c *Call, v *Verdict) {
	if c.Callee.ID == intent.NoNode {
		if m.Policy.UnknownServices == intent.PolicyDrift {
			v.Kinds.Add(UnknownService)
		}
		return
	}
	if !m.Node(c.Callee.ID).Ingress {
		v.Kinds.Add(UndeclaredIngress)
	}
}

func judgeStructure(m *intent.Compiled, c *Call, v *Verdict, edge intent.Edge) {
	from, to := c.Caller.ID, c.Callee.ID
	if from != intent.NoNode && to != intent.NoNode {
		if lf, lt := m.LayerOf(from), m.LayerOf(to); lf >= 0 && lt >= 0 && lt < lf {
			v.Kinds.Add(LayerViolation)
		}
	}
	unknown := from == intent.NoNode || to == intent.NoNode
	if unknown && m.Policy.UnknownServices == intent.PolicyDrift {
		v.Kinds.Add(UnknownService)
	}
	if from == intent.NoNode {
		return // an unknown caller has no depends_on to break
	}
	v.edge = int32(edge.Index + 1)
	switch {
	case !edge.Declared && m.Policy.Undeclared == intent.PolicyDrift && (!unknown || m.Policy.UnknownServices == intent.PolicyDrift):
		v.Kinds.Add(UndeclaredDependency)
	case edge.Operations:
		if op := c.Op(); !m.DependencyAt(edge.Index).AllowsOperation(op.Name, op.Sep, op.Detail) {
			v.Kinds.Add(UndeclaredOperation)
		}
	}
}

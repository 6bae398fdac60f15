package verdict

import (
	"time"

	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// decide is where every verdict is decided, for every face: the structural kinds by the judge
// (pure, against the compiled model), the path kinds by the judge over the call's chain, the
// behaviour kinds by the edge's window, then whether a baseline accepts the drift (known).
// missing_dependency, decided over time and not on a call, is decided by the absence watch
// (CheckAbsence).
func (e *Engine) decide(m *intent.Compiled, c *judge.Call, now time.Time, v *judge.Verdict) {
	judge.JudgeInto(m, c, v)
	if c.Chain != nil {
		judge.JudgePaths(m, c.Chain, v)
	}
	if m.HasExpectations() && c.Ops != nil {
		e.judgeBehaviour(m, c, v, now)
	}
	if v.Drift() {
		if bl := e.baseline.Load(); bl != nil {
			v.Known = bl.accepts(c.Caller.Name, c.Callee.Name, v.Kind().String(), now)
		}
	}
}

// judgeBehaviour adds the behaviour kinds of a call whose edge has expectations. A call judged at the
// end of its TTL is observed with what its store entry kept of its span.
func (e *Engine) judgeBehaviour(m *intent.Compiled, c *judge.Call, v *judge.Verdict, now time.Time) {
	exp, ok := m.Expectation(c.Caller.ID, c.Callee.ID)
	if !ok {
		return
	}
	op := ""
	if exp.HasRetries {
		op = c.Op().String()
	}
	kinds, b := e.behaviour.Observe(behaviour.Edge{Caller: c.Caller.Name, Callee: c.Callee.Name}, exp, op, c.Ops.Observe(), now)
	v.Kinds |= kinds
	v.Behaviour = b
}

package judge

import (
	"fmt"
	"strconv"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Explanation is what a span shows about a drifting call.
type Explanation struct {
	Rule     string // the deny rule's name, or depends_on, layers, policy, ingress
	Severity string
	Message  string // one sentence that names the intent file and line
	Line     int    // that line of the intent file
}

// Explain describes the kind a span shows. It allocates, and is only called for drifting calls.
func Explain(m *intent.Compiled, c *Call, v Verdict) Explanation {
	edge := c.Caller.Name + " -> " + c.Callee.Name
	switch v.Kind() {
	case ForbiddenDependency:
		msg := fmt.Sprintf("%s is denied by rule %s (%s:%d)", edge, v.Rule.Name, m.File, v.Rule.Line)
		if v.Rule.Message != "" {
			msg += ": " + v.Rule.Message
		} else {
			msg += "."
		}
		return Explanation{Rule: v.Rule.Name, Severity: v.Rule.Severity, Message: msg, Line: v.Rule.Line}
	case ForbiddenPath, MissingWaypoint, CallCycle, DepthExceeded:
		return ExplainPath(m, c, v)
	case LayerViolation:
		from, to := m.Node(c.Caller.ID), m.Node(c.Callee.ID)
		return explained(LayerViolation, m.LayersLine, "%s goes up from layer %s to layer %s, against the layer order (%s:%d).",
			edge, m.Layers[from.Layer], m.Layers[to.Layer], m.File, m.LayersLine)
	case UndeclaredDependency:
		return explained(UndeclaredDependency, m.Node(c.Caller.ID).DepsLine, "%s is not in the depends_on of %s (%s:%d).",
			edge, c.Caller.Name, m.File, m.Node(c.Caller.ID).DepsLine)
	case UnknownService:
		who := c.Callee.Name
		if c.Caller.ID == intent.NoNode && !c.External {
			who = c.Caller.Name
		}
		return explained(UnknownService, m.NodeLine, "%s involves %s, which is not a service or resource of the model (%s:%d).",
			edge, who, m.File, m.NodeLine)
	case UndeclaredOperation:
		return explained(UndeclaredOperation, m.Dependency(c.Caller.ID, c.Callee.ID).Line, "%s calls operation %q, which is not among the declared operations (%s:%d).",
			edge, c.Op().String(), m.File, m.Dependency(c.Caller.ID, c.Callee.ID).Line)
	case UndeclaredIngress:
		return explained(UndeclaredIngress, m.Node(c.Callee.ID).Line, "%s comes from outside the traced system, but %s is not declared `ingress: true` (%s:%d).",
			edge, c.Callee.Name, m.File, m.Node(c.Callee.ID).Line)
	case LatencyExceeded:
		b := &v.Behaviour
		if b.Expect.LatencyMax > 0 && b.Latency > b.Expect.LatencyMax {
			return explained(LatencyExceeded, b.Expect.Line, "%s took %s, expected at most %s (%s:%d).", edge, human(b.Latency), human(b.Expect.LatencyMax), m.File, b.Expect.Line)
		}
		return explained(LatencyExceeded, b.Expect.Line, "%s: p99 %s over the last %s, expected at most %s (%s:%d).",
			edge, human(b.P99), human(b.Window), human(b.Expect.LatencyP99), m.File, b.Expect.Line)
	case ErrorRateExceeded:
		b := &v.Behaviour
		return explained(ErrorRateExceeded, b.Expect.Line, "%s: error rate %s over the last %s, expected at most %s (%s:%d).",
			edge, percent(b.ErrorRate), human(b.Window), percent(b.Expect.ErrorRate), m.File, b.Expect.Line)
	case RetryAmplification:
		b := &v.Behaviour
		return explained(RetryAmplification, b.Expect.Line, "%s: %d re-sends of one call, expected at most %d (%s:%d).", edge, b.Resends, b.Expect.Retries, m.File, b.Expect.Line)
	case FanoutExceeded:
		b := &v.Behaviour
		return explained(FanoutExceeded, b.Expect.Line, "%s: %d calls under one parent span, expected at most %d (%s:%d).",
			edge, b.Fanout, b.Expect.CallsPerRequest, m.File, b.Expect.Line)
	}
	return Explanation{}
}

// ExplainPath describes the path rule a call broke (v.PathRule, which must be set, as c.Chain is):
// what its chain did, and the rule. A span shows it when a path kind is the first that applies; driftctl lists it
// whichever kind the span shows.
func ExplainPath(m *intent.Compiled, c *Call, v Verdict) Explanation {
	r := v.PathRule
	var what string
	switch r.Kind {
	case intent.PathDeny:
		what = "reaches " + c.Callee.Name + " by a path it denies"
	case intent.PathRequire:
		what = "reaches " + c.Callee.Name + " without passing the waypoint it requires"
	case intent.PathCycles:
		what = "calls " + c.Callee.Name + " again, a cycle"
	case intent.PathMaxDepth:
		what = fmt.Sprintf("goes %d calls deep, more than its max_depth %d", len(c.Chain.Nodes)-1, r.MaxDepth)
	}
	msg := fmt.Sprintf("%s %s: path rule %s (%s:%d)", c.Chain.Text(), what, r.Name, m.File, r.Line)
	if r.Message != "" {
		msg += ": " + r.Message
	} else {
		msg += "."
	}
	return Explanation{Rule: r.Name, Severity: r.Severity, Message: msg, Line: r.Line}
}

// human writes a duration as people read it: 2.3 s, 200 ms, 5 m.
func human(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d m", d/time.Minute)
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'g', 3, 64) + " s"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', 3, 64) + " ms"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'g', 3, 64) + " µs"
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'g', 3, 64) + "%" }

// explained is the explanation of a kind its table row names: args end with the file and line.
func explained(k Kind, line int, format string, args ...any) Explanation {
	return Explanation{Rule: k.Rule(), Severity: k.Severity(), Message: fmt.Sprintf(format, args...), Line: line}
}

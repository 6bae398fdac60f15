package driftprocessor

import (
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// annotate stamps the verdict on span. Nothing else on the span changes. Names from span data are
// bounded first.
func annotate(m *intent.Compiled, c *judge.Call, v *judge.Verdict, span ptrace.Span) {
	c.Caller.Name, c.Callee.Name = clean.Name(c.Caller.Name), clean.Name(c.Callee.Name)
	c.Operation = judge.Op(clean.Name(c.Op().String()))
	attrs := span.Attributes()
	attrs.PutStr(driftconv.AttrCaller, c.Caller.Name)
	attrs.PutStr(driftconv.AttrCallee, c.Callee.Name)
	attrs.PutStr(driftconv.AttrOperation, c.Operation.Name)
	attrs.PutStr(driftconv.AttrStatus, v.Status().String())
	if !v.Drift() {
		return
	}
	e := judge.Explain(m, c, *v)
	attrs.PutStr(driftconv.AttrKind, v.Kind().String())
	attrs.PutStr(driftconv.AttrRule, e.Rule)
	attrs.PutStr(driftconv.AttrSeverity, e.Severity)
	attrs.PutStr(driftconv.AttrMessage, e.Message)
	if v.PathRule != nil { // the call breaks a path rule, whichever kind the span shows
		attrs.PutStr(driftconv.AttrPath, c.Chain.Text()) // bounded: judge.PathText
	}
}

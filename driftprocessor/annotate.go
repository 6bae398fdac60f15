package driftprocessor

import (
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/record"
)

// Span attributes stamped on the span that carries a judged call.
const (
	attrOperation = "drift.operation"
	attrRule      = "drift.rule"
	attrSeverity  = "drift.severity"
	attrMessage   = "drift.message"
)

// stamped are the attributes annotate sets: on the spans of calls, any that arrive are removed.
var stamped = []string{record.AttrStatus, record.AttrKind, record.AttrCaller, record.AttrCallee,
	attrOperation, attrRule, attrSeverity, attrMessage}

// annotate stamps the verdict on span. Nothing else on the span changes. Names from span data are
// bounded first.
func annotate(m *intent.Compiled, c *judge.Call, v judge.Verdict, span ptrace.Span) {
	c.Caller.Name, c.Callee.Name = clean.Name(c.Caller.Name), clean.Name(c.Callee.Name)
	c.Operation = judge.Op(clean.Name(c.Op().String()))
	attrs := span.Attributes()
	attrs.PutStr(record.AttrCaller, c.Caller.Name)
	attrs.PutStr(record.AttrCallee, c.Callee.Name)
	attrs.PutStr(attrOperation, c.Operation.Name)
	if !v.Drift() {
		attrs.PutStr(record.AttrStatus, record.StatusOK)
		return
	}
	e := judge.Explain(m, c, v)
	if v.Known {
		attrs.PutStr(record.AttrStatus, record.StatusKnown)
	} else {
		attrs.PutStr(record.AttrStatus, record.StatusDrift)
	}
	attrs.PutStr(record.AttrKind, v.Kind().String())
	attrs.PutStr(attrRule, e.Rule)
	attrs.PutStr(attrSeverity, e.Severity)
	attrs.PutStr(attrMessage, e.Message)
}

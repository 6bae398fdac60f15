package driftprocessor

import (
	"go.opentelemetry.io/collector/pdata/ptrace"

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

// annotate stamps the verdict on span, as mode asks. Nothing else on the span changes.
func annotate(mode string, m *intent.Compiled, c *judge.Call, v judge.Verdict, span ptrace.Span) {
	if mode == AnnotateNone || (!v.Drift() && mode != AnnotateAll) {
		return
	}
	attrs := span.Attributes()
	attrs.PutStr(record.AttrCaller, c.Caller.Name)
	attrs.PutStr(record.AttrCallee, c.Callee.Name)
	attrs.PutStr(attrOperation, c.Operation)
	if !v.Drift() {
		attrs.PutStr(record.AttrStatus, record.StatusOK)
		return
	}
	e := judge.Explain(m, c, v)
	attrs.PutStr(record.AttrStatus, record.StatusDrift)
	attrs.PutStr(record.AttrKind, v.Kind().String())
	attrs.PutStr(attrRule, e.Rule)
	attrs.PutStr(attrSeverity, e.Severity)
	attrs.PutStr(attrMessage, e.Message)
}

package capturetest

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestBoutiqueFigures counts the minute's calls from the raw spans, with no code of the judge, so
// that the figures the tests compare with are facts of the capture and not of the code under test.
func TestBoutiqueFigures(t *testing.T) {
	td, err := Boutique()
	if err != nil {
		t.Fatal(err)
	}
	type side struct {
		service string
		kind    ptrace.SpanKind
	}
	sides := map[pcommon.SpanID]side{}
	EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		name, _ := res.Attributes().Get("service.name")
		sides[s.SpanID()] = side{name.Str(), s.Kind()}
	})
	spans, ingress, between, sql := 0, 0, 0, 0
	EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		spans++
		name, _ := res.Attributes().Get("service.name")
		switch s.Kind() {
		case ptrace.SpanKindServer:
			parent, ok := sides[s.ParentSpanID()]
			switch {
			case s.ParentSpanID().IsEmpty():
				ingress++
			case ok && parent.kind == ptrace.SpanKindClient && parent.service != name.Str():
				between++
			}
		case ptrace.SpanKindClient:
			if _, ok := s.Attributes().Get("db.system"); ok {
				sql++
			}
		}
	})
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"spans", spans, BoutiqueSpans}, {"ingress", ingress, BoutiqueIngress},
		{"service calls", between, BoutiqueServiceCalls}, {"SQL calls", sql, BoutiqueSQLCalls},
	} {
		if c.got != c.want {
			t.Errorf("%s: the capture holds %d, the constant says %d", c.name, c.got, c.want)
		}
	}
}

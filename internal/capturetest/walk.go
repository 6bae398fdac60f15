package capturetest

import (
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// WalkedCall is a call as WalkDown finds it: the services its request passed through, from the
// trace's root down, ending with the callee.
type WalkedCall struct {
	Trace string
	Chain []string
}

// WalkDown finds every call of td top down, independently of the engine (which walks up from each
// call): a trace's spans by id, each span's chain from its parent's, a call where a server span's
// parent is another service's span, or where database names the callee of a client span. The
// tests of path rules compare the engine's verdicts with it.
func WalkDown(td ptrace.Traces, database func(ptrace.Span) string) []WalkedCall {
	type node struct {
		span     ptrace.Span
		service  string
		children []pcommon.SpanID
	}
	type key struct {
		trace pcommon.TraceID
		span  pcommon.SpanID
	}
	spans := map[key]*node{}
	var roots []key
	EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		svc, _ := res.Attributes().Get("service.name")
		spans[key{s.TraceID(), s.SpanID()}] = &node{span: s, service: svc.Str()}
	})
	for k, n := range spans {
		if p := n.span.ParentSpanID(); p.IsEmpty() {
			roots = append(roots, k)
		} else if parent := spans[key{k.trace, p}]; parent != nil {
			parent.children = append(parent.children, k.span)
		}
	}
	var calls []WalkedCall
	var visit func(k key, chain []string)
	visit = func(k key, chain []string) {
		n := spans[k]
		if len(chain) == 0 || chain[len(chain)-1] != n.service {
			if len(chain) > 0 && n.span.Kind() == ptrace.SpanKindServer {
				calls = append(calls, WalkedCall{Trace: k.trace.String(), Chain: slices.Clone(append(chain, n.service))})
			}
			chain = append(slices.Clip(chain), n.service)
		}
		if db := database(n.span); db != "" {
			calls = append(calls, WalkedCall{Trace: k.trace.String(), Chain: slices.Clone(append(chain, db))})
		}
		for _, c := range n.children {
			visit(key{k.trace, c}, chain)
		}
	}
	for _, r := range roots {
		visit(r, nil)
	}
	return calls
}

// BoutiqueDatabase names the database a client span of the Boutique minutes calls, as its intent
// does (by db.system), or "".
func BoutiqueDatabase(s ptrace.Span) string {
	if v, ok := s.Attributes().Get("db.system"); ok && s.Kind() == ptrace.SpanKindClient {
		return map[string]string{"mysql": "mysql", "redis": "redis-cart"}[v.Str()]
	}
	return ""
}

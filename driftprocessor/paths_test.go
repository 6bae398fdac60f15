package driftprocessor

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

// walkedCall is a call as the test's own walk of the raw spans finds it: the services its request
// passed through, from the trace's root down, ending with the callee.
type walkedCall struct {
	trace string
	chain []string
}

// walkDown finds every call of td top down, independently of the engine (which walks up from each
// call): a trace's spans by id, each span's chain from its parent's, a call where a server span's
// parent is another service's client span, or where a client span names a database.
func walkDown(td ptrace.Traces, database func(ptrace.Span) string) []walkedCall {
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
	capturetest.EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
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
	var calls []walkedCall
	var visit func(k key, chain []string)
	visit = func(k key, chain []string) {
		n := spans[k]
		if len(chain) == 0 || chain[len(chain)-1] != n.service {
			if len(chain) > 0 && n.span.Kind() == ptrace.SpanKindServer {
				calls = append(calls, walkedCall{trace: k.trace.String(), chain: slices.Clone(append(chain, n.service))})
			}
			chain = append(slices.Clip(chain), n.service)
		}
		if db := database(n.span); db != "" {
			calls = append(calls, walkedCall{trace: k.trace.String(), chain: slices.Clone(append(chain, db))})
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

// pathRule is a path rule as the test checks it, by names.
type pathRule struct {
	name, yaml, kind string
	breaks           func(chain []string) bool
}

func denyVia(from, to, via string) pathRule {
	return pathRule{
		name: fmt.Sprintf("deny-%s-%s-via-%s", from, to, via),
		yaml: fmt.Sprintf("deny: {from: %s, to: %s, via: %s}", from, to, via), kind: "forbidden_path",
		breaks: func(c []string) bool {
			last := len(c) - 1
			if c[last] != to {
				return false
			}
			i := slices.Index(c[:last], from)
			return i >= 0 && slices.Contains(c[i+1:last], via)
		},
	}
}

func requireVia(to, via string) pathRule {
	return pathRule{
		name: fmt.Sprintf("require-%s-via-%s", to, via),
		yaml: fmt.Sprintf("require: {to: %s, via: %s}", to, via), kind: "missing_waypoint",
		breaks: func(c []string) bool {
			last := len(c) - 1
			return c[last] == to && !slices.Contains(c[:last], via)
		},
	}
}

func maxDepth(n int) pathRule {
	return pathRule{
		name: fmt.Sprintf("max-depth-%d", n),
		yaml: fmt.Sprintf("max_depth: %d", n), kind: "depth_exceeded",
		breaks: func(c []string) bool { return len(c)-1 > n },
	}
}

var noCycles = pathRule{
	name: "no-cycles", yaml: "cycles: deny", kind: "call_cycle",
	breaks: func(c []string) bool { return slices.Contains(c[:len(c)-1], c[len(c)-1]) },
}

// expectedTraces is what the test's walk says rule r flags: the traces with a call that breaks it.
func expectedTraces(calls []walkedCall, r pathRule) map[string]bool {
	out := map[string]bool{}
	for _, c := range calls {
		if r.breaks(c.chain) {
			out[c.trace] = true
		}
	}
	return out
}

func withPath(base string, r pathRule) string {
	return base + "\npaths:\n  - name: " + r.name + "\n    severity: critical\n    " + r.yaml + "\n"
}

// pathVerdicts runs batches through a processor with intentYAML and returns, by drift.rule, the
// traces of the spans stamped with it; it fails on any drift with another rule or a kind no rule
// of the test decides.
func pathVerdicts(t *testing.T, intentYAML string, wholeBatches bool, batches []ptrace.Traces) (*harness, map[string]map[string]bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(intentYAML), 0o600))
	cfg := testConfig(path)
	cfg.Pairing.WholeBatches = wholeBatches
	h := newHarness(t, cfg)
	for _, b := range batches {
		h.consumeTraces(b)
	}
	h.expireAll()
	got := map[string]map[string]bool{}
	for _, td := range h.sink.AllTraces() {
		capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
			a := s.Attributes()
			status, _ := a.Get("drift.status")
			if status.Str() != "drift" {
				return
			}
			rule, _ := a.Get("drift.rule")
			kind, _ := a.Get("drift.kind")
			if !strings.HasSuffix(kind.Str(), "_path") && kind.Str() != "missing_waypoint" && kind.Str() != "call_cycle" && kind.Str() != "depth_exceeded" {
				t.Errorf("drift that no path rule decides: %s on %s", kind.Str(), s.Name())
				return
			}
			p, ok := a.Get("drift.path")
			assert.True(t, ok && strings.Contains(p.Str(), " -> "), "a path verdict names its chain: %v", a.AsRaw())
			if got[rule.Str()] == nil {
				got[rule.Str()] = map[string]bool{}
			}
			got[rule.Str()][s.TraceID().String()] = true
		})
	}
	return h, got
}

// stamped counts the exported spans that show kind.
func stamped(h *harness, kind string) int {
	n := 0
	for _, td := range h.sink.AllTraces() {
		capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
			if v, ok := s.Attributes().Get("drift.kind"); ok && v.Str() == kind {
				n++
			}
		})
	}
	return n
}

func boutiqueDatabase(s ptrace.Span) string {
	if v, ok := s.Attributes().Get("db.system"); ok && s.Kind() == ptrace.SpanKindClient {
		return map[string]string{"mysql": "mysql", "redis": "redis-cart"}[v.Str()]
	}
	return ""
}

func deepest(calls []walkedCall) int {
	d := 0
	for _, c := range calls {
		d = max(d, len(c.chain)-1)
	}
	return d
}

// TestPathRulesOnBoutique: on the Online Boutique minute, in whole-trace batches (as after
// groupbytrace), rules that hold give no verdict, and rules that break flag exactly the traces the
// test's own walk of the raw spans finds, trace by trace.
func TestPathRulesOnBoutique(t *testing.T) {
	base, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	td := loadBoutique(t)
	calls := walkDown(td, boutiqueDatabase)
	depth := deepest(calls)
	require.GreaterOrEqual(t, depth, 2)
	traces := capturetest.ByTrace(td)

	holding := []pathRule{denyVia("frontend", "mysql", "cartservice"), requireVia("paymentservice", "checkoutservice"),
		requireVia("mysql", "frontend"), maxDepth(depth), noCycles}
	breaking := []pathRule{denyVia("frontend", "mysql", "adservice"), requireVia("productcatalogservice", "checkoutservice"),
		maxDepth(depth - 1)}
	for _, r := range holding {
		t.Run("holds/"+r.name, func(t *testing.T) {
			require.Empty(t, expectedTraces(calls, r), "the test's walk says the rule holds")
			h, got := pathVerdicts(t, withPath(string(base), r), true, traces)
			assert.Empty(t, got)
			assert.Zero(t, h.sum("drift.paths.partial", nil), "whole traces: every chain reaches its root")
		})
	}
	for _, r := range breaking {
		t.Run("breaks/"+r.name, func(t *testing.T) {
			want := expectedTraces(calls, r)
			require.NotEmpty(t, want, "the test's walk says the rule breaks")
			h, got := pathVerdicts(t, withPath(string(base), r), true, traces)
			assert.Equal(t, want, got[r.name], "traces flagged")
			assert.Len(t, got, 1)
			assert.Equal(t, int64(stamped(h, r.kind)), h.sum("drift.calls", map[string]string{"drift.kind": r.kind}),
				"drift.calls counts every stamped call of the kind")
			t.Logf("%s: %d of %d traces", r.name, len(want), len(traces))
		})
	}
}

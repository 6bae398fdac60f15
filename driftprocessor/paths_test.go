package driftprocessor

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/synthtest"
)

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
func expectedTraces(calls []capturetest.WalkedCall, r pathRule) map[string]bool {
	out := map[string]bool{}
	for _, c := range calls {
		if r.breaks(c.Chain) {
			out[c.Trace] = true
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
	h, got, _ := pathSpans(t, intentYAML, wholeBatches, batches)
	return h, got
}

// pathSpans is pathVerdicts, with the ids of the spans stamped with a path kind.
func pathSpans(t *testing.T, intentYAML string, wholeBatches bool, batches []ptrace.Traces) (*harness, map[string]map[string]bool, map[pcommon.SpanID]bool) {
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
	ids := map[pcommon.SpanID]bool{}
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
			ids[s.SpanID()] = true
		})
	}
	return h, got, ids
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

// boutiqueWalked is the Boutique minute, its intent, and its calls as the test's own walk finds them.
func boutiqueWalked(t *testing.T) (intentYAML []byte, td ptrace.Traces, calls []capturetest.WalkedCall) {
	t.Helper()
	intentYAML, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	td = loadBoutique(t)
	return intentYAML, td, capturetest.WalkDown(td, capturetest.BoutiqueDatabase)
}

func deepest(calls []capturetest.WalkedCall) int {
	d := 0
	for _, c := range calls {
		d = max(d, len(c.Chain)-1)
	}
	return d
}

// TestPathRulesOnBoutique: on the Online Boutique minute, in whole-trace batches (as after
// groupbytrace), rules that hold give no verdict, and rules that break flag exactly the traces the
// test's own walk of the raw spans finds, trace by trace.
func TestPathRulesOnBoutique(t *testing.T) {
	base, td, calls := boutiqueWalked(t)
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

// splitByDepth cuts each trace of td in two requests: the spans nearer the root in one, the others
// in the other, with the first or the second sent first, as a gateway without groupbytrace sees a
// trace whose services export at different times.
func splitByDepth(td ptrace.Traces, parentsFirst bool) []ptrace.Traces {
	var out []ptrace.Traces
	for _, tr := range capturetest.ByTrace(td) {
		depth := map[pcommon.SpanID]int{}
		parent := map[pcommon.SpanID]pcommon.SpanID{}
		capturetest.EachSpan(tr, func(_ pcommon.Resource, s ptrace.Span) { parent[s.SpanID()] = s.ParentSpanID() })
		var depthOf func(id pcommon.SpanID) int
		depthOf = func(id pcommon.SpanID) int {
			p, ok := parent[id]
			if !ok || p.IsEmpty() {
				return 0
			}
			if d, ok := depth[id]; ok {
				return d
			}
			depth[id] = depthOf(p) + 1
			return depth[id]
		}
		top, bottom := ptrace.NewTraces(), ptrace.NewTraces()
		capturetest.EachSpan(tr, func(res pcommon.Resource, s ptrace.Span) {
			into := bottom
			if depthOf(s.SpanID()) < 3 {
				into = top
			}
			rs := into.ResourceSpans().AppendEmpty()
			res.CopyTo(rs.Resource())
			s.CopyTo(rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty())
		})
		if parentsFirst {
			out = append(out, top, bottom)
		} else {
			out = append(out, bottom, top)
		}
	}
	return out
}

// TestPathRulesAcrossBatches: without whole-trace batches, the spans kept per trace complete the
// chain of a call whose ancestors came in an earlier batch: the same traces as in whole batches.
// When the ancestors come later, the call is judged on the part of its chain it has: no false
// verdict, no missing waypoint decided on a part, and each such call counted in drift.paths.partial.
func TestPathRulesAcrossBatches(t *testing.T) {
	base, td, calls := boutiqueWalked(t)
	for _, r := range []pathRule{denyVia("frontend", "mysql", "adservice"), requireVia("productcatalogservice", "checkoutservice"),
		maxDepth(deepest(calls) - 1)} {
		want := expectedTraces(calls, r)
		_, _, whole := pathSpans(t, withPath(string(base), r), true, capturetest.ByTrace(td))
		t.Run("parents first/"+r.name, func(t *testing.T) {
			h, got := pathVerdicts(t, withPath(string(base), r), false, splitByDepth(td, true))
			assert.Equal(t, want, got[r.name])
			assert.Len(t, got, 1)
			assert.Zero(t, h.sum("drift.paths.partial", nil))
		})
		t.Run("children first/"+r.name, func(t *testing.T) {
			h, got, ids := pathSpans(t, withPath(string(base), r), false, splitByDepth(td, false))
			for id := range ids {
				assert.True(t, whole[id], "span %s flagged, but not in whole traces", id)
			}
			assert.LessOrEqual(t, len(got), 1)
			assert.Less(t, len(ids), len(whole), "some calls were judged on part of their chain")
			assert.Positive(t, h.sum("drift.paths.partial", nil))
			t.Logf("%s: %d of %d calls flagged on parts of chains; %d calls partial", r.name, len(ids), len(whole), h.sum("drift.paths.partial", nil))
		})
	}
}

func synthDatabase(s ptrace.Span) string {
	if v, ok := s.Attributes().Get("db.namespace"); ok && s.Kind() == ptrace.SpanKindClient {
		return "db-" + strings.TrimPrefix(v.Str(), "db")
	}
	return ""
}

// loopBack adds to every nth trace a call back into the trace's first service, from its deepest
// server span: a feedback loop. The test's walk finds the cycles on its own.
func loopBack(traces []ptrace.Traces, n int) {
	for i := 0; i < len(traces); i += n {
		type at struct {
			span ptrace.Span
			res  pcommon.Resource
		}
		byID := map[pcommon.SpanID]at{}
		var root at
		capturetest.EachSpan(traces[i], func(res pcommon.Resource, s ptrace.Span) {
			byID[s.SpanID()] = at{s, res}
			if s.ParentSpanID().IsEmpty() {
				root = at{s, res}
			}
		})
		depth := func(s ptrace.Span) int {
			d := 0
			for p := s.ParentSpanID(); !p.IsEmpty(); p = byID[p].span.ParentSpanID() {
				d++
			}
			return d
		}
		deepest, most := root, 0
		for _, a := range byID {
			if d := depth(a.span); a.span.Kind() == ptrace.SpanKindServer && (d > most || d == most && a.span.SpanID().String() < deepest.span.SpanID().String()) {
				deepest, most = a, d
			}
		}
		client := appendSpan(traces[i], deepest.res, deepest.span, ptrace.SpanKindClient, uint64(i))
		appendSpan(traces[i], root.res, client, ptrace.SpanKindServer, uint64(i)+1<<32)
	}
}

func appendSpan(td ptrace.Traces, res pcommon.Resource, parent ptrace.Span, kind ptrace.SpanKind, id uint64) ptrace.Span {
	rs := td.ResourceSpans().AppendEmpty()
	res.CopyTo(rs.Resource())
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(parent.TraceID())
	s.SetSpanID(pcommon.SpanID{0xfe, byte(id >> 40), byte(id >> 32), byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id), 1})
	s.SetParentSpanID(parent.SpanID())
	s.SetKind(kind)
	s.SetName("feedback")
	s.SetStartTimestamp(parent.StartTimestamp())
	s.SetEndTimestamp(parent.EndTimestamp())
	return s
}

// TestCyclesAndDepthOnSyntheticModel: on the 200-service model's traffic, with a call back into
// the first service added to one trace in seven, the cycles rule and depth limits flag exactly the
// traces the test's walk finds. The loops call upwards, undeclared: the model allows undeclared
// calls and has no layers here, so that only the path rules judge them.
func TestCyclesAndDepthOnSyntheticModel(t *testing.T) {
	sys := synthtest.New(200, 8, 42)
	var batches []ptrace.Traces
	for _, b := range sys.Batches(20, 2000) {
		batches = append(batches, capturetest.ByTrace(b)...)
	}
	loopBack(batches, 7)
	model := regexp.MustCompile(`(?m)^(layers: .*|    layer: .*)\n`).ReplaceAllString(sys.Intent(), "")
	model = strings.Replace(model, "system: synthetic\n", "system: synthetic\npolicy: {undeclared: allow}\n", 1)
	var calls []capturetest.WalkedCall
	for _, b := range batches {
		calls = append(calls, capturetest.WalkDown(b, synthDatabase)...)
	}
	depth := deepest(calls)
	for _, r := range []pathRule{noCycles, maxDepth(depth - 1), maxDepth(depth)} {
		t.Run(r.name, func(t *testing.T) {
			want := expectedTraces(calls, r)
			if r.name != maxDepth(depth).name {
				require.NotEmpty(t, want, "the test's walk says the rule breaks")
			}
			_, got := pathVerdicts(t, withPath(model, r), true, batches)
			if len(want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, want, got[r.name])
			assert.Len(t, got, 1)
			t.Logf("%s: %d of %d traces", r.name, len(want), len(batches))
		})
	}
}

// retryLoop is a trace in which payment, failing, calls back checkout's retry endpoint, which calls
// payment again: frontend -> checkout -> payment -> checkout -> payment.
func retryLoop() ptrace.Traces {
	grpc := func(svc string) map[string]any { return map[string]any{"rpc.system": "grpc", "rpc.service": svc} }
	return batch(
		sp{svc: "frontend", kind: ptrace.SpanKindServer, id: 1, name: "GET /checkout"},
		sp{svc: "frontend", kind: ptrace.SpanKindClient, id: 2, parent: 1, name: "Checkout/Place", attrs: grpc("checkout")},
		sp{svc: "checkout", kind: ptrace.SpanKindServer, id: 3, parent: 2, name: "Checkout/Place"},
		sp{svc: "checkout", kind: ptrace.SpanKindClient, id: 4, parent: 3, name: "Payment/Charge", attrs: grpc("payment")},
		sp{svc: "payment", kind: ptrace.SpanKindServer, id: 5, parent: 4, name: "Payment/Charge", status: ptrace.StatusCodeError},
		sp{svc: "payment", kind: ptrace.SpanKindInternal, id: 6, parent: 5, name: "on-failure"},
		sp{svc: "payment", kind: ptrace.SpanKindClient, id: 7, parent: 6, name: "Checkout/Retry", attrs: grpc("checkout")},
		sp{svc: "checkout", kind: ptrace.SpanKindServer, id: 8, parent: 7, name: "Checkout/Retry"},
		sp{svc: "checkout", kind: ptrace.SpanKindClient, id: 9, parent: 8, name: "Payment/Charge", attrs: grpc("payment")},
		sp{svc: "payment", kind: ptrace.SpanKindServer, id: 10, parent: 9, name: "Payment/Charge"},
	)
}

const retryIntent = `version: 1
services:
  frontend: {ingress: true, depends_on: [checkout]}
  checkout: {depends_on: [payment]}
  payment: {depends_on: [checkout]}
`

// TestCycleFromRetryLoop: a retry loop is a cycle. The call that calls back into a service the
// request came through is flagged, with the chain; a cycles rule that selects services flags only
// calls back into them.
func TestCycleFromRetryLoop(t *testing.T) {
	for _, tt := range []struct {
		name, rule string
		want       map[byte]string // client span -> drift.path
	}{
		{"every service", "cycles: deny", map[byte]string{
			7: "frontend -> checkout -> payment -> checkout",
			9: "frontend -> checkout -> payment -> checkout -> payment",
		}},
		{"checkout only", "cycles: deny\n    services: checkout", map[byte]string{
			7: "frontend -> checkout -> payment -> checkout",
		}},
		{"except from frontend", "cycles: deny\n    except: [{from: frontend}]", map[byte]string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "intent.yaml")
			require.NoError(t, os.WriteFile(path, []byte(retryIntent+"paths:\n  - name: no-loops\n    "+tt.rule+"\n"), 0o600))
			cfg := testConfig(path)
			cfg.Pairing.WholeBatches = true
			h := newHarness(t, cfg)
			h.consumeTraces(retryLoop())
			for id := byte(1); id <= 10; id++ {
				want, flagged := tt.want[id]
				if !flagged {
					assert.Empty(t, h.attr(id, "drift.kind"), "span %d", id)
					continue
				}
				assert.Equal(t, "call_cycle", h.attr(id, "drift.kind"), "span %d", id)
				assert.Equal(t, "no-loops", h.attr(id, "drift.rule"))
				assert.Equal(t, want, h.attr(id, "drift.path"))
				assert.Contains(t, h.attr(id, "drift.message"), "again, a cycle: path rule no-loops (")
			}
			assert.Equal(t, int64(len(tt.want)), h.sum("drift.calls", map[string]string{"drift.kind": "call_cycle"}))
		})
	}
}

// TestPathStateBounded: without whole-trace batches, the spans kept per trace stay within
// paths.max_traces: when full, the trace seen least recently goes, counted in drift.paths.evicted,
// and a later call of it is judged on the part of its chain that came after, counted in
// drift.paths.partial; the traces kept still complete their calls' chains.
func TestPathStateBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(retryIntent+"paths:\n  - name: no-loops\n    cycles: deny\n"), 0o600))
	cfg := testConfig(path)
	cfg.Paths.MaxTraces = 2
	h := newHarness(t, cfg)
	grpc := map[string]any{"rpc.system": "grpc", "rpc.service": "checkout"}
	// three traces' first halves, frontend -> checkout -> payment, one batch each
	for tr := byte(1); tr <= 3; tr++ {
		h.consume(
			sp{svc: "frontend", kind: server, trace: tr, id: 1, name: "GET /"},
			sp{svc: "frontend", kind: client, trace: tr, id: 2, parent: 1, attrs: grpc},
			sp{svc: "checkout", kind: server, trace: tr, id: 3, parent: 2},
			sp{svc: "checkout", kind: client, trace: tr, id: 4, parent: 3, attrs: map[string]any{"rpc.system": "grpc", "rpc.service": "payment"}},
			sp{svc: "payment", kind: server, trace: tr, id: 5, parent: 4},
		)
	}
	assert.Equal(t, int64(1), h.sum("drift.paths.evicted", nil), "trace 1, the oldest, went")
	// their second halves, the newest trace first: payment calls back into checkout, a cycle
	for _, tr := range []byte{3, 2, 1} {
		h.consume(
			sp{svc: "payment", kind: client, trace: tr, id: 6, parent: 5, attrs: grpc},
			sp{svc: "checkout", kind: server, trace: tr, id: 7, parent: 6},
		)
	}
	cycles := map[byte]string{}
	for _, td := range h.sink.AllTraces() {
		capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
			if k, ok := s.Attributes().Get("drift.kind"); ok && k.Str() == "call_cycle" {
				p, _ := s.Attributes().Get("drift.path")
				cycles[s.TraceID()[1]] = p.Str()
			}
		})
	}
	assert.Equal(t, map[byte]string{
		2: "frontend -> checkout -> payment -> checkout",
		3: "frontend -> checkout -> payment -> checkout",
	}, cycles, "trace 1's chain went with its spans: its cycle is not seen")
	assert.Equal(t, int64(1), h.sum("drift.paths.partial", nil), "trace 1's call back, judged on a part")
	assert.Equal(t, int64(2), h.sum("drift.paths.evicted", nil), "trace 1, kept again, took the place of the oldest")
}

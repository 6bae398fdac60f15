package driftprocessor

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

const expectIntent = `version: 1
services:
  web:
    ingress: true
    depends_on:
      - to: api
        expect:
          latency: {max: 500ms, p99: 200ms}
          error_rate: 10%
          retries: 1
          calls_per_request: 3
  api: {}
`

func writeFile(t *testing.T, text string) string {
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

// call makes a web -> api client span with its server span.
func timedCall(trace, id, parent byte, d time.Duration, status ptrace.StatusCode, attrs map[string]any) []sp {
	return []sp{
		{svc: "web", kind: client, trace: trace, id: id, parent: parent, name: "GET /items", attrs: attrs, dur: d, status: status},
		{svc: "api", kind: server, trace: trace, id: id + 100, parent: id, name: "GET /items", dur: d / 2},
	}
}

func TestBehaviourKinds(t *testing.T) {
	tests := []struct {
		name  string
		calls [][]sp
		kind  string
		msg   string
	}{
		{"latency_exceeded, one call over max", [][]sp{timedCall(1, 1, 0, time.Second, 0, nil)},
			"latency_exceeded", "web -> api took 1 s, expected at most 500 ms (" /* file:line */},
		{"latency_exceeded, p99 over the window", warm(20, 300*time.Millisecond, 0),
			"latency_exceeded", "p99 3"},
		{"error_rate_exceeded", warm(20, time.Millisecond, ptrace.StatusCodeError),
			"error_rate_exceeded", "error rate 100% over the last 5 m, expected at most 10%"},
		{"error_rate_exceeded from HTTP status where the span status is unset", warmAttrs(20, map[string]any{"http.response.status_code": int64(503)}),
			"error_rate_exceeded", "error rate 100%"},
		{"retry_amplification, resend count", [][]sp{timedCall(1, 1, 50, time.Millisecond, 0, map[string]any{"http.request.resend_count": int64(2)})},
			"retry_amplification", "2 re-sends of one call, expected at most 1"},
		{"fanout_exceeded", [][]sp{
			timedCall(1, 1, 50, time.Millisecond, 0, map[string]any{"http.route": "/a"}),
			timedCall(1, 2, 50, time.Millisecond, 0, map[string]any{"http.route": "/b"}),
			timedCall(1, 3, 50, time.Millisecond, 0, map[string]any{"http.route": "/c"}),
			timedCall(1, 4, 50, time.Millisecond, 0, map[string]any{"http.route": "/d"}),
		}, "fanout_exceeded", "4 calls under one parent span, expected at most 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig(writeFile(t, expectIntent)))
			for _, c := range tt.calls {
				h.consume(c...)
			}
			last := tt.calls[len(tt.calls)-1][0].id
			assert.Equal(t, tt.kind, h.attr(last, "drift.kind"))
			assert.Equal(t, "expect", h.attr(last, "drift.rule"))
			assert.Contains(t, h.attr(last, "drift.message"), tt.msg)
			assert.Contains(t, h.attr(last, "drift.message"), "intent.yaml:7)")
		})
	}
}

// warmAttrs makes n calls with client attributes, each under its own parent.
func warmAttrs(n int, attrs map[string]any) [][]sp {
	var out [][]sp
	for i := 0; i < n; i++ {
		out = append(out, timedCall(byte(i+1), byte(i+1), 0, time.Millisecond, 0, attrs))
	}
	return out
}

// warm makes n calls of one duration and status, each under its own parent.
func warm(n int, d time.Duration, status ptrace.StatusCode) [][]sp {
	var out [][]sp
	for i := 0; i < n; i++ {
		out = append(out, timedCall(byte(i+1), byte(i+1), 0, d, status, nil))
	}
	return out
}

func TestBehaviourMetrics(t *testing.T) {
	h := newHarness(t, testConfig(writeFile(t, expectIntent)))
	for _, c := range warm(25, 300*time.Millisecond, 0) {
		h.consume(c...)
	}
	p99 := h.gauge("drift.edge.latency.p99", map[string]string{"drift.caller": "web", "drift.callee": "api"})
	assert.InDelta(t, 0.3, p99, 0.04)
	assert.InDelta(t, 0.2, h.gauge("drift.edge.latency.p99.expected", nil), 1e-9)
	assert.InDelta(t, 0.1, h.gauge("drift.edge.error_rate.expected", nil), 1e-9)
	assert.Equal(t, 0.0, h.gauge("drift.edge.error_rate", nil))
}

// boutiqueEdges lists the declared edges of the Online Boutique (declared-edges.csv).
func boutiqueEdges(t *testing.T) [][2]string {
	f, err := os.Open(filepath.Join(capturetest.Dir(), "online-boutique", "declared-edges.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	var edges [][2]string
	for _, r := range rows[1:] {
		edges = append(edges, [2]string{r[0], r[1]})
	}
	return edges
}

// boutiqueIntentWith writes the Online Boutique's intent with a p99 expectation on each edge that
// has one in p99s.
func boutiqueIntentWith(edges [][2]string, p99s map[string]time.Duration) string {
	deps := map[string][]string{}
	nodes := map[string]bool{}
	for _, e := range edges {
		nodes[e[0]], nodes[e[1]] = true, true
		dep := "      - to: " + e[1] + "\n"
		if d, ok := p99s[e[0]+" -> "+e[1]]; ok {
			dep += fmt.Sprintf("        expect: {latency: {p99: %s}}\n", d)
		}
		deps[e[0]] = append(deps[e[0]], dep)
	}
	var b strings.Builder
	b.WriteString("version: 1\nservices:\n")
	var names []string
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n == "mysql" || n == "redis-cart" {
			continue
		}
		fmt.Fprintf(&b, "  %s:\n    ingress: %v\n", n, n == "frontend" || n == "loadgenerator")
		if len(deps[n]) > 0 {
			b.WriteString("    depends_on:\n" + strings.Join(deps[n], ""))
		}
	}
	b.WriteString("resources:\n  mysql: {kind: database, match: {db.system: mysql}}\n  redis-cart: {kind: database, match: {db.system: redis}}\n")
	return b.String()
}

// judgeMinute runs a minute through a processor and returns its behaviour drift by edge, and each
// edge's observed p99.9.
func judgeMinute(t *testing.T, intentText string, td ptrace.Traces) (drift map[string]int, p999 map[string]time.Duration) {
	cfg := testConfig(writeFile(t, intentText))
	cfg.Annotate = AnnotateDrift
	h := newHarness(t, cfg)
	for _, b := range shuffledBatches(td, 500, 9) {
		h.consumeTraces(b)
		h.now.Add(int64(time.Second)) // a minute's batches, a second apart: all inside one window
	}
	h.expireAll()
	drift = map[string]int{}
	for _, out := range h.sink.AllTraces() {
		capturetest.EachSpan(out, func(_ pcommon.Resource, s ptrace.Span) {
			a := s.Attributes()
			if k, ok := a.Get("drift.kind"); ok {
				caller, _ := a.Get("drift.caller")
				callee, _ := a.Get("drift.callee")
				drift[caller.Str()+" -> "+callee.Str()+" "+k.Str()]++
			}
		})
	}
	p999 = map[string]time.Duration{}
	for _, s := range h.p.engine.BehaviourStats() {
		p999[s.Edge.Caller+" -> "+s.Edge.Callee] = s.P999
	}
	return drift, p999
}

// TestRealTrafficBehaviour: with every edge's p99 expected at most three times its p99.9 of the
// fault-free minute, that minute shows no behaviour drift, and the minute under a CPU fault in
// currencyservice flags frontend -> currencyservice as latency_exceeded and no other edge. (The p99.9,
// not the p99: a minute's p99 of sub-millisecond database calls rests on a handful of calls, and the
// fault minute's productcatalogservice -> mysql p99 is 20 times the healthy one while its p50, p99.9
// and max are not.)
func TestRealTrafficBehaviour(t *testing.T) {
	edges := boutiqueEdges(t)
	free, err := capturetest.Boutique()
	require.NoError(t, err)
	fault, err := capturetest.BoutiqueCurrencyFault()
	require.NoError(t, err)

	// learn each edge's p99.9 from the fault-free minute (no expectation can breach an hour)
	hour := map[string]time.Duration{}
	for _, e := range edges {
		hour[e[0]+" -> "+e[1]] = time.Hour
	}
	drift, observed := judgeMinute(t, boutiqueIntentWith(edges, hour), free)
	require.Empty(t, drift)
	expected := map[string]time.Duration{}
	for edge, p999 := range observed {
		expected[edge] = (3 * p999).Round(time.Millisecond)
	}
	require.Contains(t, expected, "frontend -> currencyservice")
	intentText := boutiqueIntentWith(edges, expected)

	drift, _ = judgeMinute(t, intentText, free)
	assert.Empty(t, drift, "the fault-free minute shows no behaviour drift")

	drift, observedFault := judgeMinute(t, intentText, fault)
	t.Logf("expected p99s (fault-free p99.9 x3): %v", expected)
	t.Logf("p99.9s under the fault: %v", observedFault)
	t.Logf("drift under the fault: %v", drift)
	// 462 frontend -> currencyservice calls in the fault minute; the first 19 warm the window up
	assert.GreaterOrEqual(t, drift["frontend -> currencyservice latency_exceeded"], 440, "the faulty edge's calls are flagged")
	for edge := range drift {
		assert.True(t, strings.HasPrefix(edge, "frontend -> currencyservice "), "unaffected edge flagged: %s", edge)
	}
}

// TestBehaviourOfCallsJudgedAtExpiry: a server span whose parent never comes (its caller is outside
// the traced system) is judged when its wait ends, on its own latency and error: the windows and the
// latency limit see it as any other call.
func TestBehaviourOfCallsJudgedAtExpiry(t *testing.T) {
	h := newHarness(t, testConfig(writeFile(t, `version: 1
services:
  api:
    ingress: true
    expect_incoming: {latency: {max: 500ms, p99: 200ms}, error_rate: 10%}
`)))
	for i := byte(1); i <= 25; i++ {
		h.consume(sp{svc: "api", kind: server, trace: i, id: i, parent: 200, name: "GET /items", dur: time.Second, status: ptrace.StatusCodeError})
	}
	require.Equal(t, int64(0), h.sum("drift.calls", nil), "waiting for their parents")
	h.expireAll()
	assert.Equal(t, int64(25), h.sum("drift.calls", map[string]string{"drift.caller": "external", "drift.callee": "api", "drift.kind": "latency_exceeded"}))
	assert.InDelta(t, 1.0, h.gauge("drift.edge.latency.p99", map[string]string{"drift.caller": "external", "drift.callee": "api"}), 0.1)
	assert.Equal(t, 1.0, h.gauge("drift.edge.error_rate", map[string]string{"drift.caller": "external", "drift.callee": "api"}))
}

package driftprocessor

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

const shopIntent = "../testdata/intent/shop.yaml"

var (
	client   = ptrace.SpanKindClient
	server   = ptrace.SpanKindServer
	producer = ptrace.SpanKindProducer
	internal = ptrace.SpanKindInternal
)

// TestDriftKinds: one case (or more) per drift kind, judged on the span that carries the call.
func TestDriftKinds(t *testing.T) {
	tests := []struct {
		name                     string
		spans                    []sp
		stamped                  byte // the span that carries the verdict
		kind, rule, severity     string
		caller, callee, msgParts string
	}{
		{
			name:    "forbidden_dependency: the storefront calls payments directly",
			spans:   []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}}},
			stamped: 1, kind: "forbidden_dependency", rule: "payment-is-protected", severity: "warning",
			caller: "frontend", callee: "payment", msgParts: "shop.yaml:52",
		},
		{
			name:    "forbidden_dependency by selector: the storefront reads the cart database",
			spans:   []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"db.system.name": "redis"}}},
			stamped: 1, kind: "forbidden_dependency", rule: "data-only-through-core", severity: "critical",
			caller: "frontend", callee: "valkey-cart", msgParts: "Storefront services reach data only through core services.",
		},
		{
			name:    "layer_violation: core calls up into the storefront",
			spans:   []sp{{svc: "checkout", kind: client, id: 1, attrs: map[string]any{"service.peer.name": "frontend"}}},
			stamped: 1, kind: "layer_violation", rule: "layers", severity: "warning",
			caller: "checkout", callee: "frontend", msgParts: "from layer core to layer frontend",
		},
		{
			name:    "undeclared_dependency: cart calls currency",
			spans:   []sp{{svc: "cart", kind: client, id: 1, attrs: map[string]any{"peer.service": "currency"}}},
			stamped: 1, kind: "undeclared_dependency", rule: "depends_on", severity: "warning",
			caller: "cart", callee: "currency", msgParts: "not in the depends_on of cart (../testdata/intent/shop.yaml:29)",
		},
		{
			name: "undeclared_dependency to a service nobody declared, named by its server span",
			spans: []sp{
				{svc: "frontend", kind: client, id: 1},
				{svc: "recommendation", kind: server, id: 2, parent: 1},
			},
			stamped: 1, kind: "undeclared_dependency", rule: "depends_on", severity: "warning",
			caller: "frontend", callee: "recommendation", msgParts: "frontend -> recommendation is not in the depends_on of frontend",
		},
		{
			name:    "unknown_service: a caller nobody declared",
			spans:   []sp{{svc: "fraud-check", kind: client, id: 1, attrs: map[string]any{"peer.service": "cart"}}},
			stamped: 1, kind: "unknown_service", rule: "policy", severity: "warning",
			caller: "fraud-check", callee: "cart", msgParts: "fraud-check, which is not a service or resource",
		},
		{
			name: "undeclared_operation: frontend calls a checkout operation it did not declare",
			spans: []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{
				"peer.service": "checkout", "rpc.service": "oteldemo.CheckoutService", "rpc.method": "GetOrders"}}},
			stamped: 1, kind: "undeclared_operation", rule: "depends_on", severity: "warning",
			caller: "frontend", callee: "checkout", msgParts: `operation "oteldemo.CheckoutService/GetOrders"`,
		},
		{
			name:    "undeclared_ingress: cart receives a call from outside",
			spans:   []sp{{svc: "cart", kind: server, id: 1}},
			stamped: 1, kind: "undeclared_ingress", rule: "ingress", severity: "warning",
			caller: "external", callee: "cart", msgParts: "not declared `ingress: true`",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig(shopIntent))
			h.consume(tt.spans...)
			assert.Equal(t, "drift", h.attr(tt.stamped, "drift.status"))
			assert.Equal(t, tt.kind, h.attr(tt.stamped, "drift.kind"))
			assert.Equal(t, tt.rule, h.attr(tt.stamped, "drift.rule"))
			assert.Equal(t, tt.severity, h.attr(tt.stamped, "drift.severity"))
			assert.Equal(t, tt.caller, h.attr(tt.stamped, "drift.caller"))
			assert.Equal(t, tt.callee, h.attr(tt.stamped, "drift.callee"))
			msg := h.attr(tt.stamped, "drift.message")
			assert.Contains(t, msg, "shop.yaml:")
			require.NotEmpty(t, tt.msgParts, "a case says what its message holds")
			assert.Contains(t, msg, tt.msgParts)
			assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{
				"drift.caller": tt.caller, "drift.callee": tt.callee, "drift.status": "drift", "drift.kind": tt.kind}))
			assert.Equal(t, int64(1), h.sum("drift.calls", nil), "each call is counted once")
			h.expireAll()
			assert.Equal(t, int64(1), h.sum("drift.calls", nil), "expiry does not count the call again")
		})
	}
}

// TestAllApplicableKindsCounted: a call that breaks several rules shows the first kind and counts all.
func TestAllApplicableKindsCounted(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	// frontend -> valkey-cart: denied by a rule, goes down the layers (allowed), and is undeclared.
	h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"db.system": "redis"}})
	assert.Equal(t, "forbidden_dependency", h.attr(1, "drift.kind"))
	assert.Equal(t, int64(1), h.sum("drift.violations", map[string]string{"drift.kind": "forbidden_dependency"}))
	assert.Equal(t, int64(1), h.sum("drift.violations", map[string]string{"drift.kind": "undeclared_dependency"}))
	assert.Equal(t, int64(2), h.sum("drift.violations", nil))
	assert.Equal(t, int64(1), h.sum("drift.calls", nil))
}

// TestResolution: one case per way of naming the callee; all these calls conform.
func TestResolution(t *testing.T) {
	tests := []struct {
		name   string
		spans  []sp
		callee string
	}{
		{"peer.service (old name)", []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "cart"}}}, "cart"},
		{"service.peer.name (new name)", []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"service.peer.name": "cart"}}}, "cart"},
		{"alias without port, server.address", []sp{{svc: "frontend-proxy", kind: client, id: 1, attrs: map[string]any{"server.address": "frontend.shop.svc.cluster.local"}}}, "frontend"},
		{"alias without port, net.peer.name", []sp{{svc: "frontend-proxy", kind: client, id: 1, attrs: map[string]any{"net.peer.name": "frontend.shop.svc.cluster.local", "net.peer.port": 443}}}, "frontend"},
		{"alias with port, server.address and server.port", []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"server.address": "currency-svc", "server.port": 7001}}}, "currency"},
		{"alias with port, net.peer.name and net.peer.port", []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"net.peer.name": "currency-svc", "net.peer.port": 7001}}}, "currency"},
		{"URL host, url.full", []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"url.full": "http://currency-svc:7001/convert?x=1"}}}, "currency"},
		{"URL host, http.url", []sp{{svc: "frontend-proxy", kind: client, id: 1, attrs: map[string]any{"http.url": "https://user@frontend.shop.svc.cluster.local/cart"}}}, "frontend"},
		{"rpc.service", []sp{{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"rpc.service": "oteldemo.CurrencyService", "rpc.method": "Convert"}}}, "currency"},
		{"resource match, db.system.name", []sp{{svc: "cart", kind: client, id: 1, attrs: map[string]any{"db.system.name": "redis"}}}, "valkey-cart"},
		{"resource match, db.system on an internal span", []sp{{svc: "cart", kind: internal, id: 1, attrs: map[string]any{"db.system": "redis"}}}, "valkey-cart"},
		{"resource match, messaging (new names)", []sp{{svc: "checkout", kind: producer, id: 1, attrs: map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders"}}}, "kafka-orders"},
		{"resource match, messaging (old names)", []sp{{svc: "checkout", kind: producer, id: 1, attrs: map[string]any{"messaging.system": "kafka", "messaging.destination": "orders"}}}, "kafka-orders"},
		{"resource match, glob on the address", []sp{{svc: "payment", kind: client, id: 1, attrs: map[string]any{"server.address": "api.stripe.com"}}}, "stripe"},
		{"the paired server span wins over attributes", []sp{
			{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "currency"}},
			{svc: "cart", kind: server, id: 2, parent: 1},
		}, "cart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(shopIntent)
			cfg.Annotate = AnnotateAll
			h := newHarness(t, cfg)
			h.consume(tt.spans...)
			assert.Equal(t, "conforming", h.attr(1, "drift.status"))
			assert.Equal(t, tt.callee, h.attr(1, "drift.callee"))
			assert.Equal(t, "", h.attr(1, "drift.kind"))
			assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.callee": tt.callee, "drift.status": "conforming"}))
		})
	}
}

// TestPairing: the verdict goes on the client when the callee is named as it passes, else on the
// server that completes the pair; each call is counted once, in any order and across batches.
func TestPairing(t *testing.T) {
	cl := sp{svc: "frontend", kind: client, id: 1, name: "oteldemo.CartService/GetCart"}
	sv := sp{svc: "cart", kind: server, id: 2, parent: 1, name: "oteldemo.CartService/GetCart"}
	bad := sp{svc: "payment", kind: server, id: 2, parent: 1}
	tests := []struct {
		name    string
		batches [][]sp
		stamped byte
		status  string
	}{
		{"client then server, one batch", [][]sp{{cl, sv}}, 1, "conforming"},
		{"server then client, one batch", [][]sp{{sv, cl}}, 1, "conforming"},
		{"client, then server in the next batch", [][]sp{{cl}, {sv}}, 2, "conforming"},
		{"server, then client in the next batch", [][]sp{{sv}, {cl}}, 1, "conforming"},
		{"drift: client then server, one batch", [][]sp{{cl, bad}}, 1, "drift"},
		{"drift: server then client, one batch", [][]sp{{bad, cl}}, 1, "drift"},
		{"drift: client, then server in the next batch", [][]sp{{cl}, {bad}}, 2, "drift"},
		{"drift: server, then client in the next batch", [][]sp{{bad}, {cl}}, 1, "drift"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(shopIntent)
			cfg.Annotate = AnnotateAll
			h := newHarness(t, cfg)
			for _, b := range tt.batches {
				h.consume(b...)
			}
			h.expireAll()
			other := byte(3) - tt.stamped
			assert.Equal(t, tt.status, h.attr(tt.stamped, "drift.status"))
			assert.Equal(t, "frontend", h.attr(tt.stamped, "drift.caller"))
			assert.Equal(t, "oteldemo.CartService/GetCart", h.attr(tt.stamped, "drift.operation"))
			assert.Equal(t, "", h.attr(other, "drift.status"), "only one span carries the call")
			assert.Equal(t, int64(1), h.sum("drift.calls", nil), "the call is counted once")
			assert.Equal(t, 0, h.p.engine.Pending())
		})
	}
}

func TestRootServerSpanIsExternal(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.Annotate = AnnotateAll
	h := newHarness(t, cfg)
	h.consume(sp{svc: "frontend-proxy", kind: server, id: 1, name: "GET /"})
	assert.Equal(t, "conforming", h.attr(1, "drift.status"))
	assert.Equal(t, "external", h.attr(1, "drift.caller"))
	assert.Equal(t, "frontend-proxy", h.attr(1, "drift.callee"))
}

// TestUnmatchedServerBecomesExternalAtExpiry: a server span whose parent never comes is a call from
// outside; its span has passed, so the call shows in metrics only.
func TestUnmatchedServerBecomesExternalAtExpiry(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	h.consume(sp{svc: "cart", kind: server, id: 2, parent: 1})
	assert.Equal(t, int64(0), h.sum("drift.calls", nil))
	h.expireAll()
	assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.caller": "external", "drift.callee": "cart", "drift.kind": "undeclared_ingress"}))
	assert.Equal(t, "", h.attr(2, "drift.status"))
}

func TestUnmodelledPeerJudgedAtExpiry(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "legacy-inventory"}})
	assert.Equal(t, "", h.attr(1, "drift.status"), "waits for a server span")
	assert.Equal(t, 1, h.p.engine.Pending())
	h.expireAll()
	assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.callee": "legacy-inventory", "drift.kind": "undeclared_dependency"}))
	assert.Equal(t, int64(1), h.sum("drift.violations", map[string]string{"drift.callee": "legacy-inventory", "drift.kind": "unknown_service"}))
	assert.Equal(t, 0, h.p.engine.Pending())
}

func TestUnresolvedCall(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	h.consume(sp{svc: "frontend", kind: client, id: 1, name: "HTTP GET"})
	h.expireAll()
	assert.Equal(t, int64(1), h.sum("drift.unresolved", map[string]string{"drift.caller": "frontend"}))
	assert.Equal(t, int64(0), h.sum("drift.calls", nil))
}

func TestCallsWithinOneServiceAreNotEdges(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.Annotate = AnnotateAll
	h := newHarness(t, cfg)
	h.consume(sp{svc: "cart", kind: client, id: 1}, sp{svc: "cart", kind: server, id: 2, parent: 1})
	h.expireAll()
	assert.Equal(t, int64(0), h.sum("drift.calls", nil))
	assert.Equal(t, "", h.attr(1, "drift.status"))
}

func TestMalformedSpansPassUntouched(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	td := batch(
		sp{kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}}, // no service.name
		sp{svc: "frontend", kind: client, id: 0, attrs: map[string]any{"peer.service": "payment"}},
	)
	want := ptrace.NewTraces()
	td.CopyTo(want)
	require.NoError(t, h.proc.ConsumeTraces(t.Context(), td))
	require.Len(t, h.sink.AllTraces(), 1)
	assert.Equal(t, want, h.sink.AllTraces()[0])
	assert.Equal(t, int64(1), h.sum("drift.spans.malformed", map[string]string{"reason": "no_service_name"}))
	assert.Equal(t, int64(1), h.sum("drift.spans.malformed", map[string]string{"reason": "bad_ids"}))
}

func TestAnnotateModes(t *testing.T) {
	spans := []sp{
		{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "cart"}},    // conforming
		{svc: "frontend", kind: client, id: 2, attrs: map[string]any{"peer.service": "payment"}}, // drift
	}
	for _, tt := range []struct {
		mode                 string
		conforming, drifting string
	}{
		{AnnotateDrift, "", "drift"},
		{AnnotateAll, "conforming", "drift"},
		{AnnotateNone, "", ""},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			cfg := testConfig(shopIntent)
			cfg.Annotate = tt.mode
			h := newHarness(t, cfg)
			h.consume(spans...)
			assert.Equal(t, tt.conforming, h.attr(1, "drift.status"))
			assert.Equal(t, tt.drifting, h.attr(2, "drift.status"))
			if tt.mode != AnnotateAll {
				assert.Equal(t, 1, h.span(1).Attributes().Len(), "a conforming span keeps only its own attributes")
			}
			assert.Equal(t, int64(2), h.sum("drift.calls", nil), "metrics do not depend on annotate")
		})
	}
}

// TestNothingElseChanges: every span comes out, and apart from drift.* attributes, unchanged.
func TestNothingElseChanges(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.Annotate = AnnotateAll
	h := newHarness(t, cfg)
	td := batch(
		sp{svc: "frontend-proxy", kind: server, id: 1, attrs: map[string]any{"http.route": "/"}},
		sp{svc: "frontend-proxy", kind: client, id: 2, parent: 1, attrs: map[string]any{"server.address": "frontend"}},
		sp{svc: "frontend", kind: server, id: 3, parent: 2},
		sp{svc: "frontend", kind: client, id: 4, parent: 3, attrs: map[string]any{"peer.service": "payment", "x": int64(3)}},
		sp{svc: "frontend", kind: internal, id: 5, parent: 3},
		sp{svc: "frontend", kind: client, id: 6, parent: 3},
	)
	want := ptrace.NewTraces()
	td.CopyTo(want)
	require.NoError(t, h.proc.ConsumeTraces(t.Context(), td))
	got := h.sink.AllTraces()[0]
	require.Equal(t, want.SpanCount(), got.SpanCount())
	stamped := 0
	capturetest.EachSpan(got, func(_ pcommon.Resource, s ptrace.Span) {
		before := s.Attributes().Len()
		s.Attributes().RemoveIf(func(k string, _ pcommon.Value) bool { return strings.HasPrefix(k, "drift.") })
		if s.Attributes().Len() != before {
			stamped++
		}
	})
	assert.Equal(t, want, got)
	assert.Equal(t, 3, stamped, "ingress, proxy -> frontend and frontend -> payment")
}

func TestEdgesGauge(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	h.consume(
		sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "cart"}},
		sp{svc: "frontend", kind: client, id: 2, attrs: map[string]any{"peer.service": "cart"}},
		sp{svc: "frontend", kind: client, id: 3, attrs: map[string]any{"peer.service": "payment"}},
	)
	assert.Equal(t, int64(1), h.sum("drift.edges", map[string]string{"drift.status": "conforming"}))
	assert.Equal(t, int64(1), h.sum("drift.edges", map[string]string{"drift.status": "drift"}))
}

// TestPartialView: in a sidecar or agent (whole_traces: false), a span whose partner never comes is
// counted as unresolved instead of being judged, so no call is judged wrongly or twice across the
// tier; calls named by attributes are still judged.
func TestPartialView(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.Pairing.WholeTraces = false
	h := newHarness(t, cfg)
	h.consume(
		sp{svc: "cart", kind: server, id: 2, parent: 1},                                            // its client went to another agent
		sp{svc: "frontend", kind: client, id: 3},                                                   // its server went to another agent
		sp{svc: "frontend", kind: client, id: 4, attrs: map[string]any{"peer.service": "payment"}}, // named: judged
		sp{svc: "frontend", kind: client, id: 5, attrs: map[string]any{"db.system.name": "mysql"}}, // an unmodelled database
	)
	h.expireAll()
	assert.Equal(t, int64(1), h.sum("drift.unresolved", map[string]string{"drift.caller": "external"}))
	assert.Equal(t, int64(1), h.sum("drift.unresolved", map[string]string{"drift.caller": "frontend"}))
	assert.Equal(t, "forbidden_dependency", h.attr(4, "drift.kind"))
	assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.callee": "mysql"}), "no server can come for a database")
	assert.Equal(t, int64(2), h.sum("drift.calls", nil))
}

// TestFirstSight: the first time an edge drifts, one info line with the trace id and the intent
// line, and a first-seen time in the metrics; later calls of the edge say nothing more.
func TestFirstSight(t *testing.T) {
	h, logs := observedHarness(t, testConfig(shopIntent))
	for i := byte(1); i <= 5; i++ {
		h.consume(sp{svc: "frontend", kind: client, trace: i, id: i, attrs: map[string]any{"peer.service": "payment"}})
	}
	lines := logs.FilterMessage("Drift seen for the first time")
	require.Equal(t, 1, lines.Len())
	f := lines.All()[0].ContextMap()
	assert.Equal(t, "frontend", f["drift.caller"])
	assert.Equal(t, "payment", f["drift.callee"])
	assert.Equal(t, "forbidden_dependency", f["drift.kind"])
	assert.Equal(t, "payment-is-protected", f["drift.rule"])
	assert.Contains(t, f["drift.message"], "shop.yaml:52")
	assert.Equal(t, traceID(1).String(), f["trace_id"])
	assert.Equal(t, h.p.engine.Now().Unix(), h.sum("drift.edge.first_seen", map[string]string{"drift.callee": "payment", "drift.kind": "forbidden_dependency"}))
}

// TestAbsence: declared dependencies of a busy caller that are not seen for the window are reported
// by a gauge and a log line; a required one as missing_dependency.
func TestAbsence(t *testing.T) {
	text, err := os.ReadFile(shopIntent)
	require.NoError(t, err)
	withRequire := string(text) + "  - name: checkout-charges\n    require: {from: checkout, to: payment}\n"
	intentFile := writeFile(t, withRequire)
	cfg := testConfig(intentFile)
	cfg.Absence = AbsenceConfig{Window: time.Hour, MinCallerCalls: 3}
	h, logs := observedHarness(t, cfg)
	h.p.engine.CheckAbsence() // watching starts
	h.now.Add(int64(90 * time.Minute))
	for i := byte(1); i <= 3; i++ { // frontend and checkout are busy, on one dependency each
		h.consume(sp{svc: "frontend", kind: client, trace: i, id: i, attrs: map[string]any{"peer.service": "cart"}},
			sp{svc: "checkout", kind: client, trace: i, id: i + 10, attrs: map[string]any{"peer.service": "cart"}})
	}
	h.now.Add(int64(10 * time.Minute))
	h.p.engine.CheckAbsence()
	assert.Equal(t, int64(1), h.sum("drift.edge.absent", map[string]string{"drift.caller": "frontend", "drift.callee": "currency"}))
	assert.Equal(t, int64(0), h.sum("drift.edge.absent", map[string]string{"drift.caller": "frontend", "drift.callee": "cart"}))
	assert.Equal(t, int64(1), h.sum("drift.edge.absent", map[string]string{"drift.callee": "payment", "drift.kind": "missing_dependency"}))
	assert.Equal(t, int64(0), h.sum("drift.edge.absent", map[string]string{"drift.caller": "payment"}), "payment made no calls: its silence means nothing")
	missing := logs.FilterMessage("Required dependency missing: not observed within the window")
	require.Equal(t, 1, missing.Len())
	assert.Equal(t, "checkout-charges", missing.All()[0].ContextMap()["drift.rule"])
	h.p.engine.CheckAbsence()
	assert.Equal(t, 1, logs.FilterMessage("Required dependency missing: not observed within the window").Len(), "said once")

	// an edit of the intent file neither clears the absent edges nor reports them again
	edited := withRequire + "  - name: no-calls-to-stripe\n    deny: {from: cart, to: stripe}\n"
	require.NoError(t, os.WriteFile(intentFile, []byte(edited), 0o600))
	h.p.reload(context.Background())
	require.Equal(t, 1, logs.FilterMessage("Intent model reloaded").Len())
	h.now.Add(int64(time.Minute))
	h.p.engine.CheckAbsence()
	assert.Equal(t, int64(1), h.sum("drift.edge.absent", map[string]string{"drift.caller": "frontend", "drift.callee": "currency"}))
	assert.Equal(t, int64(1), h.sum("drift.edge.absent", map[string]string{"drift.callee": "payment", "drift.kind": "missing_dependency"}))
	assert.Equal(t, 1, logs.FilterMessage("Required dependency missing: not observed within the window").Len(), "not said again after a reload")
}

// TestUnmodelledDatabaseStampedAsItPasses: a service nobody declared writing to a database nobody
// declared (a CLIENT span with db.system and peer.service; no server span will ever come) is judged
// and stamped on its span as it passes, and nothing waits for a partner.
func TestUnmodelledDatabaseStampedAsItPasses(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	h.consume(
		sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "reporting"}},
		sp{svc: "reporting", kind: server, id: 2, parent: 1},
		sp{svc: "reporting", kind: client, id: 3, parent: 2, attrs: map[string]any{"db.system": "postgresql", "peer.service": "reports-db"}},
		sp{svc: "reporting", kind: client, id: 4, parent: 2, attrs: map[string]any{"db.system.name": "mysql"}},
	)
	assert.Equal(t, "drift", h.attr(1, "drift.status"))
	assert.Equal(t, "undeclared_dependency", h.attr(1, "drift.kind"))
	for id, callee := range map[byte]string{3: "reports-db", 4: "mysql"} {
		assert.Equal(t, "drift", h.attr(id, "drift.status"), "span %d", id)
		assert.Equal(t, "unknown_service", h.attr(id, "drift.kind"), "span %d", id)
		assert.Equal(t, "reporting", h.attr(id, "drift.caller"), "span %d", id)
		assert.Equal(t, callee, h.attr(id, "drift.callee"), "span %d", id)
	}
	assert.Equal(t, 0, h.p.engine.Pending(), "no database call waits for a partner")
	h.expireAll()
	assert.Equal(t, int64(3), h.sum("drift.calls", nil), "each call judged once")
}

// TestWholeBatches: with pairing.whole_batches (after groupbytrace), every call is judged in its
// batch and stamped: a client span to a peer outside the model, and a server span whose client is
// not in the batch (a call from outside); nothing waits for a later batch.
func TestWholeBatches(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.Pairing.WholeBatches = true
	h := newHarness(t, cfg)
	h.consume(
		sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"server.address": "10.0.0.7"}},
		sp{svc: "cart", kind: server, id: 3, parent: 2},
		sp{svc: "frontend", kind: client, id: 4, attrs: map[string]any{"peer.service": "cart"}},
		sp{svc: "cart", kind: server, id: 5, parent: 4},
	)
	assert.Equal(t, 0, h.p.engine.Pending(), "nothing waits across batches")
	assert.Equal(t, "undeclared_dependency", h.attr(1, "drift.kind"))
	assert.Equal(t, "10.0.0.7", h.attr(1, "drift.callee"))
	assert.Equal(t, "undeclared_ingress", h.attr(3, "drift.kind"))
	assert.Equal(t, "external", h.attr(3, "drift.caller"))
	assert.Equal(t, "", h.attr(4, "drift.status"), "a declared call, paired in its batch, conforms")
	assert.Equal(t, int64(3), h.sum("drift.calls", nil))
}

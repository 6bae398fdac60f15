package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/collectortest"
	"github.com/driftprocessor/driftprocessor/internal/otlpsinktest"
)

// received collects what the collector exports.
type received struct {
	mu     sync.Mutex
	spans  map[pcommon.SpanID]ptrace.Span
	drifts map[string]int // "caller -> callee kind rule"
}

func newReceiver(t *testing.T) (*received, *otlpsinktest.Sink) {
	r := &received{spans: map[pcommon.SpanID]ptrace.Span{}, drifts: map[string]int{}}
	sink, err := otlpsinktest.Start("127.0.0.1:0", r.add)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sink.Close() })
	return r, sink
}

func (r *received) add(td ptrace.Traces) {
	r.mu.Lock()
	defer r.mu.Unlock()
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
		r.spans[s.SpanID()] = s
		a := s.Attributes()
		if v, ok := a.Get("drift.status"); ok && v.Str() == "drift" {
			get := func(k string) string { v, _ := a.Get(k); return v.Str() }
			r.drifts[get("drift.caller")+" -> "+get("drift.callee")+" "+get("drift.kind")+" "+get("drift.rule")]++
		}
	})
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.spans)
}

// chunks cuts td into batches of about n resource-span groups each, in file order.
func chunks(td ptrace.Traces, n int) []ptrace.Traces {
	var out []ptrace.Traces
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i += n {
		b := ptrace.NewTraces()
		for j := i; j < min(i+n, rss.Len()); j++ {
			rss.At(j).CopyTo(b.ResourceSpans().AppendEmpty())
		}
		out = append(out, b)
	}
	return out
}

func writeIntent(t *testing.T, text string) string {
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

// TestEndToEnd sends the real Online Boutique minute through the built collector, with one declared
// dependency (frontend -> currencyservice) taken out of the intent.
func TestEndToEnd(t *testing.T) {
	intentText, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	without := strings.Replace(string(intentText), "      - currencyservice\n", "", 1)
	require.NotEqual(t, string(intentText), without)
	intentPath := writeIntent(t, without)

	rec, sink := newReceiver(t)
	col := startCollector(t, intentPath, sink.Endpoint)

	td, err := capturetest.Boutique()
	require.NoError(t, err)
	sent := map[pcommon.SpanID]bool{}
	batches := chunks(td, 40)
	for _, b := range batches {
		for i := 0; i < b.ResourceSpans().Len(); i++ {
			ss := b.ResourceSpans().At(i).ScopeSpans()
			for j := 0; j < ss.Len(); j++ {
				for k := 0; k < ss.At(j).Spans().Len(); k++ {
					sent[ss.At(j).Spans().At(k).SpanID()] = true
				}
			}
		}
	}
	require.Len(t, sent, capturetest.BoutiqueSpans)
	ctx := context.Background()
	for _, b := range batches {
		require.NoError(t, col.Send(ctx, b))
	}

	require.Eventually(t, func() bool { return rec.count() == capturetest.BoutiqueSpans }, 60*time.Second, 100*time.Millisecond,
		"every span sent comes back")
	rec.mu.Lock()
	for id := range sent {
		if _, ok := rec.spans[id]; !ok {
			t.Errorf("span %s did not come back", id)
		}
	}
	assert.Equal(t, map[string]int{"frontend -> currencyservice undeclared_dependency depends_on": capturetest.BoutiqueFrontendToCurrency}, rec.drifts)
	for _, s := range rec.spans {
		if v, ok := s.Attributes().Get("drift.message"); ok {
			assert.Contains(t, v.Str(), intentPath+":")
			op, _ := s.Attributes().Get("drift.operation")
			assert.True(t, strings.HasPrefix(op.Str(), "hipstershop.CurrencyService/"), op.Str())
			break
		}
	}
	rec.mu.Unlock()

	// The collector's own metrics endpoint serves the drift counters.
	scrape := col.WaitMetric("drift_calls",
		`drift_caller="frontend"`, `drift_callee="currencyservice"`, `drift_kind="undeclared_dependency"`, `} `+strconv.Itoa(capturetest.BoutiqueFrontendToCurrency))
	assert.Len(t, collectortest.MetricLines(scrape, "drift_calls", `drift_status="conforming"`, `drift_caller="checkoutservice"`, `drift_callee="paymentservice"`, `} 18`), 1, scrape)
	assert.Len(t, collectortest.MetricLines(scrape, "drift_edges", `drift_status="drift"`, `} 1`), 1)
	assert.Len(t, collectortest.MetricLines(scrape, "drift_edges", `drift_status="conforming"`, `} 15`), 1, "14 declared edges and the ingress")
	assert.Empty(t, collectortest.MetricLines(scrape, "drift_unresolved"), "nothing unresolved")
}

// TestBrokenIntentAtStartup: the collector stops with the file, line and key.
func TestBrokenIntentAtStartup(t *testing.T) {
	path := writeIntent(t, "version: 1\nservices:\n  frontend:\n    depends_on: [cart]\n  cart: {lyer: core}\n")
	_, sink := newReceiver(t)
	col := startCollector(t, path, sink.Endpoint)
	code, exited := col.WaitExit(60 * time.Second)
	require.True(t, exited, "the collector must not start with a broken intent")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, col.Out.String(), path+`:5: services.cart.lyer: unknown key "lyer"`)
}

// TestBrokenIntentAtReload: a broken file at reload keeps the last good model; the collector runs on.
func TestBrokenIntentAtReload(t *testing.T) {
	good := "version: 1\nservices:\n  frontend:\n    ingress: true\n    depends_on: [cart]\n  cart: {}\n  payment: {}\n"
	path := writeIntent(t, good)
	rec, sink := newReceiver(t)
	col := startCollector(t, path, sink.Endpoint)
	ctx := context.Background()

	require.NoError(t, col.Send(ctx, paymentCall(1)))
	require.Eventually(t, func() bool { return rec.count() == 1 }, 30*time.Second, 50*time.Millisecond)

	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte("version: 1\nservices:\n  frontend: {depends_on: [nowhere]}\n"), 0o600))
	require.NoError(t, os.Rename(tmp, path))
	require.Eventually(t, func() bool {
		return strings.Contains(col.Out.String(), "Intent file reload failed; keeping the last good model")
	}, 30*time.Second, 50*time.Millisecond)
	assert.Contains(t, col.Out.String(), `:3: services.frontend.depends_on[0]: depends on \"nowhere\"`)

	require.NoError(t, col.Send(ctx, paymentCall(2)))
	require.Eventually(t, func() bool { return rec.count() == 2 }, 30*time.Second, 50*time.Millisecond)
	rec.mu.Lock()
	assert.Equal(t, map[string]int{"frontend -> payment undeclared_dependency depends_on": 2}, rec.drifts,
		"both calls judged, the second by the last good model")
	rec.mu.Unlock()
	col.WaitMetric("drift_intent_reloads", `result="failure"`, "} 1")
}

// paymentCall is one frontend client span that names payment as its peer.
func paymentCall(id byte) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "frontend")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, id})
	s.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, id})
	s.SetKind(ptrace.SpanKindClient)
	s.SetName("oteldemo.PaymentService/Charge")
	s.Attributes().PutStr("peer.service", "payment")
	now := time.Now()
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Millisecond)))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
	return td
}

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/collectortest"
)

// span adds one span of service to td.
func span(td ptrace.Traces, service string, kind ptrace.SpanKind, trace byte, id, parent byte, attrs map[string]string) {
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(kind)
	s.SetName("op")
	s.SetTraceID(pcommon.TraceID{5, 5, trace})
	s.SetSpanID(pcommon.SpanID{5, trace, id})
	if parent != 0 {
		s.SetParentSpanID(pcommon.SpanID{5, trace, parent})
	}
	for k, v := range attrs {
		s.Attributes().PutStr(k, v)
	}
}

// TestUnmodelledServiceAndDatabaseOnSpans: a service nobody declared, called by a declared one, writes
// to a database nobody declared (a CLIENT span with db.system and peer.service; no server span will
// ever come). Both calls are stamped on their spans, with their kinds, by the built collector.
func TestUnmodelledServiceAndDatabaseOnSpans(t *testing.T) {
	rec, sink := newReceiver(t)
	col := startCollector(t, writeIntent(t, "version: 1\nservices:\n  frontend: {ingress: true, depends_on: [cart]}\n  cart: {}\n"), sink.Endpoint)
	td := ptrace.NewTraces()
	span(td, "frontend", ptrace.SpanKindClient, 1, 1, 0, map[string]string{"peer.service": "reporting"})
	span(td, "reporting", ptrace.SpanKindServer, 1, 2, 1, nil)
	require.NoError(t, col.Send(context.Background(), td))
	td = ptrace.NewTraces() // the database call in a later request, as the SDK exports it
	span(td, "reporting", ptrace.SpanKindClient, 1, 3, 2, map[string]string{"db.system": "postgresql", "peer.service": "reports-db"})
	require.NoError(t, col.Send(context.Background(), td))
	require.Eventually(t, func() bool { return rec.count() == 3 }, 30*time.Second, 50*time.Millisecond)

	attr := func(id byte, k string) string {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if v, ok := rec.spans[pcommon.SpanID{5, 1, id}].Attributes().Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	assert.Equal(t, "drift", attr(1, "drift.status"))
	assert.Equal(t, "undeclared_dependency", attr(1, "drift.kind"), "frontend -> reporting, on the client span")
	assert.Equal(t, "drift", attr(3, "drift.status"))
	assert.Equal(t, "unknown_service", attr(3, "drift.kind"), "reporting -> reports-db, on the database span as it passed")
	assert.Equal(t, "reports-db", attr(3, "drift.callee"))
	assert.Empty(t, attr(2, "drift.status"), "the server span of a call stamped on its client carries nothing")

	// each call judged once, and nothing else: no call from outside, nothing left unresolved
	scrape := col.WaitMetric("drift_pairing_pending", "pending 0")
	var calls int64
	for _, p := range collectortest.Points(scrape, "drift_calls") {
		calls += int64(p.Value)
		assert.NotEqual(t, "external", p.Labels["drift_caller"])
	}
	assert.Equal(t, int64(2), calls)
	assert.Empty(t, collectortest.Points(scrape, "drift_unresolved"))
}

// TestLatePairsCountedInTheCollector: the client span of a call, then its server span held back past
// the TTL (2 s): the late server span is counted in drift_pairing_late and judged no second time.
func TestLatePairsCountedInTheCollector(t *testing.T) {
	rec, sink := newReceiver(t)
	col := startCollector(t, writeIntent(t, "version: 1\nservices:\n  frontend: {ingress: true, depends_on: [cart]}\n  cart: {}\n"), sink.Endpoint)
	td := ptrace.NewTraces()
	span(td, "frontend", ptrace.SpanKindClient, 2, 1, 0, map[string]string{"server.address": "10.1.2.3"}) // only its server names the callee
	require.NoError(t, col.Send(context.Background(), td))
	col.WaitMetric("drift_calls", `drift_callee="10.1.2.3"`) // judged when its TTL ran out
	td = ptrace.NewTraces()
	span(td, "cart", ptrace.SpanKindServer, 2, 2, 1, nil)
	require.NoError(t, col.Send(context.Background(), td))
	require.Eventually(t, func() bool { return rec.count() == 2 }, 30*time.Second, 50*time.Millisecond)
	scrape := col.WaitMetric("drift_pairing_late", " 1")
	assert.Empty(t, collectortest.MetricLines(scrape, "drift_calls", `drift_caller="external"`), "the late server span is no call from outside")
	var calls int64
	for _, p := range collectortest.Points(scrape, "drift_calls") {
		calls += int64(p.Value)
	}
	assert.Equal(t, int64(1), calls, "the call is judged once, at the end of its client's TTL")
	assert.True(t, strings.Contains(col.Out.String(), "waited out pairing.ttl"), "a warning says the TTL is short")
}

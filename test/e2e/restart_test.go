package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/collectortest"
)

// storageConfig is the e2e collector with contrib's file_storage keeping the drift state.
const storageConfig = `
extensions:
  file_storage: {directory: "STATE"}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "{{GRPC}}"}
processors:
  drift:
    intent_file: "INTENT"
    storage: file_storage
exporters:
  otlp_http:
    endpoint: "SINK"
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: {{METRICS}}}
  pipelines:
    traces: {receivers: [otlp], processors: [drift], exporters: [otlp_http]}
`

// TestRestartWithFileStorageKeepsFirstSeen: the first-seen time of a drifting edge survives a restart
// of the collector when the processor keeps its state in file_storage.
func TestRestartWithFileStorageKeepsFirstSeen(t *testing.T) {
	good := "version: 1\nservices:\n  frontend:\n    ingress: true\n    depends_on: [cart]\n  cart: {}\n  payment: {}\n"
	rec, sink := newReceiver(t)
	config := strings.NewReplacer("STATE", t.TempDir(), "INTENT", writeIntent(t, good), "SINK", sink.Endpoint).Replace(storageConfig)

	first := collectortest.Start(t, binary, config)
	require.NoError(t, first.Send(context.Background(), paymentCall(1)))
	require.Eventually(t, func() bool { return rec.count() == 1 }, 30*time.Second, 50*time.Millisecond)
	scrape := first.WaitMetric("drift_edge_first_seen", `drift_callee="payment"`)
	before := collectortest.MetricLines(scrape, "drift_edge_first_seen", `drift_callee="payment"`)[0]
	first.Stop()

	second := collectortest.Start(t, binary, config)
	scrape = second.WaitMetric("drift_edge_first_seen", `drift_callee="payment"`) // restored, nothing sent
	after := collectortest.MetricLines(scrape, "drift_edge_first_seen", `drift_callee="payment"`)[0]
	require.Equal(t, before, after)
}

// callSide is one side of the call frontend -> cart in trace i: the client span, or the server span
// under it.
func callSide(i int, server bool) ptrace.Traces {
	td := ptrace.NewTraces()
	if server {
		span(td, "cart", ptrace.SpanKindServer, byte(i), 2, 1, nil)
	} else {
		span(td, "frontend", ptrace.SpanKindClient, byte(i), 1, 0, nil)
	}
	return td
}

// TestRestartJudgesNoCallInFlightFromOutside: the collector stops between the two sides of 200 calls
// (the client spans went to it before, the server spans come to the one started after). None of
// them is judged as a call from outside; they are counted unresolved with their reason. A server
// span with no client, sent after the first pairing TTL of the new collector, is still judged from
// outside: the grace ends.
func TestRestartJudgesNoCallInFlightFromOutside(t *testing.T) {
	intentText := "version: 1\nservices:\n  frontend:\n    ingress: true\n    depends_on: [cart]\n  cart: {}\n"
	_, sink := newReceiver(t)
	intentFile := writeIntent(t, intentText)
	const inFlight = 200 // within one byte of trace id (callSide)

	first := startCollector(t, intentFile, sink.Endpoint) // pairing.ttl 2s
	first.WaitMetric("drift_pairing_pending")             // ready
	for i := 0; i < inFlight; i++ {
		require.NoError(t, first.Send(context.Background(), callSide(i, false)))
	}
	first.Stop()

	second := startCollector(t, intentFile, sink.Endpoint)
	second.WaitMetric("drift_pairing_pending")
	for i := 0; i < inFlight; i++ {
		require.NoError(t, second.Send(context.Background(), callSide(i, true)))
	}
	time.Sleep(2500 * time.Millisecond) // past the new collector's first pairing TTL
	require.NoError(t, second.Send(context.Background(), callSide(inFlight, true)))

	scrape := second.WaitMetric("drift_calls", `drift_caller="external"`, `drift_callee="cart"`)
	external := collectortest.MetricLines(scrape, "drift_calls", `drift_caller="external"`, `drift_callee="cart"`)
	require.Len(t, external, 1)
	require.True(t, strings.HasSuffix(external[0], " 1"), "only the server span sent after the grace is judged from outside: %s", external[0])
	unresolved := collectortest.MetricLines(scrape, "drift_unresolved", `drift_caller="external"`, `reason="client_before_start"`)
	require.Len(t, unresolved, 1, "%s", scrape)
	require.True(t, strings.HasSuffix(unresolved[0], " 200"), "the calls in flight are counted unresolved: %s", unresolved[0])
}

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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

// Package e2e runs the ocb-built otelcol-drift binary on loopback ports, sends it real OTLP and
// reads what it exports and what its own metrics endpoint serves.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/driftprocessor/driftprocessor/internal/collectortest"
)

// binary is the collector under test.
var binary string

func TestMain(m *testing.M) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	var err error
	if binary, err = collectortest.Binary(root); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	if code == 0 {
		// every collector process, receiver and client the tests started is gone
		if err := goleak.Find(goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// collectorConfig is the collector of these tests: OTLP in, the drift processor, OTLP/HTTP out to a
// receiver in the test. INTENT and SINK are filled by startCollector.
const collectorConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "{{GRPC}}"}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 1024}
  drift:
    intent_file: "INTENT"
    reload_interval: 200ms
    annotate: drift
    pairing: {ttl: 2s, max_pending: 100000}
  batch: {timeout: 200ms}
exporters:
  otlp_http:
    endpoint: "SINK"
service:
  telemetry:
    logs: {level: info, encoding: json}
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: {{METRICS}}}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, drift, batch]
      exporters: [otlp_http]
`

func startCollector(t *testing.T, intentFile, sinkEndpoint string) *collectortest.Collector {
	return collectortest.Start(t, binary, strings.NewReplacer("INTENT", intentFile, "SINK", sinkEndpoint).Replace(collectorConfig))
}

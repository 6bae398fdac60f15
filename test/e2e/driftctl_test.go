package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/report"
	"github.com/driftprocessor/driftprocessor/internal/traffic"
)

var (
	driftctlOnce sync.Once
	driftctlBin  string
	driftctlErr  error
)

// driftctl builds driftctl from this tree once, as `make driftctl` does, and returns its path.
func driftctl(t *testing.T) string {
	driftctlOnce.Do(func() {
		root, _ := filepath.Abs(filepath.Join("..", ".."))
		dir, err := os.MkdirTemp("", "driftctl")
		if err != nil {
			driftctlErr = err
			return
		}
		driftctlBin = filepath.Join(dir, "driftctl")
		cmd := exec.Command("go", "build", "-o", driftctlBin, "./cmd/driftctl")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			driftctlErr = fmt.Errorf("go build ./cmd/driftctl: %v: %s", err, out)
		}
	})
	require.NoError(t, driftctlErr)
	return driftctlBin
}

// judgingConfig is a collector that judges with the drift processor (INTENT), stamping every call
// (annotate: all), and exports to
// exporters (YAML of the exporters section, indented), named in the pipeline by names.
func judgingConfig(intentFile, exporters, names string) string {
	return strings.NewReplacer("{{INTENT}}", intentFile, "{{EXPORTERS}}", exporters, "{{NAMES}}", names).Replace(`
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "{{GRPC}}"}
processors:
  drift:
    intent_file: "{{INTENT}}"
    annotate: all
    pairing: {ttl: 5s}
exporters:
{{EXPORTERS}}
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: {{METRICS}}}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [drift]
      exporters: [{{NAMES}}]
`)
}

// plannedDriftIntent writes the Online Boutique intent with two planned drifts: frontend ->
// currencyservice left out (undeclared_dependency), adservice -> mysql denied (rule
// ads-from-memory, forbidden_dependency).
func plannedDriftIntent(t *testing.T) string {
	orig, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	changed := strings.Replace(string(orig), "      - currencyservice\n", "", 1) +
		"rules:\n  - name: ads-from-memory\n    deny: {from: adservice, to: mysql}\n    severity: critical\n"
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(changed), 0o600))
	return path
}

// TestDriftctlAgreesWithTheCollector: the built collector judges both Online Boutique minutes and
// records them with the file exporter (OTLP/JSON lines and protobuf frames); the driftctl binary
// judges each recording with the same intent and gives, row by row, the collector's own
// drift.calls and the verdicts it stamped on the recorded spans: the same engine, on a recording
// the ecosystem's exporter wrote.
func TestDriftctlAgreesWithTheCollector(t *testing.T) {
	dir := t.TempDir()
	intentFile := plannedDriftIntent(t)
	// recorded with contrib's file exporter, in both of its formats, as users record for driftctl
	col := collectortest.Start(t, binary, judgingConfig(intentFile, `  file/json: {path: "`+dir+`/recording.json"}
  file/proto: {path: "`+dir+`/recording.pb", format: proto}`, "file/json, file/proto"))

	spans := 0
	for _, read := range []func() (ptrace.Traces, error){capturetest.Boutique, capturetest.BoutiqueCurrencyFault} {
		td, err := read()
		require.NoError(t, err)
		spans += td.SpanCount()
		for _, b := range chunks(td, 40) {
			require.NoError(t, col.Send(context.Background(), b))
		}
	}
	var byCollector map[verdictKey]int64
	require.Eventually(t, func() bool {
		scrape, err := col.Scrape()
		if err != nil || !strings.Contains(scrape, "drift_pairing_pending 0") {
			return false
		}
		byCollector = promCounts(scrape, "drift_calls")
		return total(byCollector) > 0
	}, 60*time.Second, 500*time.Millisecond)
	col.Stop() // the file exporter flushes and closes its files
	require.Greater(t, total(byCollector), int64(capturetest.BoutiqueCalls), "both minutes were judged")

	for _, file := range []string{"recording.json", "recording.pb"} {
		cmd := exec.Command(driftctl(t), "check", "--intent", intentFile, "--format", "json", filepath.Join(dir, file))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "drift at warning and above: exit 1; stderr: %s", stderr.String())
		assert.Equal(t, 1, exit.ExitCode())
		var r report.Report
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &r), stderr.String())
		assert.EqualValues(t, spans, r.Spans, file)
		byCLI := map[verdictKey]int64{}
		for _, e := range r.Edges {
			byCLI[verdictKey{e.Caller, e.Callee, e.Status, e.Kind}] += e.Calls
		}
		assert.Equal(t, byCollector, byCLI, "%s: driftctl's rows and the collector's drift.calls", file)
		assert.Equal(t, stamped(t, filepath.Join(dir, file)), byCLI, "%s: driftctl's rows and what the collector stamped on the spans", file)
		assert.Positive(t, byCLI[verdictKey{"adservice", "mysql", "drift", "forbidden_dependency"}])
		assert.Positive(t, byCLI[verdictKey{"frontend", "currencyservice", "drift", "undeclared_dependency"}])
	}
}

// stamped counts the verdicts the collector stamped on the spans of a recording.
func stamped(t *testing.T, path string) map[verdictKey]int64 {
	out := map[verdictKey]int64{}
	attr := func(s ptrace.Span, k string) string {
		if v, ok := s.Attributes().Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	require.NoError(t, traffic.ReadFile(path, traffic.Auto, func(td ptrace.Traces) error {
		capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
			if status := attr(s, driftconv.AttrStatus); status != "" {
				out[verdictKey{attr(s, driftconv.AttrCaller), attr(s, driftconv.AttrCallee), status, attr(s, driftconv.AttrKind)}]++
			}
		})
		return nil
	}))
	return out
}

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/collectortest"
)

// TestProcessorAndConnectorAgreeInOneCollector: the built collector runs testdata/parity/collector.yaml,
// where the drift processor and the drift connector (in judge mode) both judge the same spans with
// the intent and baseline of testdata/parity. After both Online Boutique minutes, the processor's
// own drift.calls and the connector's drift.calls are equal per caller, callee, status and kind.
func TestProcessorAndConnectorAgreeInOneCollector(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	config, err := os.ReadFile(filepath.Join(root, "testdata", "parity", "collector.yaml"))
	require.NoError(t, err)
	rec, sink := newReceiver(t)
	exporter := fmt.Sprintf("127.0.0.1:%d", collectortest.FreePort(t))
	col := collectortest.Start(t, binary, strings.NewReplacer(
		"{{INTENT}}", filepath.Join(root, "testdata", "parity", "intent.yaml"),
		"{{BASELINE}}", filepath.Join(root, "testdata", "parity", "baseline.yaml"),
		"{{SINK}}", sink.Endpoint, "{{PROMETHEUS_EXPORTER}}", exporter).Replace(string(config)))

	spans := 0
	for _, read := range []func() (ptrace.Traces, error){capturetest.Boutique, capturetest.BoutiqueCurrencyFault} {
		td, err := read()
		require.NoError(t, err)
		spans += td.SpanCount()
		for _, b := range chunks(td, 40) {
			require.NoError(t, col.Send(context.Background(), b))
		}
	}
	require.Eventually(t, func() bool { return rec.count() == spans }, 60*time.Second, 100*time.Millisecond, "every span comes out")

	var byProcessor, byConnector map[verdictKey]int64
	require.Eventually(t, func() bool {
		scrape, err := col.Scrape()
		if err != nil || !strings.Contains(scrape, "drift_pairing_pending 0") {
			return false // calls still wait for their partner in the processor
		}
		byProcessor = promCounts(scrape, "drift_calls")
		byConnector = promCounts(get(t, "http://"+exporter+"/metrics"), "drift_calls")
		return len(byProcessor) > 0 && total(byProcessor) == total(byConnector)
	}, 60*time.Second, 500*time.Millisecond, "the processor judged %d calls, the connector %d", total(byProcessor), total(byConnector))
	assert.Equal(t, byProcessor, byConnector, "drift.calls of the processor and of the connector, by caller, callee, status and kind")

	kinds := map[string]int64{}
	for k, n := range byProcessor {
		kinds[k.status+" "+k.kind] += n
	}
	t.Logf("verdicts: %v", kinds)
	for _, want := range []string{"conforming ", "known undeclared_dependency", "drift forbidden_dependency", "drift undeclared_dependency",
		"drift latency_exceeded", "drift fanout_exceeded"} {
		assert.Positive(t, kinds[want], "no call shows %q", want)
	}
}

type verdictKey struct{ caller, callee, status, kind string }

func total(m map[verdictKey]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// promCounts sums the points of counter name in a Prometheus text scrape by the four drift labels.
func promCounts(scrape, name string) map[verdictKey]int64 {
	out := map[verdictKey]int64{}
	for _, p := range collectortest.Points(scrape, name) {
		l := p.Labels
		out[verdictKey{l["drift_caller"], l["drift_callee"], l["drift_status"], l["drift_kind"]}] += int64(p.Value)
	}
	return out
}

func get(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		t.Logf("GET %s: %v", url, err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

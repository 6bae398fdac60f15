package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/collectortest"
)

// ownTelemetry are the dashboard's metrics that the drift processor serves on the collector's own
// metrics endpoint, not through the connector.
var ownTelemetry = map[string]bool{"drift_unresolved": true, "drift_edge_first_seen": true, "drift_edge_absent": true, "drift_pairing_pending": true}

// TestConnectorThroughPrometheus: the built collector runs testdata/connector/collector.yaml (drift
// processor, then the drift connector into the Prometheus exporter); a real Prometheus server scrapes
// it; its query API returns the drift series, and every metric the Grafana dashboard queries exists.
func TestConnectorThroughPrometheus(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	require.NoError(t, err, "this test needs the Debian package prometheus (make test installs it: scripts/test-deps.sh)")
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	config, err := os.ReadFile(filepath.Join(root, "testdata", "connector", "collector.yaml"))
	require.NoError(t, err)

	intentText, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	intentPath := writeIntent(t, strings.Replace(string(intentText), "      - currencyservice\n", "", 1))
	rec, sink := newReceiver(t)
	exporter := fmt.Sprintf("127.0.0.1:%d", collectortest.FreePort(t))
	col := collectortest.Start(t, binary, strings.NewReplacer("{{INTENT}}", intentPath, "{{SINK}}", sink.Endpoint,
		"{{PROMETHEUS_EXPORTER}}", exporter).Replace(string(config)))

	td, err := capturetest.Boutique()
	require.NoError(t, err)
	for _, b := range chunks(td, 40) {
		require.NoError(t, col.Send(context.Background(), b))
	}
	require.Eventually(t, func() bool { return rec.count() == capturetest.BoutiqueSpans }, 60*time.Second, 100*time.Millisecond)

	promURL := collectortest.StartPrometheus(t, prom, exporter)
	var drift []map[string]string
	require.Eventually(t, func() bool {
		drift = collectortest.Query(promURL, `sum by (drift_caller, drift_callee, drift_kind) (drift_calls_total{drift_status="drift"})`)
		return len(drift) == 1 && drift[0]["value"] == strconv.Itoa(capturetest.BoutiqueFrontendToCurrency)
	}, 60*time.Second, 500*time.Millisecond, "drift_calls_total for frontend -> currencyservice in Prometheus: %v", drift)
	assert.Equal(t, "frontend", drift[0]["drift_caller"])
	assert.Equal(t, "currencyservice", drift[0]["drift_callee"])
	assert.Equal(t, "undeclared_dependency", drift[0]["drift_kind"])

	conforming := collectortest.Query(promURL, `sum(drift_calls_total{drift_status="conforming"})`)
	require.Len(t, conforming, 1)
	assert.Equal(t, strconv.Itoa(capturetest.BoutiqueCalls-capturetest.BoutiqueFrontendToCurrency), conforming[0]["value"], "every call, less the drifting ones")
	edges := map[string]string{}
	for _, e := range collectortest.Query(promURL, `drift_edges`) {
		edges[e["drift_status"]] = e["value"]
	}
	assert.Equal(t, map[string]string{"conforming": "15", "drift": "1", "known": "0"}, edges)
	buckets := collectortest.Query(promURL, `sum(drift_call_duration_seconds_count)`)
	require.Len(t, buckets, 1)
	assert.Equal(t, "9147", buckets[0]["value"])

	// every metric the dashboard queries is served
	data, err := os.ReadFile(filepath.Join(root, "grafana", "drift-dashboard.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	served := map[string]bool{}
	for _, m := range collectortest.Query(promURL, `count by (__name__) ({__name__=~"drift_.+"})`) {
		served[m["__name__"]] = true
	}
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, name := range regexp.MustCompile(`\bdrift_[a-z0-9_]+\b`).FindAllString(target.Expr, -1) {
				// drift_unresolved_total comes from the connector in judge mode, drift_unresolved from the
				// processor's own telemetry on another endpoint: in stamped mode neither is here. The
				// first-seen and absence panels read the processor's own telemetry too; tier_test.go runs
				// them against a real Prometheus scraping that endpoint.
				if !strings.HasPrefix(name, "drift_calle") && name != "drift_status" && name != "drift_kind" &&
					name != "drift_unresolved_total" && !ownTelemetry[name] {
					assert.True(t, served[name], "the dashboard queries %s; Prometheus has %v", name, served)
				}
			}
		}
	}
}

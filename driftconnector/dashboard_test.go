package driftconnector

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// prometheusNames gives the names under which the Prometheus exporter serves a metric (dots become
// underscores, a unit of seconds adds _seconds, a monotonic sum _total, a histogram its series).
func prometheusNames(m pmetric.Metric) []string {
	base := strings.ReplaceAll(m.Name(), ".", "_")
	if m.Unit() == "s" {
		base += "_seconds"
	}
	switch m.Type() {
	case pmetric.MetricTypeSum:
		if m.Sum().IsMonotonic() {
			return []string{base + "_total"}
		}
	case pmetric.MetricTypeHistogram:
		return []string{base + "_bucket", base + "_sum", base + "_count"}
	}
	return []string{base}
}

// TestDashboardQueriesEmittedMetrics: every metric the Grafana dashboard queries is one the connector
// emits (the end-to-end test checks the same names against a real Prometheus).
func TestDashboardQueriesEmittedMetrics(t *testing.T) {
	h := newHarness(t, nil)
	td := ptrace.NewTraces()
	clientSpan(td, "frontend", "cartservice", 1, "")
	require.NoError(t, h.c.ConsumeTraces(context.Background(), td))
	h.c.agg.addUnresolved("frontend", h.now)
	md := h.flush(t)
	// the processor's own telemetry, on the collector's own metrics endpoint (no _total suffix there)
	emitted := map[string]bool{"drift_unresolved": true, "drift_edge_first_seen": true, "drift_edge_absent": true, "drift_pairing_pending": true}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		for _, n := range prometheusNames(ms.At(i)) {
			emitted[n] = true
		}
	}

	data, err := os.ReadFile("../grafana/drift-dashboard.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	names := regexp.MustCompile(`\bdrift_[a-z0-9_]+\b`)
	queried := 0
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
		for _, target := range p.Targets {
			for _, name := range names.FindAllString(target.Expr, -1) {
				if strings.HasPrefix(name, "drift_caller") || strings.HasPrefix(name, "drift_callee") ||
					strings.HasPrefix(name, "drift_status") || strings.HasPrefix(name, "drift_kind") {
					continue // labels
				}
				queried++
				require.True(t, emitted[name], "panel %q queries %s, which the connector does not emit (it emits %v)", p.Title, name, emitted)
			}
		}
	}
	require.GreaterOrEqual(t, queried, 8)
}

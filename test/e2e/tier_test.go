package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/collectortest"
	"github.com/driftprocessor/driftprocessor/internal/report"
)

// gatewayConfig is a drift gateway of the tier: OTLP in, the drift processor, spans dropped (the
// debug exporter at basic verbosity only counts them).
const gatewayConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "{{GRPC}}"}
processors:
  drift:
    intent_file: "INTENT"
    pairing: {ttl: 5s}
exporters:
  debug: {verbosity: basic}
service:
  telemetry:
    logs: {level: warn}
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: {{METRICS}}}
  pipelines:
    traces: {receivers: [otlp], processors: [drift], exporters: [debug]}
`

// agentConfig is the agent tier: contrib's load-balancing exporter routing by trace id to the
// gateways, with its OTLP exporter's queue and retries at their defaults.
const agentConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "{{GRPC}}"}
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp:
        tls: {insecure: true}
    resolver:
      static:
        hostnames: [GATEWAYS]
service:
  telemetry:
    logs: {level: warn}
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: {{METRICS}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [loadbalancing]}
`

// renumber gives the minute's traces ids of their own (copy n), so that a minute sent again is
// new traffic.
func renumber(td ptrace.Traces, n byte) ptrace.Traces {
	out := ptrace.NewTraces()
	td.CopyTo(out)
	capturetest.EachSpan(out, func(_ pcommon.Resource, s ptrace.Span) {
		id := s.TraceID()
		id[0] ^= n
		s.SetTraceID(id)
	})
	return out
}

type tier struct {
	gateways []*collectortest.Collector
	agent    *collectortest.Collector
}

// judged sums drift.calls over the gateways, by verdict; ok is false while a gateway still holds
// calls waiting for their partner or cannot be scraped.
func (tr *tier) judged() (sum map[verdictKey]int64, perGateway []int64, ok bool) {
	sum = map[verdictKey]int64{}
	for _, g := range tr.gateways {
		scrape, err := g.Scrape()
		if err != nil || !strings.Contains(scrape, "drift_pairing_pending 0") {
			return nil, nil, false
		}
		c := promCounts(scrape, "drift_calls")
		for k, v := range c {
			sum[k] += v
		}
		perGateway = append(perGateway, total(c))
	}
	return sum, perGateway, true
}

// TestTierBehindTheLoadBalancingExporter: one agent (the ocb-built otelcol-drift-agent, contrib's
// load-balancing exporter routing by trace id) in front of three drift gateways. Every call of the
// Online Boutique minute is judged exactly once across the tier (the gateways' drift.calls sum to
// the minute's calls), conforming, each gateway judging a share. Then a gateway is killed while a
// second minute goes through, and restarted: what the tier judged and lost is measured (the figures
// in DEPLOYMENT.md), nothing is judged twice or wrongly, and a third minute is judged whole.
func TestTierBehindTheLoadBalancingExporter(t *testing.T) {
	tr := startTier(t, func(int) string { return strings.ReplaceAll(gatewayConfig, "INTENT", capturetest.BoutiqueIntent()) })
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	send := func(_ ptrace.Traces, batches []ptrace.Traces) {
		for _, b := range batches {
			require.NoError(t, tr.agent.Send(context.Background(), b))
		}
	}
	conforming := func(m map[verdictKey]int64) bool {
		for k := range m {
			if k.status != "conforming" {
				return false
			}
		}
		return true
	}

	// 1. every call exactly once
	send(td, chunks(td, 40))
	var total map[verdictKey]int64
	var per []int64
	require.Eventually(t, func() bool {
		var ok bool
		total, per, ok = tr.judged()
		return ok && totalOf(total) >= capturetest.BoutiqueCalls
	}, 60*time.Second, 500*time.Millisecond, "the tier judged %d of %d calls", totalOf(total), capturetest.BoutiqueCalls)
	time.Sleep(2 * time.Second) // nothing more comes: a call judged twice would show now
	total, per, _ = tr.judged()
	assert.EqualValues(t, capturetest.BoutiqueCalls, totalOf(total), "every call judged exactly once across the tier")
	assert.True(t, conforming(total), "no false drift: %v", total)
	for i, n := range per {
		assert.Positive(t, n, "gateway %d judged a share", i)
	}
	t.Logf("calls per gateway: %v", per)

	// 2. a gateway killed mid-stream, and restarted
	before := totalOf(total)
	second := renumber(td, 1)
	batches := chunks(second, 40)
	send(second, batches[:len(batches)/2])
	killed := tr.gateways[1]
	scrape, err := killed.Scrape()
	require.NoError(t, err)
	lostWithIt := totalOf(promCounts(scrape, "drift_calls")) // what its counters held, gone with it
	killed.Kill()
	send(second, batches[len(batches)/2:])
	time.Sleep(3 * time.Second)
	killed.Restart()
	killed.WaitMetric("drift_pairing_pending")
	var afterKill map[verdictKey]int64
	require.Eventually(t, func() bool {
		var ok bool
		afterKill, _, ok = tr.judged()
		return ok
	}, 60*time.Second, 500*time.Millisecond)
	time.Sleep(12 * time.Second) // the agent's retries deliver what waited for the killed gateway
	afterKill, per, _ = tr.judged()
	judgedSecond := totalOf(afterKill) + lostWithIt - before
	unresolved := 0.0
	for _, g := range tr.gateways {
		scrape, _ := g.Scrape()
		for _, p := range collectortest.Points(scrape, "drift_unresolved") {
			unresolved += p.Value
		}
	}
	assert.True(t, conforming(afterKill), "nothing judged wrongly after the kill: %v", afterKill)
	assert.LessOrEqual(t, judgedSecond, int64(capturetest.BoutiqueCalls), "nothing judged twice")
	t.Logf("second minute, a gateway killed half-way and restarted: %d of %d calls judged (%.1f%%), %v counted unresolved (the restarted gateway's since its start), calls per gateway now %v",
		judgedSecond, capturetest.BoutiqueCalls, 100*float64(judgedSecond)/float64(capturetest.BoutiqueCalls), unresolved, per)

	// 3. the tier recovers: a third minute is judged whole
	base := totalOf(afterKill)
	third := renumber(td, 2)
	send(third, chunks(third, 40))
	require.Eventually(t, func() bool {
		m, _, ok := tr.judged()
		return ok && totalOf(m)-base >= capturetest.BoutiqueCalls
	}, 60*time.Second, 500*time.Millisecond)
	time.Sleep(2 * time.Second)
	final, _, _ := tr.judged()
	assert.EqualValues(t, capturetest.BoutiqueCalls, totalOf(final)-base, "after the restart, every call judged exactly once again")
	assert.True(t, conforming(final))
}

func totalOf(m map[verdictKey]int64) int64 { return total(m) }

// startTier starts three gateways (gateway i with config(i)) and the agent in front of them.
func startTier(t *testing.T, config func(i int) string) *tier {
	agentBinary := os.Getenv("AGENT")
	if agentBinary == "" {
		t.Fatal("AGENT names no otelcol-drift-agent binary: run through `make e2e` (make build-agent builds it)")
	}
	tr := &tier{}
	var addrs []string
	for i := range 3 {
		g := collectortest.Start(t, binary, config(i))
		g.WaitMetric("drift_pairing_pending")
		tr.gateways = append(tr.gateways, g)
		addrs = append(addrs, g.GRPCAddr)
	}
	tr.agent = collectortest.Start(t, agentBinary, strings.ReplaceAll(agentConfig, "GATEWAYS", strings.Join(addrs, ", ")))
	return tr
}

// TestLearnAtThreeGateways: learn mode at each gateway of the tier, from an intent that declares
// nothing; each gateway learns from the traces routed to it, and the three models merged
// (driftctl learn --merge) judge the whole minute conforming, every call of it.
func TestLearnAtThreeGateways(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	require.NoError(t, os.WriteFile(empty, []byte("version: 1\nsystem: online-boutique\nservices: {}\n"), 0o600))
	learned := func(i int) string { return filepath.Join(dir, fmt.Sprintf("learned-%d.yaml", i)) }
	tr := startTier(t, func(i int) string {
		return strings.Replace(strings.ReplaceAll(gatewayConfig, "INTENT", empty), "    pairing: {ttl: 5s}",
			"    pairing: {ttl: 5s}\n    learn: {output: \""+learned(i)+"\", interval: 1s}", 1)
	})
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	for _, b := range chunks(td, 40) {
		require.NoError(t, tr.agent.Send(context.Background(), b))
	}
	require.Eventually(t, func() bool {
		m, _, ok := tr.judged()
		return ok && totalOf(m) >= capturetest.BoutiqueCalls
	}, 60*time.Second, 500*time.Millisecond)
	args := []string{"learn", "-o", filepath.Join(dir, "merged.yaml")}
	for i, g := range tr.gateways {
		g.Stop() // writes its learned model once more
		args = append(args, "--merge", learned(i))
	}
	out, err := exec.Command(driftctl(t), args...).CombinedOutput()
	require.NoError(t, err, string(out))
	cmd := exec.Command(driftctl(t), "check", "--intent", filepath.Join(dir, "merged.yaml"), "--format", "json", capturetest.BoutiqueFile())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "no drift under the merged model: %s", stderr.String())
	var r report.Report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &r))
	assert.EqualValues(t, capturetest.BoutiqueCalls, r.Calls)
	for _, e := range r.Edges {
		assert.Equal(t, report.Conforming, e.Status, "%s -> %s %s", e.Caller, e.Callee, e.Kind)
	}
}

// call is a trace of one call: a CLIENT span of caller and, unless callee is empty, the SERVER span
// of callee under it.
func call(traceID [16]byte, spanID byte, caller, callee string) ptrace.Traces {
	td := ptrace.NewTraces()
	now := pcommon.NewTimestampFromTime(time.Now())
	add := func(service string, kind ptrace.SpanKind, id, parent [8]byte) {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", service)
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID(traceID)
		s.SetSpanID(id)
		s.SetParentSpanID(parent)
		s.SetKind(kind)
		s.SetName("call")
		s.SetStartTimestamp(now)
		s.SetEndTimestamp(now + 1000)
	}
	client := [8]byte{9, spanID}
	add(caller, ptrace.SpanKindClient, client, [8]byte{})
	add(callee, ptrace.SpanKindServer, [8]byte{8, spanID}, client)
	return td
}

// TestTierMetricsInPrometheus: a real Prometheus scrapes the three gateways of the tier, and the
// dashboard's queries aggregate across them: calls add up to the gateways' own counts, an edge's
// first seen is the earliest any gateway saw, and an edge is absent only when no gateway saw it
// (checkoutservice -> currencyservice, declared, is seen by one gateway only; recommendationservice
// -> currencyservice, declared for this test, by none, though its caller is busy at each).
func TestTierMetricsInPrometheus(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	require.NoError(t, err, "this test needs the Debian package prometheus (make test installs it)")
	orig, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	intentFile := filepath.Join(t.TempDir(), "intent.yaml")
	changed := strings.Replace(string(orig), "    depends_on: [productcatalogservice]\n", "    depends_on: [productcatalogservice, currencyservice]\n", 1)
	require.NotEqual(t, string(orig), changed)
	require.NoError(t, os.WriteFile(intentFile, []byte(changed), 0o600))
	tr := startTier(t, func(int) string {
		return strings.Replace(strings.ReplaceAll(gatewayConfig, "INTENT", intentFile), "    pairing: {ttl: 5s}",
			"    pairing: {ttl: 5s}\n    absence: {window: 3s, min_caller_calls: 1}", 1)
	})
	var targets []string
	for _, g := range tr.gateways {
		targets = append(targets, g.MetricsAddr)
	}
	promURL := collectortest.StartPrometheus(t, prom, targets...)
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	queries := dashboardQueries(t)

	// Ten seconds of traffic: the minute again each second, a checkout -> currency call in one
	// trace (one gateway), a drifting frontend -> emailservice call in a trace of its own each time
	// (gateways at random, by trace id).
	var absent []map[string]string
	for i := range 10 {
		for _, b := range chunks(renumber(td, byte(10+i)), 40) {
			require.NoError(t, tr.agent.Send(context.Background(), b))
		}
		require.NoError(t, tr.agent.Send(context.Background(), call([16]byte{0xcc, 1}, byte(i), "checkoutservice", "currencyservice")))
		require.NoError(t, tr.agent.Send(context.Background(), call([16]byte{0xee, byte(i)}, 1, "frontend", "emailservice")))
		time.Sleep(time.Second)
		if i >= 6 {
			absent = collectortest.Query(promURL, queries["Absent edges (no collector saw them)"])
		}
	}
	edges := map[string]bool{}
	for _, a := range absent {
		edges[a["drift_caller"]+" -> "+a["drift_callee"]] = true
	}
	// exactly the edge no gateway saw: not checkoutservice -> currencyservice, which one gateway
	// saw; not an edge every gateway sees; not cartservice -> redis-cart or loadgenerator ->
	// frontend, whose callers make no calls at all, so that nothing marks them absent
	assert.Equal(t, map[string]bool{"recommendationservice -> currencyservice": true}, edges, "absent across the tier: %v", absent)
	perGatewayAbsent := 0
	for _, g := range tr.gateways {
		scrape, _ := g.Scrape()
		if len(collectortest.Points(scrape, "drift_edge_absent", `drift_callee="currencyservice"`, `drift_caller="checkoutservice"`)) > 0 {
			perGatewayAbsent++
		}
	}
	assert.Equal(t, 2, perGatewayAbsent, "the two gateways that never saw it report it absent: the query has something to aggregate")

	// once every call is judged, the sums and the first sights
	var own map[verdictKey]int64
	require.Eventually(t, func() bool {
		var ok bool
		own, _, ok = tr.judged()
		return ok
	}, 30*time.Second, 500*time.Millisecond)
	time.Sleep(3 * time.Second) // two scrapes after the last call
	byEdge := map[string]float64{}
	for k, n := range own {
		byEdge[k.caller+" -> "+k.callee] += float64(n)
	}
	fromProm := map[string]float64{}
	for _, r := range collectortest.Query(promURL, `sum by (drift_caller, drift_callee) (drift_calls)`) {
		v, _ := strconv.ParseFloat(r["value"], 64)
		fromProm[r["drift_caller"]+" -> "+r["drift_callee"]] = v
	}
	assert.Equal(t, byEdge, fromProm, "calls add up across the gateways")

	var seen []float64
	for _, g := range tr.gateways {
		scrape, _ := g.Scrape()
		for _, p := range collectortest.Points(scrape, "drift_edge_first_seen", `drift_callee="emailservice"`) {
			seen = append(seen, p.Value)
		}
	}
	require.GreaterOrEqual(t, len(seen), 2, "several gateways saw frontend -> emailservice first at their own times")
	earliest := slices.Min(seen)
	first := collectortest.Query(promURL, strings.Replace(queries["First seen, earliest across collectors"], "(drift_edge_first_seen)", `(drift_edge_first_seen{drift_callee="emailservice"})`, 1))
	require.Len(t, first, 1)
	v, _ := strconv.ParseFloat(first[0]["value"], 64)
	assert.Equal(t, earliest, v, "first seen is the earliest of the gateways' (%v)", seen)
}

// dashboardQueries are the Grafana dashboard's queries, by panel title.
func dashboardQueries(t *testing.T) map[string]string {
	data, err := os.ReadFile(filepath.Join("..", "..", "grafana", "drift-dashboard.json"))
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
	out := map[string]string{}
	for _, p := range dash.Panels {
		if len(p.Targets) > 0 {
			out[p.Title] = p.Targets[0].Expr
		}
	}
	return out
}

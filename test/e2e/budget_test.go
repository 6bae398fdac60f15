package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/collectortest"
	"github.com/driftprocessor/driftprocessor/internal/synthtest"
)

// callsMade numbers the calls clientCalls makes.
var callsMade int

// clientCalls is one CLIENT span per call, caller -> callee by peer.service, each in a trace of its
// own (the callee named as the span passes: no server span needed). extra sets more attributes.
func clientCalls(calls [][2]string, extra map[string]string) []ptrace.Traces {
	var out []ptrace.Traces
	td := ptrace.NewTraces()
	for _, c := range calls {
		callsMade++
		i := callsMade // ids distinct across calls of clientCalls: the receiver counts spans by id
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", c[0])
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindClient)
		s.SetName("call")
		s.SetTraceID(pcommon.TraceID{7, 7, byte(i >> 16), byte(i >> 8), byte(i), 1})
		s.SetSpanID(pcommon.SpanID{7, byte(i >> 16), byte(i >> 8), byte(i), 1})
		s.Attributes().PutStr("peer.service", c[1])
		for k, v := range extra {
			s.Attributes().PutStr(k, v)
		}
		if td.ResourceSpans().Len() == 500 {
			out = append(out, td)
			td = ptrace.NewTraces()
		}
	}
	if td.ResourceSpans().Len() > 0 {
		out = append(out, td)
	}
	return out
}

// budgetRun sends calls through the built collector (config, with the processor's settings
// replaced by drift) and returns drift_calls once every call is counted.
func budgetRun(t *testing.T, intentText, drift string, calls [][2]string) ([]collectortest.Point, *collectortest.Collector) {
	return budgetRunBatches(t, intentText, drift, clientCalls(calls, nil), len(calls))
}

// budgetRunBatches is budgetRun for batches of n calls in all.
func budgetRunBatches(t *testing.T, intentText, drift string, batches []ptrace.Traces, n int) ([]collectortest.Point, *collectortest.Collector) {
	config := strings.Replace(collectorConfig, "    pairing: {ttl: 2s, max_pending: 100000}\n", "    pairing: {ttl: 2s, max_pending: 100000}\n"+drift, 1)
	rec, sink := newReceiver(t)
	col := collectortest.Start(t, binary, strings.NewReplacer("INTENT", writeIntent(t, intentText), "SINK", sink.Endpoint).Replace(config))
	for _, b := range batches {
		require.NoError(t, col.Send(context.Background(), b))
	}
	require.Eventually(t, func() bool { return rec.count() == n }, 60*time.Second, 100*time.Millisecond)
	var got []collectortest.Point
	require.Eventually(t, func() bool {
		scrape, err := col.Scrape()
		if err != nil {
			return false
		}
		got = collectortest.Points(scrape, "drift_calls")
		var total int64
		for _, s := range got {
			total += int64(s.Value)
		}
		return total == int64(n)
	}, 30*time.Second, 200*time.Millisecond, "drift_calls sums to the calls sent")
	return got, col
}

// allPairs is a model of n services, each depending on the next only, and traffic in which each
// calls every other once.
func allPairs(n int) (string, [][2]string) {
	var b strings.Builder
	b.WriteString("version: 1\nservices:\n")
	var calls [][2]string
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  s%02d: {depends_on: [s%02d]}\n", i, (i+1)%n)
		for j := 0; j < n; j++ {
			if i != j {
				calls = append(calls, [2]string{fmt.Sprintf("s%02d", i), fmt.Sprintf("s%02d", j)})
			}
		}
	}
	return b.String(), calls
}

// TestAllPairsDriftKeepsItsSeries: 60 services, each declaring only the next; each calls every
// other once (3,540 edges, 3,480 drifting). With room for them (max_series and the SDK's
// cardinality limit raised), every drifting edge keeps its own drift_calls series and anything
// folded is conforming; at the defaults (1,900 series), nothing reaches the SDK's unlabelled
// overflow, the conforming edges are folded first and the drift folded after keeps its kind.
func TestAllPairsDriftKeepsItsSeries(t *testing.T) {
	intentText, calls := allPairs(60)
	t.Run("with room", func(t *testing.T) {
		t.Setenv("OTEL_GO_X_CARDINALITY_LIMIT", "10000")
		got, _ := budgetRun(t, intentText, "    max_series: 5000\n", calls)
		own := 0
		for _, s := range got {
			require.NotContains(t, s.Labels, "otel_metric_overflow")
			if s.Labels["drift_caller"] == "_other" {
				assert.Equal(t, "conforming", s.Labels["drift_status"], "only conforming calls are folded: %v", s.Labels)
			} else if s.Labels["drift_status"] == "drift" {
				own++
			}
		}
		assert.Equal(t, len(calls)-60, own, "every drifting edge has its own series")
	})
	t.Run("at the defaults", func(t *testing.T) {
		got, _ := budgetRun(t, intentText, "", calls)
		own, ownConforming := 0, 0
		for _, s := range got {
			require.NotContains(t, s.Labels, "otel_metric_overflow", "the SDK's limit is never reached")
			switch {
			case s.Labels["drift_caller"] == "_other":
				if s.Labels["drift_status"] == "drift" {
					assert.Equal(t, "undeclared_dependency", s.Labels["drift_kind"], "folded drift keeps its kind")
				}
			case s.Labels["drift_status"] == "drift":
				own++
			default:
				ownConforming++
			}
		}
		assert.Equal(t, 1900, own+ownConforming, "the budget is used whole")
		assert.Zero(t, ownConforming, "at the bound, conforming series are folded before drifting ones")
		assert.LessOrEqual(t, len(got), 1900+25)
	})
}

// TestSyntheticModelWithDrift: the 200-service, 2,000-dependency model with every declared edge
// active and 500 drifting edges: at the defaults every drifting edge keeps its own series, and
// what is folded is conforming.
func TestSyntheticModelWithDrift(t *testing.T) {
	sys := synthtest.New(200, 10, 1)
	calls := sys.Dependencies()
	for i := 0; i < 200; i++ { // each service's own database, named by peer.service
		calls = append(calls, [2]string{synthtest.Name(i), fmt.Sprintf("db-%04d", i)})
	}
	declared := map[[2]string]bool{}
	for _, c := range calls {
		declared[c] = true
	}
	drifting := 0
	for i := 199; i >= 0 && drifting < 500; i-- { // calls up the layers and sideways, not declared
		for j := 0; j < 200 && drifting < 500; j += 7 {
			c := [2]string{synthtest.Name(i), synthtest.Name(j)}
			if i != j && !declared[c] {
				calls = append(calls, c)
				drifting++
			}
		}
	}
	require.Equal(t, 500, drifting)
	got, _ := budgetRun(t, sys.Intent(), "", calls)
	own := 0
	for _, s := range got {
		require.NotContains(t, s.Labels, "otel_metric_overflow")
		switch {
		case s.Labels["drift_caller"] == "_other":
			assert.Equal(t, "conforming", s.Labels["drift_status"], "only conforming calls are folded")
		case s.Labels["drift_status"] == "drift":
			own++
		}
	}
	assert.Equal(t, 500, own, "every drifting edge keeps its own series")
	t.Logf("%d declared edges, %d series", len(calls)-500, len(got))
}

var firstSeenLine = regexp.MustCompile(`"msg":"Drift seen for the first time"[^\n]*"drift.caller":"frontend","drift.callee":"payment","drift.kind":"forbidden_dependency","drift.rule":"payment-is-protected"`)

// TestFloodsThenARealViolation: 200 junk services call the demo's nine nodes by peer.service, and
// five of its services call each junk name as a database (db.system.name); then one real call
// storefront -> payments, which a rule denies. It keeps its series, its kind and rule, and its
// first-sight line with them; the flood shows as counts under _other.
func TestFloodsThenARealViolation(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "demo", "intent.yaml"))
	require.NoError(t, err)
	nodes := []string{"storefront", "catalog", "cart", "checkout", "payments", "fulfilment", "catalog-db", "cart-db", "orders-queue"}
	var junkCalls, dbCalls [][2]string
	for i := 1; i <= 200; i++ {
		for _, n := range nodes {
			junkCalls = append(junkCalls, [2]string{fmt.Sprintf("junk-%d", i), n})
		}
	}
	for _, s := range []string{"storefront", "catalog", "cart", "checkout", "fulfilment"} {
		for i := 1; i <= 200; i++ {
			dbCalls = append(dbCalls, [2]string{s, fmt.Sprintf("junk-%d", i)})
		}
	}
	batches := append(clientCalls(junkCalls, nil), clientCalls(dbCalls, map[string]string{"db.system.name": "postgresql"})...)
	batches = append(batches, clientCalls([][2]string{{"storefront", "payments"}}, nil)...)
	got, col := budgetRunBatches(t, string(data), "", batches, len(junkCalls)+len(dbCalls)+1)
	var realCalls, other int64
	for _, s := range got {
		require.NotContains(t, s.Labels, "otel_metric_overflow")
		if s.Labels["drift_caller"] == "storefront" && s.Labels["drift_callee"] == "payments" {
			assert.Equal(t, "forbidden_dependency", s.Labels["drift_kind"])
			realCalls += int64(s.Value)
		}
		if s.Labels["drift_caller"] == "_other" || s.Labels["drift_callee"] == "_other" {
			other += int64(s.Value)
		}
	}
	assert.Equal(t, int64(1), realCalls, "the real call has its series, with its kind")
	assert.Positive(t, other, "the flood is counted under _other")
	scrape, err := col.Scrape()
	require.NoError(t, err)
	assert.NotEmpty(t, collectortest.MetricLines(scrape, "drift_violations", `drift_caller="storefront"`, `drift_callee="payments"`, `drift_kind="forbidden_dependency"`))
	assert.Regexp(t, realFirstSight, col.Out.String(), "the real drift's first-sight line")
}

var realFirstSight = regexp.MustCompile(`"msg":"Drift seen for the first time"[^\n]*"drift.caller":"storefront","drift.callee":"payments","drift.kind":"forbidden_dependency","drift.rule":"payments-only-from-checkout"`)

// TestFirstSightAfterAJunkFlood: 12,000 junk callers of cart (more first sights than the junk's
// share), then one real forbidden call: its first-sight line and its drift_edge_first_seen series are
// there, and the junk's first-seen series stay within their share (a tenth of max_series).
func TestFirstSightAfterAJunkFlood(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "intent", "shop.yaml"))
	require.NoError(t, err)
	var calls [][2]string
	for i := 0; i < 12_000; i++ {
		calls = append(calls, [2]string{fmt.Sprintf("junk-%d", i), "cart"})
	}
	calls = append(calls, [2]string{"frontend", "payment"})
	_, col := budgetRun(t, string(data), "", calls)
	scrape := col.WaitMetric("drift_edge_first_seen", `drift_caller="frontend"`, `drift_callee="payment"`)
	junk := collectortest.MetricLines(scrape, "drift_edge_first_seen", `drift_callee="cart"`)
	assert.LessOrEqual(t, len(junk), 190, "the junk's first sights are bounded by their share")
	assert.Positive(t, len(junk))
	assert.Regexp(t, firstSeenLine, col.Out.String(), "the real drift's first-sight line")
}

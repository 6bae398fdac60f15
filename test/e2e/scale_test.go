package e2e

import (
	"context"
	"hash/fnv"
	"os"
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
)

const tierSize = 3

// route cuts td into one batch per collector, each span going where key sends it.
func route(td ptrace.Traces, key func(service string, span ptrace.Span) string) [tierSize]ptrace.Traces {
	var out [tierSize]ptrace.Traces
	for i := range out {
		out[i] = ptrace.NewTraces()
	}
	capturetest.EachSpan(td, func(res pcommon.Resource, span ptrace.Span) {
		service, _ := res.Attributes().Get("service.name")
		h := fnv.New32a()
		h.Write([]byte(key(service.Str(), span)))
		dst := out[h.Sum32()%tierSize].ResourceSpans().AppendEmpty()
		res.CopyTo(dst.Resource())
		span.CopyTo(dst.ScopeSpans().AppendEmpty().Spans().AppendEmpty())
	})
	return out
}

// runTier starts three collectors, sends each its share and returns the sums of drift_calls (by
// status) and drift_unresolved over the tier, once every span came back.
func runTier(t *testing.T, intentText string, wholeTraces bool, shares [tierSize]ptrace.Traces) (conforming, drift, unresolved int) {
	intentPath := writeIntent(t, intentText)
	rec, sink := newReceiver(t)
	config := strings.NewReplacer("INTENT", intentPath, "SINK", sink.Endpoint,
		"pairing: {ttl: 2s, max_pending: 100000}", "pairing: {ttl: 2s, max_pending: 100000, whole_traces: "+strconv.FormatBool(wholeTraces)+"}").
		Replace(collectorConfig)
	var tier [tierSize]*collectortest.Collector
	total := 0
	for i := range tier {
		tier[i] = collectortest.Start(t, binary, config)
		for _, b := range chunks(shares[i], 40) {
			require.NoError(t, tier[i].Send(context.Background(), b))
		}
		total += shares[i].SpanCount()
	}
	require.Eventually(t, func() bool { return rec.count() == total }, 60*time.Second, 100*time.Millisecond)
	time.Sleep(3 * time.Second) // past the pairing TTL: every waiting span is judged or counted
	for _, c := range tier {
		scrape := c.WaitMetric("drift_pairing_pending", "pending 0")
		conforming += sumLines(collectortest.MetricLines(scrape, "drift_calls", `drift_status="conforming"`))
		drift += sumLines(collectortest.MetricLines(scrape, "drift_calls", `drift_status="drift"`))
		unresolved += sumLines(collectortest.MetricLines(scrape, "drift_unresolved"))
	}
	return conforming, drift, unresolved
}

func sumLines(lines []string) int {
	n := 0
	for _, l := range lines {
		v, _ := strconv.Atoi(l[strings.LastIndexByte(l, ' ')+1:])
		n += v
	}
	return n
}

// TestTierRoutedByTraceID: when each trace's spans reach one collector, every call is judged exactly
// once across the tier, and the drift is the same as one collector finds.
func TestTierRoutedByTraceID(t *testing.T) {
	intentText, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	shares := route(td, func(_ string, s ptrace.Span) string { return s.TraceID().String() })
	without := strings.Replace(string(intentText), "      - currencyservice\n", "", 1)
	conforming, drift, unresolved := runTier(t, without, true, shares)
	assert.Equal(t, capturetest.BoutiqueCalls-capturetest.BoutiqueFrontendToCurrency, conforming)
	assert.Equal(t, capturetest.BoutiqueFrontendToCurrency, drift, "frontend -> currencyservice, once per call")
	assert.Equal(t, 0, unresolved)
}

// TestTierOfAgents: when spans are spread by service (agents, each seeing some services), calls
// named by attributes are still judged, the rest are counted as unresolved, and none is judged twice
// or wrongly.
func TestTierOfAgents(t *testing.T) {
	intentText, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	shares := route(td, func(service string, _ ptrace.Span) string { return service })
	conforming, drift, unresolved := runTier(t, string(intentText), false, shares)
	assert.Equal(t, 0, drift, "nothing is judged wrongly")
	// judged: 3,120 SQL calls (named by peer.service) and 502 requests from outside (root spans), and
	// the calls whose client and server happened to reach the same agent
	assert.GreaterOrEqual(t, conforming, capturetest.BoutiqueSQLCalls+capturetest.BoutiqueIngress)
	// every call between services is judged once, or counted unresolved on both sides (its client and
	// its server each went to an agent that saw only one of them)
	assert.Equal(t, capturetest.BoutiqueCalls, conforming+(unresolved/2), "judged once or unresolved, never twice: %d judged, %d unresolved", conforming, unresolved)
}

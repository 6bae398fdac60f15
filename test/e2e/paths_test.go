package e2e

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
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
	"github.com/driftprocessor/driftprocessor/internal/otlpsinktest"
)

// pathsConfig is DEPLOYMENT.md's arrangement for path rules: groupbytrace delivers each trace
// whole, and the drift processor judges it in that batch.
const pathsConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "{{GRPC}}"}
processors:
  groupbytrace: {wait_duration: 3s, num_traces: 10000}
  drift:
    intent_file: "INTENT"
    pairing: {whole_batches: true}
exporters:
  otlp_http:
    endpoint: "SINK"
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
      processors: [groupbytrace, drift]
      exporters: [otlp_http]
`

// pathRules break on the Boutique minute, each on calls of its own: adservice -> mysql under the
// frontend, the frontend's and the recommendations' calls to the catalog, the calls three deep.
const pathRules = `paths:
  - name: no-mysql-through-ads
    deny: {from: frontend, to: mysql, via: adservice}
  - name: catalog-behind-checkout
    require: {to: productcatalogservice, via: checkoutservice}
  - name: two-deep
    max_depth: 2
`

// pathBreaks is what the test's own walk says each rule flags.
var pathBreaks = map[string]func(c []string) bool{
	"no-mysql-through-ads": func(c []string) bool {
		i := slices.Index(c, "frontend")
		return c[len(c)-1] == "mysql" && i >= 0 && slices.Contains(c[i+1:len(c)-1], "adservice")
	},
	"catalog-behind-checkout": func(c []string) bool {
		return c[len(c)-1] == "productcatalogservice" && !slices.Contains(c[:len(c)-1], "checkoutservice")
	},
	"two-deep": func(c []string) bool { return len(c)-1 > 2 },
}

// asSDKsSendIt cuts the minute as its services' SDKs would send it: each service's spans on their
// own, in requests of 100, the services interleaved.
func asSDKsSendIt(td ptrace.Traces) []ptrace.Traces {
	byService := map[string][]ptrace.Traces{}
	var services []string
	capturetest.EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		svc, _ := res.Attributes().Get("service.name")
		reqs := byService[svc.Str()]
		if len(reqs) == 0 || reqs[len(reqs)-1].SpanCount() == 100 {
			if len(reqs) == 0 {
				services = append(services, svc.Str())
			}
			reqs = append(reqs, ptrace.NewTraces())
			res.CopyTo(reqs[len(reqs)-1].ResourceSpans().AppendEmpty().Resource())
			reqs[len(reqs)-1].ResourceSpans().At(0).ScopeSpans().AppendEmpty()
		}
		s.CopyTo(reqs[len(reqs)-1].ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty())
		byService[svc.Str()] = reqs
	})
	var out []ptrace.Traces
	for _, svc := range services {
		out = append(out, byService[svc]...)
	}
	rand.New(rand.NewPCG(3, 3)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// TestPathRulesBehindGroupByTrace: the Boutique minute, sent as its services' SDKs would, through
// groupbytrace and the drift processor of the built collector: each path rule flags exactly the
// traces the test's own walk of the raw spans finds, with the chain on the span; nothing else
// drifts, and every span comes out.
func TestPathRulesBehindGroupByTrace(t *testing.T) {
	base, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	want := map[string]map[string]bool{}
	for _, c := range capturetest.WalkDown(td, capturetest.BoutiqueDatabase) {
		for rule, breaks := range pathBreaks {
			if breaks(c.Chain) {
				if want[rule] == nil {
					want[rule] = map[string]bool{}
				}
				want[rule][c.Trace] = true
			}
		}
	}
	require.Len(t, want, len(pathBreaks), "every rule breaks somewhere")

	var mu sync.Mutex
	got := map[string]map[string]bool{}
	var spans int
	var other []string
	sink, err := otlpsinktest.Start("127.0.0.1:0", func(out ptrace.Traces) {
		mu.Lock()
		defer mu.Unlock()
		capturetest.EachSpan(out, func(_ pcommon.Resource, s ptrace.Span) {
			spans++
			a := s.Attributes()
			kind, ok := a.Get("drift.kind")
			if !ok {
				return
			}
			rule, _ := a.Get("drift.rule")
			path, _ := a.Get("drift.path")
			if _, isPath := pathBreaks[rule.Str()]; !isPath || !strings.Contains(path.Str(), " -> ") {
				other = append(other, kind.Str()+" "+rule.Str())
				return
			}
			if got[rule.Str()] == nil {
				got[rule.Str()] = map[string]bool{}
			}
			got[rule.Str()][s.TraceID().String()] = true
		})
	})
	require.NoError(t, err)
	defer sink.Close()
	col := collectortest.Start(t, binary, strings.NewReplacer("INTENT", writeIntent(t, string(base)+pathRules), "SINK", sink.Endpoint).Replace(pathsConfig))
	col.WaitMetric("drift_pairing_pending")
	for _, req := range asSDKsSendIt(td) {
		require.NoError(t, col.Send(context.Background(), req))
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return spans == capturetest.BoutiqueSpans
	}, 60*time.Second, 100*time.Millisecond, "every span comes out")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, other, "drift that no path rule decides")
	for rule := range pathBreaks {
		assert.Equal(t, want[rule], got[rule], rule)
		t.Logf("%s: %d traces flagged, as the walk finds", rule, len(got[rule]))
	}
	metrics, err := col.Scrape()
	require.NoError(t, err)
	assert.Contains(t, metrics, "\ndrift_paths_partial 0\n", "whole traces: no chain is judged in part")
}

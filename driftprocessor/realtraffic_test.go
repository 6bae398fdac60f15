package driftprocessor

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

const boutiqueSpans = capturetest.BoutiqueSpans

func loadBoutique(t testing.TB) ptrace.Traces {
	t.Helper()
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	require.Equal(t, boutiqueSpans, td.SpanCount())
	return td
}

// shuffledBatches cuts td into batches of size spans, in a random order: as a gateway would see the
// spans of many services arriving independently.
func shuffledBatches(td ptrace.Traces, size int, seed uint64) []ptrace.Traces {
	type ref struct {
		res  pcommon.Resource
		span ptrace.Span
	}
	var all []ref
	capturetest.EachSpan(td, func(r pcommon.Resource, s ptrace.Span) { all = append(all, ref{r, s}) })
	rand.New(rand.NewPCG(seed, seed)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var out []ptrace.Traces
	for len(all) > 0 {
		n := min(size, len(all))
		b := ptrace.NewTraces()
		for _, r := range all[:n] {
			rs := b.ResourceSpans().AppendEmpty()
			r.res.CopyTo(rs.Resource())
			r.span.CopyTo(rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty())
		}
		out = append(out, b)
		all = all[n:]
	}
	return out
}

// judgeBoutique runs the minute through a processor with intentYAML and returns the exported spans'
// drift.* attributes by edge, and the harness for metrics.
func judgeBoutique(t *testing.T, intentYAML string) (*harness, map[string]int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(intentYAML), 0o600))
	cfg := testConfig(path)
	h := newHarness(t, cfg)
	for _, b := range shuffledBatches(loadBoutique(t), 500, 7) {
		require.NoError(t, h.proc.ConsumeTraces(t.Context(), b))
	}
	h.expireAll()
	drifts := map[string]int{}
	spans := 0
	for _, td := range h.sink.AllTraces() {
		capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
			spans++
			if v, ok := s.Attributes().Get("drift.status"); ok && v.Str() == "drift" {
				a := s.Attributes()
				key := func(k string) string { v, _ := a.Get(k); return v.Str() }
				drifts[key("drift.caller")+" -> "+key("drift.callee")+" "+key("drift.kind")+" "+key("drift.rule")]++
			}
		})
	}
	require.Equal(t, boutiqueSpans, spans, "every span comes out")
	return h, drifts
}

func boutiqueIntentText(t *testing.T) string {
	data, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	return string(data)
}

func TestRealTrafficConforms(t *testing.T) {
	h, drifts := judgeBoutique(t, boutiqueIntentText(t))
	assert.Empty(t, drifts)
	assert.Equal(t, int64(0), h.sum("drift.calls", map[string]string{"drift.status": "drift"}))
	assert.Equal(t, int64(capturetest.BoutiqueCalls), h.sum("drift.calls", map[string]string{"drift.status": "conforming"}))
	assert.Equal(t, int64(15+1), h.sum("drift.edges", map[string]string{"drift.status": "conforming"}), "15 edges and the ingress")
	assert.Equal(t, int64(0), h.sum("drift.unresolved", nil))
	assert.Equal(t, 0, h.p.engine.Pending())
}

func TestRealTrafficUndeclaredEdge(t *testing.T) {
	text := boutiqueIntentText(t)
	without := strings.Replace(text, "      - currencyservice\n", "", 1)
	require.NotEqual(t, text, without)
	h, drifts := judgeBoutique(t, without)
	assert.Equal(t, map[string]int{"frontend -> currencyservice undeclared_dependency depends_on": capturetest.BoutiqueFrontendToCurrency}, drifts)
	assert.Equal(t, int64(capturetest.BoutiqueFrontendToCurrency), h.sum("drift.calls", map[string]string{"drift.status": "drift"}))
}

func TestRealTrafficDenyRule(t *testing.T) {
	text := boutiqueIntentText(t) + `rules:
  - name: recommendations-read-no-catalog
    deny: {from: recommendationservice, to: productcatalogservice}
    severity: critical
`
	h, drifts := judgeBoutique(t, text)
	assert.Equal(t, map[string]int{"recommendationservice -> productcatalogservice forbidden_dependency recommendations-read-no-catalog": 363}, drifts)
	assert.Equal(t, int64(363), h.sum("drift.calls", map[string]string{"drift.status": "drift", "drift.kind": "forbidden_dependency"}))
}

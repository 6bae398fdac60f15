package e2e

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/collectortest"
	"github.com/driftprocessor/driftprocessor/internal/otlpsinktest"
)

// samplingConfig is DEPLOYMENT.md's arrangement for keeping every drifting trace: groupbytrace
// delivers each trace whole, the drift processor judges it in that batch (pairing.whole_batches)
// and stamps it, and tail_sampling keeps every trace with drift.status=drift and a share of the rest.
const samplingConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "{{GRPC}}"}
processors:
  groupbytrace: {wait_duration: 1s, num_traces: 100000}
  drift:
    intent_file: "INTENT"
    pairing: {whole_batches: true}
  tail_sampling:
    decision_wait: 1s
    policies:
      - {name: drifting, type: string_attribute, string_attribute: {key: drift.status, values: [drift]}}
      - {name: a-share-of-the-rest, type: probabilistic, probabilistic: {sampling_percentage: 20}}
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
      processors: [groupbytrace, drift, tail_sampling]
      exporters: [otlp_http]
`

const samplingIntent = `version: 1
services:
  frontend: {ingress: true, depends_on: [cart]}
  cart: {}
  payment: {}
`

// shopTrace is one request: frontend's server span, its call to cart (client and server), and with
// drift one more call: frontend -> payment (a service it does not depend on) or cart -> orders-db (a
// database nobody declared, by db.system). The two services' spans go in two requests, as two SDKs
// send them.
func shopTrace(id pcommon.TraceID, drift int) (frontend, cart ptrace.Traces, spans int) {
	frontend, cart = ptrace.NewTraces(), ptrace.NewTraces()
	add := func(td ptrace.Traces, service string, kind ptrace.SpanKind, span, parent byte, attrs map[string]string) {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", service)
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(kind)
		s.SetName("op")
		s.SetTraceID(id)
		s.SetSpanID(pcommon.SpanID{id[0], id[1], id[2], span})
		if parent != 0 {
			s.SetParentSpanID(pcommon.SpanID{id[0], id[1], id[2], parent})
		}
		for k, v := range attrs {
			s.Attributes().PutStr(k, v)
		}
		spans++
	}
	add(frontend, "frontend", ptrace.SpanKindServer, 1, 0, nil)
	add(frontend, "frontend", ptrace.SpanKindClient, 2, 1, map[string]string{"server.address": "cart.shop"})
	add(cart, "cart", ptrace.SpanKindServer, 3, 2, nil)
	switch drift {
	case 1:
		add(frontend, "frontend", ptrace.SpanKindClient, 4, 1, map[string]string{"peer.service": "payment"})
		add(cart, "payment", ptrace.SpanKindServer, 5, 4, nil)
	case 2:
		add(cart, "cart", ptrace.SpanKindClient, 4, 3, map[string]string{"db.system": "postgresql", "peer.service": "orders-db"})
	}
	return frontend, cart, spans
}

// TestTailSamplingKeepsEveryDriftingTrace: two minutes of traffic through groupbytrace -> drift ->
// tail_sampling in the built collector: every trace that holds a drifting call is kept, and whole
// (the unmodelled database included); of the rest, about the configured 20%.
func TestTailSamplingKeepsEveryDriftingTrace(t *testing.T) {
	var mu sync.Mutex
	got := map[pcommon.TraceID]int{}
	sink, err := otlpsinktest.Start("127.0.0.1:0", func(td ptrace.Traces) {
		mu.Lock()
		defer mu.Unlock()
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			sss := rss.At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				spans := sss.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					got[spans.At(k).TraceID()]++
				}
			}
		}
	})
	require.NoError(t, err)
	defer sink.Close()
	col := collectortest.Start(t, binary, strings.NewReplacer("INTENT", writeIntent(t, samplingIntent), "SINK", sink.Endpoint).Replace(samplingConfig))
	col.WaitMetric("drift_pairing_pending")

	rnd := rand.New(rand.NewPCG(1, 2))
	sent := map[pcommon.TraceID]int{} // spans, by trace
	drifting := map[pcommon.TraceID]bool{}
	end := time.Now().Add(2 * time.Minute)
	for n := 0; time.Now().Before(end); n++ {
		var id pcommon.TraceID
		for i := range id {
			id[i] = byte(rnd.IntN(256))
		}
		drift := 0
		if n%4 == 0 { // a quarter drifts, half of it through the unmodelled database
			drift = 1 + n/4%2
			drifting[id] = true
		}
		frontend, cart, spans := shopTrace(id, drift)
		sent[id] = spans
		require.NoError(t, col.Send(context.Background(), frontend))
		require.NoError(t, col.Send(context.Background(), cart))
		time.Sleep(40 * time.Millisecond)
	}
	keptRest := 0
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id := range drifting {
			if got[id] != sent[id] {
				return false
			}
		}
		return true
	}, 30*time.Second, 200*time.Millisecond, "every drifting trace is kept, whole")
	time.Sleep(3 * time.Second) // the last decisions on the rest
	mu.Lock()
	defer mu.Unlock()
	rest := len(sent) - len(drifting)
	for id, n := range got {
		if !drifting[id] {
			keptRest++
			assert.Equal(t, sent[id], n, "a kept trace is kept whole")
		}
	}
	share := float64(keptRest) / float64(rest)
	t.Logf("%d traces sent, %d drifting (all kept), %d of the %d others kept (%.1f%%)", len(sent), len(drifting), keptRest, rest, 100*share)
	assert.InDelta(t, 0.20, share, 0.05, "about the configured share of the rest")
}

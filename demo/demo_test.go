package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/goleak"

	"github.com/driftprocessor/driftprocessor/demo/shop"
	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/collectortest"
	"github.com/driftprocessor/driftprocessor/internal/otlpsinktest"
)

// planned is every drift the hotfixes bring, with the kind each must show.
var planned = map[string]string{
	"storefront -> payments":        "forbidden_dependency",
	"storefront -> recommendations": "undeclared_dependency",
	"recommendations -> catalog":    "unknown_service",
	"cart -> catalog-db":            "forbidden_dependency",
}

// misbehaving is the drift in how a declared edge behaves after the hotfixes (the retry loop): its
// edge drifts with this kind on some calls, and conforms on the others.
var misbehaving = map[string]string{"storefront -> cart": "retry_amplification"}

// declared is every edge of the shop before its hotfixes; all must conform.
var declared = []string{
	"external -> storefront", "storefront -> catalog", "storefront -> cart", "storefront -> checkout",
	"catalog -> catalog-db", "cart -> cart-db", "checkout -> cart", "checkout -> payments", "checkout -> orders-queue",
}

var binary string

func TestMain(m *testing.M) {
	root, _ := filepath.Abs("..")
	var err error
	if binary, err = collectortest.Binary(root); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	code := m.Run()
	// the shop (servers, clients, SDK exporters, database) must stop whole when closed
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, "demo: goroutines left running:", err)
		code = 1
	}
	os.Exit(code)
}

const demoCollector = `
extensions:
  driftview: {endpoint: "MAPADDR"}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "{{GRPC}}"}
processors:
  drift:
    intent_file: "INTENT"
    annotate: all
    pairing: {ttl: 5s}
  batch: {timeout: 200ms}
exporters:
  otlp_http:
    endpoint: "SINK"
service:
  extensions: [driftview]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: {{METRICS}}}
  pipelines:
    traces: {receivers: [otlp], processors: [drift, batch], exporters: [otlp_http]}
`

// edges collects what the collector exports: for each edge, the statuses and kinds seen.
type edges struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // edge -> "conforming" or a kind
}

func (e *edges) batch(td ptrace.Traces) {
	e.mu.Lock()
	defer e.mu.Unlock()
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
		a := s.Attributes()
		status, ok := a.Get("drift.status")
		if !ok {
			return
		}
		caller, _ := a.Get("drift.caller")
		callee, _ := a.Get("drift.callee")
		edge := caller.Str() + " -> " + callee.Str()
		verdict := status.Str()
		if kind, ok := a.Get("drift.kind"); ok {
			verdict = kind.Str()
		}
		if e.seen[edge] == nil {
			e.seen[edge] = map[string]bool{}
		}
		e.seen[edge][verdict] = true
	})
}

func (e *edges) has(edge, verdict string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seen[edge][verdict]
}

// runShop starts the collector (its map at mapAddr) and the shop, and sends requests until stop is
// called.
func runShop(t *testing.T, sink *otlpsinktest.Sink, mapAddr string) (*shop.Shop, *collectortest.Collector, func()) {
	intent, _ := filepath.Abs(filepath.Join("..", "testdata", "demo", "intent.yaml"))
	col := collectortest.Start(t, binary, strings.NewReplacer("INTENT", intent, "SINK", sink.Endpoint, "MAPADDR", mapAddr).Replace(demoCollector))
	col.WaitMetric("drift_pairing_pending") // ready
	ctx, cancel := context.WithCancel(context.Background())
	s, err := shop.Start(ctx, col.GRPCAddr, t.TempDir())
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				// not cancelled by the stop: a call cut short half-way would leave a client span whose
				// server span never comes
				if err := s.Request(context.Background()); err != nil {
					t.Errorf("request: %v", err)
				}
			}
		}
	}()
	return s, col, func() {
		cancel()
		wg.Wait()
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		assert.NoError(t, s.Close(cctx))
	}
}

// demoDuration is how long the shop runs in TestDemoFindsEveryPlannedDrift: two minutes, or
// DEMO_DURATION.
func demoDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("DEMO_DURATION")); err == nil {
		return d
	}
	return 2 * time.Minute
}

// TestDemoFindsEveryPlannedDrift: the shop conforms, then its hotfixes go live, and it runs for two
// minutes in all; every planned drift is found with its kind, no declared edge is ever flagged, and
// no drift that no hotfix planned shows on a span or in the collector's metrics.
func TestDemoFindsEveryPlannedDrift(t *testing.T) {
	e := &edges{seen: map[string]map[string]bool{}}
	sink, err := otlpsinktest.Start("127.0.0.1:0", e.batch)
	require.NoError(t, err)
	defer sink.Close()
	mapAddr := fmt.Sprintf("127.0.0.1:%d", collectortest.FreePort(t))
	started := time.Now()
	s, col, stop := runShop(t, sink, mapAddr)

	require.Eventually(t, func() bool {
		for _, edge := range declared {
			if !e.has(edge, "conforming") {
				return false
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "every declared edge is seen conforming before the hotfixes")
	e.mu.Lock()
	before := len(e.seen)
	e.mu.Unlock()
	assert.Equal(t, len(declared), before, "before the hotfixes, only declared edges: %v", e.seen)

	s.EnableHotfixes()
	require.Eventually(t, func() bool {
		for _, m := range []map[string]string{planned, misbehaving} {
			for edge, kind := range m {
				if !e.has(edge, kind) {
					return false
				}
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "every planned drift is found")
	time.Sleep(time.Second)
	checkMapInBrowser(t, "http://"+mapAddr+"/")
	// The shop goes on for the whole run: drift that no hotfix planned (from pairing, timing,
	// export batching) has that long to show, on spans and in the collector's metrics.
	time.Sleep(time.Until(started.Add(demoDuration())))
	stop()

	e.mu.Lock()
	defer e.mu.Unlock()
	var edgesSeen []string
	for edge, verdicts := range e.seen {
		edgesSeen = append(edgesSeen, edge)
		if kind, ok := planned[edge]; ok {
			assert.Equal(t, map[string]bool{kind: true}, verdicts, edge)
			continue
		}
		if kind, ok := misbehaving[edge]; ok {
			assert.Equal(t, map[string]bool{kind: true, "conforming": true}, verdicts, edge)
			continue
		}
		assert.Equal(t, map[string]bool{"conforming": true}, verdicts, "%s is declared and must never drift", edge)
	}
	sort.Strings(edgesSeen)
	assert.Len(t, edgesSeen, len(declared)+len(planned), "%v", edgesSeen)

	// The collector's own metrics, once nothing waits for a partner: no drift that no hotfix planned,
	// and no kind that no span shows (the demo's summary reads these, its DRIFT lines the spans).
	scrape := col.WaitMetric("drift_pairing_pending", "pending 0")
	kindsOnSpans := map[string]bool{}
	for _, verdicts := range e.seen {
		for v := range verdicts {
			kindsOnSpans[v] = v != "conforming"
		}
	}
	for _, p := range collectortest.Points(scrape, "drift_calls", `drift_status="drift"`) {
		l := p.Labels
		edge, kind := l["drift_caller"]+" -> "+l["drift_callee"], l["drift_kind"]
		assert.True(t, planned[edge] == kind || misbehaving[edge] == kind, "drift no hotfix planned, in the collector's metrics: %v", l)
		assert.True(t, kindsOnSpans[kind], "a kind in the metrics that no span shows: %v", l)
	}
}

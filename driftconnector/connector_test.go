package driftconnector

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/driftprocessor/driftprocessor/driftprocessor"
	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

type harness struct {
	c    *driftConnector
	sink *consumertest.MetricsSink
	now  time.Time
}

func newHarness(t *testing.T, mutate func(*Config)) *harness {
	return newHarnessLogging(t, mutate, zap.NewNop())
}

// newHarnessLogging is newHarness with the connector logging to logger.
func newHarnessLogging(t *testing.T, mutate func(*Config), logger *zap.Logger) *harness {
	cfg := createDefaultConfig().(*Config)
	cfg.IntentFile = capturetest.BoutiqueIntent()
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	h := &harness{sink: new(consumertest.MetricsSink), now: time.Unix(1_700_000_000, 0)}
	set := connectortest.NewNopSettings(typ)
	set.Logger = logger
	c, err := newConnectorWithClock(set, cfg, h.sink, func() time.Time { return h.now })
	require.NoError(t, err)
	h.c = c
	return h
}

// flush moves the clock past the longest wait of the pairing store (the TTL and a quarter), expires
// what waits, and flushes.
func (h *harness) flush(t *testing.T) pmetric.Metrics {
	h.now = h.now.Add(2 * h.c.cfg.Pairing.TTL)
	if h.c.engine != nil {
		h.c.engine.Expire(h.c.out)
	}
	h.c.flush(context.Background())
	all := h.sink.AllMetrics()
	require.NotEmpty(t, all)
	return all[len(all)-1]
}

func metricNamed(t *testing.T, md pmetric.Metrics, name string) pmetric.Metric {
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == name {
			return ms.At(i)
		}
	}
	t.Fatalf("no metric %s", name)
	return pmetric.Metric{}
}

// sumWhere adds the int points of a sum or gauge whose attributes include want.
func sumWhere(t *testing.T, md pmetric.Metrics, name string, want map[string]string) int64 {
	m := metricNamed(t, md, name)
	var points pmetric.NumberDataPointSlice
	if m.Type() == pmetric.MetricTypeSum {
		points = m.Sum().DataPoints()
	} else {
		points = m.Gauge().DataPoints()
	}
	var total int64
	for i := 0; i < points.Len(); i++ {
		if matches(points.At(i).Attributes(), want) {
			total += points.At(i).IntValue()
		}
	}
	return total
}

func matches(attrs pcommon.Map, want map[string]string) bool {
	for k, v := range want {
		got, ok := attrs.Get(k)
		if !ok || got.AsString() != v {
			return false
		}
	}
	return true
}

func TestJudgeModeOnRealTraffic(t *testing.T) {
	h := newHarness(t, nil)
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	td.MarkReadOnly() // a connector may not change its input
	require.NoError(t, h.c.ConsumeTraces(context.Background(), td))
	md := h.flush(t)
	assert.Equal(t, int64(capturetest.BoutiqueCalls), sumWhere(t, md, "drift.calls", map[string]string{"drift.status": "conforming"}))
	assert.Equal(t, int64(0), sumWhere(t, md, "drift.calls", map[string]string{"drift.status": "drift"}))
	assert.Equal(t, int64(16), sumWhere(t, md, "drift.edges", map[string]string{"drift.status": "conforming"}))
	assert.Equal(t, int64(capturetest.BoutiqueFrontendToCurrency), sumWhere(t, md, "drift.calls", map[string]string{"drift.caller": "frontend", "drift.callee": "currencyservice"}))
	hist := metricNamed(t, md, "drift.call.duration").Histogram()
	var count uint64
	for i := 0; i < hist.DataPoints().Len(); i++ {
		dp := hist.DataPoints().At(i)
		count += dp.Count()
		var buckets uint64
		for _, n := range dp.BucketCounts().AsRaw() {
			buckets += n
		}
		assert.Equal(t, dp.Count(), buckets)
		assert.Equal(t, dp.ExplicitBounds().Len()+1, dp.BucketCounts().Len())
	}
	assert.Equal(t, uint64(capturetest.BoutiqueCalls), count)
}

// TestStampedMode: after a drift processor with annotate: all, the connector counts the same calls
// without judging them again.
func TestStampedMode(t *testing.T) {
	f := driftprocessor.NewFactory()
	pcfg := f.CreateDefaultConfig().(*driftprocessor.Config)
	pcfg.IntentFile, pcfg.Annotate, pcfg.ReloadInterval = capturetest.BoutiqueIntent(), driftprocessor.AnnotateAll, 0
	traces := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), pcfg, traces)
	require.NoError(t, err)
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	require.NoError(t, p.Shutdown(context.Background()))

	h := newHarness(t, func(c *Config) { c.Mode, c.IntentFile = ModeStamped, "" })
	for _, out := range traces.AllTraces() {
		require.NoError(t, h.c.ConsumeTraces(context.Background(), out))
	}
	md := h.flush(t)
	assert.Equal(t, int64(capturetest.BoutiqueCalls), sumWhere(t, md, "drift.calls", map[string]string{"drift.status": "conforming"}))
	assert.Equal(t, int64(16), sumWhere(t, md, "drift.edges", map[string]string{"drift.status": "conforming"}))
}

func clientSpan(td ptrace.Traces, service, peer string, id byte, env string) {
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	if env != "" {
		rs.Resource().Attributes().PutStr("deployment.environment.name", env)
	}
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{1, id, byte(len(peer))})
	s.SetSpanID(pcommon.SpanID{1, id, 9})
	s.SetKind(ptrace.SpanKindClient)
	s.SetStartTimestamp(1_000_000_000)
	s.SetEndTimestamp(1_030_000_000) // 30 ms
	s.Attributes().PutStr("peer.service", peer)
}

// TestOverflowUnderHostileNames: 100,000 distinct callee names stay within max_series; the rest fold
// into the overflow series, and a counter says how many calls went there.
func TestOverflowUnderHostileNames(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxSeries = 1000 })
	for i := 0; i < 100; i++ {
		td := ptrace.NewTraces()
		for j := 0; j < 1000; j++ {
			n := i*1000 + j
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", "frontend")
			s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			s.SetTraceID(pcommon.TraceID{byte(n), byte(n >> 8), byte(n >> 16), 7})
			s.SetSpanID(pcommon.SpanID{byte(n), byte(n >> 8), byte(n >> 16), 7})
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("db.system.name", fmt.Sprint("hostile-", n)) // an unmodelled database each
		}
		require.NoError(t, h.c.ConsumeTraces(context.Background(), td))
	}
	md := h.flush(t)
	calls := metricNamed(t, md, "drift.calls").Sum().DataPoints()
	assert.LessOrEqual(t, calls.Len(), 1000)
	var overflowed int64 = -1
	for i := 0; i < calls.Len(); i++ {
		if v, ok := calls.At(i).Attributes().Get("otel.metric.overflow"); ok && v.Bool() {
			overflowed = calls.At(i).IntValue()
		}
	}
	assert.Equal(t, int64(100_000-999), overflowed, "one series is the overflow")
	assert.Equal(t, int64(100_000-999), sumWhere(t, md, "drift.overflow.calls", nil))
	assert.Equal(t, int64(100_000), sumWhere(t, md, "drift.calls", nil), "no call is lost")
}

func TestCumulativeFlushAndExpiry(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Expiration = time.Minute })
	td := ptrace.NewTraces()
	clientSpan(td, "frontend", "cartservice", 1, "")
	require.NoError(t, h.c.ConsumeTraces(context.Background(), td))
	first := h.flush(t)
	td = ptrace.NewTraces()
	clientSpan(td, "frontend", "cartservice", 2, "")
	require.NoError(t, h.c.ConsumeTraces(context.Background(), td))
	second := h.flush(t)
	assert.Equal(t, int64(1), sumWhere(t, first, "drift.calls", nil))
	assert.Equal(t, int64(2), sumWhere(t, second, "drift.calls", nil), "cumulative")
	a := metricNamed(t, first, "drift.calls").Sum().DataPoints().At(0)
	b := metricNamed(t, second, "drift.calls").Sum().DataPoints().At(0)
	assert.Equal(t, a.StartTimestamp(), b.StartTimestamp())
	assert.Equal(t, pmetric.AggregationTemporalityCumulative, metricNamed(t, second, "drift.calls").Sum().AggregationTemporality())

	h.now = h.now.Add(2 * time.Minute) // not updated for longer than the expiration
	third := h.flush(t)
	assert.Equal(t, 0, metricNamed(t, third, "drift.calls").Sum().DataPoints().Len())
}

func TestDimensions(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Dimensions = []string{"deployment.environment.name"} })
	td := ptrace.NewTraces()
	clientSpan(td, "frontend", "cartservice", 1, "production")
	clientSpan(td, "frontend", "cartservice", 2, "staging")
	require.NoError(t, h.c.ConsumeTraces(context.Background(), td))
	md := h.flush(t)
	assert.Equal(t, int64(1), sumWhere(t, md, "drift.calls", map[string]string{"deployment.environment.name": "production"}))
	assert.Equal(t, int64(1), sumWhere(t, md, "drift.calls", map[string]string{"deployment.environment.name": "staging"}))
}

func TestExponentialHistogram(t *testing.T) {
	h := histogram{exponential: true, maxSize: 20, scale: 8}
	for d := time.Millisecond; d <= 10*time.Second; d += 7 * time.Millisecond {
		h.add(d)
	}
	var n uint64
	for _, c := range h.counts {
		n += c
	}
	assert.Equal(t, h.count, n+h.zero)
	assert.LessOrEqual(t, len(h.counts), 20)
	// the bucket of the largest value holds it: base^offset+len-1 < max <= base^(offset+len)
	base := func(i int32) float64 { return pow2(float64(i) / pow2(float64(h.scale))) }
	top := h.offset + int32(len(h.counts))
	assert.Less(t, base(top-1), h.max)
	assert.GreaterOrEqual(t, base(top)*(1+1e-9), h.max)
}

func pow2(x float64) float64 { return math.Exp2(x) }

// TestReloadTakesAChangedIntent: in judge mode the connector re-reads its intent file, as the
// processor does: a changed model judges the next calls; a broken file keeps the last good model and
// is reported once.
func TestReloadTakesAChangedIntent(t *testing.T) {
	file := filepath.Join(t.TempDir(), "intent.yaml")
	write := func(text string) { require.NoError(t, os.WriteFile(file, []byte(text), 0o600)) }
	write("version: 1\nservices:\n  frontend: {depends_on: [cart]}\n  cart: {}\n")
	core, logs := observer.New(zap.InfoLevel)
	h := newHarnessLogging(t, func(cfg *Config) { cfg.IntentFile = file }, zap.New(core))
	call := func(id byte) {
		td := ptrace.NewTraces()
		clientSpan(td, "frontend", "cart", id, "")
		require.NoError(t, h.c.ConsumeTraces(context.Background(), td))
	}
	drifting := func() int64 {
		return sumWhere(t, h.flush(t), "drift.calls", map[string]string{"drift.caller": "frontend", "drift.status": "drift"})
	}
	call(1)
	require.Equal(t, int64(0), drifting(), "frontend -> cart is declared")

	write("version: 1\nservices:\n  frontend: {}\n  cart: {}\n")
	h.c.reload(context.Background())
	call(2)
	require.Equal(t, int64(1), drifting(), "frontend -> cart is no longer declared")

	write("version: 1\nservices:\n  frontend: {depends_on: [nowhere]}\n")
	h.c.reload(context.Background())
	h.c.reload(context.Background())
	call(3)
	require.Equal(t, int64(2), drifting(), "the broken file leaves the last good model")
	require.Equal(t, 1, logs.FilterMessage("Intent file reload failed; keeping the last good model").Len(), "reported once")
	require.Equal(t, 1, logs.FilterMessage("Intent model reloaded").Len())
}

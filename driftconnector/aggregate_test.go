package driftconnector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestOverflowHoldsConformingFirst: with room for 10 series, 20 conforming edges and then 8
// drifting ones: every drifting edge keeps its series, and the overflow holds conforming calls only,
// with their durations.
func TestOverflowHoldsConformingFirst(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.MaxSeries = 10
	now := time.Unix(1_700_000_000, 0)
	a := newAggregator(cfg, now)
	for i := 0; i < 20; i++ {
		a.add(call{caller: "web", callee: fmt.Sprint("ok-", i), status: "conforming", duration: time.Millisecond}, now)
	}
	for i := 0; i < 8; i++ {
		a.add(call{caller: "web", callee: fmt.Sprint("bad-", i), status: "drift", kind: "undeclared_dependency", duration: time.Second}, now)
	}
	md := a.flush(now)
	points := metricNamed(t, md, "drift.calls").Sum().DataPoints()
	require.LessOrEqual(t, points.Len(), 10)
	drift := 0
	for i := 0; i < points.Len(); i++ {
		attrs := points.At(i).Attributes()
		if v, ok := attrs.Get("drift.status"); ok && v.Str() == "drift" {
			drift++
		}
		if _, ok := attrs.Get("otel.metric.overflow"); ok {
			assert.Equal(t, int64(20-1), points.At(i).IntValue(), "every conforming call but the one left")
		}
	}
	assert.Equal(t, 8, drift, "every drifting edge keeps its series")
	assert.Equal(t, int64(28), sumWhere(t, md, "drift.calls", nil), "no call is lost")
	assert.Equal(t, int64(19), sumWhere(t, md, "drift.overflow.calls", nil))
	hist := metricNamed(t, md, "drift.call.duration").Histogram().DataPoints()
	var count uint64
	for i := 0; i < hist.Len(); i++ {
		count += hist.At(i).Count()
		if _, ok := hist.At(i).Attributes().Get("otel.metric.overflow"); ok {
			assert.Equal(t, uint64(19), hist.At(i).Count())
			assert.InDelta(t, 19*0.001, hist.At(i).Sum(), 1e-9, "the durations of the folded series came along")
		}
	}
	assert.Equal(t, uint64(28), count)

	// beyond every place, drift goes to the overflow too
	for i := 8; i < 20; i++ {
		a.add(call{caller: "web", callee: fmt.Sprint("bad-", i), status: "drift", kind: "undeclared_dependency"}, now)
	}
	assert.Equal(t, int64(40), sumWhere(t, a.flush(now), "drift.calls", nil))
}

// TestHistogramMerge: merging exponential histograms of other scales and ranges keeps every count
// and a scale at which both fit.
func TestHistogramMerge(t *testing.T) {
	x := histogram{exponential: true, maxSize: 20, scale: 8}
	y := histogram{exponential: true, maxSize: 20, scale: 8}
	for d := time.Microsecond; d < time.Millisecond; d += 13 * time.Microsecond {
		x.add(d)
	}
	for d := time.Second; d < 100*time.Second; d += 3 * time.Second {
		y.add(d)
	}
	y.add(0)
	count, scaleY := x.count+y.count, y.scale
	x.merge(&y)
	var n uint64
	for _, c := range x.counts {
		n += c
	}
	assert.Equal(t, count, x.count)
	assert.Equal(t, x.count, n+x.zero)
	assert.LessOrEqual(t, len(x.counts), 20)
	assert.LessOrEqual(t, x.scale, scaleY)
	assert.Zero(t, x.min, "the zero duration of y is the least")
	assert.Equal(t, scaleY, y.scale, "the merged histogram is left as it was")

	e := newHistogram(&createDefaultConfig().(*Config).Histogram)
	f := newHistogram(&createDefaultConfig().(*Config).Histogram)
	e.add(3 * time.Millisecond)
	f.add(3 * time.Millisecond)
	f.add(20 * time.Second)
	e.merge(&f)
	assert.Equal(t, uint64(3), e.count)
	assert.Equal(t, uint64(2), e.counts[1], "explicit buckets add up")
}

// TestShutdownJudgesWhatWaits: at shutdown, a call still waiting for its partner is judged as if its
// TTL had run out, and sent on with one last flush.
func TestShutdownJudgesWhatWaits(t *testing.T) {
	h := newHarness(t, nil)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "frontend")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(ptrace.SpanKindClient)
	s.SetTraceID(pcommon.TraceID{1})
	s.SetSpanID(pcommon.SpanID{1})
	s.Attributes().PutStr("server.address", "10.0.0.7") // only its server could name the callee
	require.NoError(t, h.c.ConsumeTraces(context.Background(), td))
	require.NoError(t, h.c.Shutdown(context.Background()))
	all := h.sink.AllMetrics()
	require.NotEmpty(t, all, "a last flush at shutdown")
	assert.Equal(t, int64(1), sumWhere(t, all[len(all)-1], "drift.calls", map[string]string{"drift.callee": "10.0.0.7"}))
}

package driftprocessor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

// sp describes one span of a test batch. Ids are small numbers made into real ids.
type sp struct {
	svc    string
	kind   ptrace.SpanKind
	trace  byte
	id     byte
	parent byte // 0: root
	name   string
	attrs  map[string]any
	dur    time.Duration // 0: 1 ms
	status ptrace.StatusCode
}

func traceID(b byte) pcommon.TraceID {
	return pcommon.TraceID{1, b, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
}

// spanID makes an id; 0 makes the empty id.
func spanID(b byte) pcommon.SpanID {
	if b == 0 {
		return pcommon.SpanID{}
	}
	return pcommon.SpanID{9, 9, 9, 9, 9, 9, 9, b}
}

// batch builds traces with one ResourceSpans per span, in the given order.
func batch(spans ...sp) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, s := range spans {
		rs := td.ResourceSpans().AppendEmpty()
		if s.svc != "" {
			rs.Resource().Attributes().PutStr("service.name", s.svc)
		}
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		tr := s.trace
		if tr == 0 {
			tr = 1
		}
		span.SetTraceID(traceID(tr))
		span.SetSpanID(spanID(s.id))
		if s.parent != 0 {
			span.SetParentSpanID(spanID(s.parent))
		}
		span.SetKind(s.kind)
		span.SetName(s.name)
		if s.name == "" {
			span.SetName("op")
		}
		start := pcommon.Timestamp(1_700_000_000_000_000_000)
		span.SetStartTimestamp(start)
		span.SetEndTimestamp(start + pcommon.Timestamp(max(s.dur, time.Millisecond)))
		span.Status().SetCode(s.status)
		if err := span.Attributes().FromRaw(s.attrs); err != nil {
			panic(err)
		}
	}
	return td
}

// harness runs a processor with a controllable clock and a metric reader.
type harness struct {
	t    testing.TB
	p    *driftProcessor
	proc processor.Traces
	sink *consumertest.TracesSink
	tel  *componenttest.Telemetry
	now  atomic.Int64 // unix nanoseconds; the background goroutine reads it
}

func newHarness(t testing.TB, cfg *Config) *harness {
	t.Helper()
	return newHarnessOn(t, cfg, componenttest.NewNopHost())
}

// harnessEpoch is when a harness's clock starts.
var harnessEpoch = time.Unix(1_700_000_000, 0)

// newHarnessOn starts the processor on host (which holds its extensions).
func newHarnessOn(t testing.TB, cfg *Config, host component.Host) *harness {
	t.Helper()
	return newHarnessAt(t, cfg, host, harnessEpoch)
}

// newHarnessAt starts the processor on host with its clock at start.
func newHarnessAt(t testing.TB, cfg *Config, host component.Host, start time.Time) *harness {
	t.Helper()
	return newHarnessLogging(t, cfg, host, start, nil)
}

// newHarnessLogging is newHarnessAt with the processor logging to logger (nil: nowhere). The
// processor starts at start; the clock then moves one pairing TTL on, past the grace after a start
// (in which a server span that nothing pairs is counted unresolved), as a collector that has been
// running a while. newJustStartedHarness does not move it.
func newHarnessLogging(t testing.TB, cfg *Config, host component.Host, start time.Time, logger *zap.Logger) *harness {
	t.Helper()
	h := newJustStartedHarness(t, cfg, host, start, logger)
	h.now.Add(int64(cfg.Pairing.TTL))
	return h
}

// newJustStartedHarness is newHarnessLogging with the clock still at start.
func newJustStartedHarness(t testing.TB, cfg *Config, host component.Host, start time.Time, logger *zap.Logger) *harness {
	t.Helper()
	tel := componenttest.NewTelemetry()
	set := processortest.NewNopSettings(typ)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	if logger != nil {
		set.Logger = logger
	}
	h := &harness{t: t, sink: new(consumertest.TracesSink), tel: tel}
	h.now.Store(start.UnixNano())
	p, err := newDriftProcessorWithClock(set, cfg, func() time.Time { return time.Unix(0, h.now.Load()) })
	require.NoError(t, err)
	h.p = p
	proc, err := createTracesWith(context.Background(), set, cfg, h.sink, p)
	require.NoError(t, err)
	h.proc = proc
	require.NoError(t, proc.Start(context.Background(), host))
	t.Cleanup(func() {
		require.NoError(t, proc.Shutdown(context.Background()))
		require.NoError(t, tel.Shutdown(context.Background()))
	})
	return h
}

func testConfig(intentFile string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.IntentFile = intentFile
	cfg.ReloadInterval = 0
	return cfg
}

func (h *harness) consume(spans ...sp) {
	h.t.Helper()
	require.NoError(h.t, h.proc.ConsumeTraces(context.Background(), batch(spans...)))
}

func (h *harness) consumeTraces(td ptrace.Traces) {
	h.t.Helper()
	require.NoError(h.t, h.proc.ConsumeTraces(context.Background(), td))
}

// gauge returns the value of a float gauge's point whose attributes include want.
func (h *harness) gauge(name string, want map[string]string) float64 {
	h.t.Helper()
	m, err := h.tel.GetMetric(name)
	require.NoError(h.t, err)
	for _, dp := range m.Data.(metricdata.Gauge[float64]).DataPoints {
		match := true
		for k, v := range want {
			got, ok := dp.Attributes.Value(attribute.Key(k))
			match = match && ok && got.AsString() == v
		}
		if match {
			return dp.Value
		}
	}
	h.t.Fatalf("no %s point with %v", name, want)
	return 0
}

// expireAll moves the clock past the longest wait (the TTL and a quarter) and expires what waits.
func (h *harness) expireAll() {
	h.now.Add(int64(2 * h.p.cfg.Pairing.TTL))
	h.p.engine.Expire(h.p.stamper)
}

// span finds the last exported span with id.
func (h *harness) span(id byte) ptrace.Span {
	h.t.Helper()
	var found ptrace.Span
	ok := false
	for _, td := range h.sink.AllTraces() {
		capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
			if s.SpanID() == spanID(id) {
				found, ok = s, true
			}
		})
	}
	require.True(h.t, ok, "span %d was not exported", id)
	return found
}

func (h *harness) attr(id byte, key string) string {
	v, ok := h.span(id).Attributes().Get(key)
	if !ok {
		return ""
	}
	return v.Str()
}

// sum returns the sum of an int counter's points whose attributes include want.
func (h *harness) sum(name string, want map[string]string) int64 {
	h.t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var total int64
	var points []metricdata.DataPoint[int64]
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		points = d.DataPoints
	case metricdata.Gauge[int64]:
		points = d.DataPoints
	}
	for _, dp := range points {
		match := true
		for k, v := range want {
			got, ok := dp.Attributes.Value(attribute.Key(k))
			match = match && ok && got.AsString() == v
		}
		if match {
			total += dp.Value
		}
	}
	return total
}

// labelValues returns every attribute value of the int sum's points.
func (h *harness) labelValues(name string) []string {
	h.t.Helper()
	m, err := h.tel.GetMetric(name)
	require.NoError(h.t, err)
	var out []string
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		for _, kv := range dp.Attributes.ToSlice() {
			out = append(out, kv.Value.AsString())
		}
	}
	return out
}

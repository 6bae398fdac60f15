// Package parity checks that the faces of the verdict engine give the same verdicts for the same
// spans: the drift processor's stamped verdicts and own telemetry against the drift connector's
// metrics, both made through their factories as a collector makes them, on the two real Online
// Boutique minutes, under an intent with expect blocks, a require rule, path rules and a baseline; and driftctl's
// replay of the same files (internal/replay, what `driftctl check` runs) on the same clock.
package parity

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/driftprocessor/driftprocessor/driftconnector"
	"github.com/driftprocessor/driftprocessor/driftprocessor"
	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/replay"
	"github.com/driftprocessor/driftprocessor/internal/report"
	"github.com/driftprocessor/driftprocessor/internal/traffic"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

// verdictKey is what both faces count a call by.
type verdictKey struct{ caller, callee, status, kind string }

// counts are calls by verdict.
type counts map[verdictKey]int64

func (c counts) total() (n int64) {
	for _, v := range c {
		n += v
	}
	return n
}

func (c counts) kinds() map[string]int64 {
	out := map[string]int64{}
	for k, v := range c {
		out[k.status+" "+k.kind] += v
	}
	return out
}

// fakeClock is the one clock both faces read (verdict.Clock), moved by the test.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }
func startClock(t *testing.T) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2022, 8, 23, 17, 0, 0, 0, time.UTC).UnixNano())
	old := verdict.Clock
	verdict.Clock = c.now
	t.Cleanup(func() { verdict.Clock = old })
	return c
}

func parityFile(name string) string { return filepath.Join(capturetest.Dir(), "parity", name) }

const ttl = 100 * time.Millisecond // short: the faces' background ticks come every ttl

func TestFacesGiveTheSameVerdictsOnRealTraffic(t *testing.T) {
	clock := startClock(t)
	ctx := context.Background()

	pf := driftprocessor.NewFactory()
	pcfg := pf.CreateDefaultConfig().(*driftprocessor.Config)
	pcfg.IntentFile, pcfg.BaselineFile, pcfg.Annotate, pcfg.ReloadInterval = parityFile("intent.yaml"), parityFile("baseline.yaml"), driftprocessor.AnnotateAll, 0
	pcfg.Pairing.TTL = ttl
	pcfg.Behavior.MinCalls = 5
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(ctx)) })
	pset := processortest.NewNopSettings(pf.Type())
	pset.TelemetrySettings = tel.NewTelemetrySettings()
	stamped := new(consumertest.TracesSink)
	proc, err := pf.CreateTraces(ctx, pset, pcfg, stamped)
	require.NoError(t, err)

	cf := driftconnector.NewFactory()
	ccfg := cf.CreateDefaultConfig().(*driftconnector.Config)
	ccfg.IntentFile, ccfg.BaselineFile, ccfg.ReloadInterval = pcfg.IntentFile, pcfg.BaselineFile, 0
	ccfg.Pairing, ccfg.Behavior, ccfg.FlushInterval = pcfg.Pairing, pcfg.Behavior, 20*time.Millisecond
	metrics := new(consumertest.MetricsSink)
	conn, err := cf.CreateTracesToMetrics(ctx, connectortest.NewNopSettings(cf.Type()), ccfg, metrics)
	require.NoError(t, err)

	// driftctl's face reads the files themselves, through its readers, on the same clock.
	cli, err := replay.New(replay.Options{IntentFile: pcfg.IntentFile, BaselineFile: pcfg.BaselineFile,
		TTL: ttl, Behavior: pcfg.Behavior, Now: clock.now})
	require.NoError(t, err)

	host := componenttest.NewNopHost()
	require.NoError(t, proc.Start(ctx, host))
	require.NoError(t, conn.Start(ctx, host))
	for _, file := range []string{capturetest.BoutiqueFile(), capturetest.BoutiqueCurrencyFaultFile()} {
		require.NoError(t, traffic.ReadFile(file, traffic.Auto, func(td ptrace.Traces) error { cli.Batch(td); return nil }))
		td, err := capturetest.ReadGzipJSON(file)
		require.NoError(t, err)
		// As in a pipeline [drift] -> connector: the connector sees the spans the processor stamped.
		require.NoError(t, proc.ConsumeTraces(ctx, td))
		require.NoError(t, conn.ConsumeTraces(ctx, stamped.AllTraces()[len(stamped.AllTraces())-1]))
		clock.add(time.Second)
	}
	clock.add(time.Minute) // every waiting call's TTL has run out: the next ticks judge them

	var byProcessor, byConnector counts
	require.Eventually(t, func() bool {
		byProcessor, byConnector = processorCounts(t, tel), connectorCounts(metrics)
		return pending(t, tel) == 0 && byProcessor.total() > 0 && byConnector.total() == byProcessor.total()
	}, 10*time.Second, 20*time.Millisecond, "the faces judged %d and %d calls", byProcessor.total(), byConnector.total())
	require.NoError(t, proc.Shutdown(ctx))
	require.NoError(t, conn.Shutdown(ctx))

	onSpans := stampedCounts(stamped)
	byCLI := reportCounts(cli.Report())
	t.Logf("verdicts by kind: %v", byProcessor.kinds())
	assert.Equal(t, byProcessor, byConnector, "the processor's telemetry and the connector's drift.calls, by caller, callee, status and kind")
	assert.Equal(t, byProcessor, onSpans, "every call was judged on a span of its batch, so the stamped verdicts are the telemetry's")
	assert.Equal(t, byProcessor, byCLI, "driftctl's rows, by caller, callee, status and kind")

	// The intent is written so that each of these shows; a parity of nothing but conforming calls
	// would prove little.
	kinds := byProcessor.kinds()
	for _, want := range []string{"conforming ", "known undeclared_dependency", "drift forbidden_dependency", "drift undeclared_dependency",
		"drift latency_exceeded", "drift fanout_exceeded", "drift missing_waypoint", "drift depth_exceeded"} {
		assert.Positive(t, kinds[want], "no call shows %q", want)
	}
}

// reportCounts reads driftctl's rows.
func reportCounts(r *report.Report) counts {
	out := counts{}
	for _, e := range r.Edges {
		out[verdictKey{e.Caller, e.Callee, e.Status, e.Kind}] += e.Calls
	}
	return out
}

// processorCounts reads the processor's drift.calls.
func processorCounts(t *testing.T, tel *componenttest.Telemetry) counts {
	m, err := tel.GetMetric("drift.calls")
	if err != nil {
		return counts{}
	}
	out := counts{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		get := func(k string) string { v, _ := dp.Attributes.Value(attribute.Key(k)); return v.AsString() }
		out[verdictKey{get(driftconv.AttrCaller), get(driftconv.AttrCallee), get(driftconv.AttrStatus), get(driftconv.AttrKind)}] += dp.Value
	}
	return out
}

func pending(t *testing.T, tel *componenttest.Telemetry) int64 {
	m, err := tel.GetMetric("drift.pairing.pending")
	require.NoError(t, err)
	return m.Data.(metricdata.Gauge[int64]).DataPoints[0].Value
}

// connectorCounts reads the last flush of the connector's drift.calls (cumulative).
func connectorCounts(sink *consumertest.MetricsSink) counts {
	all := sink.AllMetrics()
	out := counts{}
	if len(all) == 0 {
		return out
	}
	rms := all[len(all)-1].ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				if m := ms.At(k); m.Name() == "drift.calls" && m.Type() == pmetric.MetricTypeSum {
					points := m.Sum().DataPoints()
					for p := 0; p < points.Len(); p++ {
						a := points.At(p).Attributes()
						out[verdictKey{str(a, driftconv.AttrCaller), str(a, driftconv.AttrCallee), str(a, driftconv.AttrStatus), str(a, driftconv.AttrKind)}] += points.At(p).IntValue()
					}
				}
			}
		}
	}
	return out
}

// stampedCounts counts the verdicts stamped on the processor's spans (annotate: all).
func stampedCounts(sink *consumertest.TracesSink) counts {
	out := counts{}
	for _, td := range sink.AllTraces() {
		capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
			a := s.Attributes()
			if status := str(a, driftconv.AttrStatus); status != "" {
				out[verdictKey{str(a, driftconv.AttrCaller), str(a, driftconv.AttrCallee), status, str(a, driftconv.AttrKind)}]++
			}
		})
	}
	return out
}

func str(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok {
		return v.AsString()
	}
	return ""
}

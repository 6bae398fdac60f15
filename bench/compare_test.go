// Package bench compares the drift processor's per-span cost with contrib's spanmetricsconnector fed
// the same batches, in the same run. It is a module of its own so that the component's go.mod does
// not carry contrib.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/driftprocessor/driftprocessor/driftconnector"
	"github.com/driftprocessor/driftprocessor/driftprocessor"
	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/synthtest"
)

// BatchSize is the size of the batches both components are fed.
const batchSize = 1000

func newDrift(tb testing.TB, intentFile, annotate string) consumer.Traces {
	return newDriftWith(tb, intentFile, annotate, false)
}

// newDriftWith is newDrift, in whole-trace batch mode (pairing.whole_batches) when whole is set.
func newDriftWith(tb testing.TB, intentFile, annotate string, whole bool) consumer.Traces {
	f := driftprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*driftprocessor.Config)
	cfg.IntentFile = intentFile
	cfg.ReloadInterval = 0
	cfg.Annotate = annotate
	cfg.Pairing.WholeBatches = whole
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	start(tb, p)
	return p
}

func newSpanMetrics(tb testing.TB) consumer.Traces {
	f := spanmetricsconnector.NewFactory()
	c, err := f.CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), consumertest.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	start(tb, c)
	return c
}

func start(tb testing.TB, c component.Component) {
	if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Shutdown(context.Background()) })
}

// syntheticSystem is the realistic case: 200 services, 2,000 declared dependencies.
func syntheticSystem(tb testing.TB, services int) (intentFile string, batches []ptrace.Traces) {
	sys := synthtest.New(services, 10, 42)
	return writeIntent(tb, sys.Intent()), asReceived(tb, sys.Batches(20, batchSize))
}

// boutiqueBatches cuts the real Online Boutique minute into shuffled batches of batchSize spans.
func boutiqueBatches(tb testing.TB) []ptrace.Traces {
	td, err := capturetest.Boutique()
	if err != nil {
		tb.Fatal(err)
	}
	type ref struct {
		res  pcommon.Resource
		span ptrace.Span
	}
	var all []ref
	capturetest.EachSpan(td, func(res pcommon.Resource, s ptrace.Span) { all = append(all, ref{res, s}) })
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var out []ptrace.Traces
	for len(all) > 0 {
		n := min(batchSize, len(all))
		b := ptrace.NewTraces()
		byRes := map[pcommon.Resource]ptrace.SpanSlice{}
		for _, r := range all[:n] {
			ss, ok := byRes[r.res]
			if !ok {
				rs := b.ResourceSpans().AppendEmpty()
				r.res.CopyTo(rs.Resource())
				ss = rs.ScopeSpans().AppendEmpty().Spans()
				byRes[r.res] = ss
			}
			r.span.CopyTo(ss.AppendEmpty())
		}
		out = append(out, b)
		all = all[n:]
	}
	return asReceived(tb, out)
}

// compare feeds both components the same batches in turn (see sideBySide) and reports each one's
// time per span and how many times the drift processor's spanmetricsconnector's is.
func compare(b *testing.B, intentFile string, batches []ptrace.Traces) {
	compareOn(b, intentFile, inTurn(batches))
}

// compareOn is compare with the batches batch hands out, each side fetching its own.
func compareOn(b *testing.B, intentFile string, batch func(i int) ptrace.Traces) {
	sideBySide(b, side{"drift", newDrift(b, intentFile, driftprocessor.AnnotateDrift), batch},
		side{"spanmetrics", newSpanMetrics(b), batch}, "ratio")
}

// alone measures one component: ns/op and allocs/op are per span.
func alone(b *testing.B, c consumer.Traces, batches []ptrace.Traces) { measure(b, c, inTurn(batches)) }

// warmUp is how many batches a component gets before the timer starts: more than any set holds, so
// that maps and caches are at their steady size.
const warmUp = 64

// measure feeds c the batches batch hands out; ns/op and allocs/op are per span.
func measure(b *testing.B, c consumer.Traces, batch func(i int) ptrace.Traces) {
	ctx := context.Background()
	for i := 0; i < warmUp; i++ {
		_ = c.ConsumeTraces(ctx, batch(i))
	}
	b.ReportAllocs()
	runtime.GC() // the set-up's garbage is not the component's cost
	b.ResetTimer()
	spans := 0
	for i := 0; spans < b.N; i++ {
		td := batch(i)
		_ = c.ConsumeTraces(ctx, td)
		spans += td.SpanCount()
	}
}

// received holds batches as a receiver gets them, OTLP protobuf bytes, and unmarshals one afresh for
// each use: a component in a collector meets a batch that the receiver has just written, its memory
// still in the caches, not one of twenty batches that have been cycled through (tens of MB).
type received [][]byte

func receive(tb testing.TB, batches []ptrace.Traces) received {
	var m ptrace.ProtoMarshaler
	out := make(received, len(batches))
	for i, batch := range batches {
		var err error
		if out[i], err = m.MarshalTraces(batch); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func (r received) batch(tb testing.TB, i int) ptrace.Traces {
	var u ptrace.ProtoUnmarshaler
	td, err := u.UnmarshalTraces(r[i%len(r)])
	if err != nil {
		tb.Fatal(err)
	}
	return td
}

// fresh hands out batches unmarshalled afresh for each use, outside the timer.
func (r received) fresh(b *testing.B) func(i int) ptrace.Traces {
	return func(i int) ptrace.Traces {
		b.StopTimer()
		defer b.StartTimer()
		return r.batch(b, i)
	}
}

// evicted is fresh, as a component in a collector meets a batch: just unmarshalled, while the
// component's own state (its model, maps and counters) has been pushed out of the caches by
// everything else the collector did since its last batch (receiving, unmarshalling, exporting,
// collecting garbage). Walking a buffer larger than the caches stands for that, outside the timer.
// In a collector the drift processor costs about twice its warm figure; this makes the benchmarks
// pay for that too (BENCHMARKS.md).
func (r received) evicted(b *testing.B) func(i int) ptrace.Traces {
	return func(i int) ptrace.Traces {
		b.StopTimer()
		defer b.StartTimer()
		evictCaches() // first, so that the batch unmarshalled next is as fresh as in fresh
		return r.batch(b, i)
	}
}

// evictionBuffer is larger than the caches: in a trial on the load generator's batches (500 spans),
// walking 16 MiB left part of the state in them (1.3 times a fresh batch's cost, against 1.75 after
// 64 MiB; three runs each).
var evictionBuffer = make([]byte, 64<<20)

func evictCaches() {
	for i := 0; i < len(evictionBuffer); i += 64 {
		evictionBuffer[i]++
	}
}

// asReceived passes batches through OTLP protobuf once, so that their memory is laid out as a
// receiver lays it out (span after span) rather than as a generator built them (spans of many
// resources allocated in turn, which makes every component slower to walk them).
func asReceived(tb testing.TB, batches []ptrace.Traces) []ptrace.Traces {
	wire := receive(tb, batches)
	out := make([]ptrace.Traces, len(wire))
	for i := range wire {
		out[i] = wire.batch(tb, i)
	}
	return out
}

// Received*: each batch unmarshalled afresh for each use (outside the timer), as a receiver hands it
// over; Evicted*: the same, with the component's own state out of the caches (see evicted).

func BenchmarkEvictedCompareSynthetic(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	compareOn(b, intentFile, receive(b, batches).evicted(b))
}

func BenchmarkEvictedCompareBoutique(b *testing.B) {
	compareOn(b, capturetest.BoutiqueIntent(), receive(b, boutiqueBatches(b)).evicted(b))
}

func BenchmarkEvictedDriftSynthetic(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	measure(b, newDrift(b, intentFile, driftprocessor.AnnotateDrift), receive(b, batches).evicted(b))
}

func BenchmarkEvictedDriftBoutique(b *testing.B) {
	measure(b, newDrift(b, capturetest.BoutiqueIntent(), driftprocessor.AnnotateDrift), receive(b, boutiqueBatches(b)).evicted(b))
}

func BenchmarkReceivedCompareSynthetic(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	compareOn(b, intentFile, receive(b, batches).fresh(b))
}

func BenchmarkReceivedCompareBoutique(b *testing.B) {
	compareOn(b, capturetest.BoutiqueIntent(), receive(b, boutiqueBatches(b)).fresh(b))
}

func BenchmarkReceivedDriftSynthetic(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	measure(b, newDrift(b, intentFile, driftprocessor.AnnotateDrift), receive(b, batches).fresh(b))
}

func BenchmarkReceivedDriftBoutique(b *testing.B) {
	measure(b, newDrift(b, capturetest.BoutiqueIntent(), driftprocessor.AnnotateDrift), receive(b, boutiqueBatches(b)).fresh(b))
}

func BenchmarkReceivedSpanMetricsSynthetic(b *testing.B) {
	_, batches := syntheticSystem(b, 200)
	measure(b, newSpanMetrics(b), receive(b, batches).fresh(b))
}

func BenchmarkReceivedSpanMetricsBoutique(b *testing.B) {
	measure(b, newSpanMetrics(b), receive(b, boutiqueBatches(b)).fresh(b))
}

func BenchmarkCompareSynthetic(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	compare(b, intentFile, batches)
}

func BenchmarkCompareBoutique(b *testing.B) {
	compare(b, capturetest.BoutiqueIntent(), boutiqueBatches(b))
}

func BenchmarkDriftSynthetic(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	alone(b, newDrift(b, intentFile, driftprocessor.AnnotateDrift), batches)
}

// BenchmarkDriftSyntheticParallel: batches consumed by as many goroutines as GOMAXPROCS, as
// several receivers (or batch processors) do; per span, to compare with BenchmarkDriftSynthetic.
func BenchmarkDriftSyntheticParallel(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	p := newDrift(b, intentFile, driftprocessor.AnnotateDrift)
	ctx := context.Background()
	for _, batch := range batches {
		_ = p.ConsumeTraces(ctx, batch)
	}
	var next atomic.Int64
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			// one iteration stands for one span: consume a batch every batchSize iterations
			if i := next.Add(1); i%batchSize == 0 {
				_ = p.ConsumeTraces(ctx, batches[(i/batchSize)%int64(len(batches))])
			}
		}
	})
}

func BenchmarkDriftBoutique(b *testing.B) {
	alone(b, newDrift(b, capturetest.BoutiqueIntent(), driftprocessor.AnnotateDrift), boutiqueBatches(b))
}

func BenchmarkSpanMetricsSynthetic(b *testing.B) {
	_, batches := syntheticSystem(b, 200)
	alone(b, newSpanMetrics(b), batches)
}

func BenchmarkSpanMetricsBoutique(b *testing.B) {
	alone(b, newSpanMetrics(b), boutiqueBatches(b))
}

// TestBatchesConform: the benchmarks measure conforming calls, so every call of their batches must
// conform, and there must be calls to judge.
func TestBatchesConform(t *testing.T) {
	intentFile, synthetic := syntheticSystem(t, 200)
	for name, tc := range map[string]struct {
		intent  string
		batches []ptrace.Traces
		whole   bool
	}{
		"synthetic":                 {intentFile, synthetic, false},
		"synthetic with rules":      {writeIntent(t, synthtest.New(200, 10, 42).Intent()+twentyRules()), synthetic, false},
		"synthetic with path rules": {writeIntent(t, synthtest.New(200, 10, 42).Intent()+twentyPathRules()), synthetic, true},
		"boutique":                  {capturetest.BoutiqueIntent(), boutiqueBatches(t), false},
	} {
		t.Run(name, func(t *testing.T) {
			p := newDriftWith(t, tc.intent, driftprocessor.AnnotateAll, tc.whole)
			judged, drift := 0, 0
			for _, batch := range tc.batches {
				batch = clone(batch)
				if err := p.ConsumeTraces(context.Background(), batch); err != nil {
					t.Fatal(err)
				}
				capturetest.EachSpan(batch, func(_ pcommon.Resource, s ptrace.Span) {
					if v, ok := s.Attributes().Get("drift.status"); ok {
						judged++
						if v.Str() != "conforming" {
							drift++
							t.Logf("%v", s.Attributes().AsRaw())
						}
					}
				})
			}
			if drift != 0 || judged < len(tc.batches)*batchSize/4 {
				t.Fatalf("%d calls judged, %d drifting", judged, drift)
			}
		})
	}
}

func clone(td ptrace.Traces) ptrace.Traces {
	out := ptrace.NewTraces()
	td.CopyTo(out)
	return out
}

func newConnector(tb testing.TB, mode, intentFile string) consumer.Traces {
	f := driftconnector.NewFactory()
	cfg := f.CreateDefaultConfig().(*driftconnector.Config)
	cfg.Mode, cfg.IntentFile = mode, intentFile
	c, err := f.CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	start(tb, c)
	return c
}

// BenchmarkConnectorSynthetic: the connector judging the calls itself.
func BenchmarkConnectorSynthetic(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	alone(b, newConnector(b, driftconnector.ModeJudge, intentFile), batches)
}

// BenchmarkConnectorAfterProcessorSynthetic: the connector reading the verdicts that a processor
// with annotate: all stamped (the batches are stamped once, before the timer).
func BenchmarkConnectorAfterProcessorSynthetic(b *testing.B) {
	intentFile, batches := syntheticSystem(b, 200)
	p := newDrift(b, intentFile, driftprocessor.AnnotateAll)
	for _, batch := range batches {
		_ = p.ConsumeTraces(context.Background(), batch)
	}
	alone(b, newConnector(b, driftconnector.ModeStamped, ""), batches)
}

func BenchmarkConnectorBoutique(b *testing.B) {
	alone(b, newConnector(b, driftconnector.ModeJudge, capturetest.BoutiqueIntent()), boutiqueBatches(b))
}

// BenchmarkModelSize: the per-span cost on the same kind of traffic, with models of 20 to 10,000
// services (10 declared dependencies each).
func BenchmarkModelSize(b *testing.B) {
	for _, n := range []int{20, 200, 2000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			intentFile, batches := syntheticSystem(b, n)
			alone(b, newDrift(b, intentFile, driftprocessor.AnnotateDrift), batches)
		})
	}
}

// BenchmarkModelSizeSameTraffic: the same traffic (among 20 services) judged against models of 20 to
// 10,000 services: what the size of the model costs by itself.
func BenchmarkModelSizeSameTraffic(b *testing.B) {
	for _, n := range []int{20, 200, 2000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			sys := synthtest.New(n, 10, 42)
			alone(b, newDrift(b, writeIntent(b, sys.Intent()), driftprocessor.AnnotateDrift), asReceived(b, sys.BatchesAmong(20, batchSize, 20)))
		})
	}
}

// BenchmarkModelGrowth: processors with models of 20 and of 10,000 services fed in turn, batch by
// batch, so that the machine's noise weighs on both; reports each one's time per span and their
// ratio. "spread": each judges its own system's traffic (10,000 services' traffic touches far more
// resources, edges and series per batch); "same": both judge the same traffic among 20 services.
func BenchmarkModelGrowth(b *testing.B) {
	for _, traffic := range []string{"spread", "same"} {
		b.Run(traffic, func(b *testing.B) {
			small, large := synthtest.New(20, 10, 42), synthtest.New(10_000, 10, 42)
			largeBatches := asReceived(b, large.Batches(20, batchSize))
			if traffic == "same" {
				largeBatches = asReceived(b, large.BatchesAmong(20, batchSize, 20))
			}
			sideBySide(b,
				side{"20", newDrift(b, writeIntent(b, small.Intent()), driftprocessor.AnnotateDrift), inTurn(asReceived(b, small.Batches(20, batchSize)))},
				side{"10000", newDrift(b, writeIntent(b, large.Intent()), driftprocessor.AnnotateDrift), inTurn(largeBatches)}, "growth")
		})
	}
}

// BenchmarkRules: the synthetic system judged with no deny rule and with 20 that its conforming
// traffic never breaks, side by side: what rules cost a conforming call.
func BenchmarkRules(b *testing.B) {
	sys := synthtest.New(200, 10, 42)
	batches := sys.Batches(20, batchSize)
	sideBySide(b, // the same traffic for each, in memory of its own
		side{"0", newDrift(b, writeIntent(b, sys.Intent()), driftprocessor.AnnotateDrift), inTurn(asReceived(b, batches))},
		side{"20", newDrift(b, writeIntent(b, sys.Intent()+twentyRules()), driftprocessor.AnnotateDrift), inTurn(asReceived(b, batches))}, "ratio")
}

// twentyRules are deny rules that the synthetic system's conforming traffic never breaks: calls up
// the layers.
func twentyRules() string {
	var rules strings.Builder
	rules.WriteString("rules:\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&rules, "  - name: rule-%d\n    deny: {from: {layer: l%d}, to: {layer: l%d}}\n", i, 1+i%3, i%3/2)
	}
	return rules.String()
}

// BenchmarkPathRules: the synthetic system in whole-trace batches, judged with no path rule and
// with 20 that its conforming traffic never breaks, side by side: what path rules cost per span
// (the target: at most 1.3 times).
func BenchmarkPathRules(b *testing.B) {
	sys := synthtest.New(200, 10, 42)
	batches := sys.Batches(20, batchSize) // each holds whole traces
	sideBySide(b,
		side{"0", newDriftWith(b, writeIntent(b, sys.Intent()), driftprocessor.AnnotateDrift, true), inTurn(asReceived(b, batches))},
		side{"20", newDriftWith(b, writeIntent(b, sys.Intent()+twentyPathRules()), driftprocessor.AnnotateDrift, true), inTurn(asReceived(b, batches))}, "ratio")
}

// twentyPathRules are path rules of every form that the synthetic system's conforming traffic
// never breaks: it goes down the layers, from a service of the top one, at most four calls deep.
func twentyPathRules() string {
	var p strings.Builder
	p.WriteString("paths:\n")
	for i := 0; i < 8; i++ { // nothing reaches a higher layer, through anything
		fmt.Fprintf(&p, "  - name: deny-%d\n    deny: {from: {layer: l%d}, to: {layer: l%d}, via: {layer: [l1, l2, l3]}}\n", i, 2+i%2, i%2)
	}
	for i := 0; i < 6; i++ { // every request comes through the top layer
		fmt.Fprintf(&p, "  - name: require-%d\n    require: {to: {layer: l%d}, via: {layer: l0}}\n", i, 1+i%3)
	}
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&p, "  - name: depth-%d\n    max_depth: %d\n", i, 6+2*i)
	}
	p.WriteString("  - name: no-cycles\n    cycles: deny\n")
	p.WriteString("  - name: no-cycles-l1\n    cycles: deny\n    services: {layer: l1}\n")
	p.WriteString("  - name: no-cycles-zone\n    cycles: deny\n    services: {zone: zone-00}\n")
	return p.String()
}

type side struct {
	name  string
	c     consumer.Traces
	batch func(i int) ptrace.Traces // the i-th batch it gets
}

// inTurn hands out batches in turn.
func inTurn(batches []ptrace.Traces) func(int) ptrace.Traces {
	return func(i int) ptrace.Traces { return batches[i%len(batches)] }
}

// sideBySide feeds two consumers in turn, batch by batch, each timed, so that the machine's noise
// weighs on both; each goes first half the time, since the one that goes second may find a batch they
// share in the caches. It reports each one's time per span and the second's over the first's.
func sideBySide(b *testing.B, first, second side, ratio string) {
	ctx := context.Background()
	for i := 0; i < warmUp; i++ {
		_ = first.c.ConsumeTraces(ctx, first.batch(i))
		_ = second.c.ConsumeTraces(ctx, second.batch(i))
	}
	var t1, t2 time.Duration
	n1, n2 := 0, 0
	// each batch is fetched just before it is consumed: a fresh one is then as fresh for both
	timed := func(s side, i int, t *time.Duration, n *int) {
		td := s.batch(i)
		t0 := time.Now()
		_ = s.c.ConsumeTraces(ctx, td)
		*t += time.Since(t0)
		*n += td.SpanCount()
	}
	runtime.GC()
	b.ResetTimer()
	for i := 0; n1 < b.N; i++ {
		if i%2 == 0 {
			timed(first, i, &t1, &n1)
			timed(second, i, &t2, &n2)
		} else {
			timed(second, i, &t2, &n2)
			timed(first, i, &t1, &n1)
		}
	}
	b.StopTimer()
	a, c := float64(t1.Nanoseconds())/float64(n1), float64(t2.Nanoseconds())/float64(n2)
	b.ReportMetric(a, "ns/span@"+first.name)
	b.ReportMetric(c, "ns/span@"+second.name)
	b.ReportMetric(c/a, ratio)
	b.ReportMetric(0, "ns/op")
}

func writeIntent(tb testing.TB, text string) string {
	f := filepath.Join(tb.TempDir(), "intent.yaml")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return f
}

// BenchmarkCompile10000: loading and compiling a model of 10,000 services and 100,000 dependencies.
func BenchmarkCompile10000(b *testing.B) {
	text := []byte(synthtest.New(10_000, 10, 1).Intent())
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := intent.LoadBytes("intent.yaml", text); err != nil {
			b.Fatal(err)
		}
	}
}

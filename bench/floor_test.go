package bench

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
)

// Floors: consumers that do a part of what any judge of calls must do, and nothing else. Their time
// per span is a floor under the drift processor's, and bounds what a ratio against
// spanmetricsconnector can be.

// walker reads of each span what any judge of calls must read at least, and does nothing with it:
// its kind, its ids, and the keys of its attributes.
type walker struct{ sink byte }

func (w *walker) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) { w.read(s) })
	return nil
}

func (w *walker) read(s ptrace.Span) {
	w.sink ^= byte(s.Kind()) ^ s.TraceID()[0] ^ s.SpanID()[0] ^ s.ParentSpanID()[0]
	for k := range s.Attributes().All() {
		if k != "" {
			w.sink ^= k[0]
		}
	}
}

func (w *walker) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// pairer is the walker, and pairs the two sides of each call: every client and server span is looked
// up once in a Go map of the sides waiting, and taken from it when its partner waits there, left
// waiting otherwise. That is the least a judge can do whose calls' two sides may arrive in different
// batches (at a gateway, most calls): no lock, bound, expiry, verdict or metric, and nothing kept of a
// waiting side but which side it is.
type pairer struct {
	walker
	waiting map[pairing.Key]bool // true: a client waits
}

func newPairer() *pairer { return &pairer{waiting: map[pairing.Key]bool{}} }

func (p *pairer) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
		p.read(s)
		switch s.Kind() {
		case ptrace.SpanKindClient, ptrace.SpanKindProducer:
			p.meet(pairing.Key{Trace: s.TraceID(), Span: s.SpanID()}, true)
		case ptrace.SpanKindServer, ptrace.SpanKindConsumer:
			if parent := s.ParentSpanID(); !parent.IsEmpty() {
				p.meet(pairing.Key{Trace: s.TraceID(), Span: parent}, false)
			}
		}
	})
	return nil
}

// meet takes the other side of k's call from the map, or leaves this side waiting there.
func (p *pairer) meet(k pairing.Key, client bool) {
	if other, ok := p.waiting[k]; ok && other != client {
		delete(p.waiting, k)
		return
	}
	p.waiting[k] = client
}

func BenchmarkFloorSynthetic(b *testing.B) {
	_, batches := syntheticSystem(b, 200)
	alone(b, &walker{}, batches)
}

func BenchmarkFloorBoutique(b *testing.B) {
	alone(b, &walker{}, boutiqueBatches(b))
}

func BenchmarkPairingFloorBoutique(b *testing.B) {
	alone(b, newPairer(), boutiqueBatches(b))
}

// BenchmarkPairingFloorCompareBoutique: the pairing floor and spanmetricsconnector side by side,
// interleaved (as BenchmarkCompareBoutique) and as in a collector (evicted, as
// BenchmarkEvictedCompareBoutique); "ratio" is how many times cheaper than spanmetricsconnector a
// judge that pairs calls across batches can be at most.
func BenchmarkPairingFloorCompareBoutique(b *testing.B) {
	batches := boutiqueBatches(b)
	b.Run("interleaved", func(b *testing.B) {
		batch := inTurn(batches)
		sideBySide(b, side{"floor", newPairer(), batch}, side{"spanmetrics", newSpanMetrics(b), batch}, "ratio")
	})
	b.Run("evicted", func(b *testing.B) {
		batch := receive(b, batches).evicted(b)
		sideBySide(b, side{"floor", newPairer(), batch}, side{"spanmetrics", newSpanMetrics(b), batch}, "ratio")
	})
}

// TestPairerPairsBoutique: the pairing floor must do the work it stands for, pairing the two sides
// of the Online Boutique's calls across batches; otherwise it would be a floor under nothing. Every
// server span whose client span is in the minute must pair, and nothing else.
func TestPairerPairsBoutique(t *testing.T) {
	batches := boutiqueBatches(t)
	clients := map[pairing.Key]bool{}
	var servers []pairing.Key
	for _, td := range batches {
		capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
			switch s.Kind() {
			case ptrace.SpanKindClient, ptrace.SpanKindProducer:
				clients[pairing.Key{Trace: s.TraceID(), Span: s.SpanID()}] = true
			case ptrace.SpanKindServer, ptrace.SpanKindConsumer:
				if parent := s.ParentSpanID(); !parent.IsEmpty() {
					servers = append(servers, pairing.Key{Trace: s.TraceID(), Span: parent})
				}
			}
		})
	}
	want := 0
	for _, k := range servers {
		if clients[k] {
			want++
		}
	}
	p := newPairer()
	for _, td := range batches {
		_ = p.ConsumeTraces(context.Background(), td)
	}
	paired := (len(clients) + len(servers) - len(p.waiting)) / 2
	t.Logf("%d client spans, %d server spans with a parent, %d calls paired, %d sides waiting",
		len(clients), len(servers), paired, len(p.waiting))
	if want == 0 || paired != want {
		t.Errorf("%d calls paired, %d server spans have their client span in the minute", paired, want)
	}
}

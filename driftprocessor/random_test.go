package driftprocessor

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
)

// bytesReader hands out the bytes of a fuzz input, then zeros.
type bytesReader struct{ data []byte }

func (r *bytesReader) next() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *bytesReader) done() bool { return len(r.data) == 0 }

// text returns a short string made of the next bytes, any bytes at all.
func (r *bytesReader) text() string {
	n := int(r.next() % 12)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(r.next())
	}
	return b.String()
}

var (
	someNames = []string{"frontend", "frontend-proxy", "cart", "checkout", "payment", "currency", "valkey-cart",
		"kafka-orders", "external", "", " ", "frontend.shop.svc.cluster.local", "currency-svc", "bad\xff\xfe",
		strings.Repeat("x", 5000), "oteldemo.CurrencyService", "api.stripe.com"}
	someKeys = []string{"peer.service", "service.peer.name", "server.address", "server.port", "net.peer.name",
		"net.peer.port", "url.full", "http.url", "rpc.service", "rpc.method", "http.route", "http.request.method",
		"db.system.name", "db.system", "db.operation.name", "messaging.system", "messaging.destination.name",
		"drift.status", "drift.kind", "drift.caller", "drift.", "x"}
)

// batchFromBytes builds a batch of spans from arbitrary bytes: services, kinds, ids (colliding,
// empty, looping), and attributes from the vocabulary the processor reads, with hostile values.
func batchFromBytes(data []byte) ptrace.Traces {
	r := &bytesReader{data: data}
	td := ptrace.NewTraces()
	var spans ptrace.SpanSlice
	for n := 0; !r.done() && n < 300; n++ {
		op := r.next()
		if op%5 == 0 || spans == (ptrace.SpanSlice{}) {
			rs := td.ResourceSpans().AppendEmpty()
			if name := r.next(); name%8 != 7 { // sometimes no service.name at all
				rs.Resource().Attributes().PutStr("service.name", pick(r, someNames))
			}
			spans = rs.ScopeSpans().AppendEmpty().Spans()
		}
		s := spans.AppendEmpty()
		s.SetKind(ptrace.SpanKind(r.next() % 6))
		s.SetName(r.text())
		if t := r.next(); t%9 != 0 {
			s.SetTraceID(pcommon.TraceID{1, t % 4})
		}
		s.SetSpanID(pcommon.SpanID{0, 0, 0, 0, 0, 0, 0, r.next() % 32}) // 0: empty; few values: collisions
		s.SetParentSpanID(pcommon.SpanID{0, 0, 0, 0, 0, 0, 0, r.next() % 32})
		s.SetStartTimestamp(pcommon.Timestamp(uint64(r.next()) << 56)) // far past to far future,
		s.SetEndTimestamp(pcommon.Timestamp(uint64(r.next()) << 56))   // ends before starts
		for a := r.next() % 5; a > 0; a-- {
			key := pick(r, someKeys)
			switch r.next() % 4 {
			case 0:
				s.Attributes().PutStr(key, pick(r, someNames))
			case 1:
				s.Attributes().PutStr(key, r.text())
			case 2:
				s.Attributes().PutInt(key, int64(r.next())*37)
			default:
				s.Attributes().PutEmptySlice(key).AppendEmpty().SetStr(r.text())
			}
		}
	}
	return td
}

func pick(r *bytesReader, from []string) string { return from[int(r.next())%len(from)] }

// withoutStamps returns a copy of td without the attributes this processor stamps.
func withoutStamps(td ptrace.Traces) ptrace.Traces {
	out := ptrace.NewTraces()
	td.CopyTo(out)
	capturetest.EachSpan(out, func(_ pcommon.Resource, s ptrace.Span) {
		s.Attributes().RemoveIf(func(k string, _ pcommon.Value) bool { return slices.Contains(driftconv.Stamped, k) })
	})
	return out
}

func spansOf(td ptrace.Traces) (spans []ptrace.Span) {
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) { spans = append(spans, s) })
	return spans
}

// checkSpansUnchanged is the property: every span that goes in comes out, and apart from the
// attributes this processor stamps, unchanged; what it stamps is a bounded string.
func checkSpansUnchanged(t testing.TB, h *harness, td ptrace.Traces) {
	in := ptrace.NewTraces()
	td.CopyTo(in)
	want := withoutStamps(td)
	h.sink.Reset()
	require.NoError(t, h.proc.ConsumeTraces(context.Background(), td))
	got := h.sink.AllTraces()
	require.Len(t, got, 1)
	require.Equal(t, want.SpanCount(), got[0].SpanCount())
	inSpans := spansOf(in)
	for i, s := range spansOf(got[0]) {
		for k, v := range s.Attributes().All() {
			if !slices.Contains(driftconv.Stamped, k) || (v.Type() == pcommon.ValueTypeStr && len(v.Str()) <= 2048) {
				continue
			}
			if before, ok := inSpans[i].Attributes().Get(k); !ok || !before.Equal(v) {
				t.Fatalf("stamped %s is %v", k, v.AsRaw())
			}
		}
	}
	// compared as OTLP bytes: an empty attribute list and none are the same on the wire
	m := &ptrace.ProtoMarshaler{}
	wantBytes, err := m.MarshalTraces(want)
	require.NoError(t, err)
	gotBytes, err := m.MarshalTraces(withoutStamps(got[0]))
	require.NoError(t, err)
	if string(wantBytes) != string(gotBytes) {
		require.Equal(t, want, withoutStamps(got[0])) // shows the difference
	}
}

// TestSpansOutEqualSpansIn checks the property on random batches, through batch after batch so that
// the pairing store carries spans across them.
func TestSpansOutEqualSpansIn(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.Annotate = AnnotateAll
	h := newHarness(t, cfg)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		data := make([]byte, rnd.IntN(3000))
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		checkSpansUnchanged(t, h, batchFromBytes(data))
		if i%50 == 0 {
			h.expireAll()
		}
	}
	h.expireAll()
	require.Equal(t, 0, h.p.engine.Pending())
}

// FuzzProcessor runs the whole processor on batches built from fuzz input and checks the property.
func FuzzProcessor(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte(strings.Repeat("\x05\x02\x03frontend\x01\x01\x02\x04\x00", 20)))
	cfg := testConfig(shopIntent)
	cfg.Annotate = AnnotateAll
	h := newHarness(f, cfg)
	// and with path rules of every kind, in both pairing modes: their walk reads every span's parent
	shop, err := os.ReadFile(shopIntent)
	require.NoError(f, err)
	withPaths := filepath.Join(f.TempDir(), "intent.yaml")
	require.NoError(f, os.WriteFile(withPaths, append(shop, []byte(`paths:
  - {name: p1, deny: {from: frontend, to: "*", via: checkout}}
  - {name: p2, require: {to: payment, via: checkout}}
  - {name: p3, max_depth: 2}
  - {name: p4, cycles: deny}
`)...), 0o600))
	var paths []*harness
	for _, whole := range []bool{false, true} {
		pc := testConfig(withPaths)
		pc.Annotate, pc.Pairing.WholeBatches = AnnotateAll, whole
		paths = append(paths, newHarness(f, pc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, h := range append([]*harness{h}, paths...) {
			checkSpansUnchanged(t, h, batchFromBytes(data))
			if len(data)%7 == 0 {
				h.expireAll()
			}
		}
	})
}

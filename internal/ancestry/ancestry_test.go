package ancestry

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

func model(t testing.TB) *intent.Compiled {
	m, err := intent.LoadBytes("m.yaml", []byte("version: 1\nservices: {a: {}, b: {}, c: {}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tid(n uint64) pcommon.TraceID {
	var id pcommon.TraceID
	binary.LittleEndian.PutUint64(id[:], n+1)
	return id
}

func sid(n uint64) pcommon.SpanID {
	var id pcommon.SpanID
	if n > 0 {
		binary.LittleEndian.PutUint64(id[:], n)
	}
	return id
}

// chainTrace makes trace n: one span per service, each the parent of the next, ids from first.
func chainTrace(td ptrace.Traces, n uint64, first uint64, services ...string) []ptrace.Span {
	var out []ptrace.Span
	for i, svc := range services {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID(tid(n))
		s.SetSpanID(sid(first + uint64(i)))
		if i > 0 {
			s.SetParentSpanID(sid(first + uint64(i) - 1))
		}
		out = append(out, s)
	}
	return out
}

func names(ch []intent.Peer) []string {
	var out []string
	for _, p := range ch {
		out = append(out, p.Name)
	}
	return out
}

// TestChainWithinABatch: consecutive spans of one service are one node; the walk reaches the root.
func TestChainWithinABatch(t *testing.T) {
	m := model(t)
	td := ptrace.NewTraces()
	spans := chainTrace(td, 1, 1, "a", "a", "b", "b", "x", "c")
	var x Index
	x.Build(m, td)
	var w Walker
	ch := w.Chain(m, &x, nil, spans[5], intent.Peer{ID: intent.NoNode, Name: "x"}, m.Peer(m.Lookup("c")))
	if got := names(ch.Nodes); !ch.Complete || len(got) != 4 || got[0] != "a" || got[1] != "b" || got[2] != "x" || got[3] != "c" {
		t.Fatalf("chain %v complete %v", got, ch.Complete)
	}
	if ch.Nodes[2].ID != intent.NoNode || ch.Nodes[0].ID == intent.NoNode {
		t.Error("a name outside the model keeps no id; a node of the model keeps its own")
	}
}

// TestChainAcrossBatches: the store completes a chain whose ancestors came in an earlier batch;
// without them the chain is a part.
func TestChainAcrossBatches(t *testing.T) {
	m := model(t)
	now := time.Unix(1000, 0)
	s := NewStore(Config{MaxTraces: 10, MaxSpans: 100, TTL: time.Minute})
	early, late := ptrace.NewTraces(), ptrace.NewTraces()
	chainTrace(early, 1, 1, "a", "b")
	spans := chainTrace(late, 1, 3, "c")
	spans[0].SetParentSpanID(sid(2))
	var x Index
	x.Build(m, early)
	s.Add(&x, now)
	x.Build(m, late)
	s.Add(&x, now)
	var w Walker
	a, b, c := m.Peer(m.Lookup("a")), m.Peer(m.Lookup("b")), m.Peer(m.Lookup("c"))
	if ch := w.Chain(m, &x, s, spans[0], b, c); !ch.Complete || len(ch.Nodes) != 3 || ch.Nodes[0] != a {
		t.Fatalf("with the store: %v %v", names(ch.Nodes), ch.Complete)
	}
	if ch := w.Chain(m, &x, nil, spans[0], b, c); ch.Complete || len(ch.Nodes) != 2 {
		t.Fatalf("without: %v %v", names(ch.Nodes), ch.Complete)
	}
	s.Expire(now.Add(time.Minute))
	if s.Traces() != 0 {
		t.Error("a trace outlives its TTL")
	}
}

// TestStoreBounds: beyond max_traces or max_spans, the trace seen least recently goes, counted; a
// trace seen again is kept longer; one trace larger than max_spans keeps what fits.
func TestStoreBounds(t *testing.T) {
	m := model(t)
	now := time.Unix(1000, 0)
	s := NewStore(Config{MaxTraces: 3, MaxSpans: 10, TTL: time.Minute})
	var x Index
	add := func(n, first uint64, services ...string) {
		td := ptrace.NewTraces()
		chainTrace(td, n, first, services...)
		x.Build(m, td)
		s.Add(&x, now)
	}
	add(1, 1, "a", "b")
	add(2, 10, "a", "b")
	add(3, 20, "a", "b")
	add(1, 30, "c") // trace 1 is now the newest
	add(4, 40, "a")
	if s.Evicted() != 1 || s.Traces() != 3 {
		t.Fatalf("evicted %d, traces %d", s.Evicted(), s.Traces())
	}
	s.mu.Lock()
	_, kept1 := s.find(fold(tid(1)), 1)
	_, kept2 := s.find(fold(tid(2)), 10)
	s.mu.Unlock()
	if !kept1 || kept2 {
		t.Errorf("trace 2, the least recently seen, should have gone (1 kept %v, 2 kept %v)", kept1, kept2)
	}
	add(5, 50, "a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c") // 12 spans, max 10
	if s.Traces() != 1 || len(s.spans) != 10 {
		t.Errorf("a trace larger than max_spans: %d traces, %d spans", s.Traces(), len(s.spans))
	}
}

// TestWalkIsBounded: parent links that loop end the walk, as a part.
func TestWalkIsBounded(t *testing.T) {
	m := model(t)
	td := ptrace.NewTraces()
	spans := chainTrace(td, 1, 1, "a", "b", "c")
	spans[0].SetParentSpanID(sid(3)) // a loop: 1 -> 3 -> 2 -> 1
	var x Index
	x.Build(m, td)
	var w Walker
	ch := w.Chain(m, &x, nil, spans[2], m.Peer(m.Lookup("c")), intent.Peer{ID: intent.NoNode, Name: "z"})
	if ch.Complete || len(ch.Nodes) > MaxNodes {
		t.Fatalf("%d nodes, complete %v", len(ch.Nodes), ch.Complete)
	}
}

// BenchmarkStoreBytesPerTrace measures the memory the store keeps per trace of 46 spans (the
// Boutique minute's mean): reported as bytes/trace and bytes/span.
func BenchmarkStoreBytesPerTrace(b *testing.B) {
	m := model(b)
	const traces, spansPer = 5000, 46
	services := make([]string, spansPer)
	for i := range services {
		services[i] = []string{"a", "b", "c", "outside-the-model"}[i%4]
	}
	batches := make([]ptrace.Traces, traces)
	for n := range batches {
		batches[n] = ptrace.NewTraces()
		chainTrace(batches[n], uint64(n), uint64(n*spansPer+1), services...)
	}
	var x Index
	var perTrace float64
	for b.Loop() {
		s := NewStore(Config{MaxTraces: traces, MaxSpans: traces * spansPer, TTL: time.Minute})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, td := range batches {
			x.Build(m, td)
			s.Add(&x, time.Unix(0, 0))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perTrace = float64(after.HeapAlloc-before.HeapAlloc) / traces
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perTrace, "bytes/trace")
	b.ReportMetric(perTrace/spansPer, "bytes/span")
}

// FuzzChain walks the chains of spans whose ids, parents and services come from the input: any
// links, loops and repeats included. A walk ends, within its bounds, and begins with the caller's
// ancestors and ends with the callee.
func FuzzChain(f *testing.F) {
	f.Add([]byte{1, 0, 0, 2, 1, 1, 3, 2, 2})
	f.Add([]byte{1, 3, 0, 2, 1, 1, 3, 2, 2})
	f.Add([]byte{1, 1, 0})
	m := model(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		td := ptrace.NewTraces()
		var spans []ptrace.Span
		for i := 0; i+2 < len(data) && i < 3*300; i += 3 {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", []string{"a", "b", "c", "", "q"}[int(data[i+2])%5])
			s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			s.SetTraceID(tid(uint64(data[i+2] >> 7)))
			s.SetSpanID(sid(uint64(data[i])))
			s.SetParentSpanID(sid(uint64(data[i+1])))
			spans = append(spans, s)
		}
		var x Index
		x.Build(m, td)
		s := NewStore(Config{MaxTraces: 2, MaxSpans: 50, TTL: time.Minute})
		s.Add(&x, time.Unix(0, 0))
		var w Walker
		callee := intent.Peer{ID: intent.NoNode, Name: "callee"}
		for _, span := range spans {
			ch := w.Chain(m, &x, s, span, m.Peer(m.Lookup("a")), callee)
			if len(ch.Nodes) < 2 || len(ch.Nodes) > MaxNodes || ch.Nodes[len(ch.Nodes)-1] != callee {
				t.Fatalf("chain %v", names(ch.Nodes))
			}
		}
	})
}

// TestUnnamedServiceEndsTheChain: a span whose resource has no service name is malformed: a chain
// through it ends there, as a part, rather than naming a blank node.
func TestUnnamedServiceEndsTheChain(t *testing.T) {
	m := model(t)
	td := ptrace.NewTraces()
	spans := chainTrace(td, 1, 1, "a", " ", "b")
	var x Index
	x.Build(m, td)
	var w Walker
	ch := w.Chain(m, &x, nil, spans[2], m.Peer(m.Lookup("b")), m.Peer(m.Lookup("c")))
	if got := names(ch.Nodes); ch.Complete || len(got) != 2 || got[0] != "b" {
		t.Fatalf("chain %v complete %v", got, ch.Complete)
	}
}

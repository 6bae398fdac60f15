// Package synthtest makes synthetic systems for benchmarks: an intent model of n services and the
// batches of spans their conforming traffic produces, with the kinds and attributes real
// instrumentations set.
package synthtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// System is a synthetic system: services in four layers, each depending on up to deps-1 services
// below or beside it and on a database of its own: about services*deps declared dependencies.
type System struct {
	Services int
	rnd      *rand.Rand
	deps     [][]int // by service
}

// New makes a system of services services with deps dependencies each.
func New(services, deps int, seed uint64) *System {
	s := &System{Services: services, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b9))}
	s.deps = make([][]int, services)
	for i := range s.deps {
		// the nearest services after it (the same layer or lower), then earlier ones of its layer
		for to := i + 1; to < services && len(s.deps[i]) < deps-1; to++ {
			s.deps[i] = append(s.deps[i], to)
		}
		for to := s.layerStart(i); to < i && len(s.deps[i]) < deps-1; to++ {
			s.deps[i] = append(s.deps[i], to)
		}
	}
	return s
}

func (s *System) layer(i int) int      { return min(3, i*4/s.Services) }
func (s *System) layerStart(i int) int { return (s.layer(i)*s.Services + 3) / 4 }
func name(i int) string                { return fmt.Sprintf("svc-%04d", i) }

// zone groups ten services (and their databases), as teams own them: what the map collapses.
func zone(i int) string { return fmt.Sprintf("zone-%02d", i/10) }

// Intent writes the system's intent model.
func (s *System) Intent() string {
	var b strings.Builder
	b.WriteString("version: 1\nsystem: synthetic\nlayers: [l0, l1, l2, l3, data]\nservices:\n")
	for i := 0; i < s.Services; i++ {
		fmt.Fprintf(&b, "  %s:\n    layer: l%d\n    zone: %s\n    ingress: %v\n    aliases: [%s.svc.cluster.local, \"%s:8080\", synth.%s]\n    depends_on:\n",
			name(i), s.layer(i), zone(i), s.layer(i) == 0, name(i), name(i), strings.ReplaceAll(name(i), "-", "_"))
		for _, d := range s.deps[i] {
			fmt.Fprintf(&b, "      - %s\n", name(d))
		}
		fmt.Fprintf(&b, "      - db-%04d\n", i)
	}
	b.WriteString("resources:\n")
	for i := 0; i < s.Services; i++ {
		fmt.Fprintf(&b, "  db-%04d:\n    kind: database\n    layer: data\n    zone: %s\n    match: {db.system.name: postgresql, db.namespace: db%04d}\n", i, zone(i), i)
	}
	return b.String()
}

// Batches makes n batches of about size spans each: whole traces, each service's spans under its
// own resource, as an agent or gateway receives them.
func (s *System) Batches(n, size int) []ptrace.Traces { return s.BatchesAmong(n, size, s.Services) }

// BatchesAmong is Batches with traffic among the first active services only: the same traffic
// whatever the size of the model, to measure what the model's size costs by itself.
func (s *System) BatchesAmong(n, size, active int) []ptrace.Traces {
	out := make([]ptrace.Traces, 0, n)
	for len(out) < n {
		b := &builder{sys: s, td: ptrace.NewTraces(), resources: map[int]ptrace.SpanSlice{}, active: active}
		for b.spans < size {
			b.trace()
		}
		out = append(out, b.td)
	}
	return out
}

type builder struct {
	sys       *System
	td        ptrace.Traces
	resources map[int]ptrace.SpanSlice
	active    int // services below this one take part
	spans     int
	trace16   pcommon.TraceID
	nextSpan  uint64
}

func (b *builder) slice(svc int) ptrace.SpanSlice {
	if ss, ok := b.resources[svc]; ok {
		return ss
	}
	rs := b.td.ResourceSpans().AppendEmpty()
	a := rs.Resource().Attributes()
	a.PutStr("service.name", name(svc))
	a.PutStr("service.namespace", "synthetic")
	a.PutStr("service.version", "1.4.2")
	a.PutStr("deployment.environment.name", "production")
	a.PutStr("k8s.pod.name", name(svc)+"-7d9f8b6c5-x2x4z")
	a.PutStr("telemetry.sdk.language", "go")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation")
	b.resources[svc] = ss.Spans()
	return ss.Spans()
}

func (b *builder) span(svc int, parent pcommon.SpanID, kind ptrace.SpanKind, name string) ptrace.Span {
	sp := b.slice(svc).AppendEmpty()
	b.nextSpan++
	var id pcommon.SpanID
	for i := 0; i < 8; i++ {
		id[i] = byte(b.nextSpan >> (8 * i))
	}
	id[7] |= 0x80 // never empty
	sp.SetTraceID(b.trace16)
	sp.SetSpanID(id)
	sp.SetParentSpanID(parent)
	sp.SetKind(kind)
	sp.SetName(name)
	sp.SetStartTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000 + b.nextSpan*1000))
	sp.SetEndTimestamp(sp.StartTimestamp() + 500_000)
	a := sp.Attributes()
	a.PutStr("thread.name", "worker-3")
	a.PutInt("code.lineno", 217)
	b.spans++
	return sp
}

// trace makes one request: an ingress server span, then calls down the declared dependencies.
func (b *builder) trace() {
	r := b.sys.rnd
	for i := range b.trace16 {
		b.trace16[i] = byte(r.UintN(256))
	}
	entry := r.IntN(max(1, min(b.active, b.sys.Services/4))) // a service of the top layer
	root := b.span(entry, pcommon.SpanID{}, ptrace.SpanKindServer, "GET /api/v1/orders")
	ra := root.Attributes()
	ra.PutStr("http.request.method", "GET")
	ra.PutStr("http.route", "/api/v1/orders")
	ra.PutStr("url.path", "/api/v1/orders")
	ra.PutInt("http.response.status_code", 200)
	b.calls(entry, root.SpanID(), 3)
}

func (b *builder) calls(svc int, parent pcommon.SpanID, depth int) {
	r := b.sys.rnd
	internal := b.span(svc, parent, ptrace.SpanKindInternal, "handle")
	internal.Attributes().PutStr("component", "handler")
	parent = internal.SpanID()
	if r.IntN(3) == 0 {
		db := b.span(svc, parent, ptrace.SpanKindClient, "SELECT orders")
		a := db.Attributes()
		a.PutStr("db.system.name", "postgresql")
		a.PutStr("db.namespace", fmt.Sprintf("db%04d", svc))
		a.PutStr("db.operation.name", "SELECT")
		a.PutStr("db.query.text", "SELECT id, total FROM orders WHERE customer_id = $1")
		a.PutStr("server.address", "postgres.db.svc.cluster.local")
		a.PutInt("server.port", 5432)
	}
	deps := b.sys.deps[svc]
	if b.active < b.sys.Services {
		deps = slices.DeleteFunc(slices.Clone(deps), func(to int) bool { return to >= b.active })
	}
	if depth == 0 || len(deps) == 0 {
		return
	}
	for n := 1 + r.IntN(2); n > 0; n-- {
		b.call(svc, deps[r.IntN(len(deps))], parent, depth)
	}
}

// call makes a client span in from and the server span in to, in one of three styles.
func (b *builder) call(from, to int, parent pcommon.SpanID, depth int) {
	r := b.sys.rnd
	var client, server ptrace.Span
	switch r.IntN(3) {
	case 0: // gRPC: the client names the service
		method := "GetOrder"
		svc := "synth." + strings.ReplaceAll(name(to), "-", "_")
		client = b.span(from, parent, ptrace.SpanKindClient, svc+"/"+method)
		server = b.span(to, client.SpanID(), ptrace.SpanKindServer, svc+"/"+method)
		for _, sp := range []ptrace.Span{client, server} {
			a := sp.Attributes()
			a.PutStr("rpc.system", "grpc")
			a.PutStr("rpc.service", svc)
			a.PutStr("rpc.method", method)
			a.PutInt("rpc.grpc.status_code", 0)
		}
		client.Attributes().PutStr("server.address", name(to)+".svc.cluster.local")
		client.Attributes().PutInt("server.port", 8080)
	case 1: // HTTP: the client knows an address
		client = b.span(from, parent, ptrace.SpanKindClient, "GET")
		a := client.Attributes()
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.full", "http://"+name(to)+":8080/api/items/42")
		a.PutStr("server.address", name(to))
		a.PutInt("server.port", 8080)
		a.PutInt("http.response.status_code", 200)
		server = b.span(to, client.SpanID(), ptrace.SpanKindServer, "GET /api/items/{id}")
		sa := server.Attributes()
		sa.PutStr("http.request.method", "GET")
		sa.PutStr("http.route", "/api/items/{id}")
		sa.PutStr("url.path", "/api/items/42")
		sa.PutInt("http.response.status_code", 200)
	default: // bare: only pairing names the callee
		client = b.span(from, parent, ptrace.SpanKindClient, "call")
		server = b.span(to, client.SpanID(), ptrace.SpanKindServer, "serve")
	}
	b.calls(to, server.SpanID(), depth-1)
}

// Dependencies lists the declared dependencies between services, as caller and callee names.
func (s *System) Dependencies() [][2]string {
	var out [][2]string
	for i, deps := range s.deps {
		for _, d := range deps {
			out = append(out, [2]string{name(i), name(d)})
		}
	}
	return out
}

// Name is the name of service i.
func Name(i int) string { return name(i) }

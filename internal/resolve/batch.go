package resolve

import (
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
)

// Malformed reasons.
const (
	ReasonNoServiceName = "no_service_name"
	ReasonBadIDs        = "bad_ids"
)

// Sink receives what a batch resolves to.
type Sink interface {
	// Call hands over a call to judge. When stamp is true, span is the span that carries it;
	// otherwise the span has passed already and the call shows in metrics only.
	Call(c judge.Call, span ptrace.Span, stamp bool)
	// Unresolved counts a call whose callee nothing names.
	Unresolved(caller string)
	// Malformed counts a span that cannot be read as a call; it passes untouched.
	Malformed(reason string)
}

// Resolver resolves batches of spans into calls, pairing client and server spans across batches.
// It is safe for concurrent use.
type Resolver struct {
	store   *pairing.Store
	scratch sync.Pool
}

// New returns a resolver whose pairing store keeps at most maxPending waiting spans for ttl.
func New(ttl time.Duration, maxPending int) *Resolver {
	return &Resolver{store: pairing.New(ttl, maxPending), scratch: sync.Pool{New: func() any { return new(scratch) }}}
}

// Pending is the number of spans waiting for their partner.
func (r *Resolver) Pending() int { return r.store.Len() }

// scratch is the per-batch working memory, reused across batches.
type scratch struct {
	callers            []intent.Peer // by resource index
	incoming, outgoing []spanRef
}

// spanRef is a span and the index of its resource in scratch.callers.
type spanRef struct {
	span     ptrace.Span
	resource int
}

// batch is one batch being resolved.
type batch struct {
	r    *Resolver
	m    *intent.Compiled
	now  time.Time
	sink Sink
	s    *scratch
}

// Batch resolves the calls in td. Server spans go first, so that within a batch pairing does not
// depend on span order: a client always finds a server of the same batch.
func (r *Resolver) Batch(m *intent.Compiled, td ptrace.Traces, now time.Time, sink Sink) {
	s := r.scratch.Get().(*scratch)
	b := batch{r: r, m: m, now: now, sink: sink, s: s}
	b.collect(td)
	for _, ref := range s.incoming {
		b.server(ref)
	}
	for _, ref := range s.outgoing {
		b.client(ref)
	}
	clear(s.incoming) // drop references to the batch's spans
	clear(s.outgoing)
	s.callers, s.incoming, s.outgoing = s.callers[:0], s.incoming[:0], s.outgoing[:0]
	r.scratch.Put(s)
}

// collect sorts the spans that take part in calls into incoming and outgoing.
func (b *batch) collect(td ptrace.Traces) {
	s := b.s
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		service := serviceName(rs.Resource().Attributes())
		s.callers = append(s.callers, peerOf(b.m, service, intent.KindService))
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				role := RoleOf(span)
				if role == NoCall {
					continue
				}
				if reason := malformed(span, service); reason != "" {
					b.sink.Malformed(reason)
					continue
				}
				if role == Incoming {
					s.incoming = append(s.incoming, spanRef{span, i})
				} else {
					s.outgoing = append(s.outgoing, spanRef{span, i})
				}
			}
		}
	}
}

func serviceName(attrs pcommon.Map) string {
	if v, ok := attrs.Get("service.name"); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

func malformed(span ptrace.Span, service string) string {
	if span.TraceID().IsEmpty() || span.SpanID().IsEmpty() {
		return ReasonBadIDs
	}
	if strings.TrimSpace(service) == "" {
		return ReasonNoServiceName
	}
	return ""
}

func key(trace pcommon.TraceID, span pcommon.SpanID) pairing.Key {
	return pairing.Key{Trace: trace, Span: span}
}

// server handles a SERVER or CONSUMER span.
func (b *batch) server(ref spanRef) {
	span, service := ref.span, b.s.callers[ref.resource]
	var a attrs
	a.scan(span.Attributes())
	op := a.operation(span.Name())
	parent := span.ParentSpanID()
	if parent.IsEmpty() {
		b.sink.Call(judge.Call{Caller: externalPeer, External: true, Callee: service, Operation: op}, span, true)
		return
	}
	k := key(span.TraceID(), parent)
	e, ok := b.r.store.Take(k)
	switch {
	case ok && e.State == pairing.PendingClient:
		if e.Operation.Structured || !op.Structured {
			op = e.Operation
		}
		b.emit(peerOf(b.m, e.Service, intent.KindService), service, op, span, true)
	case ok && e.State == pairing.JudgedClient:
		// judged on its client span already
	case ok && e.State == pairing.SeenServer:
		// a second server span under one client span: keep the first waiting, count this one
		b.r.store.Put(k, e, b.now, b.expired)
		b.sink.Unresolved(service.Name)
	default:
		b.r.store.Put(k, pairing.Entry{State: pairing.SeenServer, Service: clean.Kept(service.Name), Operation: keepOp(op)}, b.now, b.expired)
	}
}

var externalPeer = intent.Peer{ID: intent.NoNode, Name: intent.External}

// client handles a CLIENT or PRODUCER span (or a database or messaging span of another kind).
func (b *batch) client(ref spanRef) {
	span, caller := ref.span, b.s.callers[ref.resource]
	var a attrs
	a.scan(span.Attributes())
	op := a.operation(span.Name())
	k := key(span.TraceID(), span.SpanID())
	partner, paired := b.r.store.Take(k)
	paired = paired && partner.State == pairing.SeenServer
	if paired && !op.Structured && partner.Operation.Structured {
		op = partner.Operation
	}
	t := a.callee(b.m, span.Attributes())
	// The paired server names the callee first; but a producer's destination, when the model names
	// it, is the callee whatever consumes from it.
	producer := span.Kind() == ptrace.SpanKindProducer
	if paired && (!producer || t.ID == intent.NoNode) {
		b.emit(caller, peerOf(b.m, partner.Service, intent.KindService), op, span, true)
		return
	}
	if t.ID != intent.NoNode {
		callee := b.m.Node(t.ID)
		b.emit(caller, intent.Peer{ID: t.ID, Name: callee.Name, Kind: callee.Kind}, op, span, true)
		if !paired && mayHaveServer(span, callee.Kind) {
			b.r.store.Put(k, pairing.Entry{State: pairing.JudgedClient}, b.now, b.expired)
		}
		return
	}
	b.r.store.Put(k, pairing.Entry{
		State: pairing.PendingClient, Service: clean.Kept(caller.Name), Peer: clean.Kept(t.Fallback),
		PeerKind: uint8(t.Kind), Operation: keepOp(op),
	}, b.now, b.expired)
}

// mayHaveServer tells whether a server (or consumer) span may still come for a judged client span,
// so that it must not be judged again. Databases and external APIs are not instrumented.
func mayHaveServer(span ptrace.Span, kind intent.Kind) bool {
	k := span.Kind()
	return (k == ptrace.SpanKindClient || k == ptrace.SpanKindProducer) && kind != intent.KindDatabase && kind != intent.KindExternal
}

// expired judges an entry whose partner did not come in time, or that was evicted from a full store.
func (b *batch) expired(e pairing.Entry) { expire(b.m, b.sink, e) }

// Expire judges the entries whose partner did not come in time. Their spans have passed: the calls
// show in metrics only.
func (r *Resolver) Expire(m *intent.Compiled, now time.Time, sink Sink) {
	r.store.Expire(now, func(e pairing.Entry) { expire(m, sink, e) })
}

func expire(m *intent.Compiled, sink Sink, e pairing.Entry) {
	switch e.State {
	case pairing.PendingClient:
		if e.Peer == "" {
			sink.Unresolved(e.Service)
			return
		}
		emit(m, sink, peerOf(m, e.Service, intent.KindService), peerOf(m, e.Peer, intent.Kind(e.PeerKind)), e.Operation, ptrace.Span{}, false)
	case pairing.SeenServer: // its parent never came: a call from outside the traced system
		sink.Call(judge.Call{Caller: externalPeer, External: true, Callee: peerOf(m, e.Service, intent.KindService), Operation: e.Operation},
			ptrace.Span{}, false)
	}
}

func (b *batch) emit(caller, callee intent.Peer, op judge.Operation, span ptrace.Span, stamp bool) {
	emit(b.m, b.sink, caller, callee, op, span, stamp)
}

// emit hands over the call caller -> callee; calls within one service are not edges.
func emit(m *intent.Compiled, sink Sink, caller, callee intent.Peer, op judge.Operation, span ptrace.Span, stamp bool) {
	if caller.Name == callee.Name || (caller.ID != intent.NoNode && caller.ID == callee.ID) {
		return
	}
	sink.Call(judge.Call{Caller: caller, Callee: callee, Operation: op}, span, stamp)
}

// peerOf names a peer by the model when it can; kind is used for a peer outside the model.
func peerOf(m *intent.Compiled, name string, kind intent.Kind) intent.Peer {
	if id := m.Lookup(name); id != intent.NoNode {
		n := m.Node(id)
		return intent.Peer{ID: id, Name: n.Name, Kind: n.Kind}
	}
	return intent.Peer{ID: intent.NoNode, Name: name, Kind: kind}
}

// keepOp prepares an operation for the store.
func keepOp(op judge.Operation) judge.Operation {
	op.Name, op.Sep, op.Detail = clean.Kept(op.Name), clean.Kept(op.Sep), clean.Kept(op.Detail)
	return op
}

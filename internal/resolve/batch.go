package resolve

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

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
	Call(c *judge.Call, span ptrace.Span, stamp bool)
	// Unresolved counts a call whose callee nothing names.
	Unresolved(caller string)
	// Malformed counts a span that cannot be read as a call; it passes untouched.
	Malformed(reason string)
}

// Resolver resolves batches of spans into calls, pairing client and server spans across batches.
// It is safe for concurrent use.
type Resolver struct {
	store *pairing.Store
}

// New returns a resolver whose pairing store keeps at most maxPending waiting spans for ttl.
func New(ttl time.Duration, maxPending int) *Resolver {
	return &Resolver{store: pairing.New(ttl, maxPending)}
}

// Pending is the number of spans waiting for their partner.
func (r *Resolver) Pending() int { return r.store.Len() }

// spanRef is a span with its service, for the two passes over a batch.
type spanRef struct {
	span    ptrace.Span
	service string
}

// Batch resolves the calls in td. Server spans go first, so that within a batch pairing does not
// depend on span order: a client always finds a server of the same batch.
func (r *Resolver) Batch(m *intent.Compiled, td ptrace.Traces, now time.Time, sink Sink) {
	var incoming, outgoing []spanRef
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		service := serviceName(rs.Resource().Attributes())
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
					sink.Malformed(reason)
					continue
				}
				if role == Incoming {
					incoming = append(incoming, spanRef{span, service})
				} else {
					outgoing = append(outgoing, spanRef{span, service})
				}
			}
		}
	}
	for _, s := range incoming {
		r.server(m, s, now, sink)
	}
	for _, s := range outgoing {
		r.client(m, s, now, sink)
	}
}

func serviceName(attrs pcommon.Map) string {
	if v, ok := attrs.Get("service.name"); ok && v.Type() == pcommon.ValueTypeStr {
		return Clean(v.Str())
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
func (r *Resolver) server(m *intent.Compiled, s spanRef, now time.Time, sink Sink) {
	parent := s.span.ParentSpanID()
	if parent.IsEmpty() {
		sink.Call(external(m, s.service, s.span), s.span, true)
		return
	}
	k := key(s.span.TraceID(), parent)
	e, ok := r.store.Take(k)
	switch {
	case ok && e.State == pairing.PendingClient:
		op, structured := Operation(s.span)
		if e.OpStructured || !structured {
			op = e.Operation
		}
		r.emit(m, e.Service, peerOf(m, s.service, intent.KindService), op, s.span, true, sink)
	case ok && e.State == pairing.JudgedClient:
		// judged on its client span already
	case ok && e.State == pairing.SeenServer:
		// a second server span under one client span: keep the first waiting, count this one
		r.store.Put(k, e, now, r.expired(m, sink))
		sink.Unresolved(s.service)
	default:
		op, structured := Operation(s.span)
		r.store.Put(k, pairing.Entry{
			State: pairing.SeenServer, Service: strings.Clone(s.service),
			Operation: strings.Clone(Clean(op)), OpStructured: structured,
		}, now, r.expired(m, sink))
	}
}

// client handles a CLIENT or PRODUCER span (or a database or messaging span of another kind).
func (r *Resolver) client(m *intent.Compiled, s spanRef, now time.Time, sink Sink) {
	k := key(s.span.TraceID(), s.span.SpanID())
	partner, paired := r.store.Take(k)
	paired = paired && partner.State == pairing.SeenServer
	op, structured := Operation(s.span)
	if paired && !structured && partner.OpStructured {
		op = partner.Operation
	}
	t := Callee(m, s.span.Attributes())
	// The paired server names the callee first; but a producer's destination, when the model names
	// it, is the callee whatever consumes from it.
	if paired && (s.span.Kind() != ptrace.SpanKindProducer || t.ID == intent.NoNode) {
		r.emit(m, s.service, peerOf(m, partner.Service, intent.KindService), op, s.span, true, sink)
		return
	}
	if t.ID != intent.NoNode {
		callee := m.Node(t.ID)
		r.emit(m, s.service, intent.Peer{ID: t.ID, Name: callee.Name, Kind: callee.Kind}, op, s.span, true, sink)
		if !paired && (s.span.Kind() == ptrace.SpanKindClient || s.span.Kind() == ptrace.SpanKindProducer) {
			r.store.Put(k, pairing.Entry{State: pairing.JudgedClient}, now, r.expired(m, sink))
		}
		return
	}
	r.store.Put(k, pairing.Entry{
		State: pairing.PendingClient, Service: strings.Clone(s.service),
		Peer: strings.Clone(Clean(t.Fallback)), PeerKind: uint8(t.Kind),
		Operation: strings.Clone(Clean(op)), OpStructured: structured,
	}, now, r.expired(m, sink))
}

// Expire judges the entries whose partner did not come in time. Their spans have passed: the calls
// show in metrics only.
func (r *Resolver) Expire(m *intent.Compiled, now time.Time, sink Sink) {
	r.store.Expire(now, r.expired(m, sink))
}

func (r *Resolver) expired(m *intent.Compiled, sink Sink) func(pairing.Entry) {
	return func(e pairing.Entry) {
		switch e.State {
		case pairing.PendingClient:
			if e.Peer == "" {
				sink.Unresolved(e.Service)
				return
			}
			r.emit(m, e.Service, peerOf(m, e.Peer, intent.Kind(e.PeerKind)), e.Operation, ptrace.Span{}, false, sink)
		case pairing.SeenServer: // its parent never came: a call from outside the traced system
			c := &judge.Call{
				Caller: intent.Peer{ID: intent.NoNode, Name: intent.External}, External: true,
				Callee: peerOf(m, e.Service, intent.KindService), Operation: e.Operation,
			}
			sink.Call(c, ptrace.Span{}, false)
		}
	}
}

func external(m *intent.Compiled, service string, span ptrace.Span) *judge.Call {
	op, _ := Operation(span)
	return &judge.Call{
		Caller:   intent.Peer{ID: intent.NoNode, Name: intent.External},
		External: true,
		Callee:   peerOf(m, service, intent.KindService),
		// Clean bounds what a hostile span name would put in labels and attributes.
		Operation: Clean(op),
	}
}

// emit hands over the call caller -> callee; calls within one service are not edges.
func (r *Resolver) emit(m *intent.Compiled, caller string, callee intent.Peer, op string, span ptrace.Span, stamp bool, sink Sink) {
	from := peerOf(m, caller, intent.KindService)
	if from.Name == callee.Name || (from.ID != intent.NoNode && from.ID == callee.ID) {
		return
	}
	sink.Call(&judge.Call{Caller: from, Callee: callee, Operation: Clean(op)}, span, stamp)
}

// peerOf names a peer by the model when it can; kind is used for a peer outside the model.
func peerOf(m *intent.Compiled, name string, kind intent.Kind) intent.Peer {
	if id := m.Lookup(name); id != intent.NoNode {
		n := m.Node(id)
		return intent.Peer{ID: id, Name: n.Name, Kind: n.Kind}
	}
	return intent.Peer{ID: intent.NoNode, Name: name, Kind: kind}
}

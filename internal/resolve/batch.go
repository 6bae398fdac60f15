package resolve

import (
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/ancestry"
	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
	"github.com/driftprocessor/driftprocessor/internal/semconv"
)

// Sink receives what a batch resolves to.
type Sink interface {
	// Call hands over a call to judge. When stamp is true, span is the span that carries it and res
	// its resource; otherwise the span has passed already (res is empty) and the call shows in
	// metrics only. c.Ops is valid only during the call.
	Call(c judge.Call, span ptrace.Span, res pcommon.Resource, stamp bool)
	// Unresolved counts a call that is not judged, with why (driftconv.Unresolved*).
	Unresolved(caller, reason string)
	// Malformed counts a span that cannot be read as a call; it passes untouched.
	Malformed(reason string)
	// Late counts a span whose partner waited out the TTL and was judged without it: the call was
	// judged already, and is not judged again.
	Late()
}

// Resolver resolves batches of spans into calls, pairing client and server spans within a batch
// and, through a bounded store, across batches. It is safe for concurrent use.
type Resolver struct {
	store   *pairing.Store
	scratch sync.Pool
	partial bool
	whole   bool // whole traces in each batch: nothing waits across batches
	owned   ownedKeys
	// graceEnds is one TTL after the start (Options.Start).
	graceEnds time.Time
}

// Options configure a resolver.
type Options struct {
	TTL        time.Duration // how long a span waits for its partner
	MaxPending int           // the most spans that wait at once
	// WholeTraces says whether both sides of every call reach this resolver (a gateway behind a
	// trace-id-aware load balancer, or a single collector); when they do not (a sidecar or an
	// agent), a span whose partner never came is counted as unresolved rather than judged: its
	// partner was most likely seen elsewhere.
	WholeTraces bool
	// Owned are the span attributes the caller stamps on the spans of calls. Any that arrive on such
	// a span were set by something else, and are removed before judging; other attributes, and
	// spans that take part in no call, are left alone. Empty: spans are left as they are (for a
	// consumer that may not change its input, such as a connector).
	Owned []string
	// WholeBatches: each batch holds whole traces; nothing is kept for a later batch (a side that
	// pairs with nothing in its batch is judged at once, and stamped).
	WholeBatches bool
	// Start is when the resolver starts. For one TTL after it, a server span that nothing pairs is
	// counted unresolved (driftconv.UnresolvedClientBeforeStart), not judged as a call from outside:
	// its client span may have reached this collector before a restart. Zero: no such grace.
	Start time.Time
}

// New returns a resolver.
func New(o Options) *Resolver {
	r := &Resolver{store: pairing.New(o.TTL, o.MaxPending), scratch: sync.Pool{New: func() any { return new(scratch) }},
		partial: !o.WholeTraces, whole: o.WholeBatches, owned: newOwnedKeys(o.Owned)}
	if !o.Start.IsZero() {
		r.graceEnds = o.Start.Add(o.TTL)
	}
	return r
}

// Pending is the number of spans waiting for their partner.
func (r *Resolver) Pending() int { return r.store.Len() }

// scratch is the working memory of one batch, reused across batches.
type scratch struct {
	callers   []intent.Peer      // by resource index
	resources []pcommon.Resource // by resource index
	spans     []spanRef          // the spans that take part in calls
	servers   serverIndex        // the batch's server spans with a parent, by parent span id
	ops       opSource
}

// spanRef is a span that takes part in a call.
type spanRef struct {
	span     ptrace.Span
	resource int32
	incoming bool
	paired   bool // consumed by a pairing within the batch
}

// batch is one batch being resolved.
type batch struct {
	r    *Resolver
	m    *intent.Compiled
	now  time.Time
	sink Sink
	s    *scratch
	idx  *ancestry.Index // nil unless the model has path rules
}

// Batch resolves the calls in td. A client finds its server in the same batch first, whatever their
// order; what does not pair within the batch goes through the store. When idx is not nil, every
// span of the batch is indexed in it, in the same pass, before the first call is handed over: the
// path rules walk the chains of calls there.
func (r *Resolver) Batch(m *intent.Compiled, td ptrace.Traces, now time.Time, sink Sink, idx *ancestry.Index) {
	s := r.scratch.Get().(*scratch)
	b := batch{r: r, m: m, now: now, sink: sink, s: s, idx: idx}
	b.collect(td)
	for i := range s.spans {
		if !s.spans[i].incoming {
			b.client(i)
		}
	}
	for i := range s.spans {
		if s.spans[i].incoming && !s.spans[i].paired {
			b.server(&s.spans[i])
		}
	}
	clear(s.spans) // drop references to the batch's spans
	clear(s.resources)
	s.ops = opSource{}
	s.callers, s.spans, s.resources = s.callers[:0], s.spans[:0], s.resources[:0]
	r.scratch.Put(s)
}

// collect lists the spans that take part in calls and indexes the server spans by parent.
func (b *batch) collect(td ptrace.Traces) {
	s := b.s
	rss := td.ResourceSpans()
	// Every resource's service first: the loop is short, so the processor reads several resources
	// from memory at once.
	for i := 0; i < rss.Len(); i++ {
		res := rss.At(i).Resource()
		s.callers = append(s.callers, peerOf(b.m, serviceName(res.Attributes()), intent.KindService))
		s.resources = append(s.resources, res)
	}
	if b.idx != nil {
		b.idx.Reset()
	}
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		// A node of the model has a name that is not blank (the loader refuses one): its bytes, out of
		// the caches when a batch arrives in a collector, need not be read.
		noService := s.callers[i].ID == intent.NoNode && strings.TrimSpace(s.callers[i].Name) == ""
		if b.idx != nil {
			b.idx.Resource(s.callers[i])
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				if b.idx != nil {
					b.idx.Span(span) // every span: any may stand between a call and its trace's root
				}
				role, preset := roleAndPreset(span, &b.r.owned)
				if role == NoCall {
					continue
				}
				if reason := malformed(span, noService); reason != "" {
					b.sink.Malformed(reason) // and passed untouched
					continue
				}
				if preset {
					span.Attributes().RemoveIf(func(k string, _ pcommon.Value) bool { return b.r.owned.has(k) })
					b.sink.Malformed(driftconv.ReasonDriftAttributes)
				}
				s.spans = append(s.spans, spanRef{span: span, resource: int32(i), incoming: role == Incoming})
			}
		}
	}
	if b.idx != nil {
		b.idx.Seal()
	}
	s.servers.reset(len(s.spans))
	for i := range s.spans {
		if ref := &s.spans[i]; ref.incoming {
			if parent := ref.span.ParentSpanID(); !parent.IsEmpty() {
				s.servers.add(parent, int32(i))
			}
		}
	}
}

func serviceName(attrs pcommon.Map) string {
	if v, ok := attrs.Get(semconv.ServiceName); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

func malformed(span ptrace.Span, noService bool) string {
	if span.TraceID().IsEmpty() || span.SpanID().IsEmpty() {
		return driftconv.ReasonBadIDs
	}
	if noService {
		return driftconv.ReasonNoServiceName
	}
	return ""
}

func key(trace pcommon.TraceID, span pcommon.SpanID) pairing.Key {
	return pairing.Key{Trace: trace, Span: span}
}

var externalPeer = intent.Peer{ID: intent.NoNode, Name: intent.External}

// noResource stands for the resource of a span that has passed already; it is only read.
var noResource = pcommon.NewResource()

// client handles a CLIENT or PRODUCER span (or a database or messaging span of another kind).
func (b *batch) client(i int) {
	s := b.s
	ref := &s.spans[i]
	span, caller := ref.span, s.callers[ref.resource]
	srv := s.servers.find(s.spans, span.TraceID(), span.SpanID())
	producer := span.Kind() == ptrace.SpanKindProducer
	if srv >= 0 && !producer { // the usual case: both sides in one batch
		s.spans[srv].paired = true
		s.ops = opSource{first: span, second: s.spans[srv].span, both: true}
		b.emit(caller, s.callers[s.spans[srv].resource], span, ref.resource)
		return
	}
	if srv >= 0 { // a producer and its consumer: the destination is the callee when the model names it
		var a attrs
		a.scan(span.Attributes())
		s.spans[srv].paired = true
		s.ops = opSource{first: span, second: s.spans[srv].span, both: true}
		callee := s.callers[s.spans[srv].resource]
		if t := a.callee(b.m, span.Attributes()); t.ID != intent.NoNode {
			callee = b.m.Peer(t.ID)
		}
		b.emit(caller, callee, span, ref.resource)
		return
	}
	b.clientAcrossBatches(span, ref.resource, caller, producer)
}

// clientAcrossBatches handles a client span whose server is not in the batch: it may have come in an
// earlier batch, come later, or never come. Its attributes are read only when its server has not
// named the callee already.
func (b *batch) clientAcrossBatches(span ptrace.Span, res int32, caller intent.Peer, producer bool) {
	k := key(span.TraceID(), span.SpanID())
	var partner pairing.Entry
	ok := false
	if !b.r.whole { // in a batch of whole traces, nothing waits in the store
		partner, ok = b.r.store.Take(k)
	}
	if ok && partner.State == pairing.Expired {
		b.sink.Late() // its server waited out the TTL and was judged then, as a call from outside
		return
	}
	paired := ok && partner.State == pairing.SeenServer
	emitPaired := func() {
		b.s.ops = opSource{first: span, stored: partner.Operation}
		b.emit(caller, peerOf(b.m, partner.Service, intent.KindService), span, res)
	}
	// The paired server names the callee first; but a producer's destination, when the model names
	// it, is the callee whatever consumes from it.
	if paired && !producer {
		emitPaired()
		return
	}
	var a attrs
	a.scan(span.Attributes())
	t := a.callee(b.m, span.Attributes())
	if paired && t.ID == intent.NoNode {
		emitPaired()
		return
	}
	if callee, named := b.calleeNow(t); named {
		b.s.ops = opSource{first: span}
		b.emit(caller, callee, span, res)
		if !paired && !b.r.whole && mayHaveServer(span, callee.Kind) {
			b.r.store.Put(k, pairing.Entry{State: pairing.JudgedClient}, b.now, b.expired)
		}
		return
	}
	if b.r.whole {
		b.sink.Unresolved(caller.Name, driftconv.UnresolvedNoCallee)
		return
	}
	e := pairing.Entry{
		State: pairing.PendingClient, Service: clean.Storable(caller.Name), Peer: clean.Storable(t.Fallback),
		PeerKind: uint8(t.Kind), Operation: keepOp(a.operation(span.Name())), OpText: span.Name(),
	}
	b.observe(span, &e)
	b.clientWaits(k, &e, span, res, caller)
}

// clientWaits stores a client span to wait for its server, unless its server was stored meanwhile
// by a batch judged at the same time: then the two pair. It is a function of its own, kept out of
// line, so that the frame of clientAcrossBatches, on the path of every call, holds no second entry:
// a deeper stack there made each request's goroutine grow its stack.
//
//go:noinline
func (b *batch) clientWaits(k pairing.Key, e *pairing.Entry, span ptrace.Span, res int32, caller intent.Peer) {
	partner, ok := b.r.store.PutIfAbsent(k, *e, b.now, b.expired)
	switch {
	case !ok:
	case partner.State == pairing.SeenServer:
		b.s.ops = opSource{first: span, stored: partner.Operation}
		b.emit(caller, peerOf(b.m, partner.Service, intent.KindService), span, res)
	case partner.State == pairing.Expired:
		b.sink.Late()
	default: // the mark of a client span judged before under the same id: this one waits instead
		b.r.store.Put(k, *e, b.now, b.expired)
	}
}

// server handles a SERVER or CONSUMER span that found no client in its batch.
func (b *batch) server(ref *spanRef) {
	span, service := ref.span, b.s.callers[ref.resource]
	b.s.ops = opSource{first: span, firstIsServer: true}
	parent := span.ParentSpanID()
	if parent.IsEmpty() {
		b.sink.Call(judge.Call{Caller: externalPeer, External: true, Callee: service, Ops: &b.s.ops}, span, b.s.resources[ref.resource], true)
		return
	}
	if b.r.whole { // its client is not in the batch of its whole trace: it came from outside
		b.sink.Call(judge.Call{Caller: externalPeer, External: true, Callee: service, Ops: &b.s.ops}, span, b.s.resources[ref.resource], true)
		return
	}
	k := key(span.TraceID(), parent)
	e, ok := b.r.store.Take(k)
	if !ok {
		// its client may have come in a batch judged at the same time: then it is found here
		if e, ok = b.serverWaits(k, span, service); !ok {
			return
		}
	}
	switch e.State {
	case pairing.PendingClient:
		b.s.ops = opSource{first: span, stored: e.Operation, storedFirst: true, firstIsServer: true,
			client: clientSeen{duration: e.Duration, failed: e.Failed, seen: true}}
		b.emit(peerOf(b.m, e.Service, intent.KindService), service, span, ref.resource)
	case pairing.JudgedClient:
		// judged on its client span already
	case pairing.Expired:
		b.sink.Late() // its client waited out the TTL and was judged then
	case pairing.SeenServer:
		// a second server span under one client span: keep the first waiting, count this one
		b.r.store.Put(k, e, b.now, b.expired)
		b.sink.Unresolved(service.Name, driftconv.UnresolvedDuplicateServer)
	}
}

// serverWaits stores a server span to wait for its client, unless its client was stored meanwhile:
// then that entry is returned. Out of line, as clientWaits is.
//
//go:noinline
func (b *batch) serverWaits(k pairing.Key, span ptrace.Span, service intent.Peer) (pairing.Entry, bool) {
	mine := pairing.Entry{State: pairing.SeenServer, Service: clean.Storable(service.Name), Operation: keepOp(Operation(span)),
		OpText: span.Name(), Early: b.now.Before(b.r.graceEnds)}
	b.observe(span, &mine)
	return b.r.store.PutIfAbsent(k, mine, b.now, b.expired)
}

// observe keeps in e what behaviour needs of a waiting span, read only when something is expected: a
// call judged when its partner does not come is then judged on this span's latency and error.
func (b *batch) observe(span ptrace.Span, e *pairing.Entry) {
	if b.m.HasExpectations() {
		e.Duration, e.Failed = spanDuration(span), failed(span)
	}
}

// mayHaveServer tells whether a server (or consumer) span may still come for a judged client span,
// so that it must not be judged again. Databases and external APIs are not instrumented.
func mayHaveServer(span ptrace.Span, kind intent.Kind) bool {
	k := span.Kind()
	return (k == ptrace.SpanKindClient || k == ptrace.SpanKindProducer) && kind != intent.KindDatabase && kind != intent.KindExternal
}

// expired judges an entry whose partner did not come in time, or that was evicted from a full store.
func (b *batch) expired(e pairing.Entry) { b.r.expire(b.m, b.sink, e) }

// Expire judges the entries whose partner did not come in time. Their spans have passed: the calls
// show in metrics only.
func (r *Resolver) Expire(m *intent.Compiled, now time.Time, sink Sink) {
	r.store.Expire(now, func(e pairing.Entry) { r.expire(m, sink, e) })
}

// calleeNow names the callee of a client span as it passes, when it can be named without a partner
// span: the node of the model its attributes name; or the unmodelled peer they name, when no server
// span will ever complete the call (an uninstrumented database; any call in a batch of whole traces,
// which holds its server span if there is one).
func (b *batch) calleeNow(t Target) (intent.Peer, bool) {
	switch {
	case t.ID != intent.NoNode:
		return b.m.Peer(t.ID), true
	case t.Fallback != "" && (b.r.whole || t.Kind == intent.KindDatabase):
		return peerOf(b.m, t.Fallback, t.Kind), true
	}
	return intent.Peer{}, false
}

// Drain judges every entry still waiting as if its TTL had run out: at shutdown.
func (r *Resolver) Drain(m *intent.Compiled, sink Sink) {
	r.store.Drain(func(e pairing.Entry) { r.expire(m, sink, e) })
}

func (r *Resolver) expire(m *intent.Compiled, sink Sink, e pairing.Entry) {
	if e.State == pairing.SeenServer && (r.partial || e.Early) {
		reason := driftconv.UnresolvedPartnerElsewhere
		if !r.partial {
			reason = driftconv.UnresolvedClientBeforeStart
		}
		sink.Unresolved(intent.External, reason)
		return
	}
	switch e.State {
	case pairing.PendingClient:
		uninstrumented := intent.Kind(e.PeerKind) == intent.KindDatabase || intent.Kind(e.PeerKind) == intent.KindMessaging
		if e.Peer == "" {
			sink.Unresolved(e.Service, driftconv.UnresolvedNoCallee)
			return
		}
		if r.partial && !uninstrumented {
			sink.Unresolved(e.Service, driftconv.UnresolvedPartnerElsewhere)
			return
		}
		caller, callee := peerOf(m, e.Service, intent.KindService), peerOf(m, e.Peer, intent.Kind(e.PeerKind))
		if !sameService(caller, callee) {
			sink.Call(judge.Call{Caller: caller, Callee: callee, Operation: e.Operation, Ops: kept(m, e)}, ptrace.Span{}, noResource, false)
		}
	case pairing.SeenServer: // its parent never came: a call from outside the traced system
		sink.Call(judge.Call{Caller: externalPeer, External: true, Callee: peerOf(m, e.Service, intent.KindService), Operation: e.Operation,
			Ops: kept(m, e)}, ptrace.Span{}, noResource, false)
	}
}

// keptOps is what a store entry kept of its span, for a call judged when its partner did not come.
type keptOps struct{ e pairing.Entry }

func (o *keptOps) Operation() judge.Operation { return o.e.Operation }

func (o *keptOps) Observe() judge.Observation {
	return judge.Observation{Duration: o.e.Duration, Failed: o.e.Failed}
}

// kept returns what e kept of its span when the model expects anything (entries keep latency and
// error only then), else nil.
func kept(m *intent.Compiled, e pairing.Entry) judge.OperationSource {
	if !m.HasExpectations() {
		return nil
	}
	return &keptOps{e}
}

// emit hands over the call caller -> callee, its operation named by b.s.ops; calls within one
// service are not edges.
func (b *batch) emit(caller, callee intent.Peer, span ptrace.Span, res int32) {
	if sameService(caller, callee) {
		return
	}
	b.sink.Call(judge.Call{Caller: caller, Callee: callee, Ops: &b.s.ops}, span, b.s.resources[res], true)
}

func sameService(a, b intent.Peer) bool {
	if a.ID != intent.NoNode && b.ID != intent.NoNode {
		return a.ID == b.ID // one name per node: no need to compare them
	}
	return a.Name == b.Name
}

// peerOf names a peer by the model when it can; kind is used for a peer outside the model.
func peerOf(m *intent.Compiled, name string, kind intent.Kind) intent.Peer {
	if id := m.Lookup(name); id != intent.NoNode {
		return m.Peer(id)
	}
	return intent.Peer{ID: intent.NoNode, Name: name, Kind: kind}
}

// keepOp prepares an operation for the store.
func keepOp(op judge.Operation) judge.Operation {
	op.Name, op.Sep, op.Detail = clean.Storable(op.Name), clean.Storable(op.Sep), clean.Storable(op.Detail)
	return op
}

// opSource names the operation of a call from its spans, only when asked: the client's (first)
// operation, unless it is only a span name and the server's (second, or stored) is structured.
type opSource struct {
	first, second ptrace.Span
	both          bool
	stored        judge.Operation
	storedFirst   bool // the stored operation is the client's, preferred to first's
	firstIsServer bool // first is a server span (the client is in an earlier batch, or outside)
	client        clientSeen
}

// clientSeen is what an earlier batch's client span showed.
type clientSeen struct {
	duration time.Duration
	failed   bool
	seen     bool
}

func spanDuration(span ptrace.Span) time.Duration {
	return max(0, time.Duration(span.EndTimestamp())-time.Duration(span.StartTimestamp()))
}

// Observe reads what the call's spans showed: latency from the client span when there is one, else
// from the server span; an error on either side.
func (o *opSource) Observe() judge.Observation {
	obs := judge.Observation{Duration: spanDuration(o.first), Failed: failed(o.first) || (o.both && failed(o.second))}
	if o.client.seen { // the latency is the client's, which saw the whole call
		obs.Duration, obs.Failed = o.client.duration, obs.Failed || o.client.failed
	}
	if !o.firstIsServer {
		obs.Trace, obs.Parent = o.first.TraceID(), o.first.ParentSpanID()
		if v, ok := o.first.Attributes().Get(semconv.HTTPRequestResendCount); ok && v.Type() == pcommon.ValueTypeInt {
			obs.Resends = int(v.Int())
		}
	}
	return obs
}

// failed reads a span's status, and where it is unset, its HTTP or gRPC status attributes.
func failed(span ptrace.Span) bool {
	switch span.Status().Code() {
	case ptrace.StatusCodeError:
		return true
	case ptrace.StatusCodeOk:
		return false
	}
	attrs := span.Attributes()
	if v, ok := attrs.Get(semconv.HTTPResponseStatusCode); ok && v.Type() == pcommon.ValueTypeInt && v.Int() >= 500 {
		return true
	}
	if v, ok := attrs.Get(semconv.HTTPStatusCode); ok && v.Type() == pcommon.ValueTypeInt && v.Int() >= 500 {
		return true
	}
	if v, ok := attrs.Get(semconv.RPCGRPCStatusCode); ok && v.Type() == pcommon.ValueTypeInt && v.Int() != 0 {
		return true
	}
	return false
}

func (o *opSource) Operation() judge.Operation {
	if o.storedFirst && o.stored.Structured {
		return o.stored
	}
	op := Operation(o.first)
	if op.Structured {
		return op
	}
	if o.both {
		if other := Operation(o.second); other.Structured {
			return other
		}
	} else if o.stored.Structured {
		return o.stored
	}
	if o.storedFirst && o.stored != (judge.Operation{}) {
		return o.stored
	}
	return op
}

// serverIndex finds a batch's server spans by (trace id, parent span id): open addressing on the
// parent span id, which is random enough to need no hashing.
type serverIndex struct {
	slots []int32 // index into spans, +1; 0 is empty
	ids   []uint64
	mask  uint64
}

func (x *serverIndex) reset(n int) {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	if cap(x.slots) < size {
		x.slots, x.ids = make([]int32, size), make([]uint64, size)
	}
	x.slots, x.ids = x.slots[:size], x.ids[:size]
	clear(x.slots)
	x.mask = uint64(size - 1)
}

func spread(id uint64) uint64 { return id * 0x9E3779B97F4A7C15 >> 17 }

func (x *serverIndex) add(parent pcommon.SpanID, i int32) {
	id := binary.LittleEndian.Uint64(parent[:])
	for h := spread(id) & x.mask; ; h = (h + 1) & x.mask {
		if x.slots[h] == 0 {
			x.slots[h], x.ids[h] = i+1, id
			return
		}
	}
}

// find returns the first server span not yet paired whose parent is span in trace, or -1.
func (x *serverIndex) find(spans []spanRef, trace pcommon.TraceID, span pcommon.SpanID) int {
	id := binary.LittleEndian.Uint64(span[:])
	for h := spread(id) & x.mask; x.slots[h] != 0; h = (h + 1) & x.mask {
		if x.ids[h] != id {
			continue
		}
		i := int(x.slots[h] - 1)
		if !spans[i].paired && spans[i].span.TraceID() == trace {
			return i
		}
	}
	return -1
}

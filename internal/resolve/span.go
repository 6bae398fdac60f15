// Package resolve turns spans into calls: who called whom, with which operation. It reads both old and
// new semantic-convention attribute names and pairs client spans with their server spans.
package resolve

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/semconv"
)

// Role is what a span says about a call.
type Role uint8

// Roles.
const (
	NoCall   Role = iota // internal work
	Outgoing             // CLIENT, PRODUCER, or a database or messaging span of another kind
	Incoming             // SERVER, CONSUMER
)

// RoleOf tells the role of a span. Real instrumentations do not always set the kind of database and
// messaging spans, so their attributes count too.
func RoleOf(span ptrace.Span) Role {
	role, _ := roleAndPreset(span, &ownedKeys{})
	return role
}

// ownedKeys are the attribute names a processor stamps on spans. They share a prefix ("drift."),
// which rules out most keys at their first byte.
type ownedKeys struct {
	prefix string
	first  byte // the prefix's first byte; 0, which starts no key worth looking at, when none
	keys   []string
}

func newOwnedKeys(keys []string) ownedKeys {
	o := ownedKeys{keys: keys}
	if len(keys) > 0 {
		o.prefix = keys[0]
		for _, k := range keys[1:] {
			for !strings.HasPrefix(k, o.prefix) {
				o.prefix = o.prefix[:len(o.prefix)-1]
			}
		}
	}
	if o.prefix != "" {
		o.first = o.prefix[0]
	}
	return o
}

func (o *ownedKeys) has(k string) bool {
	if len(o.keys) == 0 || !strings.HasPrefix(k, o.prefix) {
		return false
	}
	for _, owned := range o.keys {
		if k == owned {
			return true
		}
	}
	return false
}

// roleAndPreset tells the role of a span and whether it carries owned attributes already, in one
// pass over its attributes.
func roleAndPreset(span ptrace.Span, owned *ownedKeys) (role Role, preset bool) {
	switch span.Kind() {
	case ptrace.SpanKindClient, ptrace.SpanKindProducer:
		role = Outgoing
	case ptrace.SpanKindServer, ptrace.SpanKindConsumer:
		role = Incoming
	}
	for k, v := range span.Attributes().All() {
		if k == "" || (k[0] != owned.first && k[0] != 'd' && k[0] != 'm') {
			continue
		}
		if owned.has(k) {
			preset = true
		} else if role == NoCall && (k == semconv.DBSystem || k == semconv.DBSystemName || k == semconv.MessagingSystem) &&
			v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			role = Outgoing
		}
	}
	return role, preset
}

// Attrs reads span attributes as strings, for resource matchers.
type Attrs struct{ M pcommon.Map }

// Get returns the attribute's value as a string. Non-string values are rare in matchers and are
// converted (which allocates).
func (a Attrs) Get(key string) (string, bool) {
	v, ok := a.M.Get(key)
	if !ok {
		return "", false
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str(), true
	}
	return v.AsString(), true
}

// The attributes resolution reads, old and new semantic-convention names.
const (
	servicePeerName = iota
	peerService
	serverAddress
	netPeerName
	urlFull
	httpURL
	rpcService
	rpcMethod
	httpRoute
	urlPath
	httpTarget
	httpRequestMethod
	httpMethod
	dbSystemName
	dbSystem
	dbOperationName
	dbOperation
	messagingSystem
	messagingDestinationName
	messagingDestination
	messagingOperationName
	messagingOperationType
	messagingOperation
	numAttrs
)

func attrIndex(key string) int {
	switch key {
	case semconv.ServicePeerName:
		return servicePeerName
	case semconv.PeerService:
		return peerService
	case semconv.ServerAddress:
		return serverAddress
	case semconv.NetPeerName:
		return netPeerName
	case semconv.URLFull:
		return urlFull
	case semconv.HTTPURL:
		return httpURL
	case semconv.RPCService:
		return rpcService
	case semconv.RPCMethod:
		return rpcMethod
	case semconv.HTTPRoute:
		return httpRoute
	case semconv.URLPath:
		return urlPath
	case semconv.HTTPTarget:
		return httpTarget
	case semconv.HTTPRequestMethod:
		return httpRequestMethod
	case semconv.HTTPMethod:
		return httpMethod
	case semconv.DBSystemName:
		return dbSystemName
	case semconv.DBSystem:
		return dbSystem
	case semconv.DBOperationName:
		return dbOperationName
	case semconv.DBOperation:
		return dbOperation
	case semconv.MessagingSystem:
		return messagingSystem
	case semconv.MessagingDestinationName:
		return messagingDestinationName
	case semconv.MessagingDestination:
		return messagingDestination
	case semconv.MessagingOperationName:
		return messagingOperationName
	case semconv.MessagingOperationType:
		return messagingOperationType
	case semconv.MessagingOperation:
		return messagingOperation
	}
	return -1
}

// attrs holds the attributes resolution reads, found in one pass over a span's attributes.
type attrs struct {
	v                       [numAttrs]string
	serverPort, netPeerPort int64
}

// interesting marks the first bytes of the keys attrIndex knows, so that most other keys are skipped
// with one load.
var interesting = func() (t [256]bool) {
	for _, c := range "spnuhrdm" {
		t[c] = true
	}
	return t
}()

func (a *attrs) scan(m pcommon.Map) {
	for k, v := range m.All() {
		if k == "" || !interesting[k[0]] {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeStr:
			if i := attrIndex(k); i >= 0 {
				a.v[i] = v.Str()
			} else if k == semconv.ServerPort {
				a.serverPort = parsePort(v.Str())
			} else if k == semconv.NetPeerPort {
				a.netPeerPort = parsePort(v.Str())
			}
		case pcommon.ValueTypeInt:
			switch k {
			case semconv.ServerPort:
				a.serverPort = v.Int()
			case semconv.NetPeerPort:
				a.netPeerPort = v.Int()
			}
		}
	}
}

// first returns the first non-empty of the attributes at indexes.
func (a *attrs) first(indexes ...int) string {
	for _, i := range indexes {
		if a.v[i] != "" {
			return a.v[i]
		}
	}
	return ""
}

func parsePort(s string) int64 {
	var p int64
	if s == "" || len(s) > 5 {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		p = p*10 + int64(s[i]-'0')
	}
	return p
}

// urlHost returns the host and port of an absolute URL without allocating.
func urlHost(u string) (string, int64) {
	i := strings.Index(u, "://")
	if i < 0 {
		return "", 0
	}
	rest := u[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	if j := strings.LastIndexByte(rest, '@'); j >= 0 {
		rest = rest[j+1:]
	}
	if strings.HasPrefix(rest, "[") { // IPv6 literal
		if j := strings.IndexByte(rest, ']'); j >= 0 {
			return rest[1:j], parsePort(strings.TrimPrefix(rest[j+1:], ":"))
		}
		return rest, 0
	}
	if j := strings.LastIndexByte(rest, ':'); j >= 0 {
		return rest[:j], parsePort(rest[j+1:])
	}
	return rest, 0
}

// urlPath returns the path of an absolute URL, without query or fragment ("/" when it has none).
func urlPathOf(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return ""
	}
	rest := u[i+3:]
	j := strings.IndexByte(rest, '/')
	if j < 0 {
		return "/"
	}
	path := rest[j:]
	if k := strings.IndexAny(path, "?#"); k >= 0 {
		path = path[:k]
	}
	return path
}

// Target is the callee of an outgoing span as its attributes name it.
type Target struct {
	ID       intent.NodeID // the node of the model they name, or NoNode
	Fallback string        // otherwise, the name of the unmodelled peer; "" when nothing names it
	Kind     intent.Kind   // what the attributes suggest the peer is
}

// callee names the callee of an outgoing span from its attributes, in the design's order: peer
// service, then aliases against addresses, then resource matchers.
func (a *attrs) callee(m *intent.Compiled, span pcommon.Map) Target {
	t := Target{ID: intent.NoNode, Kind: a.peerKind()}
	peer := a.first(servicePeerName, peerService)
	if peer != "" {
		if t.ID = m.Lookup(peer); t.ID != intent.NoNode {
			return t
		}
	}
	if addr := a.v[serverAddress]; addr != "" {
		if t.ID = m.LookupAddr(addr, a.serverPort); t.ID != intent.NoNode {
			return t
		}
	}
	if name := a.v[netPeerName]; name != "" {
		if t.ID = m.LookupAddr(name, a.netPeerPort); t.ID != intent.NoNode {
			return t
		}
	}
	host := ""
	if u := a.first(urlFull, httpURL); u != "" {
		var port int64
		host, port = urlHost(u)
		if host != "" {
			if t.ID = m.LookupAddr(host, port); t.ID != intent.NoNode {
				return t
			}
		}
	}
	if rpc := a.v[rpcService]; rpc != "" {
		if t.ID = m.Lookup(rpc); t.ID != intent.NoNode {
			return t
		}
	}
	if t.ID = intent.MatchResource(m, Attrs{span}); t.ID != intent.NoNode {
		return t
	}
	t.Fallback = firstNonEmpty(peer, a.first(dbSystemName, dbSystem), a.first(messagingDestinationName, messagingDestination),
		a.v[serverAddress], a.v[netPeerName], host)
	return t
}

// Callee names the callee of an outgoing span from its attributes.
func Callee(m *intent.Compiled, span ptrace.Span) Target {
	var a attrs
	a.scan(span.Attributes())
	return a.callee(m, span.Attributes())
}

func (a *attrs) peerKind() intent.Kind {
	switch {
	case a.v[dbSystemName] != "" || a.v[dbSystem] != "":
		return intent.KindDatabase
	case a.v[messagingSystem] != "":
		return intent.KindMessaging
	}
	return intent.KindUnknown
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// operation names what a span did: rpc service/method; HTTP method and route (or, on a client,
// which knows no route, the path of its URL); database operation; messaging operation and
// destination; else the span name.
func (a *attrs) operation(spanName string) judge.Operation {
	if svc, method := a.v[rpcService], a.v[rpcMethod]; svc != "" && method != "" {
		return judge.Operation{Name: svc, Sep: "/", Detail: method, Structured: true}
	}
	if route := a.route(); route != "" {
		if method := a.first(httpRequestMethod, httpMethod); method != "" {
			return judge.Operation{Name: method, Sep: " ", Detail: route, Structured: true}
		}
		return judge.Operation{Name: route, Structured: true}
	}
	if op := a.first(dbOperationName, dbOperation); op != "" {
		return judge.Operation{Name: op, Structured: true}
	}
	if op := a.first(messagingOperationName, messagingOperationType, messagingOperation); op != "" {
		if dest := a.first(messagingDestinationName, messagingDestination); dest != "" {
			return judge.Operation{Name: op, Sep: " ", Detail: dest, Structured: true}
		}
		return judge.Operation{Name: op, Structured: true}
	}
	return judge.Op(spanName)
}

// Operation names what a span did.
func Operation(span ptrace.Span) judge.Operation {
	var a attrs
	a.scan(span.Attributes())
	return a.operation(span.Name())
}

// route is the route of a server span, or the path of a client span's URL: "/cart/{id}" on the
// server is "/cart/42" on the client, which an operation glob can match.
func (a *attrs) route() string {
	if r := a.first(httpRoute, urlPath); r != "" {
		return r
	}
	if u := a.first(urlFull, httpURL); u != "" {
		return urlPathOf(u)
	}
	if target := a.v[httpTarget]; target != "" {
		path, _, _ := strings.Cut(target, "?")
		return path
	}
	return ""
}

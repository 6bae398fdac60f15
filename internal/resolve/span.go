// Package resolve turns spans into calls: who called whom, with which operation. It reads both old and
// new semantic-convention attribute names and pairs client spans with their server spans.
package resolve

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// MaxNameLen bounds a name taken from span data.
const MaxNameLen = 256

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
	switch span.Kind() {
	case ptrace.SpanKindClient, ptrace.SpanKindProducer:
		return Outgoing
	case ptrace.SpanKindServer, ptrace.SpanKindConsumer:
		return Incoming
	}
	attrs := span.Attributes()
	for _, k := range [...]string{"db.system.name", "db.system", "messaging.system"} {
		if _, ok := attrs.Get(k); ok {
			return Outgoing
		}
	}
	return NoCall
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

// first returns the first of keys present as a non-empty string.
func first(attrs pcommon.Map, keys ...string) string {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			return v.Str()
		}
	}
	return ""
}

func port(attrs pcommon.Map, keys ...string) int64 {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			switch v.Type() {
			case pcommon.ValueTypeInt:
				return v.Int()
			case pcommon.ValueTypeStr:
				return parsePort(v.Str())
			}
		}
	}
	return 0
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

// Target is the callee of an outgoing span as its attributes name it.
type Target struct {
	ID       intent.NodeID // the node of the model they name, or NoNode
	Fallback string        // otherwise, the name of the unmodelled peer; "" when nothing names it
	Kind     intent.Kind   // what the attributes suggest the peer is
}

// Callee names the callee of an outgoing span from its attributes, in the design's order: peer service,
// then aliases against addresses, then resource matchers.
func Callee(m *intent.Compiled, attrs pcommon.Map) Target {
	t := Target{ID: intent.NoNode, Kind: peerKind(attrs)}
	peer := first(attrs, "service.peer.name", "peer.service")
	if peer != "" {
		if t.ID = m.Lookup(peer); t.ID != intent.NoNode {
			return t
		}
	}
	addr := first(attrs, "server.address")
	if addr != "" {
		if t.ID = m.LookupAddr(addr, port(attrs, "server.port")); t.ID != intent.NoNode {
			return t
		}
	}
	netPeer := first(attrs, "net.peer.name")
	if netPeer != "" {
		if t.ID = m.LookupAddr(netPeer, port(attrs, "net.peer.port")); t.ID != intent.NoNode {
			return t
		}
	}
	urlHostName := ""
	if u := first(attrs, "url.full", "http.url"); u != "" {
		h, p := urlHost(u)
		urlHostName = h
		if h != "" {
			if t.ID = m.LookupAddr(h, p); t.ID != intent.NoNode {
				return t
			}
		}
	}
	if rpc := first(attrs, "rpc.service"); rpc != "" {
		if t.ID = m.Lookup(rpc); t.ID != intent.NoNode {
			return t
		}
	}
	if t.ID = intent.MatchResource(m, Attrs{attrs}); t.ID != intent.NoNode {
		return t
	}
	t.Fallback = firstNonEmpty(peer,
		first(attrs, "db.system.name", "db.system"),
		first(attrs, "messaging.destination.name", "messaging.destination"),
		addr, netPeer, urlHostName)
	return t
}

func peerKind(attrs pcommon.Map) intent.Kind {
	if first(attrs, "db.system.name", "db.system") != "" {
		return intent.KindDatabase
	}
	if first(attrs, "messaging.system") != "" {
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

// Operation names what a span did: rpc service/method, HTTP method and route, database operation,
// messaging operation and destination, else the span name. structured is false for the span name.
func Operation(span ptrace.Span) (op string, structured bool) {
	attrs := span.Attributes()
	if svc, method := first(attrs, "rpc.service"), first(attrs, "rpc.method"); svc != "" && method != "" {
		return svc + "/" + method, true
	}
	if route := httpRoute(attrs); route != "" {
		if method := first(attrs, "http.request.method", "http.method"); method != "" {
			return method + " " + route, true
		}
		return route, true
	}
	if op := first(attrs, "db.operation.name", "db.operation"); op != "" {
		return op, true
	}
	if op := first(attrs, "messaging.operation.name", "messaging.operation.type", "messaging.operation"); op != "" {
		if dest := first(attrs, "messaging.destination.name", "messaging.destination"); dest != "" {
			return op + " " + dest, true
		}
		return op, true
	}
	return span.Name(), false
}

// httpRoute is the route of a server span, or the path of a client span's URL (clients know no
// route): "/cart/{id}" on the server is "/cart/42" on the client, which an operation glob can match.
func httpRoute(attrs pcommon.Map) string {
	if route := first(attrs, "http.route"); route != "" {
		return route
	}
	if path := first(attrs, "url.path"); path != "" {
		return path
	}
	if u := first(attrs, "url.full", "http.url"); u != "" {
		return urlPath(u)
	}
	if target := first(attrs, "http.target"); target != "" {
		path, _, _ := strings.Cut(target, "?")
		return path
	}
	return ""
}

// urlPath returns the path of an absolute URL, without query or fragment ("/" when it has none).
func urlPath(u string) string {
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

// Clean bounds a name taken from span data in length and makes it valid UTF-8.
func Clean(s string) string {
	if len(s) > MaxNameLen {
		cut := MaxNameLen
		for cut > 0 && !utf8.RuneStart(s[cut]) { // cut on a rune boundary
			cut--
		}
		s = s[:cut]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

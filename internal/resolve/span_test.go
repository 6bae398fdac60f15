package resolve

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestURLHost(t *testing.T) {
	tests := []struct {
		url, host string
		port      int64
	}{
		{"http://cart:7070/items?x=1", "cart", 7070},
		{"https://api.stripe.com/v1/charges", "api.stripe.com", 0},
		{"https://user:pw@example.com:8443#frag", "example.com", 8443},
		{"http://[::1]:8080/x", "::1", 8080},
		{"not a url", "", 0},
		{"http://host:notaport/", "host", 0},
	}
	for _, tt := range tests {
		h, p := urlHost(tt.url)
		if h != tt.host || p != tt.port {
			t.Errorf("%s: %q %d, want %q %d", tt.url, h, p, tt.host, tt.port)
		}
	}
}

func TestOperation(t *testing.T) {
	tests := []struct {
		name       string
		attrs      map[string]any
		want       string
		structured bool
	}{
		{"rpc", map[string]any{"rpc.service": "a.Svc", "rpc.method": "Get"}, "a.Svc/Get", true},
		{"http new", map[string]any{"http.request.method": "GET", "http.route": "/cart/{id}"}, "GET /cart/{id}", true},
		{"http old", map[string]any{"http.method": "POST", "http.route": "/pay"}, "POST /pay", true},
		{"http client: the URL's path", map[string]any{"http.request.method": "POST", "url.full": "http://checkout:8080/checkout?id=3"}, "POST /checkout", true},
		{"http client, old names", map[string]any{"http.method": "GET", "http.url": "http://cart"}, "GET /", true},
		{"http server: url.path", map[string]any{"http.request.method": "GET", "url.path": "/x"}, "GET /x", true},
		{"http server: http.target", map[string]any{"http.method": "GET", "http.target": "/y?z=1"}, "GET /y", true},
		{"db new", map[string]any{"db.operation.name": "SELECT"}, "SELECT", true},
		{"db old", map[string]any{"db.operation": "INSERT"}, "INSERT", true},
		{"messaging", map[string]any{"messaging.operation.name": "publish", "messaging.destination.name": "orders"}, "publish orders", true},
		{"span name", map[string]any{"http.method": "GET"}, "span-name", false},
	}
	for _, tt := range tests {
		s := ptrace.NewSpan()
		s.SetName("span-name")
		_ = s.Attributes().FromRaw(tt.attrs)
		op := Operation(s)
		if op.String() != tt.want || op.Structured != tt.structured {
			t.Errorf("%s: %+v", tt.name, op)
		}
	}
}

func TestRoleOf(t *testing.T) {
	for _, tt := range []struct {
		kind  ptrace.SpanKind
		attrs map[string]any
		want  Role
	}{
		{ptrace.SpanKindClient, nil, Outgoing},
		{ptrace.SpanKindProducer, nil, Outgoing},
		{ptrace.SpanKindServer, nil, Incoming},
		{ptrace.SpanKindConsumer, map[string]any{"messaging.system": "kafka"}, Incoming},
		{ptrace.SpanKindInternal, nil, NoCall},
		{ptrace.SpanKindInternal, map[string]any{"db.system": "redis"}, Outgoing},
		{ptrace.SpanKindUnspecified, map[string]any{"db.system.name": "redis"}, Outgoing},
	} {
		s := ptrace.NewSpan()
		s.SetKind(tt.kind)
		_ = s.Attributes().FromRaw(tt.attrs)
		if got := RoleOf(s); got != tt.want {
			t.Errorf("%v %v: %v, want %v", tt.kind, tt.attrs, got, tt.want)
		}
	}
}

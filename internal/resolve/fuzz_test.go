package resolve

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

const fuzzModel = `version: 1
services:
  web: {aliases: ["web:8080", web.local], depends_on: [api]}
  api: {depends_on: [{to: db, operations: ["SELECT*"]}]}
resources:
  db: {kind: database, match: {db.system.name: "postgres*"}}
`

// FuzzResolve: span-to-call resolution takes any attributes without panicking, and what it names is
// a node of the model or a peer named by the span.
func FuzzResolve(f *testing.F) {
	m, err := intent.LoadBytes("m.yaml", []byte(fuzzModel))
	if err != nil {
		f.Fatal(err)
	}
	keys := []string{"peer.service", "service.peer.name", "server.address", "server.port", "net.peer.name", "net.peer.port",
		"url.full", "http.url", "rpc.service", "rpc.method", "http.route", "url.path", "http.target", "http.request.method",
		"db.system.name", "db.system", "db.operation.name", "messaging.system", "messaging.destination.name", "messaging.operation.name"}
	f.Add(uint8(2), "server.address", "web", "server.port", "8080", "name")
	f.Add(uint8(2), "url.full", "http://[::1", "http.url", "https://u@web.local:99999999999/x?y#z", "")
	f.Add(uint8(0), "db.system.name", "postgresql", "db.operation.name", "SELECT", "q")
	f.Fuzz(func(t *testing.T, kind uint8, k1, v1, k2, v2, name string) {
		span := ptrace.NewSpan()
		span.SetKind(ptrace.SpanKind(kind % 6))
		span.SetName(name)
		span.Attributes().PutStr(k1, v1)
		span.Attributes().PutStr(k2, v2)
		for i, k := range keys { // the known keys too, so that every branch is reached
			if int(kind)%len(keys) == i {
				span.Attributes().PutStr(k, v1)
			}
		}
		RoleOf(span)
		op := Operation(span)
		_ = op.String()
		target := Callee(m, span)
		if target.ID != intent.NoNode && int(target.ID) >= m.NumNodes() {
			t.Fatalf("callee id %d outside the model", target.ID)
		}
		if target.ID == intent.NoNode && target.Fallback != "" && !strings.Contains(v1+v2, target.Fallback) &&
			!strings.Contains(k1+k2, "url") && !strings.Contains(target.Fallback, "web") {
			t.Fatalf("fallback %q is not from the span", target.Fallback)
		}
	})
}

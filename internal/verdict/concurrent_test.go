package verdict

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// edgeCount is an Output, safe for concurrent batches, that counts judged calls by edge.
type edgeCount struct {
	mu    sync.Mutex
	edges map[string]int
}

func (c *edgeCount) Judged(j *Judged) {
	c.mu.Lock()
	c.edges[j.Call.Caller.Name+" -> "+j.Call.Callee.Name+" "+j.Verdict.Status().String()]++
	c.mu.Unlock()
}
func (*edgeCount) Unresolved(string, string) {}
func (*edgeCount) Malformed(string)          {}

// half is one side of call i: the client span of web, or the server span of cart under it. The
// client names no peer, so only its server can say who was called.
func half(i int, server bool) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	var trace [16]byte
	binary.BigEndian.PutUint64(trace[8:], uint64(i)+1)
	client := [8]byte{1}
	binary.BigEndian.PutUint32(client[4:], uint32(i))
	s.SetTraceID(trace)
	s.SetName("GET /cart")
	if server {
		rs.Resource().Attributes().PutStr("service.name", "cart")
		s.SetKind(ptrace.SpanKindServer)
		s.SetParentSpanID(client)
		s.SetSpanID([8]byte{2, 0, 0, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
	} else {
		rs.Resource().Attributes().PutStr("service.name", "web")
		s.SetKind(ptrace.SpanKindClient)
		s.SetSpanID(client)
		s.Attributes().PutStr("server.address", "127.0.0.1")
	}
	return td
}

// TestSidesInConcurrentBatches: the two sides of each call arrive in batches that are judged at
// the same time (as an OTLP receiver hands them over): every call is paired and judged once, as
// web -> cart; none is left to expire as a call from outside into cart or a call from web to an
// address. (The two sides used to find nothing in the store at the same time, and the second to
// store replaced the first.)
func TestSidesInConcurrentBatches(t *testing.T) {
	dir := t.TempDir()
	intentFile := filepath.Join(dir, "intent.yaml")
	require.NoError(t, os.WriteFile(intentFile, []byte("version: 1\nservices:\n  web: {ingress: true, depends_on: [cart]}\n  cart: {}\n"), 0o600))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
	e, err := New(settings(t, intentFile, now))
	require.NoError(t, err)

	const calls = 20_000
	out := &edgeCount{edges: map[string]int{}}
	for i := range calls {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, server := range []bool{false, true} {
			td := half(i, server)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start // both sides of the call at once
				e.Batch(td, out)
			}()
		}
		close(start)
		wg.Wait()
	}
	mu.Lock()
	at = at.Add(time.Hour)
	mu.Unlock()
	e.Tick(out)
	assert.Zero(t, e.Pending())
	assert.Equal(t, map[string]int{"web -> cart conforming": calls}, out.edges)
}

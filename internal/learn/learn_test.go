package learn

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestLearnerBounds(t *testing.T) {
	l := New(5, 3)
	for i := 0; i < 100; i++ {
		l.Observe("web", fmt.Sprint("svc-", i), intent.KindService, "GET", t0)
	}
	for i := 0; i < 50; i++ {
		l.Observe("web", "svc-0", intent.KindService, fmt.Sprint("op-", i), t0)
	}
	if len(l.nodes) != 5 || len(l.edges) != 3 {
		t.Fatalf("%d nodes, %d edges: over the bounds", len(l.nodes), len(l.edges))
	}
	m, _ := l.Model(&intent.Model{Policy: intent.Policy{Undeclared: "drift", UnknownServices: "drift"}})
	for _, n := range m.Nodes {
		for _, d := range n.DependsOn {
			if d.To == "svc-0" && d.Operations != nil {
				t.Fatalf("an edge of 51 operations is learned with %d of them, want any", len(d.Operations))
			}
		}
	}
	data, err := intent.Write(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := intent.LoadBytes("l.yaml", data); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
}

func TestQuoteGlob(t *testing.T) {
	if got := quoteGlob("GET /items/{id}*"); got != `GET /items/\{id\}\*` {
		t.Fatalf("%q", got)
	}
}

// TestPeerThatTurnsOutAService: a name first seen as a peer no span named (so learned as an
// external resource), then seen sending calls of its own, is learned as a service with its
// dependencies, and the learned intent loads (a resource may not have depends_on).
func TestPeerThatTurnsOutAService(t *testing.T) {
	l := New(100, 100)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.Observe("web", "pusher", intent.KindUnknown, "", now)
	l.Observe("pusher", "apns", intent.KindUnknown, "", now)
	m, notes := l.Model(&intent.Model{Version: 1, Policy: intent.Policy{Undeclared: intent.PolicyDrift, UnknownServices: intent.PolicyDrift}})
	data, err := intent.Write(m, notes)
	require.NoError(t, err)
	c, err := intent.LoadBytes("learned.yaml", data)
	require.NoError(t, err, string(data))
	assert.Equal(t, intent.KindService, c.Node(c.Lookup("pusher")).Kind)
	assert.NotNil(t, c.Dependency(c.Lookup("pusher"), c.Lookup("apns")))
}

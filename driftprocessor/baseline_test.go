package driftprocessor

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/processor/processortest"
)

func baselineHarness(t *testing.T, content string) (*harness, string) {
	path := filepath.Join(t.TempDir(), "baseline.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	cfg := testConfig(shopIntent)
	cfg.BaselineFile = path
	cfg.BaselineStaleAfter = time.Hour
	h, _ := observedHarness(t, cfg)
	return h, path
}

// The harness clock starts at 2023-11-14.
const acceptPayment = `version: 1
accepted:
  - {caller: frontend, callee: payment, kind: forbidden_dependency, until: 2023-12-01, reason: PAY-123 hotfix}
  - {caller: cart, callee: currency}
`

func TestBaselineKnownDrift(t *testing.T) {
	h, _ := baselineHarness(t, acceptPayment)
	h.consume(
		sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}},                                     // accepted
		sp{svc: "frontend", kind: client, id: 2, attrs: map[string]any{"service.peer.name": "valkey-cart", "db.system.name": "redis"}}, // new drift
	)
	assert.Equal(t, "known", h.attr(1, "drift.status"))
	assert.Equal(t, "forbidden_dependency", h.attr(1, "drift.kind"))
	assert.Equal(t, "drift", h.attr(2, "drift.status"), "new drift still shows as drift")
	assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.status": "known"}))
	assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.status": "drift"}))
	assert.Equal(t, int64(1), h.sum("drift.edges", map[string]string{"drift.status": "known"}))
}

func TestBaselineExpiryAndStaleEntries(t *testing.T) {
	h, _ := baselineHarness(t, acceptPayment)
	payment := sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}}

	h.p.engine.CheckBaseline() // entries are judged from now
	h.now.Add(int64(30 * time.Minute))
	h.consume(payment)
	h.p.engine.CheckBaseline()
	assert.Equal(t, int64(0), h.sum("drift.baseline.stale", nil), "nothing is stale yet")

	h.now.Add(int64(45 * time.Minute)) // cart -> currency has matched nothing for over an hour
	h.p.engine.CheckBaseline()
	assert.Equal(t, int64(1), h.sum("drift.baseline.stale", map[string]string{"drift.caller": "cart", "reason": "unmatched"}))
	assert.Equal(t, int64(0), h.sum("drift.baseline.stale", map[string]string{"drift.caller": "frontend"}))

	h.now.Add(int64(30 * 24 * time.Hour)) // past 2023-12-01
	h.sink.Reset()
	h.consume(payment)
	assert.Equal(t, "drift", h.attr(1, "drift.status"), "an entry past its date no longer applies")
	h.p.engine.CheckBaseline()
	assert.Equal(t, int64(1), h.sum("drift.baseline.stale", map[string]string{"drift.caller": "frontend", "reason": "expired"}))
}

func TestBaselineReload(t *testing.T) {
	h, path := baselineHarness(t, acceptPayment)
	require.NoError(t, os.WriteFile(path, []byte("version: 1\naccepted: []\n"), 0o600))
	h.p.reload(context.Background())
	h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}})
	assert.Equal(t, "drift", h.attr(1, "drift.status"))

	require.NoError(t, os.WriteFile(path, []byte("version: 1\naccepted: [{caller: x}]\n"), 0o600))
	h.p.reload(context.Background()) // broken: the last good baseline stays
	h.sink.Reset()
	h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}})
	assert.Equal(t, "drift", h.attr(1, "drift.status"))
}

// TestBaselineEmptiedAtReload: a baseline whose entries were all removed, comments left, is an error
// at reload like any broken file (it once stopped the collector), and the last good one stays.
func TestBaselineEmptiedAtReload(t *testing.T) {
	h, path := baselineHarness(t, acceptPayment)
	for _, emptied := range []string{"# every entry went in PAY-123\n", "---\n"} {
		require.NoError(t, os.WriteFile(path, []byte(emptied), 0o600))
		h.p.reload(context.Background())
		h.sink.Reset()
		h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}})
		assert.Equal(t, "known", h.attr(1, "drift.status"), "%q: the last good baseline still accepts frontend -> payment", emptied)
	}
}

func TestBrokenBaselineAtStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.yaml")
	require.NoError(t, os.WriteFile(path, []byte("version: 1\naccepted:\n  - {caller: a, callee: b, until: soon}\n"), 0o600))
	cfg := testConfig(shopIntent)
	cfg.BaselineFile = path
	_, err := newDriftProcessor(processortest.NewNopSettings(typ), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `baseline.yaml:3: accepted[0].until: "soon" is not a date`)
}

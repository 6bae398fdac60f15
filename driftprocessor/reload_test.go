package driftprocessor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const (
	allowCart = "version: 1\nservices:\n  frontend:\n    depends_on: [cart]\n  cart: {}\n  payment: {}\n"
	allowPay  = "version: 1\nservices:\n  frontend:\n    depends_on: [payment]\n  cart: {}\n  payment: {}\n"
	broken    = "version: 1\nservices:\n  frontend:\n    depends_on: [cart]\n  cart: {lyer: x}\n"
)

// configMapDir lays out a directory the way Kubernetes mounts a ConfigMap: intent.yaml is a symlink
// to ..data/intent.yaml, and ..data is a symlink to a timestamped directory that an update replaces
// by swapping the ..data link.
type configMapDir struct {
	t    *testing.T
	dir  string
	gen  int
	path string
}

func newConfigMapDir(t *testing.T, content string) *configMapDir {
	c := &configMapDir{t: t, dir: t.TempDir()}
	c.path = filepath.Join(c.dir, "intent.yaml")
	c.update(content)
	require.NoError(t, os.Symlink(filepath.Join("..data", "intent.yaml"), c.path))
	return c
}

func (c *configMapDir) update(content string) {
	c.gen++
	gen := filepath.Join(c.dir, "..2026_11_26_00_00_0"+string(rune('0'+c.gen)))
	require.NoError(c.t, os.Mkdir(gen, 0o755))
	require.NoError(c.t, os.WriteFile(filepath.Join(gen, "intent.yaml"), []byte(content), 0o600))
	tmp := filepath.Join(c.dir, "..data_tmp")
	require.NoError(c.t, os.Symlink(filepath.Base(gen), tmp))
	require.NoError(c.t, os.Rename(tmp, filepath.Join(c.dir, "..data"))) // atomic swap
}

func observedHarness(t *testing.T, cfg *Config) (*harness, *observer.ObservedLogs) {
	core, logs := observer.New(zap.InfoLevel)
	h := newHarnessLogging(t, cfg, componenttest.NewNopHost(), harnessEpoch, zap.New(core))
	logs.TakeAll() // the start's lines: the tests look at what comes after
	return h, logs
}

func TestReloadSymlinkSwap(t *testing.T) {
	cm := newConfigMapDir(t, allowCart)
	h, logs := observedHarness(t, testConfig(cm.path))
	payment := sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}}

	h.consume(payment)
	assert.Equal(t, "undeclared_dependency", h.attr(1, "drift.kind"))

	cm.update(allowPay)
	h.p.reload(context.Background())
	h.sink.Reset()
	h.consume(payment)
	assert.Equal(t, "", h.attr(1, "drift.status"), "the new model allows frontend -> payment")
	assert.Equal(t, int64(1), h.sum("drift.intent.reloads", map[string]string{"result": "success"}))
	assert.Equal(t, 1, logs.FilterMessage("Intent model reloaded").Len())

	h.p.reload(context.Background()) // unchanged: nothing to do
	assert.Equal(t, int64(1), h.sum("drift.intent.reloads", nil))
}

func TestReloadBrokenFileKeepsLastGoodModel(t *testing.T) {
	cm := newConfigMapDir(t, allowCart)
	h, logs := observedHarness(t, testConfig(cm.path))
	payment := sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}}

	cm.update(broken)
	h.p.reload(context.Background())
	h.p.reload(context.Background()) // the same broken content is reported once
	h.consume(payment)
	assert.Equal(t, "undeclared_dependency", h.attr(1, "drift.kind"), "the last good model still judges")
	assert.Equal(t, int64(1), h.sum("drift.intent.reloads", map[string]string{"result": "failure"}))
	failures := logs.FilterMessage("Intent file reload failed; keeping the last good model")
	require.Equal(t, 1, failures.Len())
	assert.Contains(t, failures.All()[0].ContextMap()["error"], "intent.yaml:5: services.cart.lyer: unknown key")

	require.NoError(t, os.Remove(cm.path)) // deleted: also kept
	h.p.reload(context.Background())
	assert.Equal(t, int64(2), h.sum("drift.intent.reloads", map[string]string{"result": "failure"}))

	require.NoError(t, os.Symlink(filepath.Join("..data", "intent.yaml"), cm.path))
	cm.update(allowPay)
	h.p.reload(context.Background())
	h.sink.Reset()
	h.consume(payment)
	assert.Equal(t, "", h.attr(1, "drift.status"), "a fixed file is picked up")
	assert.Equal(t, int64(1), h.sum("drift.intent.reloads", map[string]string{"result": "success"}))
}

// TestReloadOnInterval runs the real background loop.
func TestReloadOnInterval(t *testing.T) {
	cm := newConfigMapDir(t, allowCart)
	cfg := testConfig(cm.path)
	cfg.ReloadInterval = 10 * time.Millisecond
	h := newHarness(t, cfg)
	cm.update(allowPay)
	require.Eventually(t, func() bool {
		return h.sum("drift.intent.reloads", map[string]string{"result": "success"}) == 1
	}, 5*time.Second, 10*time.Millisecond)
}

func TestBrokenIntentAtStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(broken), 0o600))
	_, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), testConfig(path), consumertest.NewNop())
	require.Error(t, err)
	assert.True(t, strings.HasSuffix(err.Error(), `intent.yaml:5: services.cart.lyer: unknown key "lyer" (allowed: layer, zone, owner, aliases, ingress, depends_on, expect, expect_incoming)`), err.Error())
}

// TestShutdownStopsBackground: no goroutine outlives Shutdown (goleak checks the package too).
func TestShutdownStopsBackground(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.ReloadInterval = time.Millisecond
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, p.Shutdown(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()), "a second Shutdown is harmless")
}

// TestReloadFailureAfterARecoveryIsReportedAgain: the intent file deleted, the same file restored,
// deleted again: both failures are logged and counted, though their errors are alike.
func TestReloadFailureAfterARecoveryIsReportedAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(allowCart), 0o600))
	h, logs := observedHarness(t, testConfig(path))
	for round := 1; round <= 2; round++ {
		require.NoError(t, os.Remove(path))
		h.p.reload(context.Background())
		require.NoError(t, os.WriteFile(path, []byte(allowCart), 0o600)) // restored unchanged
		h.p.reload(context.Background())
		assert.Equal(t, int64(round), h.sum("drift.intent.reloads", map[string]string{"result": "failure"}), "round %d", round)
		assert.Equal(t, round, logs.FilterMessage("Intent file reload failed; keeping the last good model").Len(), "round %d", round)
	}
}

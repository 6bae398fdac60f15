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
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// TestLearnOnRealTraffic: a team with no written design starts learn mode on an empty model; the
// learned model, loaded back as the intent, judges the same minute with no drift.
func TestLearnOnRealTraffic(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "intent.yaml")
	require.NoError(t, os.WriteFile(empty, []byte("version: 1\nsystem: online-boutique\n"), 0o600))
	learned := filepath.Join(dir, "observed-intent.yaml")
	cfg := testConfig(empty)
	cfg.Learn = LearnConfig{Output: learned, Interval: time.Hour}
	h := newHarness(t, cfg)
	for _, b := range shuffledBatches(loadBoutique(t), 500, 3) {
		h.consumeTraces(b)
	}
	h.expireAll()
	assert.Positive(t, h.sum("drift.calls", map[string]string{"drift.kind": "unknown_service"}), "with no model, everything is unknown")
	h.p.writeLearned()

	data, err := os.ReadFile(learned)
	require.NoError(t, err)
	text := string(data)
	assert.Contains(t, text, "# learned: first seen ")
	assert.Contains(t, text, "mysql")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 2, "written atomically: no temporary file is left")
	c, err := intent.LoadBytes(learned, data)
	require.NoError(t, err, "the learned model loads without edits:\n%s", text)
	assert.Equal(t, 11, c.NumNodes(), "the 10 services that took part in calls, and mysql:\n%s", text)
	assert.True(t, c.Node(c.Lookup("frontend")).Ingress)

	_, drifts := judgeBoutique(t, text)
	assert.Empty(t, drifts, "the learned model judges the minute it was learned from with no drift")
}

// TestLearnKeepsTheDeclared: learning adds to the current model and loses nothing of it.
func TestLearnKeepsTheDeclared(t *testing.T) {
	learned := filepath.Join(t.TempDir(), "observed.yaml")
	cfg := testConfig(shopIntent)
	cfg.Learn = LearnConfig{Output: learned, Interval: time.Hour}
	h := newHarness(t, cfg)
	h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}},
		sp{svc: "recommendation", kind: client, id: 2, attrs: map[string]any{"messaging.system": "kafka", "messaging.destination.name": "recs"}})
	seen := h.p.engine.Now().UTC().Format(time.RFC3339)
	h.expireAll()
	h.p.writeLearned()
	data, err := os.ReadFile(learned)
	require.NoError(t, err)
	c, err := intent.LoadBytes(learned, data)
	require.NoError(t, err, string(data))
	orig, _, err := intent.Load(shopIntent)
	require.NoError(t, err)
	assert.Equal(t, orig.NumNodes()+2, c.NumNodes(), "recommendation and recs are added:\n%s", data)
	assert.Equal(t, len(orig.Rules()), len(c.Rules()))
	assert.NotNil(t, c.Dependency(c.Lookup("frontend"), c.Lookup("payment")), "the observed call is learned")
	assert.NotNil(t, c.Dependency(c.Lookup("frontend"), c.Lookup("checkout")), "declared dependencies stay")
	assert.Equal(t, intent.KindMessaging, c.Node(c.Lookup("recs")).Kind)
	assert.True(t, strings.Contains(string(data), "# learned: first seen "+seen+"\n            - to: payment"), "%s", data)
}

// TestShutdownJudgesWhatWaits: a call still waiting for its partner at shutdown is judged as if its
// TTL had run out: its first sight logged, learned, and nothing left waiting.
func TestShutdownJudgesWhatWaits(t *testing.T) {
	learned := filepath.Join(t.TempDir(), "observed.yaml")
	cfg := testConfig(shopIntent)
	cfg.Learn = LearnConfig{Output: learned, Interval: time.Hour}
	core, logs := observer.New(zap.InfoLevel)
	h := newHarnessLogging(t, cfg, componenttest.NewNopHost(), harnessEpoch, zap.New(core))
	// a client span whose callee only its server could name; the server span never comes
	h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"server.address": "10.0.0.7"}})
	require.Equal(t, 1, h.p.engine.Pending())
	require.NoError(t, h.proc.Shutdown(context.Background()))

	assert.Equal(t, 0, h.p.engine.Pending())
	lines := logs.FilterMessageSnippet("Drift seen for the first time").All()
	require.Len(t, lines, 1, "judged at shutdown, its first sight is logged")
	assert.Equal(t, "10.0.0.7", lines[0].ContextMap()["drift.callee"])
	data, err := os.ReadFile(learned)
	require.NoError(t, err)
	assert.Contains(t, string(data), "10.0.0.7", "and learned")
}

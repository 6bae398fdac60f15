package driftprocessor

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// memStorage is a storage extension that keeps its data in memory, for as long as the test.
type memStorage struct {
	component.StartFunc
	component.ShutdownFunc
	mu   sync.Mutex
	data map[string][]byte
}

func (m *memStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return &memClient{m}, nil
}

type memClient struct{ m *memStorage }

func (c *memClient) Get(_ context.Context, key string) ([]byte, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.m.data[key], nil
}

func (c *memClient) Set(_ context.Context, key string, value []byte) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.data[key] = append([]byte(nil), value...)
	return nil
}

func (c *memClient) Delete(_ context.Context, key string) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	delete(c.m.data, key)
	return nil
}

func (c *memClient) Batch(context.Context, ...*storage.Operation) error { return nil }
func (c *memClient) Close(context.Context) error                        { return nil }

type storageHost struct {
	ext map[component.ID]component.Component
}

func (h storageHost) GetExtensions() map[component.ID]component.Component { return h.ext }

// TestRestartKeepsFirstSeen: with a storage extension, a restart keeps first-seen times (and does
// not log the same first sight again), absence watches and the learned model.
func TestRestartKeepsFirstSeen(t *testing.T) {
	id := component.MustNewID("file_storage")
	host := storageHost{map[component.ID]component.Component{id: &memStorage{data: map[string][]byte{}}}}
	cfg := testConfig(shopIntent)
	cfg.Storage = &id
	drifting := sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}}

	first := newHarnessOn(t, cfg, host)
	first.consume(drifting)
	seenAt := first.p.engine.Now().Unix()
	require.NoError(t, first.proc.Shutdown(context.Background())) // saves

	core, logs := observer.New(zap.InfoLevel)
	second := newHarnessLogging(t, cfg, host, harnessEpoch, zap.New(core))
	second.now.Add(int64(48 * time.Hour))
	second.consume(drifting)
	assert.Equal(t, seenAt, second.sum("drift.edge.first_seen", map[string]string{"drift.callee": "payment"}),
		"the first-seen time is the first run's")
	assert.Equal(t, 1, logs.FilterMessage("Drift state restored").Len(), "the state was read back")
	assert.Equal(t, 0, logs.FilterMessage("Drift seen for the first time").Len(), "not a first sight any more")
}

func TestMissingStorageExtension(t *testing.T) {
	id := component.MustNewID("file_storage")
	cfg := testConfig(shopIntent)
	cfg.Storage = &id
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), cfg, consumertest.NewNop())
	require.NoError(t, err)
	err = p.Start(context.Background(), storageHost{})
	require.ErrorContains(t, err, `storage: no extension "file_storage" is configured`)
	require.NoError(t, p.Shutdown(context.Background()))
}

// TestRestartWatchesNewDependencyFromRestart: a restart that rolls out an intent with a new
// dependency keeps the absence watch of the others, and watches the new one from the restart: a busy
// caller does not make it absent at once.
func TestRestartWatchesNewDependencyFromRestart(t *testing.T) {
	id := component.MustNewID("file_storage")
	host := storageHost{map[component.ID]component.Component{id: &memStorage{data: map[string][]byte{}}}}
	intentFile := writeFile(t, "version: 1\nservices:\n  web: {depends_on: [api, search]}\n  api: {}\n  search: {}\n  ads: {}\n")
	cfg := testConfig(intentFile)
	cfg.Storage = &id
	cfg.Absence = AbsenceConfig{Window: time.Hour, MinCallerCalls: 3}
	busy := func(h *harness) {
		for i := byte(1); i <= 3; i++ {
			h.consume(sp{svc: "web", kind: client, trace: i, id: i, attrs: map[string]any{"peer.service": "api"}})
		}
	}

	first := newHarnessOn(t, cfg, host)
	first.p.engine.CheckAbsence() // watching starts
	first.now.Add(int64(30 * time.Minute))
	busy(first)
	require.NoError(t, first.proc.Shutdown(context.Background())) // saves

	require.NoError(t, os.WriteFile(intentFile, []byte("version: 1\nservices:\n  web: {depends_on: [api, search, ads]}\n  api: {}\n  search: {}\n  ads: {}\n"), 0o600))
	second := newHarnessAt(t, cfg, host, harnessEpoch.Add(70*time.Minute)) // 70 minutes after watching started
	busy(second)
	second.p.engine.CheckAbsence()
	assert.Equal(t, int64(1), second.sum("drift.edge.absent", map[string]string{"drift.caller": "web", "drift.callee": "search"}),
		"never seen since the first run started watching")
	assert.Equal(t, int64(0), second.sum("drift.edge.absent", map[string]string{"drift.caller": "web", "drift.callee": "api"}))
	assert.Equal(t, int64(0), second.sum("drift.edge.absent", map[string]string{"drift.caller": "web", "drift.callee": "ads"}),
		"declared by this restart: watched from now")
	second.now.Add(int64(61 * time.Minute))
	busy(second)
	second.p.engine.CheckAbsence()
	assert.Equal(t, int64(1), second.sum("drift.edge.absent", map[string]string{"drift.caller": "web", "drift.callee": "ads"}),
		"an hour after the restart")
}

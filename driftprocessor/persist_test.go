package driftprocessor

import (
	"context"
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
	seenAt := first.p.now().Unix()
	require.NoError(t, first.proc.Shutdown(context.Background())) // saves

	second := newHarnessOn(t, cfg, host)
	core, logs := observer.New(zap.InfoLevel)
	second.p.logger = zap.New(core)
	second.now.Add(int64(48 * time.Hour))
	second.consume(drifting)
	assert.Equal(t, seenAt, second.sum("drift.edge.first_seen", map[string]string{"drift.callee": "payment"}),
		"the first-seen time is the first run's")
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

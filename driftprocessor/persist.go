package driftprocessor

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/verdict"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

// persistEvery is how often the state is saved when a storage extension is configured (and once
// more at shutdown).
const persistEvery = 30 * time.Second

const stateKey = "drift-state"

// openStorage gets a storage client from the configured extension.
func (p *driftProcessor) openStorage(ctx context.Context, host component.Host) error {
	if p.cfg.Storage == nil {
		return nil
	}
	ext, ok := host.GetExtensions()[*p.cfg.Storage]
	if !ok {
		return fmt.Errorf("storage: no extension %q is configured", p.cfg.Storage)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("storage: extension %q is not a storage extension", p.cfg.Storage)
	}
	client, err := se.GetClient(ctx, component.KindProcessor, p.id, "")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	p.storage = client
	return p.restore(ctx)
}

// restore reads the saved state; first sights it holds are not logged again.
func (p *driftProcessor) restore(ctx context.Context) error {
	data, err := p.storage.Get(ctx, stateKey)
	if err != nil || data == nil {
		return err
	}
	var s verdict.State
	if err := json.Unmarshal(data, &s); err != nil {
		p.logger.Warn("Saved drift state is unreadable; starting afresh", zap.Error(err))
		return nil
	}
	p.engine.Restore(s)
	p.logger.Info("Drift state restored", zap.Int("first_sights", len(s.FirstSeen)), zap.Int("absence_edges", len(s.Absence.LastSeen)))
	return nil
}

// save writes the state.
func (p *driftProcessor) save(ctx context.Context) {
	if p.storage == nil {
		return
	}
	data, err := json.Marshal(p.engine.State())
	if err == nil {
		err = p.storage.Set(ctx, stateKey, data)
	}
	if err != nil {
		p.logger.Warn("Drift state could not be saved", zap.Error(err))
	}
}

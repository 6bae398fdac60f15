package driftprocessor

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/history"
	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// persistEvery is how often the state is saved when a storage extension is configured (and once
// more at shutdown).
const persistEvery = 30 * time.Second

const stateKey = "drift-state"

// state is what survives a restart: first-seen times, absence watches and the learned model.
type state struct {
	FirstSeen []seen                `json:"first_seen"`
	Absence   absenceState          `json:"absence"`
	Learned   *history.LearnedState `json:"learned,omitempty"`
}

type seen struct {
	Caller string    `json:"caller"`
	Callee string    `json:"callee"`
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
}

type absenceState struct {
	Start    int64            `json:"start"`
	LastSeen map[string]int64 `json:"last_seen"` // "from\x00to" -> unix nanoseconds; 0: watched, never seen
}

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
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		p.logger.Warn("Saved drift state is unreadable; starting afresh", zap.Error(err))
		return nil
	}
	for _, f := range s.FirstSeen {
		p.sights.Restore(history.Edge{Caller: f.Caller, Callee: f.Callee, Kind: f.Kind}, f.At)
	}
	m := p.current.Load()
	if m.absence != nil {
		m.absence.Resume(s.Absence.Start, p.now(), func(from, to string) (int64, bool) {
			at, ok := s.Absence.LastSeen[from+"\x00"+to]
			return at, ok
		})
	}
	if p.learner != nil && s.Learned != nil {
		p.learner.Restore(*s.Learned)
	}
	p.logger.Info("Drift state restored", zap.Int("first_sights", len(s.FirstSeen)), zap.Int("absence_edges", len(s.Absence.LastSeen)))
	return nil
}

// save writes the state.
func (p *driftProcessor) save(ctx context.Context) {
	if p.storage == nil {
		return
	}
	s := state{Absence: absenceState{LastSeen: map[string]int64{}}}
	p.sights.Each(func(e history.Edge, at time.Time) {
		s.FirstSeen = append(s.FirstSeen, seen{Caller: e.Caller, Callee: e.Callee, Kind: e.Kind, At: at})
	})
	m := p.current.Load()
	if m.absence != nil {
		s.Absence.Start = m.absence.Start()
		m.absence.EachSeen(func(e intent.TrackedEdge, at int64) { // 0 too: the edge was watched, never seen
			s.Absence.LastSeen[m.intent.Node(e.From).Name+"\x00"+m.intent.Node(e.To).Name] = at
		})
	}
	if p.learner != nil {
		l := p.learner.Export()
		s.Learned = &l
	}
	data, err := json.Marshal(s)
	if err == nil {
		err = p.storage.Set(ctx, stateKey, data)
	}
	if err != nil {
		p.logger.Warn("Drift state could not be saved", zap.Error(err))
	}
}

package driftprocessor

import (
	"context"
	"time"
)

// tickEvery is how often the engine's clock ticks: waiting spans are checked for an expired TTL,
// baseline entries for staleness, dependencies for absence.
const tickEvery = time.Second

// background ticks the engine, reloads the intent, writes the learn file and saves the state.
func (p *driftProcessor) background() {
	defer p.wg.Done()
	tick := time.NewTicker(min(tickEvery, p.cfg.Pairing.TTL))
	defer tick.Stop()
	var reload, learn, persist <-chan time.Time
	if p.storage != nil {
		t := time.NewTicker(persistEvery)
		defer t.Stop()
		persist = t.C
	}
	if p.cfg.ReloadInterval > 0 {
		t := time.NewTicker(p.cfg.ReloadInterval)
		defer t.Stop()
		reload = t.C
	}
	if p.cfg.Learn.Output != "" {
		t := time.NewTicker(p.cfg.Learn.Interval)
		defer t.Stop()
		learn = t.C
	}
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.tick()
		case <-reload:
			p.reload(context.Background())
		case <-learn:
			p.writeLearned()
		case <-persist:
			p.save(context.Background())
		}
	}
}

// tick moves the engine on in time: calls whose partner did not come within the TTL are judged
// (their spans have passed, so they show in the metrics only), baseline entries and absence are
// checked.
func (p *driftProcessor) tick() { p.engine.Tick(p.stamper) }

// reload re-reads the intent and baseline files, and counts a change or a failure.
func (p *driftProcessor) reload(ctx context.Context) {
	if opt, counted := p.engine.Reload(ctx).Counted(); counted {
		p.telemetry.IntentReloads.Add(ctx, 1, opt)
	}
}

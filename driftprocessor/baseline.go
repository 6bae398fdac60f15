package driftprocessor

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Why a baseline entry is stale.
const (
	staleExpired   = "expired"   // its until date has passed
	staleUnmatched = "unmatched" // nothing has matched it for baseline_stale_after
)

// baseline is a loaded baseline with what has matched it.
type baseline struct {
	b           *intent.Baseline
	loaded      atomic.Int64   // unix nanoseconds of the first stale check: entries are judged from then
	lastMatched []atomic.Int64 // unix nanoseconds, by entry
	stale       []atomic.Value // string: "", staleExpired or staleUnmatched, by entry
}

func newBaseline(b *intent.Baseline) *baseline {
	return &baseline{b: b, lastMatched: make([]atomic.Int64, len(b.Entries)), stale: make([]atomic.Value, len(b.Entries))}
}

// accepts reports whether the baseline accepts the drift, and remembers that the entry matched.
func (bl *baseline) accepts(caller, callee, kind string, now time.Time) bool {
	i := bl.b.Match(caller, callee, kind, now)
	if i < 0 {
		return false
	}
	bl.lastMatched[i].Store(now.UnixNano())
	return true
}

// checkStale marks the entries whose date has passed or that nothing matched for staleAfter, and
// logs each entry once when it becomes stale.
func (bl *baseline) checkStale(now time.Time, staleAfter time.Duration, logger *zap.Logger) {
	bl.loaded.CompareAndSwap(0, now.UnixNano())
	for i := range bl.b.Entries {
		e := &bl.b.Entries[i]
		last := max(bl.lastMatched[i].Load(), bl.loaded.Load())
		reason := ""
		switch {
		case e.Expired(now):
			reason = staleExpired
		case now.UnixNano()-last > int64(staleAfter):
			reason = staleUnmatched
		}
		was, _ := bl.stale[i].Load().(string)
		bl.stale[i].Store(reason)
		if reason != "" && reason != was {
			logger.Warn("Baseline entry is stale", zap.String("baseline_file", bl.b.File), zap.Int("line", e.Line),
				zap.String("drift.caller", e.Caller), zap.String("drift.callee", e.Callee), zap.String("drift.kind", e.Kind),
				zap.String("reason", reason), zap.String("accepted_because", e.Reason))
		}
	}
}

// eachStale calls fn for every stale entry.
func (bl *baseline) eachStale(fn func(e *intent.Accepted, reason string)) {
	for i := range bl.b.Entries {
		if reason, _ := bl.stale[i].Load().(string); reason != "" {
			fn(&bl.b.Entries[i], reason)
		}
	}
}

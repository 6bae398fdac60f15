package verdict

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// loadBaseline reads a baseline file as parseBaseline does.
func loadBaseline(path string) (*intent.Baseline, []byte, error) {
	data, err := intent.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	b, err := parseBaseline(path, data)
	return b, data, err
}

// parseBaseline reads a baseline, and refuses an entry whose kind is not a drift kind: it would
// never match, and the drift it was meant to accept would show as new.
func parseBaseline(file string, data []byte) (*intent.Baseline, error) {
	b, err := intent.ParseBaseline(file, data)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, a := range b.Entries {
		if _, ok := judge.ParseKind(a.Kind); a.Kind != "" && !ok {
			errs = append(errs, fmt.Errorf("%s:%d: accepted[%d].kind: %q is not a drift kind (%s)", file, a.Line, i, a.Kind, judge.KindNames()))
		}
	}
	return b, errors.Join(errs...)
}

// baseline is a loaded baseline with what has matched it.
type baseline struct {
	b           *intent.Baseline
	loaded      atomic.Int64   // unix nanoseconds of the first stale check: entries are judged from then
	lastMatched []atomic.Int64 // unix nanoseconds, by entry
	stale       []atomic.Value // string: "" or why the entry is stale (driftconv.Stale*), by entry
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
			reason = driftconv.StaleExpired
		case now.UnixNano()-last > int64(staleAfter):
			reason = driftconv.StaleUnmatched
		}
		was, _ := bl.stale[i].Load().(string)
		bl.stale[i].Store(reason)
		if reason != "" && reason != was {
			logger.Warn("Baseline entry is stale", zap.String("baseline_file", bl.b.File), zap.Int("line", e.Line),
				zap.String(driftconv.AttrCaller, e.Caller), zap.String(driftconv.AttrCallee, e.Callee), zap.String(driftconv.AttrKind, e.Kind),
				zap.String("reason", reason), zap.String("accepted_because", e.Reason))
		}
	}
}

// EachStale calls fn for every stale entry.
func (bl *baseline) eachStale(fn func(e *intent.Accepted, reason string)) {
	for i := range bl.b.Entries {
		if reason, _ := bl.stale[i].Load().(string); reason != "" {
			fn(&bl.b.Entries[i], reason)
		}
	}
}

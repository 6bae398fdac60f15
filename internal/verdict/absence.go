package verdict

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// absenceLinesPerCheck bounds the log lines one absence check writes.
const absenceLinesPerCheck = 20

// CheckAbsence decides which declared dependencies are absent and which required ones are missing
// (missing_dependency), and logs the edges that became absent or came back.
func (e *Engine) CheckAbsence() {
	now := e.set.Now()
	m := e.current.Load()
	if m.absence == nil {
		return
	}
	lines, more := 0, 0
	m.absence.Check(now, func(t intent.TrackedEdge, absent bool) {
		if lines >= absenceLinesPerCheck {
			more++
			return
		}
		lines++
		from, to := m.intent.Node(t.From).Name, m.intent.Node(t.To).Name
		fields := []zap.Field{zap.String(driftconv.AttrCaller, from), zap.String(driftconv.AttrCallee, to),
			zap.String("intent", fmt.Sprintf("%s:%d", m.intent.File, t.Line)), zap.Duration("window", e.set.Absence.Window)}
		switch {
		case !absent:
			e.logger.Info("Dependency observed again", fields...)
		case t.Require != nil:
			fields = append(fields, zap.String(driftconv.AttrKind, judge.MissingDependency.String()), zap.String(driftconv.AttrRule, t.Require.Rule))
			e.logger.Warn("Required dependency missing: not observed within the window", fields...)
		default:
			e.logger.Info("Declared dependency not observed within the window", fields...)
		}
	})
	if more > 0 {
		e.logger.Info("More dependencies changed absence state than are logged at once", zap.Int("not_logged", more))
	}
}

// Absent is a declared dependency not observed within the absence window.
type Absent struct {
	Caller, Callee string
	// Missing is set for a dependency a require rule names: drift of kind missing_dependency.
	Missing bool
}

// EachAbsent calls fn for every absent dependency, as last checked.
func (e *Engine) EachAbsent(fn func(a Absent)) {
	m := e.current.Load()
	if m.absence == nil {
		return
	}
	m.absence.EachAbsent(func(t intent.TrackedEdge) {
		fn(Absent{Caller: m.intent.Node(t.From).Name, Callee: m.intent.Node(t.To).Name, Missing: t.Require != nil})
	})
}

// StaleEntry is a baseline entry that is stale.
type StaleEntry struct {
	Caller, Callee, Kind string
	Reason               string // driftconv.StaleExpired or driftconv.StaleUnmatched
}

// EachStale calls fn for every stale baseline entry.
func (e *Engine) EachStale(fn func(s StaleEntry)) {
	if bl := e.baseline.Load(); bl != nil {
		bl.eachStale(func(a *intent.Accepted, reason string) {
			fn(StaleEntry{Caller: a.Caller, Callee: a.Callee, Kind: a.Kind, Reason: reason})
		})
	}
}

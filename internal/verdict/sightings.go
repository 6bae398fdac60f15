package verdict

import (
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/firstsight"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// First sights remembered, and logged per minute at most.
const (
	maxFirstSights           = 10_000
	firstSightLinesPerMinute = 20
)

// noteFirstSight logs a drifting edge the first time it is seen; later calls cost a map lookup.
func (e *Engine) noteFirstSight(m *intent.Compiled, c *judge.Call, v *judge.Verdict, span ptrace.Span, onSpan bool, now time.Time) {
	caller, callee, kind := clean.Name(c.Caller.Name), clean.Name(c.Callee.Name), v.Kind().String()
	if e.sights.Seen(firstsight.Edge{Caller: caller, Callee: callee, Kind: kind}) {
		return
	}
	shown := *c
	shown.Caller.Name, shown.Callee.Name = caller, callee
	x := judge.Explain(m, &shown, *v)
	s := firstsight.Sighting{Caller: caller, Callee: callee, Kind: kind, Rule: x.Rule, Message: x.Message, At: now}
	if onSpan {
		s.TraceID = span.TraceID().String()
	}
	e.sights.Note(s)
}

func (e *Engine) logFirstSight(s firstsight.Sighting, suppressed int) {
	fields := []zap.Field{zap.String(driftconv.AttrCaller, s.Caller), zap.String(driftconv.AttrCallee, s.Callee),
		zap.String(driftconv.AttrKind, s.Kind), zap.String(driftconv.AttrRule, s.Rule), zap.String(driftconv.AttrMessage, s.Message)}
	if s.TraceID != "" {
		fields = append(fields, zap.String("trace_id", s.TraceID))
	}
	if suppressed > 0 {
		fields = append(fields, zap.Int("first_sights_not_logged", suppressed))
	}
	e.logger.Info("Drift seen for the first time", fields...)
}

// EachFirstSight calls fn for every drifting edge seen, with when it was first seen.
func (e *Engine) EachFirstSight(fn func(e firstsight.Edge, at time.Time)) { e.sights.Each(fn) }

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
	"github.com/driftprocessor/driftprocessor/internal/record"
)

// firstSightLimits bound the first sights remembered as the series of the drift.edge.first_seen
// gauge are bounded (maxSeries, 0 for the default): edges of the model get nine tenths, so that a
// flood of junk names cannot blind the engine to a real drift; names outside the model the rest.
func firstSightLimits(maxSeries int) firstsight.Limits {
	if maxSeries <= 0 {
		maxSeries = record.DefaultLimits.MaxSeries
	}
	outside := max(maxSeries/10, 1)
	return firstsight.Limits{Modelled: maxSeries - outside, Outside: outside, OutsidePerMinute: 20}
}

// modelledEdge reports whether both ends of c are nodes of the model (or the caller is outside the
// traced system): such edges are bounded by the model.
func modelledEdge(caller, callee intent.Peer, external bool) bool {
	return (external || caller.ID != intent.NoNode) && callee.ID != intent.NoNode
}

// noteFirstSight logs a drifting edge the first time it is seen; later calls cost a map lookup.
func (e *Engine) noteFirstSight(m *intent.Compiled, c *judge.Call, v *judge.Verdict, span ptrace.Span, onSpan bool, now time.Time) {
	caller, callee, kind := clean.Name(c.Caller.Name), clean.Name(c.Callee.Name), v.Kind().String()
	modelled := modelledEdge(c.Caller, c.Callee, c.External)
	if e.sights.Seen(firstsight.Edge{Caller: caller, Callee: callee, Kind: kind}, modelled) {
		return
	}
	shown := *c
	shown.Caller.Name, shown.Callee.Name = caller, callee
	x := judge.Explain(m, &shown, *v)
	s := firstsight.Sighting{Caller: caller, Callee: callee, Kind: kind, Rule: x.Rule, Message: x.Message, At: now, Modelled: modelled}
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
	// The two kinds of edge get messages of their own: the collector samples its log by message
	// (the first 10 each 10 s, then one in 100, by default), and a flood of junk names must not
	// spend the budget of the model's own edges.
	if s.Modelled {
		e.logger.Info("Drift seen for the first time", fields...)
		return
	}
	e.logger.Info("Drift seen for the first time, from a name outside the model", fields...)
}

// EachFirstSight calls fn for every drifting edge remembered, with when it was first seen.
func (e *Engine) EachFirstSight(fn func(e firstsight.Edge, at time.Time)) {
	e.sights.Each(func(edge firstsight.Edge, at time.Time, _ bool) { fn(edge, at) })
}

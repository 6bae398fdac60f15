package driftprocessor

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/firstsight"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

var edgeStatus = map[string]metric.ObserveOption{
	driftconv.StatusConforming: metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrStatus, driftconv.StatusConforming))),
	driftconv.StatusDrift:      metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrStatus, driftconv.StatusDrift))),
	driftconv.StatusKnown:      metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrStatus, driftconv.StatusKnown))),
}

// registerObservers hands the engine's counts and state to the MeterProvider at collection time:
// the processor's own telemetry, as core's obsreport does for its components.
func (p *driftProcessor) registerObservers() error {
	t, r, e := p.telemetry, p.recorder, p.engine
	return errors.Join(
		t.RegisterCallsCallback(func(_ context.Context, o metric.Int64Observer) error {
			r.Observe(o, nil, nil, nil)
			return nil
		}),
		t.RegisterViolationsCallback(func(_ context.Context, o metric.Int64Observer) error {
			r.Observe(nil, o, nil, nil)
			return nil
		}),
		t.RegisterUnresolvedCallback(func(_ context.Context, o metric.Int64Observer) error {
			r.Observe(nil, nil, o, nil)
			return nil
		}),
		t.RegisterSpansMalformedCallback(func(_ context.Context, o metric.Int64Observer) error {
			r.Observe(nil, nil, nil, o)
			return nil
		}),
		t.RegisterEdgesCallback(func(_ context.Context, o metric.Int64Observer) error {
			for status, n := range r.Edges() {
				o.Observe(n, edgeStatus[status])
			}
			return nil
		}),
		t.RegisterPairingPendingCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(e.Pending()))
			return nil
		}),
		t.RegisterPairingLateCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(e.Late())
			return nil
		}),
		t.RegisterPathsPartialCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(e.Partial())
			return nil
		}),
		t.RegisterPathsEvictedCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(e.TracesEvicted())
			return nil
		}),
		t.RegisterEdgeLatencyP99Callback(p.observeBehaviour(func(s behaviour.EdgeStats) (float64, bool) {
			return s.P99.Seconds(), s.Expect.LatencyP99 > 0
		})),
		t.RegisterEdgeLatencyP99ExpectedCallback(p.observeBehaviour(func(s behaviour.EdgeStats) (float64, bool) {
			return s.Expect.LatencyP99.Seconds(), s.Expect.LatencyP99 > 0
		})),
		t.RegisterEdgeErrorRateCallback(p.observeBehaviour(func(s behaviour.EdgeStats) (float64, bool) {
			return s.ErrorRate, s.Expect.HasErrorRate
		})),
		t.RegisterEdgeErrorRateExpectedCallback(p.observeBehaviour(func(s behaviour.EdgeStats) (float64, bool) {
			return s.Expect.ErrorRate, s.Expect.HasErrorRate
		})),
		t.RegisterEdgeAbsentCallback(func(_ context.Context, o metric.Int64Observer) error {
			e.EachAbsent(func(a verdict.Absent) {
				attrs := []attribute.KeyValue{attribute.String(driftconv.AttrCaller, a.Caller), attribute.String(driftconv.AttrCallee, a.Callee)}
				if a.Missing {
					attrs = append(attrs, attribute.String(driftconv.AttrKind, judge.MissingDependency.String()))
				}
				o.Observe(1, metric.WithAttributeSet(attribute.NewSet(attrs...)))
			})
			return nil
		}),
		t.RegisterBaselineStaleCallback(func(_ context.Context, o metric.Int64Observer) error {
			e.EachStale(func(s verdict.StaleEntry) {
				o.Observe(1, metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrCaller, s.Caller),
					attribute.String(driftconv.AttrCallee, s.Callee), attribute.String(driftconv.AttrKind, s.Kind),
					attribute.String(driftconv.AttrReason, s.Reason))))
			})
			return nil
		}),
		t.RegisterEdgeFirstSeenCallback(func(_ context.Context, o metric.Int64Observer) error {
			e.EachFirstSight(func(edge firstsight.Edge, at time.Time) {
				o.Observe(at.Unix(), metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrCaller, edge.Caller),
					attribute.String(driftconv.AttrCallee, edge.Callee), attribute.String(driftconv.AttrKind, edge.Kind))))
			})
			return nil
		}),
	)
}

// observeBehaviour makes the callback of one behaviour gauge: value picks the figure of an edge's
// window, and whether the edge has the expectation that figure belongs to.
func (p *driftProcessor) observeBehaviour(value func(behaviour.EdgeStats) (float64, bool)) metric.Float64Callback {
	return func(_ context.Context, o metric.Float64Observer) error {
		for _, s := range p.engine.BehaviourStats() {
			if v, ok := value(s); ok {
				o.Observe(v, metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrCaller, s.Edge.Caller),
					attribute.String(driftconv.AttrCallee, s.Edge.Callee))))
			}
		}
		return nil
	}
}

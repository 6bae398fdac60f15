package record

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

func newRecorder(t *testing.T, limits Limits) (*Recorder, *metric.ManualReader) {
	reader := metric.NewManualReader()
	meter := metric.NewMeterProvider(metric.WithReader(reader)).Meter("test")
	calls, _ := meter.Int64Counter("drift.calls")
	viol, _ := meter.Int64Counter("drift.violations")
	unres, _ := meter.Int64Counter("drift.unresolved")
	mal, _ := meter.Int64Counter("drift.spans.malformed")
	rel, _ := meter.Int64Counter("drift.intent.reloads")
	return New(Instruments{Calls: calls, Violations: viol, Unresolved: unres, Malformed: mal, Reloads: rel}, limits), reader
}

func points(t *testing.T, reader *metric.ManualReader, name string) []metricdata.DataPoint[int64] {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data.(metricdata.Sum[int64]).DataPoints
			}
		}
	}
	return nil
}

// TestSeriesBounded: a flood of distinct names outside the model folds into one label value, and the
// edge set stops growing at its limit.
func TestSeriesBounded(t *testing.T) {
	r, reader := newRecorder(t, Limits{MaxOtherNames: 10, MaxEdges: 50})
	caller := intent.Peer{ID: 0, Name: "frontend"}
	v := judge.Verdict{Kinds: 1 << judge.UndeclaredDependency}
	for i := 0; i < 100_000; i++ {
		c := &judge.Call{Caller: caller, Callee: intent.Peer{ID: intent.NoNode, Name: fmt.Sprintf("peer-%d", i)}}
		r.Call(context.Background(), c, v)
	}
	pts := points(t, reader, "drift.calls")
	if len(pts) != 11 {
		t.Fatalf("%d series, want 10 names and %s", len(pts), Other)
	}
	var other int64
	for _, p := range pts {
		if v, _ := p.Attributes.Value(AttrCallee); v.AsString() == Other {
			other = p.Value
		}
	}
	if other != 100_000-10 {
		t.Errorf("%s counted %d", Other, other)
	}
	if ok, drift := r.Edges(); ok != 0 || drift != 11 {
		t.Errorf("edges %d/%d", ok, drift)
	}
	if len(r.others) != 10 || len(r.series) > maxCachedSeries {
		t.Errorf("state grew: %d names, %d cached series", len(r.others), len(r.series))
	}
}

func TestModelNamesAreNotLimited(t *testing.T) {
	r, reader := newRecorder(t, Limits{MaxOtherNames: 0, MaxEdges: 10})
	c := &judge.Call{Caller: intent.Peer{ID: 0, Name: "a"}, Callee: intent.Peer{ID: 1, Name: "b"}}
	r.Call(context.Background(), c, judge.Verdict{})
	pts := points(t, reader, "drift.calls")
	if v, _ := pts[0].Attributes.Value(AttrCallee); len(pts) != 1 || v.AsString() != "b" {
		t.Fatalf("%+v", pts)
	}
}

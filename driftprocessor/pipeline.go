package driftprocessor

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/reflexion"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

// processTraces hands the batch to the engine and stamps its verdicts on the spans that carry them.
// Every span goes on; none is dropped.
func (p *driftProcessor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	p.engine.Batch(td, p.stamper)
	return td, nil
}

// stamper is the processor's only output, for batches and ticks alike: it stamps each verdict on
// its span, as annotate says; a call judged without its span (at the end of its TTL) shows in the
// recorder's counts only. What the engine counts (calls, unresolved, malformed) reaches the
// processor's telemetry through the recorder, so nothing else is done here.
type stamper struct {
	stamps     bool // annotate is not none
	conforming bool // annotate is all: conforming calls are stamped too
	// maps are the reflexion maps (driftview extensions) this processor feeds, found at start.
	maps atomic.Pointer[[]*reflexion.Feed]
}

func newStamper(annotate string) *stamper {
	return &stamper{stamps: annotate != AnnotateNone, conforming: annotate == AnnotateAll}
}

func (s *stamper) Judged(j *verdict.Judged) {
	if j.OnSpan && s.stamps && (s.conforming || j.Verdict.Drift()) {
		annotate(j.Model, j.Call, &j.Verdict, j.Span)
	}
	if maps := s.maps.Load(); maps != nil {
		feedMaps(*maps, j)
	}
}

// feedMaps hands the call to every reflexion map, with a trace to show when its span is at hand.
func feedMaps(maps []*reflexion.Feed, j *verdict.Judged) {
	v := &j.Verdict
	kind := ""
	if v.Drift() {
		kind = v.Kind().String()
	}
	var trace pcommon.TraceID
	if j.OnSpan {
		trace = j.Span.TraceID()
	}
	for _, m := range maps {
		m.Call(j.Call.Caller.Name, j.Call.Callee.Name, v.Status().String(), kind, trace, j.Now)
	}
	if v.PathRule != nil && j.Call.Chain != nil {
		feedPath(maps, j, trace)
	}
}

// feedPath hands a chain that broke a path rule to every map, to highlight. It allocates: only
// calls that break a path rule come here.
func feedPath(maps []*reflexion.Feed, j *verdict.Judged, trace pcommon.TraceID) {
	nodes := make([]string, len(j.Call.Chain.Nodes))
	for i, n := range j.Call.Chain.Nodes {
		nodes[i] = clean.Name(n.Name)
	}
	rule := j.Verdict.PathRule
	for _, m := range maps {
		m.Path(rule.Name, judge.PathKind(rule).String(), nodes, trace, j.Now)
	}
}

// attachMaps finds the reflexion maps among the host's extensions, as storage is found.
func (p *driftProcessor) attachMaps(host component.Host) {
	var maps []*reflexion.Feed
	for _, ext := range host.GetExtensions() {
		if a, ok := ext.(reflexion.Attacher); ok {
			maps = append(maps, a.Attach(p.id.String(), p.engine.Model))
		}
	}
	if len(maps) > 0 {
		p.stamper.maps.Store(&maps)
	}
}

func (*stamper) Unresolved(string, string) {}
func (*stamper) Malformed(string)          {}

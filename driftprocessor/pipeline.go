package driftprocessor

import (
	"context"

	"go.opentelemetry.io/collector/pdata/ptrace"

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
}

func newStamper(annotate string) *stamper {
	return &stamper{stamps: annotate != AnnotateNone, conforming: annotate == AnnotateAll}
}

func (s *stamper) Judged(j *verdict.Judged) {
	if j.OnSpan && s.stamps && (s.conforming || j.Verdict.Drift()) {
		annotate(j.Model, j.Call, j.Verdict, j.Span)
	}
}

func (*stamper) Unresolved(string, string) {}
func (*stamper) Malformed(string)          {}

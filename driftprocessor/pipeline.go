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

// stamper is the processor's output: it stamps each verdict on its span, as annotate says. What the
// engine counts (calls, unresolved, malformed) reaches the processor's telemetry through the
// recorder, so nothing else is done here.
type stamper struct{ annotate string }

func (s *stamper) Judged(j *verdict.Judged) {
	if j.OnSpan && s.annotate != AnnotateNone && (j.Verdict.Drift() || s.annotate == AnnotateAll) {
		annotate(j.Model, j.Call, j.Verdict, j.Span)
	}
}

func (*stamper) Unresolved(string, string) {}
func (*stamper) Malformed(string)          {}

// metricsOnly is the output of a tick: its calls' spans have passed, and the recorder counts them.
type metricsOnly struct{}

// ticked is a tick's output, made once: an interface value made per tick would allocate.
var ticked verdict.Output = metricsOnly{}

func (metricsOnly) Judged(*verdict.Judged)    {}
func (metricsOnly) Unresolved(string, string) {}
func (metricsOnly) Malformed(string)          {}

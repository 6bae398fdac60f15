package verdict

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/record"
)

// calls judges, records and hands over the calls of one batch (or one tick) against one model.
type calls struct {
	e     *Engine
	m     *model
	out   Output
	tally *record.Tally // nil without a recorder
	now   time.Time     // read once per batch: the clock is not read per call
	j     Judged        // reused for every call: handing it over allocates nothing
}

func (e *Engine) newCalls(out Output) *calls {
	m := e.current.Load()
	c := &calls{e: e, m: m, out: out, now: e.set.Now()}
	if r := e.set.Recorder; r != nil {
		c.tally = r.Tally(m.labels)
	}
	return c
}

func (c *calls) done() {
	if c.tally != nil {
		c.tally.Done()
	}
}

// Call is one call the resolver found: decided, recorded, then handed to the face.
func (c *calls) Call(call judge.Call, span ptrace.Span, res pcommon.Resource, onSpan bool) {
	v := c.e.decide(c.m.intent, &call, c.now)
	c.record(&call, v, span, onSpan)
	c.j = Judged{Model: c.m.intent, Call: &call, Verdict: v, OnSpan: onSpan, Span: span, Resource: res, Now: c.now}
	c.out.Judged(&c.j)
}

// record keeps what the verdict changes in the engine's state: counts, absence, first sight, the
// learned model.
func (c *calls) record(call *judge.Call, v judge.Verdict, span ptrace.Span, onSpan bool) {
	if c.tally != nil {
		c.tally.Call(call, v)
	}
	if l := c.e.learner; l != nil {
		caller := call.Caller.Name
		if !call.External {
			caller = clean.Name(caller)
		}
		l.Observe(caller, clean.Name(call.Callee.Name), call.Callee.Kind, clean.Name(call.Op().String()), c.now)
	}
	if a := c.m.absence; a != nil && !call.External {
		a.Call(call.Caller.ID, v.Edge(), c.now)
	}
	if v.Status() == judge.Drifting {
		c.e.noteFirstSight(c.m.intent, call, v, span, onSpan, c.now)
	}
}

func (c *calls) Unresolved(caller string) {
	if r := c.e.set.Recorder; r != nil {
		r.Unresolved(caller)
	}
	c.out.Unresolved(caller)
}

func (c *calls) Malformed(reason string) {
	if r := c.e.set.Recorder; r != nil {
		r.Malformed(reason)
	}
	c.e.badSpans.note(reason)
	c.out.Malformed(reason)
}

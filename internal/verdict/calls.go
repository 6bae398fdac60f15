package verdict

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/ancestry"
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
	// call and j are reused for every call: the resolver's call is copied here, so that handing a
	// pointer to it over allocates nothing (a pointer to the parameter would move it to the heap).
	call judge.Call
	j    Judged
	// paths is set when the model has path rules: the batch's spans, to walk the chain of each call.
	paths *ancestry.Index
	walk  ancestry.Walker
	chain judge.Chain
}

// newCalls starts a batch against the current model; done ends it. A batch's calls object is taken
// from a pool: one made per batch would be garbage per batch.
func (e *Engine) newCalls(out Output) *calls {
	c, _ := e.batches.Get().(*calls)
	if c == nil {
		c = &calls{e: e}
	}
	c.m, c.out, c.now = e.current.Load(), out, e.set.Now()
	c.j.Model, c.j.Now = c.m.intent, c.now
	if r := e.set.Recorder; r != nil {
		c.tally = r.Tally(c.m.labels)
	}
	return c
}

func (c *calls) done() {
	if c.tally != nil {
		c.tally.Done()
	}
	if c.paths != nil {
		c.paths.Clear()
	}
	*c = calls{e: c.e, walk: c.walk} // drop the batch's model, spans and output
	c.e.batches.Put(c)
}

// Call is one call the resolver found: decided, recorded, then handed to the face. The verdict is
// decided into c.j and read through pointers: it is large, and copying it per call shows.
func (c *calls) Call(call judge.Call, span ptrace.Span, res pcommon.Resource, onSpan bool) {
	c.call = call
	j := &c.j
	j.Call, j.Span, j.Resource, j.OnSpan = &c.call, span, res, onSpan
	if c.paths != nil && onSpan && !call.External {
		c.walkChain(span)
	}
	c.e.decide(c.m.intent, &c.call, c.now, &j.Verdict)
	c.record(j)
	c.out.Judged(j)
}

// takeIndex gives the batch an index of its spans when the model has path rules, else nil. Out of
// line, as walkChain is.
//
//go:noinline
func (c *calls) takeIndex() *ancestry.Index {
	if !c.m.intent.HasPaths() {
		return nil
	}
	x, _ := c.e.indexes.Get().(*ancestry.Index)
	if x == nil {
		x = new(ancestry.Index)
	}
	c.paths = x
	return x
}

// walkChain finds the chain of the call's request, for the path rules. Out of line: most models
// have none, and the frame of Call is on the path of every call.
//
//go:noinline
func (c *calls) walkChain(span ptrace.Span) {
	c.chain = c.walk.Chain(c.m.intent, c.paths, c.e.trails, span, c.call.Caller, c.call.Callee)
	c.call.Chain = &c.chain
	if !c.chain.Complete {
		c.e.partial.Add(1)
	}
}

// record keeps what the verdict changes in the engine's state: counts, absence, first sight, the
// learned model.
func (c *calls) record(j *Judged) {
	call, v := j.Call, &j.Verdict
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
	if v.Drift() && !v.Known {
		c.e.noteFirstSight(c.m.intent, call, v, j.Span, j.OnSpan, c.now)
	}
}

func (c *calls) Unresolved(caller, reason string) {
	if r := c.e.set.Recorder; r != nil {
		r.Unresolved(caller, reason)
	}
	c.out.Unresolved(caller, reason)
}

func (c *calls) Late() {
	c.e.late.Add(1)
	c.e.lateLog.note(c.now)
}

func (c *calls) Malformed(reason string) {
	if r := c.e.set.Recorder; r != nil {
		r.Malformed(reason)
	}
	c.e.badSpans.note(reason)
	c.out.Malformed(reason)
}

// Package replay judges recorded traffic with the verdict engine, the one the drift processor
// runs, on the clock of the recording: each batch moves the clock to the latest end among its
// spans, calls wait for their partner for a TTL of recorded time, and what still waits at the end
// is judged as the collector judges it at shutdown. What it gives is a report.Report.
package replay

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
	"github.com/driftprocessor/driftprocessor/internal/reflexion"
	"github.com/driftprocessor/driftprocessor/internal/report"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

// Options of a replay.
type Options struct {
	IntentFile   string
	IntentData   []byte // the intent's content when it is not read from IntentFile
	BaselineFile string
	// TTL is how long, in recorded time, a call waits for its partner; 0 takes DefaultTTL.
	TTL time.Duration
	// MaxPending bounds the spans that wait at once; 0 takes DefaultMaxPending.
	MaxPending int
	// Behavior configures the behaviour windows; zero takes behaviour.DefaultConfig.
	Behavior behaviour.Config
	Learn    bool
	// Now, when set, is the clock instead of the recording's: for a test that compares faces on
	// one clock.
	Now func() time.Time
}

// Defaults. A recording's spans come in the order they were exported, so partners can be far
// apart in a file; memory is bounded by MaxPending, not by the TTL.
const (
	DefaultTTL        = time.Minute
	DefaultMaxPending = 1_000_000
)

// Run is one replay: batches in, a report out. Not safe for concurrent use.
type Run struct {
	engine *verdict.Engine
	at     time.Time // the recording's clock: the latest span end seen
	tally  tally
}

// New makes a replay against the intent of opts.
func New(opts Options) (*Run, error) {
	r := &Run{}
	p := pairing.DefaultConfig()
	p.TTL, p.MaxPending = opts.TTL, opts.MaxPending
	if p.TTL <= 0 {
		p.TTL = DefaultTTL
	}
	if p.MaxPending <= 0 {
		p.MaxPending = DefaultMaxPending
	}
	if opts.Behavior == (behaviour.Config{}) {
		opts.Behavior = behaviour.DefaultConfig()
	}
	now := func() time.Time { return r.at }
	if opts.Now != nil {
		now = opts.Now
	}
	e, err := verdict.New(verdict.Settings{
		IntentFile: opts.IntentFile, IntentData: opts.IntentData, BaselineFile: opts.BaselineFile,
		BaselineStaleAfter: 365 * 24 * time.Hour, // a recording is judged as it was, not as stale
		Pairing:            p, Behavior: opts.Behavior, Learn: opts.Learn, Now: now,
	})
	if err != nil {
		return nil, err
	}
	r.engine = e
	r.tally.rows = map[rowKey]*report.Edge{}
	r.tally.paths = map[pathKey]*pathRow{}
	return r, nil
}

// Engine is the engine that judges.
func (r *Run) Engine() *verdict.Engine { return r.engine }

// Batch judges one batch of the recording. The batch is not changed.
func (r *Run) Batch(td ptrace.Traces) {
	r.tally.spans += int64(td.SpanCount())
	if end := latestEnd(td); end.After(r.at) {
		r.at = end
	}
	r.engine.Batch(td, &r.tally)
	r.engine.Expire(&r.tally)
}

// Report judges what still waits for its partner, and returns the report of the whole recording.
func (r *Run) Report() *report.Report {
	r.engine.Drain(&r.tally)
	rep := &report.Report{Intent: r.engine.Model().File, Spans: r.tally.spans, Calls: r.tally.calls,
		Unresolved: r.tally.unresolved, Malformed: r.tally.malformed, Edges: make([]report.Edge, 0, len(r.tally.rows))}
	for _, e := range r.tally.rows {
		rep.Edges = append(rep.Edges, *e)
	}
	rep.Paths = make([]report.Path, 0, len(r.tally.paths))
	for _, p := range r.tally.paths {
		rep.Paths = append(rep.Paths, p.row)
	}
	rep.Sort()
	return rep
}

// Paths is every chain that broke a path rule, for the map.
func (r *Run) Paths() []reflexion.ObservedPath {
	out := make([]reflexion.ObservedPath, 0, len(r.tally.paths))
	for _, p := range r.tally.paths {
		out = append(out, reflexion.ObservedPath{Rule: p.row.Rule, Kind: p.row.Kind, Nodes: p.nodes, Calls: p.row.Calls, ExampleTrace: p.row.ExampleTrace})
	}
	return out
}

// Observed is the set of (caller, callee) pairs the recording called, by name.
func (r *Run) Observed() map[[2]string]bool {
	seen := make(map[[2]string]bool, len(r.tally.rows))
	for k := range r.tally.rows {
		seen[[2]string{k.caller, k.callee}] = true
	}
	return seen
}

func latestEnd(td ptrace.Traces) time.Time {
	var latest uint64
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				if end := uint64(spans.At(k).EndTimestamp()); end > latest {
					latest = end
				}
			}
		}
	}
	if latest == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(latest)).UTC()
}

type rowKey struct {
	caller, callee string
	status         judge.Status
	kind           judge.Kind
}

// tally is the engine's output for a replay: rows of calls, and the chains that broke path rules.
type tally struct {
	rows                  map[rowKey]*report.Edge
	paths                 map[pathKey]*pathRow
	spans, calls          int64
	unresolved, malformed int64
}

func (t *tally) Judged(j *verdict.Judged) {
	t.calls++
	v := &j.Verdict
	k := rowKey{caller: j.Call.Caller.Name, callee: j.Call.Callee.Name, status: v.Status(), kind: judge.NumKinds}
	if v.Drift() {
		k.kind = v.Kind()
	}
	row := t.rows[k]
	if row == nil {
		row = newRow(j, k)
		t.rows[k] = row
	}
	row.Calls++
	if row.ExampleTrace == "" && j.OnSpan {
		row.ExampleTrace = j.Span.TraceID().String()
	}
	if v.PathRule != nil {
		t.path(j)
	}
}

type pathKey struct{ rule, path, status string }

type pathRow struct {
	row   report.Path
	nodes []string
}

// path counts a call that completed a chain breaking a path rule.
func (t *tally) path(j *verdict.Judged) {
	v := &j.Verdict
	k := pathKey{rule: v.PathRule.Name, path: j.Call.Chain.Text(), status: v.Status().String()}
	p := t.paths[k]
	if p == nil {
		x := judge.ExplainPath(j.Model, j.Call, *v)
		p = &pathRow{row: report.Path{Rule: k.rule, Kind: judge.PathKind(v.PathRule).String(), Severity: x.Severity, Status: k.status,
			Path: k.path, IntentLine: x.Line, Message: x.Message, ExampleTrace: j.Span.TraceID().String()}}
		for _, n := range j.Call.Chain.Nodes {
			p.nodes = append(p.nodes, strings.Clone(clean.Name(n.Name))) // kept past the batch
		}
		p.nodes = reflexion.BoundPath(p.nodes)
		t.paths[k] = p
	}
	p.row.Calls++
}

// newRow describes a row once, from its first call: what decides it and where the intent says so.
func newRow(j *verdict.Judged, k rowKey) *report.Edge {
	row := &report.Edge{Caller: k.caller, Callee: k.callee, Status: k.status.String()}
	if j.Verdict.Drift() {
		x := judge.Explain(j.Model, j.Call, j.Verdict)
		row.Kind, row.Rule, row.Severity, row.Message, row.IntentLine = k.kind.String(), x.Rule, x.Severity, x.Message, x.Line
		return row
	}
	row.IntentLine = declaredAt(j.Model, j.Call)
	return row
}

// declaredAt is the line that allows a conforming call: its dependency, or the ingress callee.
func declaredAt(m *intent.Compiled, c *judge.Call) int {
	if c.External || c.Caller.ID == intent.NoNode {
		if c.Callee.ID != intent.NoNode {
			return m.Node(c.Callee.ID).Line
		}
		return 0
	}
	if d := m.Dependency(c.Caller.ID, c.Callee.ID); d != nil {
		return d.Line
	}
	return m.Node(c.Caller.ID).Line
}

func (t *tally) Unresolved(string, string) { t.unresolved++ }

func (t *tally) Malformed(string) { t.malformed++ }

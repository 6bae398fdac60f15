// Package report is what driftctl shows of judged traffic: one row per (caller, callee, status,
// kind) with its calls, and the renderings people and tools read (text, the JSON contract, JUnit
// XML, Markdown for a pull request, GitHub Actions annotations).
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Report is the JSON contract of `driftctl check --format json`: users' scripts read it.
type Report struct {
	Intent     string `json:"intent"` // the intent file that judged
	Spans      int64  `json:"spans"`
	Calls      int64  `json:"calls"`
	Unresolved int64  `json:"unresolved"`
	Malformed  int64  `json:"malformed"`
	Edges      []Edge `json:"edges"`
	// Paths are the chains of calls that broke path rules, whichever kind their calls' rows show
	// (a call breaking a structural rule too shows that kind first).
	Paths []Path `json:"paths"`
}

// Path is one chain of services, from its trace's first to the callee of the call that completed
// it, that broke one path rule, with the calls that completed it.
type Path struct {
	Rule         string `json:"rule"`
	Kind         string `json:"kind"` // forbidden_path, missing_waypoint, call_cycle, depth_exceeded
	Severity     string `json:"severity"`
	Status       string `json:"status"` // drift, or known when a baseline accepts its calls
	Path         string `json:"path"`   // "frontend -> adservice -> mysql", bounded as drift.path is
	Calls        int64  `json:"calls"`
	ExampleTrace string `json:"example_trace"`
	IntentLine   int    `json:"intent_line"` // the path rule's line
	Message      string `json:"message"`
}

// Edge is one row: the calls of one edge with one status and kind.
type Edge struct {
	Caller   string `json:"caller"`
	Callee   string `json:"callee"`
	Status   string `json:"status"` // conforming, drift or known
	Kind     string `json:"kind"`   // empty when conforming
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Calls    int64  `json:"calls"`
	// ExampleTrace is the trace id of one of the calls, as hex; empty when none was judged on a span.
	ExampleTrace string `json:"example_trace"`
	// IntentLine is the line of the intent file that decides: the rule, the dependency, the node.
	IntentLine int    `json:"intent_line"`
	Message    string `json:"message,omitempty"` // the sentence a span shows in drift.message
}

// Statuses, as drift.status writes them.
const (
	Conforming = "conforming"
	Drift      = "drift"
	Known      = "known"
)

var statusOrder = map[string]int{Drift: 0, Known: 1, Conforming: 2}

var severityRank = map[string]int{intent.SeverityInfo: 1, intent.SeverityWarning: 2, intent.SeverityCritical: 3}

// Sort orders the rows as every rendering shows them: drift first, the most severe first, then by
// edge and kind.
func (r *Report) Sort() {
	slices.SortFunc(r.Edges, func(a, b Edge) int {
		return cmp.Or(
			cmp.Compare(statusOrder[a.Status], statusOrder[b.Status]),
			cmp.Compare(severityRank[b.Severity], severityRank[a.Severity]),
			cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee), cmp.Compare(a.Kind, b.Kind))
	})
	slices.SortFunc(r.Paths, func(a, b Path) int {
		return cmp.Or(cmp.Compare(statusOrder[a.Status], statusOrder[b.Status]),
			cmp.Compare(severityRank[b.Severity], severityRank[a.Severity]), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Path, b.Path))
	})
}

// Failing reports whether a row of drift (not known) is at or above severity floor; floor "none"
// fails nothing.
func (r *Report) Failing(floor string) bool {
	min, ok := severityRank[floor]
	if !ok {
		return false
	}
	for _, e := range r.Edges {
		if e.Status == Drift && severityRank[e.Severity] >= min {
			return true
		}
	}
	for _, p := range r.Paths {
		if p.Status == Drift && severityRank[p.Severity] >= min {
			return true
		}
	}
	return false
}

// ParseSeverity checks a --fail-on value.
func ParseSeverity(s string) error {
	if _, ok := severityRank[s]; ok || s == "none" {
		return nil
	}
	return fmt.Errorf("severity %q: one of info, warning, critical, none", s)
}

// Drifting is the number of rows of drift (not known).
func (r *Report) Drifting() (rows int, calls int64) {
	for _, e := range r.Edges {
		if e.Status == Drift {
			rows++
			calls += e.Calls
		}
	}
	return rows, calls
}

// Formats of Write.
var Formats = []string{"text", "json", "junit", "markdown", "github"}

// Write renders r in format.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "text":
		return r.text(w)
	case "json":
		return r.json(w)
	case "junit":
		return r.junit(w)
	case "markdown":
		return r.markdown(w)
	case "github":
		return r.github(w)
	}
	return fmt.Errorf("format %q: one of text, json, junit, markdown, github", format)
}

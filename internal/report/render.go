package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

func (r *Report) json(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if r.Edges == nil {
		r.Edges = []Edge{} // [] rather than null: scripts iterate it
	}
	if r.Paths == nil {
		r.Paths = []Path{}
	}
	return enc.Encode(r)
}

// where is the intent line an edge cites, as file:line.
func (r *Report) where(e *Edge) string {
	if e.IntentLine == 0 {
		return r.Intent
	}
	return fmt.Sprintf("%s:%d", r.Intent, e.IntentLine)
}

func (r *Report) summary() string {
	rows, calls := r.Drifting()
	known, conforming := 0, 0
	for _, e := range r.Edges {
		switch e.Status {
		case Known:
			known++
		case Conforming:
			conforming++
		}
	}
	return fmt.Sprintf("%d spans, %d calls judged against %s (%d unresolved, %d malformed spans): "+
		"%d drifting rows (%d calls), %d known, %d conforming",
		r.Spans, r.Calls, r.Intent, r.Unresolved, r.Malformed, rows, calls, known, conforming)
}

// text is for people at a terminal: one line per row, drift first, with the sentence that
// explains it under it.
func (r *Report) text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i := range r.Edges {
		e := &r.Edges[i]
		label := map[string]string{Drift: "DRIFT", Known: "known", Conforming: "ok"}[e.Status]
		kind := e.Kind
		if kind == "" {
			kind = Conforming
		}
		fmt.Fprintf(tw, "%s\t%s -> %s\t%s\t%s\t%d calls\t%s\t%s\n", label, e.Caller, e.Callee, kind,
			e.Severity, e.Calls, r.where(e), traceOf(e.ExampleTrace))
		if e.Status != Conforming && e.Message != "" {
			fmt.Fprintf(tw, "\t  %s\n", e.Message)
		}
	}
	for _, p := range r.Paths {
		label := map[string]string{Drift: "DRIFT", Known: "known"}[p.Status]
		fmt.Fprintf(tw, "%s\tpath %s\t%s\t%s\t%d calls\t%s:%d\t%s\n", label, p.Path, p.Kind, p.Severity, p.Calls, r.Intent, p.IntentLine,
			traceOf(p.ExampleTrace))
		fmt.Fprintf(tw, "\t  %s\n", p.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.summary())
	return err
}

// traceOf shows an example trace id, or nothing without one.
func traceOf(id string) string {
	if id == "" {
		return ""
	}
	return "trace " + id
}

// markdown is the comment a pull request shows: drift and known drift in a table, the conforming
// edges folded away.
func (r *Report) markdown(w io.Writer) error {
	var b strings.Builder
	rows, calls := r.Drifting()
	fmt.Fprintf(&b, "### driftctl check: %d drifting rows (%d calls)\n\n", rows, calls)
	fmt.Fprintf(&b, "%s\n\n", r.summary())
	var conforming []Edge
	header := false
	for _, e := range r.Edges {
		if e.Status == Conforming {
			conforming = append(conforming, e)
			continue
		}
		if !header {
			b.WriteString("| status | edge | kind | severity | rule | calls | intent | example trace |\n|---|---|---|---|---|---:|---|---|\n")
			header = true
		}
		fmt.Fprintf(&b, "| %s | `%s -> %s` | %s | %s | %s | %d | `%s` | %s |\n", e.Status, MarkdownCell(e.Caller), MarkdownCell(e.Callee),
			e.Kind, e.Severity, MarkdownCell(e.Rule), e.Calls, r.where(&e), e.ExampleTrace)
	}
	if len(r.Paths) > 0 {
		b.WriteString("\n| status | path | kind | severity | rule | calls | intent | example trace |\n|---|---|---|---|---|---:|---|---|\n")
		for _, p := range r.Paths {
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %d | `%s:%d` | %s |\n", p.Status, MarkdownCell(p.Path), p.Kind, p.Severity,
				MarkdownCell(p.Rule), p.Calls, r.Intent, p.IntentLine, p.ExampleTrace)
		}
	}
	if len(conforming) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>%d conforming edges</summary>\n\n| edge | calls | intent |\n|---|---:|---|\n", len(conforming))
		for _, e := range conforming {
			fmt.Fprintf(&b, "| `%s -> %s` | %d | `%s` |\n", MarkdownCell(e.Caller), MarkdownCell(e.Callee), e.Calls, r.where(&e))
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MarkdownCell keeps a value from breaking a Markdown table.
func MarkdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}

// github writes GitHub Actions workflow commands: an annotation per row of drift, at the intent
// line that decides it (critical as an error, warning as a warning, info as a notice).
func (r *Report) github(w io.Writer) error {
	for i := range r.Edges {
		e := &r.Edges[i]
		if e.Status != Drift {
			continue
		}
		if err := r.annotate(w, e.Severity, e.Message, e.Calls, e.ExampleTrace, e.IntentLine, e.Kind+" "+e.Caller+" -> "+e.Callee); err != nil {
			return err
		}
	}
	for i := range r.Paths {
		p := &r.Paths[i]
		if p.Status != Drift {
			continue
		}
		if err := r.annotate(w, p.Severity, p.Message, p.Calls, p.ExampleTrace, p.IntentLine, p.Kind+" "+p.Path); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "::notice title=driftctl check::%s\n", data(r.summary()))
	return err
}

// annotate writes one workflow command for a drifting row or path, at the intent line that decides
// it: critical as an error, warning as a warning, info as a notice.
func (r *Report) annotate(w io.Writer, severity, message string, calls int64, trace string, line int, title string) error {
	level := map[string]string{"critical": "error", "warning": "warning"}[severity]
	if level == "" {
		level = "notice"
	}
	msg := fmt.Sprintf("%s (%d calls", message, calls)
	if trace != "" {
		msg += ", example trace " + trace
	}
	msg += ")"
	props := "file=" + property(r.Intent)
	if line > 0 {
		props += fmt.Sprintf(",line=%d", line)
	}
	props += ",title=" + property("drift: "+title)
	_, err := fmt.Fprintf(w, "::%s %s::%s\n", level, props, data(msg))
	return err
}

// data and property escape a workflow command's message and properties as the runner reads them.
func data(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func property(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

type junitSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Suites  []junitRun `xml:"testsuite"`
}

type junitRun struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Failure *junitFailure `xml:"failure,omitempty"`
	Skipped *struct{}     `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// junit is a test suite per check: each row is a test case, failed when it drifts; known drift
// is skipped, as accepted.
func (r *Report) junit(w io.Writer) error {
	run := junitRun{Name: "driftctl check " + r.Intent}
	for i := range r.Edges {
		e := &r.Edges[i]
		c := junitCase{Class: e.Caller, Name: fmt.Sprintf("%s -> %s %s", e.Caller, e.Callee, cmpOr(e.Kind, Conforming))}
		switch e.Status {
		case Drift:
			run.Failures++
			c.Failure = &junitFailure{Type: e.Kind, Message: e.Message,
				Text: fmt.Sprintf("%d calls; severity %s; rule %s; %s; %s", e.Calls, e.Severity, e.Rule, r.where(e), traceOf(e.ExampleTrace))}
		case Known:
			c.Skipped = &struct{}{}
		}
		run.Cases = append(run.Cases, c)
	}
	for _, p := range r.Paths {
		c := junitCase{Class: p.Rule, Name: "path " + p.Path + " " + p.Kind}
		if p.Status == Drift {
			run.Failures++
			c.Failure = &junitFailure{Type: p.Kind, Message: p.Message,
				Text: fmt.Sprintf("%d calls; severity %s; rule %s; %s:%d; %s", p.Calls, p.Severity, p.Rule, r.Intent, p.IntentLine, traceOf(p.ExampleTrace))}
		} else {
			c.Skipped = &struct{}{}
		}
		run.Cases = append(run.Cases, c)
	}
	run.Tests = len(run.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitRun{run}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

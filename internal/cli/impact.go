package cli

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/replay"
	"github.com/driftprocessor/driftprocessor/internal/report"
)

// Impact is what an intent change does to the same traffic: the JSON of `driftctl impact`.
type Impact struct {
	Old             string       `json:"old"`
	New             string       `json:"new"`
	Spans           int64        `json:"spans"`
	Calls           int64        `json:"calls"`
	NewlyDrifting   []ImpactEdge `json:"newly_drifting"`
	NewlyConforming []ImpactEdge `json:"newly_conforming"`
	NewlyAbsent     []AbsentEdge `json:"newly_absent"`
}

// ImpactEdge is an edge whose verdict the change turns: the rows of the side where it drifts.
type ImpactEdge struct {
	Caller       string   `json:"caller"`
	Callee       string   `json:"callee"`
	Kinds        []string `json:"kinds"`
	Calls        int64    `json:"calls"`
	ExampleTrace string   `json:"example_trace"`
	IntentLine   int      `json:"intent_line"` // in the intent where it drifts
}

// AbsentEdge is a dependency the new intent declares that the traffic never called, and the old
// did not declare.
type AbsentEdge struct {
	Caller     string `json:"caller"`
	Callee     string `json:"callee"`
	IntentLine int    `json:"intent_line"`
}

func impact(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("impact", flag.ContinueOnError)
	var j judging
	j.inputs.flags(fs)
	fs.DurationVar(&j.ttl, "ttl", replay.DefaultTTL, "how long, in recorded time, a call waits for its partner span")
	oldFile := fs.String("old", "", "the intent before the change")
	base := fs.String("base", "", "read the intent before the change from this git revision (the --new file's path at it)")
	newFile := fs.String("new", "", "the intent after the change (required)")
	format := fs.String("format", "text", "output: text, json, markdown")
	files, ok := parse(fs, args, errOut)
	if !ok {
		return ExitUsage
	}
	j.files = files
	switch {
	case *newFile == "":
		return usageError(errOut, "impact", "--new is required")
	case (*oldFile == "") == (*base == ""):
		return usageError(errOut, "impact", "give one of --old FILE and --base REF")
	case !slices.Contains([]string{"text", "json", "markdown"}, *format):
		return usageError(errOut, "impact", "--format %q: one of text, json, markdown", *format)
	}
	if err := j.check(); err != nil {
		return usageError(errOut, "impact", "%v", err)
	}
	before := replay.Options{IntentFile: *oldFile, TTL: j.ttl}
	if *base != "" {
		data, err := gitShow(*base, *newFile)
		if err != nil {
			fmt.Fprintf(errOut, "driftctl impact: %v\n", err)
			return ExitUsage
		}
		before.IntentFile, before.IntentData = *base+":"+*newFile, data
	}
	runs, err := j.judge(before, replay.Options{IntentFile: *newFile, TTL: j.ttl})
	if err != nil {
		fmt.Fprintf(errOut, "driftctl impact: %v\n", err)
		return ExitUsage
	}
	im := compare(runs[0], runs[1])
	if err := im.write(out, *format); err != nil {
		fmt.Fprintf(errOut, "driftctl impact: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}

// gitShow reads path as it was at rev, from the repository path is in.
func gitShow(rev, path string) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("git", "show", rev+":./"+filepath.Base(abs))
	cmd.Dir = filepath.Dir(abs)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	data, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git show %s:%s: %v: %s", rev, path, err, strings.TrimSpace(stderr.String()))
	}
	return data, nil
}

// edgeState is what one side's report says of an edge.
type edgeState struct {
	drifting bool
	edge     ImpactEdge
}

func states(rep *report.Report) map[[2]string]*edgeState {
	s := map[[2]string]*edgeState{}
	for _, e := range rep.Edges {
		k := [2]string{e.Caller, e.Callee}
		st := s[k]
		if st == nil {
			st = &edgeState{edge: ImpactEdge{Caller: e.Caller, Callee: e.Callee}}
			s[k] = st
		}
		if e.Status != report.Drift {
			continue
		}
		if !st.drifting {
			st.edge.ExampleTrace, st.edge.IntentLine = e.ExampleTrace, e.IntentLine
		}
		st.drifting = true
		st.edge.Kinds = append(st.edge.Kinds, e.Kind)
		st.edge.Calls += e.Calls
	}
	return s
}

func compare(before, after *replay.Run) *Impact {
	observed := after.Observed()
	oldModel, newModel := before.Engine().Model(), after.Engine().Model()
	oldRep, newRep := before.Report(), after.Report()
	im := &Impact{Old: oldRep.Intent, New: newRep.Intent, Spans: newRep.Spans, Calls: newRep.Calls,
		NewlyDrifting: []ImpactEdge{}, NewlyConforming: []ImpactEdge{}, NewlyAbsent: []AbsentEdge{}}
	olds, news := states(oldRep), states(newRep)
	for k, n := range news {
		if o := olds[k]; n.drifting && (o == nil || !o.drifting) {
			im.NewlyDrifting = append(im.NewlyDrifting, n.edge)
		}
	}
	for k, o := range olds {
		if n := news[k]; o.drifting && (n == nil || !n.drifting) {
			im.NewlyConforming = append(im.NewlyConforming, o.edge)
		}
	}
	oldDeclared := declared(oldModel)
	for k, line := range declared(newModel) {
		if _, was := oldDeclared[k]; !was && !observed[k] {
			im.NewlyAbsent = append(im.NewlyAbsent, AbsentEdge{Caller: k[0], Callee: k[1], IntentLine: line})
		}
	}
	byEdge := func(a, b ImpactEdge) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	}
	slices.SortFunc(im.NewlyDrifting, byEdge)
	slices.SortFunc(im.NewlyConforming, byEdge)
	slices.SortFunc(im.NewlyAbsent, func(a, b AbsentEdge) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	})
	return im
}

// declared is every dependency a model declares, with its line.
func declared(m *intent.Compiled) map[[2]string]int {
	d := map[[2]string]int{}
	m.Declared(func(from, to intent.NodeID, line int) {
		d[[2]string{m.Node(from).Name, m.Node(to).Name}] = line
	})
	return d
}

func (im *Impact) write(w io.Writer, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(im)
	}
	md := format == "markdown"
	var b strings.Builder
	if md {
		fmt.Fprintf(&b, "### driftctl impact of `%s`\n\n", im.New)
	}
	fmt.Fprintf(&b, "Against %d spans (%d calls): %d edges newly drifting, %d newly conforming, %d newly absent.\n",
		im.Spans, im.Calls, len(im.NewlyDrifting), len(im.NewlyConforming), len(im.NewlyAbsent))
	section := func(title string, edges []ImpactEdge, file string) {
		if len(edges) == 0 {
			return
		}
		if md {
			fmt.Fprintf(&b, "\n**%s**\n\n| edge | kinds | calls | example trace | intent |\n|---|---|---:|---|---|\n", title)
		} else {
			fmt.Fprintf(&b, "\n%s:\n", title)
		}
		for _, e := range edges {
			if md {
				fmt.Fprintf(&b, "| `%s -> %s` | %s | %d | %s | `%s:%d` |\n", report.MarkdownCell(e.Caller), report.MarkdownCell(e.Callee), strings.Join(e.Kinds, ", "), e.Calls, e.ExampleTrace, file, e.IntentLine)
			} else {
				fmt.Fprintf(&b, "  %s -> %s  %s  %d calls  %s:%d  trace %s\n", e.Caller, e.Callee, strings.Join(e.Kinds, ", "), e.Calls, file, e.IntentLine, e.ExampleTrace)
			}
		}
	}
	section("Newly drifting", im.NewlyDrifting, im.New)
	section("Newly conforming (drifted before the change)", im.NewlyConforming, im.Old)
	if len(im.NewlyAbsent) > 0 {
		if md {
			b.WriteString("\n**Newly absent: declared by the change, never called in this traffic**\n\n| edge | intent |\n|---|---|\n")
		} else {
			b.WriteString("\nNewly absent (declared by the change, never called in this traffic):\n")
		}
		for _, e := range im.NewlyAbsent {
			if md {
				fmt.Fprintf(&b, "| `%s -> %s` | `%s:%d` |\n", report.MarkdownCell(e.Caller), report.MarkdownCell(e.Callee), im.New, e.IntentLine)
			} else {
				fmt.Fprintf(&b, "  %s -> %s  %s:%d\n", e.Caller, e.Callee, im.New, e.IntentLine)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

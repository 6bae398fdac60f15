package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/replay"
)

func explain(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	file := fs.String("intent", "", "the intent file (required)")
	baseline := fs.String("baseline", "", "a baseline file: drift it accepts shows as known")
	pos, ok := parse(fs, args, errOut)
	if !ok {
		return ExitUsage
	}
	if *file == "" {
		return usageError(errOut, "explain", "--intent is required")
	}
	if len(pos) < 2 || len(pos) > 3 {
		return usageError(errOut, "explain", "want CALLER CALLEE [OPERATION], got %d arguments", len(pos))
	}
	run, err := replay.New(replay.Options{IntentFile: *file, BaselineFile: *baseline})
	if err != nil {
		fmt.Fprintf(errOut, "driftctl explain: %v\n", err)
		return ExitUsage
	}
	e := run.Engine()
	m := e.Model()
	call := callOf(m, pos)
	v := e.Decide(&call)
	var b strings.Builder
	describe(&b, m, &call)
	writeVerdict(&b, m, &call, v)
	_, _ = io.WriteString(out, b.String())
	return ExitOK
}

// callOf is the call people name: "external" as the caller is a call from outside.
func callOf(m *intent.Compiled, pos []string) judge.Call {
	var c judge.Call
	if pos[0] == intent.External {
		c.External = true
		c.Caller = intent.Peer{ID: intent.NoNode, Name: intent.External}
	} else {
		c.Caller = peerOf(m, pos[0])
	}
	c.Callee = peerOf(m, pos[1])
	if len(pos) == 3 {
		c.Operation = judge.Op(pos[2])
	}
	return c
}

func peerOf(m *intent.Compiled, name string) intent.Peer {
	if id := m.Lookup(name); id != intent.NoNode {
		return m.Peer(id)
	}
	return intent.Peer{ID: intent.NoNode, Name: name, Kind: intent.KindUnknown}
}

// describe writes the declarations that bear on the call, with their lines.
func describe(b *strings.Builder, m *intent.Compiled, c *judge.Call) {
	fmt.Fprintf(b, "%s -> %s", c.Caller.Name, c.Callee.Name)
	if op := c.Op().String(); op != "" {
		fmt.Fprintf(b, " (operation %q)", op)
	}
	b.WriteString("\n")
	if !c.External {
		node(b, m, "caller", c.Caller)
	} else {
		b.WriteString("  caller: outside the traced system\n")
	}
	node(b, m, "callee", c.Callee)
	switch {
	case c.External:
		if c.Callee.ID != intent.NoNode {
			fmt.Fprintf(b, "  ingress: %v (%s:%d)\n", m.Node(c.Callee.ID).Ingress, m.File, m.Node(c.Callee.ID).Line)
		}
	case c.Caller.ID != intent.NoNode && c.Callee.ID != intent.NoNode:
		if d := m.Dependency(c.Caller.ID, c.Callee.ID); d != nil {
			ops := "any operation"
			if d.HasOperations() {
				ops = "only the declared operations"
			}
			fmt.Fprintf(b, "  dependency: declared at %s:%d (%s)\n", m.File, d.Line, ops)
		} else {
			fmt.Fprintf(b, "  dependency: not declared in the depends_on of %s (%s:%d)\n", c.Caller.Name, m.File, m.Node(c.Caller.ID).DepsLine)
		}
	}
	rules(b, m, c)
}

func node(b *strings.Builder, m *intent.Compiled, role string, p intent.Peer) {
	if p.ID == intent.NoNode {
		fmt.Fprintf(b, "  %s: %s is not a service or resource of the model (policy unknown_services: %s)\n", role, p.Name, m.Policy.UnknownServices)
		return
	}
	n := m.Node(p.ID)
	fmt.Fprintf(b, "  %s: %s %s, declared at %s:%d", role, n.Kind, n.Name, m.File, n.Line)
	if n.Layer >= 0 {
		fmt.Fprintf(b, ", layer %s (%d of %d)", m.Layers[n.Layer], n.Layer+1, len(m.Layers))
	}
	if n.Zone != "" {
		fmt.Fprintf(b, ", zone %s", n.Zone)
	}
	b.WriteString("\n")
}

// rules lists every deny rule that selects the call: the first that matches decides.
func rules(b *strings.Builder, m *intent.Compiled, c *judge.Call) {
	decided := false
	any := false
	for _, r := range m.Rules() {
		if !r.Selects(c.Caller, c.Callee) {
			continue
		}
		any = true
		switch {
		case !r.Matches(c.Caller, c.Callee):
			fmt.Fprintf(b, "  rule %s (%s:%d) selects it, but its except excludes it\n", r.Name, m.File, r.Line)
		case !decided:
			fmt.Fprintf(b, "  rule %s (%s:%d, %s) denies it: the first rule that matches decides\n", r.Name, m.File, r.Line, r.Severity)
			decided = true
		default:
			fmt.Fprintf(b, "  rule %s (%s:%d) would deny it too, after the one that decides\n", r.Name, m.File, r.Line)
		}
	}
	if !any {
		b.WriteString("  rules: no deny rule selects it\n")
	}
}

func writeVerdict(b *strings.Builder, m *intent.Compiled, c *judge.Call, v judge.Verdict) {
	if !v.Drift() {
		b.WriteString("verdict: conforming\n")
		return
	}
	x := judge.Explain(m, c, v)
	fmt.Fprintf(b, "verdict: %s %s (severity %s, rule %s, %s:%d)\n  %s\n", v.Status(), v.Kind(), x.Severity, x.Rule, m.File, x.Line, x.Message)
	var also []string
	for k := range judge.NumKinds {
		if v.Kinds.Has(k) && k != v.Kind() {
			also = append(also, k.String())
		}
	}
	if len(also) > 0 {
		fmt.Fprintf(b, "  also: %s (a span shows the first kind in the table)\n", strings.Join(also, ", "))
	}
	if v.Known {
		b.WriteString("  known: the baseline accepts it\n")
	}
	b.WriteString("Behaviour kinds (latency, error rate, retries, fan-out) and path kinds (forbidden paths, waypoints, cycles, depth: over whole traces) are decided over traffic: driftctl check shows them.\n")
}

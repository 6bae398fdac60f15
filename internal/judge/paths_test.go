package judge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

func pathModel(t *testing.T, rules string) *intent.Compiled {
	t.Helper()
	m, err := intent.LoadBytes("p.yaml", []byte("version: 1\nservices: {a: {}, b: {}, c: {}, d: {}}\npaths:\n"+rules))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func chainOf(m *intent.Compiled, complete bool, names ...string) *Chain {
	ch := &Chain{Complete: complete}
	for _, n := range names {
		if id := m.Lookup(n); id != intent.NoNode {
			ch.Nodes = append(ch.Nodes, m.Peer(id))
		} else {
			ch.Nodes = append(ch.Nodes, intent.Peer{ID: intent.NoNode, Name: n, Kind: intent.KindService})
		}
	}
	return ch
}

// TestJudgePaths: each check decides on the chain's last call, a via counts only between from and
// to, a missing waypoint is not decided on part of a chain, and the lowest kind names the verdict.
func TestJudgePaths(t *testing.T) {
	m := pathModel(t, `  - name: a-c-via-b
    deny: {from: a, to: c, via: b}
  - name: d-via-a
    require: {to: d, via: a}
  - name: shallow
    max_depth: 2
  - name: loops
    cycles: deny
`)
	tests := []struct {
		chain    []string
		complete bool
		kinds    []Kind
		rule     string
	}{
		{[]string{"a", "b", "c"}, true, []Kind{ForbiddenPath}, "a-c-via-b"},
		{[]string{"a", "c"}, true, nil, ""},                                    // not through b
		{[]string{"b", "a", "c"}, true, nil, ""},                               // b is before a, not between
		{[]string{"a", "b", "d"}, true, nil, ""},                               // passed a
		{[]string{"b", "d"}, true, []Kind{MissingWaypoint}, "d-via-a"},         // did not
		{[]string{"b", "d"}, false, nil, ""},                                   // an unseen part may hold a
		{[]string{"a", "b", "c", "d"}, true, []Kind{DepthExceeded}, "shallow"}, // 3 calls deep
		{[]string{"a", "b", "a"}, true, []Kind{CallCycle}, "loops"},
		{[]string{"b", "a", "b", "c"}, false, []Kind{ForbiddenPath, DepthExceeded}, "a-c-via-b"}, // the cycle was closed by the call before
		{[]string{"x", "y", "x"}, true, []Kind{CallCycle}, "loops"},                              // names outside the model
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.chain, ">"), func(t *testing.T) {
			var v Verdict
			ch := chainOf(m, tt.complete, tt.chain...)
			JudgePaths(m, ch, &v)
			var want Kinds
			for _, k := range tt.kinds {
				want.Add(k)
			}
			if v.Kinds != want {
				t.Fatalf("kinds %b, want %b", v.Kinds, want)
			}
			if tt.rule == "" {
				if v.PathRule != nil {
					t.Fatalf("path verdict without a kind: %+v", v)
				}
				return
			}
			if v.PathRule == nil || v.PathRule.Name != tt.rule || ch.Text() != strings.Join(tt.chain, " -> ") {
				t.Fatalf("verdict %+v", v)
			}
			x := Explain(m, &Call{Caller: ch.Nodes[len(tt.chain)-2], Callee: ch.Nodes[len(tt.chain)-1], Chain: ch}, v)
			if x.Rule != tt.rule || !strings.Contains(x.Message, "p.yaml:") || !strings.HasPrefix(x.Message, ch.Text()) {
				t.Errorf("explanation %+v", x)
			}
		})
	}
}

// TestPathTextIsBounded: a long chain keeps its first node and its last ones.
func TestPathTextIsBounded(t *testing.T) {
	var nodes []intent.Peer
	for i := range 40 {
		nodes = append(nodes, intent.Peer{ID: intent.NoNode, Name: fmt.Sprintf("s%d", i)})
	}
	got := PathText(nodes)
	if n := strings.Count(got, " -> ") + 1; n != MaxPathNodes {
		t.Errorf("%d parts in %q", n, got)
	}
	if !strings.HasPrefix(got, "s0 -> … -> s30 -> ") || !strings.HasSuffix(got, " -> s39") {
		t.Errorf("%q", got)
	}
	long := []intent.Peer{{ID: intent.NoNode, Name: strings.Repeat("x", 1000)}, {ID: intent.NoNode, Name: "y"}}
	if got := PathText(long); len(got) != MaxPathName+len(" -> y") || !strings.HasSuffix(got, " -> y") {
		t.Errorf("a long name is not bounded on its own: %d bytes", len(got))
	}
	for i := range nodes {
		nodes[i].Name = strings.Repeat("é", 300)
	}
	if got := PathText(nodes); len(got) > 1024 {
		t.Errorf("drift.path of long names: %d bytes", len(got))
	}
}

// TestMasksAgreeWithRules: the masks decide as the rules tried one by one do, on random chains of
// nodes of the model and names outside it, with except entries, vias and parts of chains.
func TestMasksAgreeWithRules(t *testing.T) {
	m := pathModel(t, `  - name: d1
    deny: {from: a, to: c, via: b}
  - name: d2
    deny: {from: {name: [a, b]}, to: '*'}
    except: [{from: b, to: d}]
  - name: d3
    deny: {from: "x*", to: d, via: {name: "y*"}}
  - name: r1
    require: {to: d, via: a}
  - name: r2
    require: {to: {name: "*"}, via: {name: [b, "x*"]}}
    except: [{to: c}]
  - name: c1
    cycles: deny
  - name: c2
    cycles: deny
    services: {name: [c, "x*"]}
    except: [{from: a}]
`)
	if !m.PathsMasked() {
		t.Fatal("a model of 7 path rules is checked by masks")
	}
	names := []string{"a", "b", "c", "d", "x", "y1"}
	rnd := uint64(1)
	next := func(n int) int { rnd = rnd*6364136223846793005 + 1442695040888963407; return int(rnd>>33) % n }
	rules := m.Paths()
	var seen uint64 // the rules some chain breaks: each must be
	for range 20000 {
		chain := make([]string, 2+next(6))
		for i := range chain {
			chain[i] = names[next(len(names))]
		}
		ch := chainOf(m, next(3) > 0, chain...)
		var want uint64
		for i := range rules {
			if breaks(&rules[i], ch) {
				want |= 1 << i
			}
		}
		if got := maskedBreaks(m, ch); got != want {
			t.Fatalf("%v (complete %v): masks %07b, rules %07b", chain, ch.Complete, got, want)
		}
		seen |= want
	}
	if seen != 1<<len(rules)-1 {
		t.Errorf("rules broken by some chain: %07b", seen)
	}
}

// TestManyPathRules: past MaxMaskedPaths, each rule is tried on its own, with the same verdicts.
func TestManyPathRules(t *testing.T) {
	var rules strings.Builder
	for i := range intent.MaxMaskedPaths {
		fmt.Fprintf(&rules, "  - name: pad-%d\n    deny: {from: d, to: d}\n", i)
	}
	rules.WriteString("  - name: a-c-via-b\n    deny: {from: a, to: c, via: b}\n  - name: loops\n    cycles: deny\n")
	m := pathModel(t, rules.String())
	if m.PathsMasked() {
		t.Fatal("masked past the bound")
	}
	var v Verdict
	JudgePaths(m, chainOf(m, true, "a", "b", "a", "c"), &v)
	if !v.Kinds.Has(ForbiddenPath) || v.Kinds.Has(CallCycle) || v.PathRule.Name != "a-c-via-b" {
		t.Fatalf("%+v", v)
	}
	v = Verdict{}
	JudgePaths(m, chainOf(m, true, "a", "b", "a"), &v)
	if !v.Kinds.Has(CallCycle) || v.Kinds.Has(ForbiddenPath) {
		t.Fatalf("%+v", v)
	}
}

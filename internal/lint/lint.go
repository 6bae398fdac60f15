// Package lint finds what a strict load cannot: an intent that loads but does not say what its
// authors meant. Rules that can never match or are shadowed, excepts that exclude everything,
// declared dependencies that a deny rule forbids, path rules that the declared dependencies break,
// resources and layers nothing uses, expectations on edges nothing declares, services no ingress
// reaches.
package lint

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// Severities of findings.
const (
	Error   = "error"   // the intent contradicts itself: calls it declares are judged drift
	Warning = "warning" // something the authors likely did not mean
)

// Finding is one thing lint found, at a line of the intent file.
type Finding struct {
	Line     int
	Severity string
	Check    string // the check's name, for people to look up and silence
	Message  string
}

func (f Finding) String(file string) string {
	return fmt.Sprintf("%s:%d: %s: %s [%s]", file, f.Line, f.Severity, f.Message, f.Check)
}

// Check runs every check on m, and returns the findings by line.
func Check(m *intent.Compiled) []Finding {
	c := checker{m: m, peers: peers(m)}
	c.rules()
	c.forbiddenDependencies()
	c.unusedResources()
	c.emptyLayers()
	c.expectWithoutEdge()
	c.unreachable()
	c.declaredPaths()
	slices.SortStableFunc(c.found, func(a, b Finding) int { return cmp.Compare(a.Line, b.Line) })
	return c.found
}

type checker struct {
	m     *intent.Compiled
	peers []intent.Peer
	found []Finding
}

func (c *checker) add(line int, severity, check, format string, args ...any) {
	c.found = append(c.found, Finding{Line: line, Severity: severity, Check: check, Message: fmt.Sprintf(format, args...)})
}

func peers(m *intent.Compiled) []intent.Peer {
	ps := make([]intent.Peer, m.NumNodes())
	for i := range ps {
		ps[i] = m.Peer(intent.NodeID(i))
	}
	return ps
}

// rules: a deny rule that selects no pair of declared nodes, one whose except removes every pair it
// selects, and one whose every pair an earlier rule already denies (the first match names the
// rule, so the later one never shows).
func (c *checker) rules() {
	rules := c.m.Rules()
	for i := range rules {
		r := &rules[i]
		selected, matched, shadowedBy := 0, 0, -1
		shadowed := true
		for _, from := range c.peers {
			for _, to := range c.peers {
				if !r.Selects(from, to) {
					continue
				}
				selected++
				if !r.Matches(from, to) {
					continue
				}
				matched++
				earlier := firstMatch(rules[:i], from, to)
				if earlier < 0 {
					shadowed = false
				} else if shadowedBy < 0 {
					shadowedBy = earlier
				}
			}
		}
		switch {
		case selected == 0:
			c.add(r.Line, Warning, "rule-never-matches", "rule %s selects no call between the services and resources of the model: it can match only names the model does not declare", r.Name)
		case matched == 0:
			c.add(r.Line, Warning, "except-excludes-all", "rule %s: its except excludes every call its from and to select, so it never denies anything", r.Name)
		case shadowed:
			e := &rules[shadowedBy]
			c.add(r.Line, Warning, "rule-shadowed", "rule %s is shadowed by rule %s (line %d): every call it denies, that earlier rule denies first and names", r.Name, e.Name, e.Line)
		}
	}
}

func firstMatch(rules []intent.Rule, from, to intent.Peer) int {
	for i := range rules {
		if rules[i].Matches(from, to) {
			return i
		}
	}
	return -1
}

// forbiddenDependencies: a declared dependency that a deny rule denies: every call along it is
// judged forbidden_dependency, though the intent declares it.
func (c *checker) forbiddenDependencies() {
	rules := c.m.Rules()
	for _, n := range c.m.Model.Nodes {
		from := c.m.Peer(c.m.Lookup(n.Name))
		for _, d := range n.DependsOn {
			to := c.m.Peer(c.m.Lookup(d.To))
			if i := firstMatch(rules, from, to); i >= 0 {
				c.add(d.Line, Error, "dependency-forbidden", "%s -> %s is declared, but rule %s (line %d) denies it: every call along it is forbidden_dependency", n.Name, d.To, rules[i].Name, rules[i].Line)
			}
		}
	}
}

// unusedResources: a resource nothing depends on and no rule names.
func (c *checker) unusedResources() {
	named := map[string]bool{}
	for _, r := range c.m.Model.Rules {
		for _, s := range []intent.SelectorSpec{r.From, r.To} {
			for _, n := range s.Name {
				named[n] = true
			}
		}
	}
	for _, r := range c.m.Model.Paths {
		for _, s := range []intent.SelectorSpec{r.From, r.To, r.Via, r.Services} {
			for _, n := range s.Name {
				named[n] = true
			}
		}
	}
	called := c.callees()
	for _, n := range c.m.Model.Nodes {
		if n.Kind != intent.KindService && !called[n.Name] && !named[n.Name] {
			c.add(n.Line, Warning, "resource-unused", "resource %s: no service depends on it and no rule names it", n.Name)
		}
	}
}

func (c *checker) callees() map[string]bool {
	called := map[string]bool{}
	for _, n := range c.m.Model.Nodes {
		for _, d := range n.DependsOn {
			called[d.To] = true
		}
	}
	return called
}

// emptyLayers: a layer no node is in.
func (c *checker) emptyLayers() {
	used := map[string]bool{}
	for _, n := range c.m.Model.Nodes {
		used[n.Layer] = true
	}
	for _, l := range c.m.Model.Layers {
		if !used[l] {
			c.add(c.m.LayersLine, Warning, "layer-empty", "layer %s has no members", l)
		}
	}
}

// expectWithoutEdge: an expect block that no declared edge carries: outgoing expectations on a
// node that depends on nothing, incoming ones on a node nothing depends on and no one calls from
// outside.
func (c *checker) expectWithoutEdge() {
	called := c.callees()
	for _, n := range c.m.Model.Nodes {
		if n.Expect != nil && len(n.DependsOn) == 0 {
			c.add(n.Expect.Line, Warning, "expect-without-edge", "%s: expect applies to its dependencies, but it declares none", n.Name)
		}
		if n.ExpectIncoming != nil && !called[n.Name] && !n.Ingress {
			c.add(n.ExpectIncoming.Line, Warning, "expect-without-edge", "%s: expect_incoming applies to calls into it, but nothing depends on it and it is not an ingress", n.Name)
		}
	}
}

// unreachable: a service that no path of declared dependencies from an ingress reaches. Calls into
// it are declared only from services nothing outside ever starts.
func (c *checker) unreachable() {
	var queue []string
	reached := map[string]bool{}
	deps := map[string][]string{}
	for _, n := range c.m.Model.Nodes {
		for _, d := range n.DependsOn {
			deps[n.Name] = append(deps[n.Name], d.To)
		}
		if n.Ingress {
			queue = append(queue, n.Name)
			reached[n.Name] = true
		}
	}
	if len(queue) == 0 {
		if len(c.m.Model.Nodes) > 0 {
			c.add(c.m.NodeLine, Warning, "no-ingress", "no service is declared `ingress: true`: every call from outside the traced system is undeclared_ingress")
		}
		return
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, to := range deps[n] {
			if !reached[to] {
				reached[to] = true
				queue = append(queue, to)
			}
		}
	}
	// A service nothing declares a call to may be a consumer that a queue feeds (intent v1 declares
	// no consumer edges): it is reported only when the model has no messaging resource.
	called, queues := c.callees(), false
	for _, n := range c.m.Model.Nodes {
		queues = queues || n.Kind == intent.KindMessaging
	}
	for _, n := range c.m.Model.Nodes {
		if n.Kind != intent.KindService || reached[n.Name] || (!called[n.Name] && queues) {
			continue
		}
		c.add(n.Line, Warning, "unreachable", "service %s: no ingress reaches it through declared dependencies", n.Name)
	}
}

// maxDeclaredChains bounds the chains declaredPaths walks: a large model has more chains than it
// is worth walking, and the check then looks at the first ones only.
const maxDeclaredChains = 100_000

// declaredPaths: a path rule that a chain of declared dependencies from an ingress breaks: every
// request along that chain will break it, though the intent declares each of its calls. One
// finding per rule, with the first such chain.
func (c *checker) declaredPaths() {
	if !c.m.HasPaths() {
		return
	}
	deps := make([][]intent.NodeID, c.m.NumNodes())
	c.m.Declared(func(from, to intent.NodeID, _ int) { deps[from] = append(deps[from], to) })
	reported := map[*intent.PathRule]bool{}
	walked := 0
	var chain []intent.Peer
	var walk func(id intent.NodeID)
	walk = func(id intent.NodeID) {
		chain = append(chain, c.peers[id])
		defer func() { chain = chain[:len(chain)-1] }()
		if len(chain) >= 2 {
			walked++
			c.judgeDeclared(chain, reported)
		}
		if len(chain) > 1 && slices.ContainsFunc(chain[:len(chain)-1], func(p intent.Peer) bool { return p.ID == id }) {
			return // a cycle: judged once, not followed
		}
		for _, to := range deps[id] {
			if walked < maxDeclaredChains && len(chain) < judgeMaxNodes {
				walk(to)
			}
		}
	}
	for id := range c.m.NumNodes() {
		if c.m.Node(intent.NodeID(id)).Ingress {
			walk(intent.NodeID(id))
		}
	}
}

// judgeMaxNodes bounds a declared chain as the engine bounds an observed one.
const judgeMaxNodes = 64

func (c *checker) judgeDeclared(chain []intent.Peer, reported map[*intent.PathRule]bool) {
	ch := &judge.Chain{Nodes: chain, Complete: true}
	rules := c.m.Paths()
	for i := range rules {
		r := &rules[i]
		if reported[r] || !judge.Breaks(r, ch) {
			continue
		}
		reported[r] = true
		c.add(r.Line, Error, "path-declared-breaks", "path rule %s: the declared dependencies allow %s, which breaks it: every request along it would be %s",
			r.Name, judge.PathText(chain), judge.PathKind(r))
	}
}

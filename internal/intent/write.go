package intent

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Note is a comment to write beside an element of a model, such as when it was first seen.
type Note = string

// Write renders m as an intent file that Parse reads back. notes holds comments for nodes (by name)
// and dependencies (by "from -> to"), written beside them.
func Write(m *Model, notes map[string]Note) ([]byte, error) {
	doc := mapping()
	add(doc, "version", scalar("1"))
	if m.System != "" {
		add(doc, "system", str(m.System))
	}
	pol := mapping()
	add(pol, "undeclared", str(m.Policy.Undeclared))
	add(pol, "unknown_services", str(m.Policy.UnknownServices))
	add(doc, "policy", pol)
	if len(m.Layers) > 0 {
		add(doc, "layers", flow(strs(m.Layers)))
	}
	services, resources := mapping(), mapping()
	for i := range m.Nodes {
		n := &m.Nodes[i]
		key, val := str(n.Name), writeNode(n, notes)
		key.HeadComment = notes[n.Name]
		if n.Kind == KindService {
			services.Content = append(services.Content, key, val)
		} else {
			resources.Content = append(resources.Content, key, val)
		}
	}
	add(doc, "services", services)
	if len(resources.Content) > 0 {
		add(doc, "resources", resources)
	}
	if len(m.Rules) > 0 {
		rules := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range m.Rules {
			rules.Content = append(rules.Content, writeRule(&m.Rules[i]))
		}
		add(doc, "rules", rules)
	}
	if len(m.Paths) > 0 {
		paths := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range m.Paths {
			paths.Content = append(paths.Content, writePath(&m.Paths[i]))
		}
		add(doc, "paths", paths)
	}
	return yaml.Marshal(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}})
}

func writeNode(n *NodeSpec, notes map[string]Note) *yaml.Node {
	out := mapping()
	if n.Kind != KindService {
		add(out, "kind", str(n.Kind.String()))
	}
	for _, kv := range [][2]string{{"layer", n.Layer}, {"zone", n.Zone}, {"owner", n.Owner}} {
		if kv[1] != "" {
			add(out, kv[0], str(kv[1]))
		}
	}
	if len(n.Aliases) > 0 {
		add(out, "aliases", flow(strs(n.Aliases)))
	}
	if n.Ingress {
		add(out, "ingress", scalar("true"))
	}
	if len(n.Match) > 0 {
		match := mapping()
		match.Style = yaml.FlowStyle
		for _, ms := range n.Match {
			add(match, ms.Key, str(ms.Glob))
		}
		add(out, "match", match)
	}
	if n.Expect != nil {
		add(out, "expect", writeExpect(n.Expect))
	}
	if n.ExpectIncoming != nil {
		add(out, "expect_incoming", writeExpect(n.ExpectIncoming))
	}
	if len(n.DependsOn) > 0 {
		deps := &yaml.Node{Kind: yaml.SequenceNode}
		for _, d := range n.DependsOn {
			var item *yaml.Node
			if len(d.Operations) == 0 && d.Expect == nil {
				item = str(d.To)
			} else {
				item = mapping()
				add(item, "to", str(d.To))
				if len(d.Operations) > 0 {
					add(item, "operations", flow(strs(d.Operations)))
				}
				if d.Expect != nil {
					add(item, "expect", writeExpect(d.Expect))
				}
			}
			if item.Kind == yaml.ScalarNode {
				item.LineComment = notes[n.Name+" -> "+d.To]
			} else { // a line comment on a mapping lands after its last line: put it above
				item.HeadComment = notes[n.Name+" -> "+d.To]
			}
			deps.Content = append(deps.Content, item)
		}
		add(out, "depends_on", deps)
	}
	if len(out.Content) == 0 {
		out.Style = yaml.FlowStyle
	}
	return out
}

func writeExpect(e *Expect) *yaml.Node {
	out := mapping()
	out.Style = yaml.FlowStyle
	if e.LatencyMax > 0 || e.LatencyP99 > 0 {
		lat := mapping()
		if e.LatencyMax > 0 {
			add(lat, "max", str(e.LatencyMax.String()))
		}
		if e.LatencyP99 > 0 {
			add(lat, "p99", str(e.LatencyP99.String()))
		}
		add(out, "latency", lat)
	}
	if e.HasErrorRate {
		add(out, "error_rate", str(strconv.FormatFloat(e.ErrorRate*100, 'f', -1, 64)+"%"))
	}
	if e.HasRetries {
		add(out, "retries", scalar(strconv.Itoa(e.Retries)))
	}
	if e.CallsPerRequest > 0 {
		add(out, "calls_per_request", scalar(strconv.Itoa(e.CallsPerRequest)))
	}
	return out
}

func writeRule(r *RuleSpec) *yaml.Node {
	out := mapping()
	add(out, "name", str(r.Name))
	side := mapping()
	side.Style = yaml.FlowStyle
	add(side, "from", writeSelector(&r.From))
	add(side, "to", writeSelector(&r.To))
	if r.Require {
		add(out, "require", side)
	} else {
		add(out, "deny", side)
	}
	writeTail(out, r.Except, r.Severity, r.Message)
	return out
}

// writeTail writes what deny rules and path rules end with: except, severity, message.
func writeTail(out *yaml.Node, except []ExceptSpec, severity, message string) {
	if len(except) > 0 {
		ex := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, e := range except {
			pair := mapping()
			if e.From.Set {
				add(pair, "from", writeSelector(&e.From))
			}
			if e.To.Set {
				add(pair, "to", writeSelector(&e.To))
			}
			ex.Content = append(ex.Content, pair)
		}
		add(out, "except", ex)
	}
	add(out, "severity", str(severity))
	if message != "" {
		add(out, "message", str(message))
	}
}

func writePath(r *PathSpec) *yaml.Node {
	out := mapping()
	add(out, "name", str(r.Name))
	switch r.Kind {
	case PathDeny:
		add(out, "deny", writeSides([]string{"from", "to", "via"}, &r.From, &r.To, &r.Via))
	case PathRequire:
		add(out, "require", writeSides([]string{"to", "via"}, &r.To, &r.Via))
	case PathMaxDepth:
		add(out, "max_depth", scalar(strconv.Itoa(r.MaxDepth)))
	case PathCycles:
		add(out, "cycles", str("deny"))
		if r.Services.Set {
			add(out, "services", writeSelector(&r.Services))
		}
	}
	writeTail(out, r.Except, r.Severity, r.Message)
	return out
}

// writeSides writes the selectors that are set, under their keys, as one flow mapping.
func writeSides(keys []string, sels ...*SelectorSpec) *yaml.Node {
	side := mapping()
	side.Style = yaml.FlowStyle
	for i, sel := range sels {
		if sel.Set {
			add(side, keys[i], writeSelector(sel))
		}
	}
	return side
}

func writeSelector(s *SelectorSpec) *yaml.Node {
	if len(s.Name) == 1 && len(s.Kind)+len(s.Zone)+len(s.Layer)+len(s.Owner) == 0 {
		return str(s.Name[0])
	}
	out := mapping()
	out.Style = yaml.FlowStyle
	for _, f := range []struct {
		key    string
		values []string
	}{{"name", s.Name}, {"kind", s.Kind}, {"zone", s.Zone}, {"layer", s.Layer}, {"owner", s.Owner}} {
		if len(f.values) > 0 {
			add(out, f.key, flow(strs(f.values)))
		}
	}
	return out
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

// scalar is a plain scalar (numbers, booleans); str a string, quoted when it would read otherwise.
func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

func str(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if strings.ContainsAny(v, ":#{}[],&*!|>'\"%@`") || v == "" {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func strs(vs []string) []*yaml.Node {
	out := make([]*yaml.Node, len(vs))
	for i, v := range vs {
		out[i] = str(v)
	}
	return out
}

func flow(items []*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: items}
}

func add(m *yaml.Node, key string, val *yaml.Node) { m.Content = append(m.Content, str(key), val) }

package importing

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Merge writes the intent file base (empty: a new intent) with what r declares added: new nodes
// appended to services or resources, new dependencies appended to a node's depends_on, ingress and
// port aliases set where they were missing. Nothing of base is removed or rewritten, comments
// included. Each addition carries a comment naming its source.
func Merge(base []byte, r *Result) ([]byte, error) {
	var doc yaml.Node
	if len(bytes.TrimSpace(base)) == 0 {
		base = []byte("version: 1\n")
	}
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("the intent to merge into: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the intent to merge into is not a mapping")
	}
	root := doc.Content[0]
	addLayers(root, r)
	services := section(root, "services")
	for _, s := range r.Services {
		if n := value(services, s.Name); n != nil {
			mergeNode(n, s)
			continue
		}
		if n := value(value(root, "resources"), s.Name); n != nil {
			mergeNode(n, s)
			continue
		}
		into := services
		if s.Kind != "" {
			into = section(root, "resources")
		}
		key := str(s.Name)
		key.HeadComment = "imported from " + s.Source
		into.Content = append(into.Content, key, newNode(s))
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

// addLayers appends to the intent's layers (the lowest last) each layer an import names that it
// lacks.
func addLayers(root *yaml.Node, r *Result) {
	layers := value(root, "layers")
	for _, s := range r.Services {
		if s.Layer == "" {
			continue
		}
		if layers == nil {
			layers = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			root.Content = append(root.Content, str("layers"), layers)
		}
		if !slices.ContainsFunc(layers.Content, func(n *yaml.Node) bool { return n.Value == s.Layer }) {
			layers.Content = append(layers.Content, str(s.Layer))
		}
	}
}

// section is the mapping under key, added (empty) when missing.
func section(root *yaml.Node, key string) *yaml.Node {
	if n := value(root, key); n != nil {
		if n.Kind == yaml.MappingNode {
			return n
		}
		*n = yaml.Node{Kind: yaml.MappingNode} // `services:` with nothing under it
		return n
	}
	n := &yaml.Node{Kind: yaml.MappingNode}
	root.Content = append(root.Content, str(key), n)
	return n
}

func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func newNode(s *Service) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) { n.Content = append(n.Content, str(k), v) }
	if s.Kind != "" {
		add("kind", str(s.Kind))
	}
	if s.Layer != "" {
		add("layer", str(s.Layer))
	}
	if s.Zone != "" {
		add("zone", str(s.Zone))
	}
	if s.Owner != "" {
		add("owner", str(s.Owner))
	}
	if s.Ingress && s.Kind == "" {
		add("ingress", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if len(s.Ports) > 0 {
		add("aliases", aliases(s, nil))
	}
	if s.Expect != nil {
		add("expect_incoming", expectNode(s.Expect))
	}
	if len(s.DependsOn) > 0 && s.Kind == "" {
		deps := &yaml.Node{Kind: yaml.SequenceNode}
		for _, d := range s.DependsOn {
			item := str(d.To)
			item.LineComment = d.Source
			deps.Content = append(deps.Content, item)
		}
		add("depends_on", deps)
	}
	if len(n.Content) == 0 {
		n.Style = yaml.FlowStyle
	}
	return n
}

// mergeNode adds to a node written by hand what s declares and it lacks.
func mergeNode(n *yaml.Node, s *Service) {
	if n.Kind != yaml.MappingNode {
		*n = yaml.Node{Kind: yaml.MappingNode}
	}
	n.Style = 0 // a flow mapping with new keys reads better in block style
	if s.Ingress && s.Kind == "" && value(n, "ingress") == nil {
		k := str("ingress")
		k.LineComment = "imported from " + s.Source
		n.Content = append(n.Content, k, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if len(s.Ports) > 0 {
		if a := value(n, "aliases"); a != nil {
			aliases(s, a)
		} else {
			n.Content = append(n.Content, str("aliases"), aliases(s, nil))
		}
	}
	if s.Expect != nil && value(n, "expect_incoming") == nil {
		k := str("expect_incoming")
		k.LineComment = s.Expect.Source
		n.Content = append(n.Content, k, expectNode(s.Expect))
	} // a hand-written expect_incoming wins
	if len(s.DependsOn) == 0 || s.Kind != "" {
		return
	}
	deps := value(n, "depends_on")
	if deps == nil {
		deps = &yaml.Node{Kind: yaml.SequenceNode}
		n.Content = append(n.Content, str("depends_on"), deps)
	}
	have := map[string]bool{}
	for _, item := range deps.Content {
		if item.Kind == yaml.ScalarNode {
			have[item.Value] = true
		} else if to := value(item, "to"); to != nil {
			have[to.Value] = true
		}
	}
	for _, d := range s.DependsOn {
		if have[d.To] {
			continue
		}
		item := str(d.To)
		item.LineComment = d.Source
		deps.Style = 0
		deps.Content = append(deps.Content, item)
	}
}

// aliases adds the name:port aliases of s to seq (a new flow sequence when nil).
func aliases(s *Service, seq *yaml.Node) *yaml.Node {
	if seq == nil {
		seq = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	}
	for _, p := range s.Ports {
		alias := s.Name + ":" + strconv.Itoa(p)
		if !slices.ContainsFunc(seq.Content, func(n *yaml.Node) bool { return n.Value == alias }) {
			seq.Content = append(seq.Content, str(alias))
		}
	}
	return seq
}

func expectNode(e *Expect) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	if e.LatencyMax != "" || e.LatencyP99 != "" {
		l := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		if e.LatencyMax != "" {
			l.Content = append(l.Content, str("max"), str(e.LatencyMax))
		}
		if e.LatencyP99 != "" {
			l.Content = append(l.Content, str("p99"), str(e.LatencyP99))
		}
		n.Content = append(n.Content, str("latency"), l)
	}
	if e.ErrorRate != "" {
		n.Content = append(n.Content, str("error_rate"), str(e.ErrorRate))
	}
	return n
}

func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

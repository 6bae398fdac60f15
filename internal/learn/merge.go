package learn

import (
	"slices"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Merge joins models learned at several gateways (each saw part of the traffic) into base: every
// node and dependency of any of them, operations united (a dependency any model allows with any
// operation allows any), ingress when any saw it. Base keeps its own layers, rules and order;
// what others add comes after, with a note naming the file it came from.
func Merge(base *intent.Model, others ...*intent.Model) (*intent.Model, map[string]intent.Note) {
	m := *base
	m.Nodes = slices.Clone(base.Nodes)
	m.Rules = slices.Clone(base.Rules)
	m.Paths = slices.Clone(base.Paths)
	notes := map[string]intent.Note{}
	index := map[string]int{}
	for i := range m.Nodes {
		index[m.Nodes[i].Name] = i
	}
	for _, o := range others {
		if len(m.Layers) == 0 {
			m.Layers = o.Layers
		}
		for _, n := range o.Nodes {
			i, ok := index[n.Name]
			if !ok {
				index[n.Name] = len(m.Nodes)
				m.Nodes = append(m.Nodes, n)
				notes[n.Name] = "merged from " + o.File
				continue
			}
			mergeNode(&m.Nodes[i], &n, o.File, notes)
		}
		for _, r := range o.Rules {
			if !slices.ContainsFunc(m.Rules, func(x intent.RuleSpec) bool { return x.Name == r.Name }) {
				m.Rules = append(m.Rules, r)
			}
		}
		for _, p := range o.Paths {
			if !slices.ContainsFunc(m.Paths, func(x intent.PathSpec) bool { return x.Name == p.Name }) {
				m.Paths = append(m.Paths, p)
			}
		}
	}
	return &m, notes
}

// mergeNode adds to into what from adds: ingress, dependencies, operations.
func mergeNode(into, from *intent.NodeSpec, file string, notes map[string]intent.Note) {
	into.Ingress = into.Ingress || from.Ingress
	into.DependsOn = slices.Clone(into.DependsOn)
	for _, d := range from.DependsOn {
		j := dependencyIndex(into, d.To)
		if j < 0 {
			into.DependsOn = append(into.DependsOn, d)
			notes[into.Name+" -> "+d.To] = "merged from " + file
			continue
		}
		dep := &into.DependsOn[j]
		switch {
		case len(dep.Operations) == 0:
		case len(d.Operations) == 0:
			dep.Operations = nil // any operation
		default:
			ops := slices.Clone(dep.Operations)
			for _, op := range d.Operations {
				if !slices.Contains(ops, op) {
					ops = append(ops, op)
				}
			}
			dep.Operations = ops
		}
	}
}

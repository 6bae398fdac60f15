package intent

import (
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds an intent file: a larger one is refused before it is parsed.
const MaxFileSize = 16 << 20

// Load reads, parses, checks and compiles the intent file at path. It also returns the bytes read,
// so that a reload can tell whether anything changed.
func Load(path string) (*Compiled, []byte, error) { return readAndParse(path, LoadBytes) }

// readAndParse reads the file at path and parses it, returning the bytes read as well.
func readAndParse[T any](path string, parse func(file string, data []byte) (T, error)) (T, []byte, error) {
	data, err := ReadFile(path)
	if err != nil {
		var none T
		return none, nil, err
	}
	v, err := parse(path, data)
	return v, data, err
}

// LoadBytes parses and compiles an intent model read from file.
func LoadBytes(file string, data []byte) (*Compiled, error) {
	m, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	return Compile(m)
}

// ReadFile reads an intent file, refusing one larger than MaxFileSize.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("intent file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("intent file %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("intent file %s: larger than %d MiB", path, MaxFileSize>>20)
	}
	return data, nil
}

// Parse reads the structure of an intent model from data; file names the source in errors. Compile
// checks what needs the whole model: references, layers, globs.
func Parse(file string, data []byte) (*Model, error) {
	d := &decoder{file: file}
	root, err := d.document(data, "intent")
	if err != nil {
		return nil, err
	}
	m := &Model{File: file}
	d.model(root, m)
	if d.overBudget() {
		return nil, &Error{File: file, Line: 1, Key: documentKey, Msg: fmt.Sprintf("expands to more than %d YAML nodes (alias bomb?)", maxNodes)}
	}
	return m, d.err()
}

// syntaxError turns a YAML parse error into an Error; yaml.v3 reports "yaml: line N: ...".
func syntaxError(file string, err error) error {
	var line int
	var msg string
	if n, _ := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); n == 1 {
		msg = err.Error()[len(fmt.Sprintf("yaml: line %d: ", line)):]
	} else {
		line, msg = 1, err.Error()
	}
	return &Error{File: file, Line: line, Key: "(syntax)", Msg: msg}
}

var topKeys = []string{"version", "system", "policy", "layers", "services", "resources", "rules", "paths"}

func (d *decoder) model(root *yaml.Node, m *Model) {
	fs, ok := d.fields(root, "", topKeys...)
	if !ok {
		return
	}
	m.Policy = Policy{Undeclared: PolicyDrift, UnknownServices: PolicyDrift}
	hasVersion := false
	for _, f := range fs {
		switch f.key {
		case "version":
			hasVersion = true
			if v, ok := d.integer(f.val, f.key); ok && v != 1 {
				d.errorf(f.line, f.key, "unsupported version %d (this processor reads version 1)", v)
			}
			m.Version = 1
		case "system":
			m.System, _ = d.str(f.val, f.key)
		case "policy":
			d.policy(f.val, &m.Policy)
		case "layers":
			m.LayersLine = f.line
			m.Layers = d.strs(f.val, f.key)
		case "services":
			m.NodeLine = f.line
			d.nodes(f.val, f.key, KindService, m)
		case "resources":
			d.nodes(f.val, f.key, KindUnknown, m)
		case "rules":
			d.rules(f.val, f.key, m)
		case "paths":
			d.paths(f.val, f.key, m)
		}
	}
	if !hasVersion {
		d.errorf(root.Line, "version", "missing: the file must start with `version: 1`")
	}
}

func (d *decoder) policy(n *yaml.Node, p *Policy) {
	fs, _ := d.fields(n, "policy", "undeclared", "unknown_services")
	for _, f := range fs {
		v, _ := d.oneOf(f.val, join("policy", f.key), PolicyDrift, PolicyAllow)
		if f.key == "undeclared" {
			p.Undeclared = v
		} else {
			p.UnknownServices = v
		}
	}
}

var (
	serviceKeys  = []string{"layer", "zone", "owner", "aliases", "ingress", "depends_on", "expect", "expect_incoming"}
	resourceKeys = []string{"kind", "layer", "zone", "owner", "aliases", "match", "expect_incoming"}
)

// nodes reads the services (kind == KindService) or resources mapping.
func (d *decoder) nodes(n *yaml.Node, path string, kind Kind, m *Model) {
	fs, _ := d.fields(n, path)
	for _, f := range fs {
		if d.overBudget() {
			return
		}
		np := join(path, f.key)
		node := NodeSpec{Name: f.key, Line: f.line, Kind: kind, DepsLine: f.line}
		if d.resolve(f.val).Tag == "!!null" { // `name:` with nothing under it
			m.Nodes = append(m.Nodes, node)
			continue
		}
		allowed := serviceKeys
		if kind != KindService {
			allowed = resourceKeys
		}
		nfs, _ := d.fields(f.val, np, allowed...)
		for _, nf := range nfs {
			d.nodeField(nf, join(np, nf.key), &node)
		}
		if kind != KindService && node.Kind == KindUnknown {
			d.errorf(f.line, join(np, "kind"), "missing: a resource needs a kind (database, messaging or external)")
		}
		m.Nodes = append(m.Nodes, node)
	}
}

func (d *decoder) nodeField(f field, path string, node *NodeSpec) {
	switch f.key {
	case "layer":
		node.LayerLine = f.line
		node.Layer, _ = d.nonEmptyStr(f.val, path)
	case "zone":
		node.Zone, _ = d.nonEmptyStr(f.val, path)
	case "owner":
		node.Owner, _ = d.nonEmptyStr(f.val, path)
	case "aliases":
		node.AliasLine = f.line
		node.Aliases = d.strs(f.val, path)
	case "ingress":
		node.Ingress = d.boolean(f.val, path)
	case "kind":
		if s, ok := d.oneOf(f.val, path, "database", "messaging", "external"); ok {
			node.Kind, _ = parseKind(s)
		}
	case "depends_on":
		node.DepsLine = f.line
		items, _ := d.items(f.val, path)
		for i, it := range items {
			if dep, ok := d.dependency(it, index(path, i)); ok {
				node.DependsOn = append(node.DependsOn, dep)
			}
		}
	case "expect":
		node.Expect = d.expect(f.val, path, f.line)
	case "expect_incoming":
		node.ExpectIncoming = d.expect(f.val, path, f.line)
	case "match":
		mfs, _ := d.fields(f.val, path)
		for _, mf := range mfs {
			if v, ok := d.nonEmptyStr(mf.val, join(path, mf.key)); ok {
				node.Match = append(node.Match, MatchSpec{Key: mf.key, Glob: v, Line: mf.line})
			}
		}
		if len(mfs) == 0 {
			d.errorf(f.line, path, "must list at least one attribute")
		}
	}
}

// dependency reads the short form (a name) or the long form ({to, operations}).
func (d *decoder) dependency(n *yaml.Node, path string) (DependencySpec, bool) {
	r := d.resolve(n)
	dep := DependencySpec{Line: r.Line, Path: path}
	if r.Kind == yaml.ScalarNode {
		s, ok := d.nonEmptyStr(r, path)
		dep.To = s
		return dep, ok
	}
	fs, ok := d.fields(r, path, "to", "operations", "expect")
	if !ok {
		return dep, false
	}
	for _, f := range fs {
		switch f.key {
		case "to":
			dep.To, _ = d.nonEmptyStr(f.val, join(path, "to"))
		case "operations":
			dep.Operations = d.strs(f.val, join(path, "operations"))
		case "expect":
			dep.Expect = d.expect(f.val, join(path, "expect"), f.line)
		}
	}
	if dep.To == "" {
		d.errorf(r.Line, join(path, "to"), "missing: name the node this service depends on")
		return dep, false
	}
	return dep, true
}

var ruleKeys = []string{"name", "deny", "require", "except", "severity", "message"}

func (d *decoder) rules(n *yaml.Node, path string, m *Model) {
	items, _ := d.items(n, path)
	for i, it := range items {
		rp := index(path, i)
		fs, ok := d.fields(it, rp, ruleKeys...)
		if !ok {
			continue
		}
		r := RuleSpec{Line: d.resolve(it).Line, Path: rp, Severity: SeverityWarning}
		hasName, hasDeny := false, false
		for _, f := range fs {
			fp := join(rp, f.key)
			switch f.key {
			case "name":
				hasName = true
				r.Name, _ = d.nonEmptyStr(f.val, fp)
			case "deny", "require":
				if hasDeny {
					d.errorf(f.line, fp, "a rule either denies or requires, not both")
				}
				hasDeny = true
				r.Require = f.key == "require"
				r.From, r.To = d.fromTo(f.val, fp, true)
			case "except", "severity", "message":
				d.ruleTail(f, fp, &r.Except, &r.Severity, &r.Message)
			}
		}
		if !hasName {
			d.errorf(r.Line, join(rp, "name"), "missing: every rule needs a name")
		}
		if !hasDeny {
			d.errorf(r.Line, join(rp, "deny"), "missing: a rule needs `deny: {from: ..., to: ...}` or `require: {from: ..., to: ...}`")
		}
		m.Rules = append(m.Rules, r)
	}
}

// ruleTail reads what deny, require and path rules end with alike: except, severity, message.
func (d *decoder) ruleTail(f field, path string, except *[]ExceptSpec, severity, message *string) {
	switch f.key {
	case "except":
		exs, _ := d.items(f.val, path)
		for j, ex := range exs {
			from, to := d.fromTo(ex, index(path, j), false)
			*except = append(*except, ExceptSpec{From: from, To: to})
		}
	case "severity":
		*severity, _ = d.oneOf(f.val, path, SeverityInfo, SeverityWarning, SeverityCritical)
	case "message":
		*message, _ = d.str(f.val, path)
	}
}

// fromTo reads {from, to}; both are required in deny, either may be left out in except.
func (d *decoder) fromTo(n *yaml.Node, path string, required bool) (from, to SelectorSpec) {
	fs, ok := d.fields(n, path, "from", "to")
	if !ok {
		return
	}
	for _, f := range fs {
		s := d.selector(f.val, join(path, f.key))
		if f.key == "from" {
			from = s
		} else {
			to = s
		}
	}
	switch {
	case required && !from.Set:
		d.errorf(d.resolve(n).Line, join(path, "from"), "missing")
	case required && !to.Set:
		d.errorf(d.resolve(n).Line, join(path, "to"), "missing")
	case !from.Set && !to.Set:
		d.errorf(d.resolve(n).Line, path, "needs `from`, `to` or both")
	}
	return from, to
}

func (d *decoder) selector(n *yaml.Node, path string) SelectorSpec {
	r := d.resolve(n)
	s := SelectorSpec{Set: true, Line: r.Line, Path: path}
	if r.Kind == yaml.ScalarNode {
		s.Name = d.strs(r, path)
		return s
	}
	fs, _ := d.fields(r, path, "name", "kind", "zone", "layer", "owner")
	for _, f := range fs {
		vs := d.strs(f.val, join(path, f.key))
		switch f.key {
		case "name":
			s.Name = vs
		case "kind":
			s.Kind = vs
		case "zone":
			s.Zone = vs
		case "layer":
			s.Layer = vs
		case "owner":
			s.Owner = vs
		}
	}
	if len(fs) == 0 {
		d.errorf(r.Line, path, "an empty selector matches nothing: give a name or attributes")
	}
	return s
}

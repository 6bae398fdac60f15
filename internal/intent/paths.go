package intent

import "go.yaml.in/yaml/v3"

// PathKind is what a path rule checks over the chain of services a request passed through.
type PathKind uint8

// Path rule kinds.
const (
	PathDeny     PathKind = iota // deny: from, to, optional via
	PathRequire                  // require: to, via
	PathMaxDepth                 // max_depth: N
	PathCycles                   // cycles: deny
)

// PathSpec is a rule of the `paths:` section, as written.
type PathSpec struct {
	Name     string
	Line     int
	Path     string
	Kind     PathKind
	From, To SelectorSpec
	Via      SelectorSpec
	Services SelectorSpec // of a cycles rule: the services that must not be called again; unset: all
	MaxDepth int
	Except   []ExceptSpec
	Severity string
	Message  string
}

// PathRule is a compiled path rule. Its selectors are those of the deny rules.
type PathRule struct {
	Name     string
	Severity string
	Message  string
	Line     int
	Kind     PathKind
	MaxDepth int
	HasVia   bool
	from, to selector
	via      selector
	except   []exceptPair
}

// From reports whether p is selected by the rule's from (of a deny rule).
func (r *PathRule) From(p Peer) bool { return r.from.matches(p) }

// To reports whether p is selected by the rule's to (of a cycles rule: its services).
func (r *PathRule) To(p Peer) bool { return r.to.matches(p) }

// Via reports whether p is selected by the rule's via.
func (r *PathRule) Via(p Peer) bool { return r.via.matches(p) }

// Excepted reports whether an except entry exempts the path that starts at from and reaches to.
func (r *PathRule) Excepted(from, to Peer) bool { return excepted(r.except, from, to) }

// Paths returns the path rules in file order.
func (c *Compiled) Paths() []PathRule { return c.paths }

// HasPaths reports whether the model has path rules: only then are the chains of calls walked.
func (c *Compiled) HasPaths() bool { return len(c.paths) > 0 }

// pathIndex lets a call be checked against every path rule at once: per node, a bit per rule
// for each of its selectors (rule i is bit i), so that one pass over a chain finds the deny rules
// it breaks and the waypoints it passed. It serves models of at most MaxMaskedPaths path rules;
// beyond, each rule is tried on its own.
type pathIndex struct {
	masked   bool
	nodes    []PathMasks // by node
	deny     uint64      // the rules of each kind
	require  uint64
	cycles   uint64
	noVia    uint64 // deny rules without a via
	except   uint64 // rules with except entries: a bit set by the masks is checked in full
	depth    []int32
	minDepth int // the least max_depth; calls no deeper break no depth rule
}

// MaxMaskedPaths is the most path rules checked by the masks.
const MaxMaskedPaths = 64

// PathMasks are the path rules whose selectors select one node: bit i for rule i.
type PathMasks struct{ From, To, Via uint64 }

// PathKinds are the path rules of each kind, and which have except entries, as masks.
type PathKinds struct{ Deny, Require, Cycles, NoVia, Except uint64 }

// PathsMasked reports whether the model's path rules are checked by masks (at most MaxMaskedPaths).
func (c *Compiled) PathsMasked() bool { return c.pathIdx.masked }

// PathKindMasks returns the masks of the rules of each kind.
func (c *Compiled) PathKindMasks() PathKinds {
	x := &c.pathIdx
	return PathKinds{Deny: x.deny, Require: x.require, Cycles: x.cycles, NoVia: x.noVia, Except: x.except}
}

// MasksOf returns the path rules whose selectors select p: looked up for a node of the model,
// worked out for a peer outside it.
func (c *Compiled) MasksOf(p Peer) PathMasks {
	if p.ID != NoNode {
		return c.pathIdx.nodes[p.ID]
	}
	var m PathMasks
	for i := range c.paths {
		m.set(&c.paths[i], p, uint64(1)<<i)
	}
	return m
}

func (m *PathMasks) set(r *PathRule, p Peer, bit uint64) {
	if r.Kind == PathMaxDepth {
		return
	}
	if r.Kind == PathDeny && r.from.matches(p) {
		m.From |= bit
	}
	if r.HasVia && r.via.matches(p) {
		m.Via |= bit
	}
	if r.to.matches(p) {
		m.To |= bit
	}
}

// DepthPaths returns the max_depth rules, and the least max_depth among them.
func (c *Compiled) DepthPaths() ([]int32, int) { return c.pathIdx.depth, c.pathIdx.minDepth }

func (c *Compiled) indexPaths() {
	x := pathIndex{masked: len(c.paths) <= MaxMaskedPaths}
	for i := range c.paths {
		r := &c.paths[i]
		bit := uint64(1) << (i % MaxMaskedPaths)
		switch r.Kind {
		case PathMaxDepth:
			if len(x.depth) == 0 || r.MaxDepth < x.minDepth {
				x.minDepth = r.MaxDepth
			}
			x.depth = append(x.depth, int32(i))
		case PathDeny:
			x.deny |= bit
			if !r.HasVia {
				x.noVia |= bit
			}
		case PathRequire:
			x.require |= bit
		case PathCycles:
			x.cycles |= bit
		}
		if len(r.except) > 0 {
			x.except |= bit
		}
	}
	if x.masked {
		x.nodes = make([]PathMasks, len(c.nodes))
		for id := range c.nodes {
			for i := range c.paths {
				x.nodes[id].set(&c.paths[i], c.Peer(NodeID(id)), uint64(1)<<i)
			}
		}
	}
	c.pathIdx = x
}

var pathKeys = []string{"name", "deny", "require", "max_depth", "cycles", "services", "except", "severity", "message"}

// paths reads the `paths:` section: a list of rules, each with exactly one of deny, require,
// max_depth and cycles.
func (d *decoder) paths(n *yaml.Node, path string, m *Model) {
	items, _ := d.items(n, path)
	for i, it := range items {
		rp := index(path, i)
		fs, ok := d.fields(it, rp, pathKeys...)
		if !ok {
			continue
		}
		r := PathSpec{Line: d.resolve(it).Line, Path: rp, Severity: SeverityWarning}
		checks, hasName := 0, false
		servicesLine := 0
		for _, f := range fs {
			fp := join(rp, f.key)
			switch f.key {
			case "name":
				hasName = true
				r.Name, _ = d.nonEmptyStr(f.val, fp)
			case "deny", "require", "max_depth", "cycles":
				checks++
				if checks > 1 {
					d.errorf(f.line, fp, "a path rule has one of deny, require, max_depth, cycles")
				}
				d.pathCheck(f, fp, &r)
			case "services":
				servicesLine = f.line
				r.Services = d.selector(f.val, fp)
			case "except", "severity", "message":
				d.ruleTail(f, fp, &r.Except, &r.Severity, &r.Message)
			}
		}
		if !hasName {
			d.errorf(r.Line, join(rp, "name"), "missing: every path rule needs a name")
		}
		if checks == 0 {
			d.errorf(r.Line, join(rp, "deny"), "missing: a path rule needs one of `deny: {from, to, via}`, `require: {to, via}`, `max_depth: N`, `cycles: deny`")
		}
		if servicesLine > 0 && (checks != 1 || r.Kind != PathCycles) {
			d.errorf(servicesLine, join(rp, "services"), "only a cycles rule selects services")
		}
		m.Paths = append(m.Paths, r)
	}
}

// pathCheck reads the one check of a path rule.
func (d *decoder) pathCheck(f field, path string, r *PathSpec) {
	switch f.key {
	case "deny":
		r.Kind = PathDeny
		r.From, r.To, r.Via = d.fromToVia(f.val, path, "from", "to", "via")
	case "require":
		r.Kind = PathRequire
		_, r.To, r.Via = d.fromToVia(f.val, path, "to", "via")
	case "max_depth":
		r.Kind = PathMaxDepth
		r.MaxDepth, _ = d.count(f.val, path, 1)
	case "cycles":
		r.Kind = PathCycles
		d.oneOf(f.val, path, "deny")
	}
}

// fromToVia reads the selectors of a deny or require path: every key but via is required.
func (d *decoder) fromToVia(n *yaml.Node, path string, keys ...string) (from, to, via SelectorSpec) {
	fs, ok := d.fields(n, path, keys...)
	if !ok {
		return
	}
	for _, f := range fs {
		s := d.selector(f.val, join(path, f.key))
		switch f.key {
		case "from":
			from = s
		case "to":
			to = s
		case "via":
			via = s
		}
	}
	line := d.resolve(n).Line
	for _, k := range keys {
		set := map[string]bool{"from": from.Set, "to": to.Set, "via": via.Set}[k]
		required := k != "via" || keys[0] == "to" // a require path names its waypoint
		if required && !set {
			d.errorf(line, join(path, k), "missing")
		}
	}
	return from, to, via
}

// compilePaths compiles the path rules; names are unique among rules and path rules alike, since
// drift.rule names either.
func compilePaths(d *decoder, c *Compiled, specs []PathSpec, sc *selectorCompiler, seen map[string]bool) {
	for i := range specs {
		s := &specs[i]
		if seen[s.Name] {
			d.errorf(s.Line, s.Path+".name", "duplicate rule name %q", s.Name)
		}
		seen[s.Name] = true
		r := PathRule{Name: s.Name, Severity: s.Severity, Message: s.Message, Line: s.Line, Kind: s.Kind,
			MaxDepth: s.MaxDepth, HasVia: s.Via.Set, from: sc.compile(&s.From), to: sc.compile(&s.To), via: sc.compile(&s.Via),
			except: sc.excepts(s.Except)}
		if s.Kind == PathCycles {
			r.to = sc.compile(&s.Services) // unset: every service
		}
		c.paths = append(c.paths, r)
	}
	c.indexPaths()
}

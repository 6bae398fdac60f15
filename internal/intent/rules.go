package intent

// Peer is one end of a call as rules see it: a node of the model, or a peer it does not name (ID is
// NoNode) with the kind its span attributes suggest.
type Peer struct {
	ID   NodeID
	Name string
	Kind Kind
}

// Rule is a compiled deny rule.
type Rule struct {
	Name     string
	Severity string
	Message  string
	Line     int
	from, to selector
	except   []exceptPair
}

type exceptPair struct{ from, to selector }

// Selects reports whether the rule's from and to select the call, before its except entries.
func (r *Rule) Selects(from, to Peer) bool { return r.from.matches(from) && r.to.matches(to) }

// Matches reports whether the call from -> to is denied by the rule.
func (r *Rule) Matches(from, to Peer) bool {
	if !r.Selects(from, to) {
		return false
	}
	return !excepted(r.except, from, to)
}

// excepted reports whether an except entry matches the call from -> to.
func excepted(pairs []exceptPair, from, to Peer) bool {
	for i := range pairs {
		if pairs[i].from.matches(from) && pairs[i].to.matches(to) {
			return true
		}
	}
	return false
}

func (sc *selectorCompiler) excepts(specs []ExceptSpec) []exceptPair {
	var out []exceptPair
	for i := range specs {
		out = append(out, exceptPair{from: sc.compile(&specs[i].From), to: sc.compile(&specs[i].To)})
	}
	return out
}

// selector is compiled once; for nodes of the model the answer is precomputed.
type selector struct {
	any   bool // an omitted side of an except entry
	names []matcher
	kinds []Kind
	attrs bool   // zone, layer or owner given: peers outside the model never match
	nodes []bool // answer per NodeID
}

// matches is small enough to be inlined for the usual case, a node of the model: the path rules
// ask it several times per call.
func (s *selector) matches(p Peer) bool {
	if p.ID != NoNode && !s.any {
		return s.nodes[p.ID]
	}
	return s.matchOutside(p)
}

func (s *selector) matchOutside(p Peer) bool {
	return s.any || !s.attrs && s.matchNameKind(p.Name, p.Kind)
}

func (s *selector) matchNameKind(name string, kind Kind) bool {
	if len(s.names) > 0 && !anyMatch(s.names, name) {
		return false
	}
	if len(s.kinds) > 0 {
		ok := false
		for _, k := range s.kinds {
			ok = ok || k == kind
		}
		return ok
	}
	return true
}

func anyMatch(ms []matcher, s string) bool {
	for _, m := range ms {
		if m.match(s) {
			return true
		}
	}
	return false
}

// compileRules compiles the deny and require rules, then the path rules, with the same selectors.
func compileRules(d *decoder, c *Compiled, m *Model, layerIdx map[string]int) {
	zones, owners := map[string]bool{}, map[string]bool{}
	for _, n := range c.nodes {
		zones[n.Zone], owners[n.Owner] = true, true
	}
	sc := selectorCompiler{d: d, c: c, layerIdx: layerIdx, zones: zones, owners: owners}
	seen := map[string]bool{}
	specs := m.Rules
	for i := range specs {
		s := &specs[i]
		if seen[s.Name] {
			d.errorf(s.Line, s.Path+".name", "duplicate rule name %q", s.Name)
		}
		seen[s.Name] = true
		if s.Require {
			compileRequire(d, c, s)
			continue
		}
		r := Rule{Name: s.Name, Severity: s.Severity, Message: s.Message, Line: s.Line,
			from: sc.compile(&s.From), to: sc.compile(&s.To), except: sc.excepts(s.Except)}
		c.rules = append(c.rules, r)
	}
	compilePaths(d, c, m.Paths, &sc, seen)
}

type selectorCompiler struct {
	d             *decoder
	c             *Compiled
	layerIdx      map[string]int
	zones, owners map[string]bool
}

func (sc *selectorCompiler) compile(s *SelectorSpec) selector {
	if !s.Set {
		return selector{any: true}
	}
	out := selector{attrs: len(s.Zone)+len(s.Layer)+len(s.Owner) > 0}
	for _, n := range s.Name {
		m, err := compileGlob(n)
		switch {
		case err != nil:
			sc.d.errorf(s.Line, s.Path+".name", "bad glob %q: %v", n, err)
		case !m.isGlob() && n != External && sc.c.Lookup(n) == NoNode:
			sc.d.errorf(s.Line, s.Path, "%q is neither a service nor a resource of this model", n)
		}
		out.names = append(out.names, m)
	}
	for _, k := range s.Kind {
		kind, ok := parseKind(k)
		if !ok {
			sc.d.errorf(s.Line, s.Path+".kind", "%q is not one of service, database, messaging, external", k)
		}
		out.kinds = append(out.kinds, kind)
	}
	layers := sc.known(s.Layer, func(v string) bool { _, ok := sc.layerIdx[v]; return ok }, s, "layer")
	zones := sc.known(s.Zone, func(v string) bool { return sc.zones[v] }, s, "zone")
	owners := sc.known(s.Owner, func(v string) bool { return sc.owners[v] }, s, "owner")
	out.nodes = make([]bool, len(sc.c.nodes))
	for id := range sc.c.nodes {
		n := &sc.c.nodes[id]
		layer := ""
		if n.Layer >= 0 {
			layer = sc.c.Layers[n.Layer]
		}
		out.nodes[id] = out.matchNameKind(n.Name, n.Kind) &&
			inOrEmpty(layers, layer) && inOrEmpty(zones, n.Zone) && inOrEmpty(owners, n.Owner)
	}
	return out
}

// known checks that every value names something the model uses: a typo would make a rule silently
// match nothing.
func (sc *selectorCompiler) known(values []string, ok func(string) bool, s *SelectorSpec, key string) []string {
	for _, v := range values {
		if !ok(v) {
			sc.d.errorf(s.Line, s.Path+"."+key, "no node has %s %q", key, v)
		}
	}
	return values
}

func inOrEmpty(values []string, v string) bool {
	if len(values) == 0 {
		return true
	}
	return v != "" && contains(values, v)
}

// compileRequire adds the edge a require rule names to the tracked edges. Its sides are node names.
func compileRequire(d *decoder, c *Compiled, s *RuleSpec) {
	ids := [2]NodeID{}
	for i, sel := range []*SelectorSpec{&s.From, &s.To} {
		if len(sel.Name) != 1 || len(sel.Kind)+len(sel.Zone)+len(sel.Layer)+len(sel.Owner) > 0 || c.Lookup(sel.Name[0]) == NoNode {
			d.errorf(sel.Line, sel.Path, "a require rule names one service or resource on each side")
			return
		}
		ids[i] = c.Lookup(sel.Name[0])
	}
	c.track(ids[0], ids[1], nil, &Requirement{Rule: s.Name, Line: s.Line, Severity: s.Severity, Message: s.Message})
}

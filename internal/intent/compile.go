package intent

import (
	"strconv"
	"strings"

	"github.com/driftprocessor/driftprocessor/internal/semconv"
)

// NodeID is the interned id of a node of a compiled model. NoNode stands for a peer that is not in it.
type NodeID int32

// NoNode is the id of a peer that the model does not name.
const NoNode NodeID = -1

// Node is a compiled service or resource.
type Node struct {
	Name     string
	Kind     Kind
	Layer    int // index in Compiled.Layers, -1 when the node has none
	Zone     string
	Owner    string
	Ingress  bool
	Line     int
	DepsLine int
}

// Dependency is a declared edge.
type Dependency struct {
	Line       int
	operations []matcher // empty: any operation
	expect     Expect    // merged: the dependency's, then its caller's default, then its callee's
}

// AllowsOperation reports whether the operation a+sep+b is among the declared operations (any, when
// none are listed). The parts are matched without joining them when the operations are literals.
func (d *Dependency) AllowsOperation(a, sep, b string) bool {
	if len(d.operations) == 0 {
		return true
	}
	for _, m := range d.operations {
		if m.matchParts(a, sep, b) {
			return true
		}
	}
	return false
}

// HasOperations reports whether the dependency restricts operations.
func (d *Dependency) HasOperations() bool { return len(d.operations) > 0 }

// Compiled is an immutable, checked intent model. It is safe for concurrent use without locks.
type Compiled struct {
	Model      *Model // as written, for writing a model that extends it
	File       string
	System     string
	Policy     Policy
	Layers     []string
	NodeLine   int
	LayersLine int

	nodes     []Node
	layerOf   []int32         // by node: Node.Layer, packed, for the judge
	hosts     map[string]host // names and aliases, a port's aliases under their host: one lookup per address
	ports     []portAlias     // aliases with a port, host by host (host.ports)
	resources resourceIndex
	rules     []Rule
	paths     []PathRule
	pathIdx   pathIndex
	tracked   []TrackedEdge    // the known edges: declared and required, whose absence is noticed
	edgeDeps  []*Dependency    // by known edge: its declaration, nil for an edge only required
	edges     edgeIndex        // (from, to) -> known edge
	building  map[uint64]int32 // (from, to) -> known edge, while compiling
	outgoing  []Expect         // by node: the default for a service's outgoing dependencies
	incoming  []Expect         // by node: what every call it receives is expected to do
	expects   bool             // whether anything at all is expected
}

// TrackedEdge is an edge whose absence is noticed: a declared dependency, or a required one.
type TrackedEdge struct {
	From, To NodeID
	Line     int          // where it was declared
	Require  *Requirement // set when a require rule names it
}

// Requirement is the require rule that names an edge.
type Requirement struct {
	Rule, Severity, Message string
	Line                    int
}

// Tracked returns the edges whose absence is noticed, with dense indexes.
func (c *Compiled) Tracked() []TrackedEdge { return c.tracked }

// Edge looks up the known edge from -> to.
func (c *Compiled) Edge(from, to NodeID) Edge { return c.edges.find(from, to) }

// DependencyAt returns the declaration of the known edge i (Edge().Index), or nil when the edge
// is only required.
func (c *Compiled) DependencyAt(i int) *Dependency { return c.edgeDeps[i] }

// track makes from -> to a known edge, declared by dep or required by req.
func (c *Compiled) track(from, to NodeID, dep *Dependency, req *Requirement) {
	k := edgeKey(from, to)
	if i, ok := c.building[k]; ok {
		if req != nil {
			c.tracked[i].Require = req
		}
		return
	}
	line := 0
	if dep != nil {
		line = dep.Line
	} else if req != nil {
		line = req.Line
	}
	c.building[k] = int32(len(c.tracked))
	c.tracked = append(c.tracked, TrackedEdge{From: from, To: to, Line: line, Require: req})
	c.edgeDeps = append(c.edgeDeps, dep)
}

// Declared calls fn with each declared dependency (depends_on), resolved to its nodes, in file
// order, with its line.
func (c *Compiled) Declared(fn func(from, to NodeID, line int)) {
	for i, t := range c.tracked {
		if c.edgeDeps[i] != nil {
			fn(t.From, t.To, t.Line)
		}
	}
}

// HasExpectations reports whether the model expects any behaviour, so that a model without
// expectations costs nothing more per call.
func (c *Compiled) HasExpectations() bool { return c.expects }

// Expectation returns what the call from -> to is expected to do: the dependency's expect, then the
// caller's default, then the callee's expect_incoming, field by field. ok is false when nothing is.
func (c *Compiled) Expectation(from, to NodeID) (e Expect, ok bool) {
	if !c.expects {
		return e, false
	}
	if d := c.Dependency(from, to); d != nil {
		return d.expect, !d.expect.IsZero()
	}
	if from != NoNode {
		e = c.outgoing[from]
	}
	if to != NoNode {
		e = e.over(c.incoming[to])
	}
	return e, !e.IsZero()
}

// host is what a name, or the host part of an alias with a port, stands for.
type host struct {
	id    NodeID    // the node the name alone stands for; NoNode when only host:port aliases use it
	ports portRange // its aliases with a port, in Compiled.ports
}

type portRange struct{ first, n int32 }

type portAlias struct {
	port int64
	id   NodeID
}

type resource struct {
	id      NodeID
	order   int // position among the resources, for "the first in file order"
	matches []attrMatch
}

type attrMatch struct {
	keys []string // the key, then its names in other semantic-convention versions
	glob matcher
}

func edgeKey(from, to NodeID) uint64 { return uint64(uint32(from))<<32 | uint64(uint32(to)) }

// describeEdge tells the edge index what a judge needs of known edge i.
func (c *Compiled) describeEdge(i int, r *edgeRef) {
	if d := c.edgeDeps[i]; d != nil {
		r.declared, r.operations = true, d.HasOperations()
	}
	from, to := c.Peer(c.tracked[i].From), c.Peer(c.tracked[i].To)
	for j := range c.rules {
		if c.rules[j].Matches(from, to) {
			r.rule = int32(j + 1)
			break
		}
	}
}

// Peer returns node id as one end of a call.
func (c *Compiled) Peer(id NodeID) Peer {
	return Peer{ID: id, Name: c.nodes[id].Name, Kind: c.nodes[id].Kind}
}

// LayerOf returns the layer index of node id, -1 when it has none.
func (c *Compiled) LayerOf(id NodeID) int { return int(c.layerOf[id]) }

// Node returns the node with id; id must come from this model.
func (c *Compiled) Node(id NodeID) *Node { return &c.nodes[id] }

// NumNodes is the number of services and resources.
func (c *Compiled) NumNodes() int { return len(c.nodes) }

// Lookup finds a node by name or alias.
func (c *Compiled) Lookup(name string) NodeID {
	if h, ok := c.hosts[name]; ok {
		return h.id
	}
	return NoNode
}

// LookupAddr finds a node by an address: an alias "host:port" first, then the host alone.
func (c *Compiled) LookupAddr(name string, port int64) NodeID {
	h, ok := c.hosts[name]
	if !ok {
		return NoNode
	}
	if port > 0 {
		if id := findPort(c.ports[h.ports.first:h.ports.first+h.ports.n], port); id != NoNode {
			return id
		}
	}
	return h.id
}

// Dependency returns the declared edge from -> to, or nil.
func (c *Compiled) Dependency(from, to NodeID) *Dependency {
	if e := c.edges.find(from, to); e.Index >= 0 {
		return c.edgeDeps[e.Index]
	}
	return nil
}

// Rules returns the deny rules in file order.
func (c *Compiled) Rules() []Rule { return c.rules }

// Attributes is what a resource matcher reads: span attributes, by key.
type Attributes interface {
	Get(key string) (string, bool)
}

// MatchResource returns the first resource, in file order, whose every matcher matches attrs.
func MatchResource[A Attributes](c *Compiled, attrs A) NodeID {
	return matchIndex(&c.resources, attrs)
}

// Compile checks a parsed model as a whole and builds its lookup structure.
func Compile(m *Model) (*Compiled, error) {
	d := &decoder{file: m.File}
	c := &Compiled{
		Model:      m,
		File:       m.File,
		System:     m.System,
		Policy:     m.Policy,
		Layers:     m.Layers,
		NodeLine:   m.NodeLine,
		LayersLine: m.LayersLine,
		hosts:      make(map[string]host, len(m.Nodes)),
		building:   map[uint64]int32{},
	}
	layerIdx := compileLayers(d, m.Layers, m.LayersLine)
	compileNodes(d, c, m.Nodes, layerIdx)
	if len(d.errs) == 0 { // aliases and dependencies need every name
		compileAliases(d, c, m.Nodes)
		compileDeps(d, c, m.Nodes)
		compileResources(d, c, m.Nodes)
		compileRules(d, c, m, layerIdx)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	c.edges, c.building = newEdgeIndex(len(c.nodes), c.tracked, c.describeEdge), nil
	return c, nil
}

func compileLayers(d *decoder, layers []string, layersLine int) map[string]int {
	idx := make(map[string]int, len(layers))
	for i, l := range layers {
		if _, dup := idx[l]; dup {
			d.errorf(layersLine, index("layers", i), "duplicate layer %q", l)
		}
		idx[l] = i
	}
	return idx
}

func nodePath(n *NodeSpec) string {
	if n.Kind == KindService {
		return "services." + n.Name
	}
	return "resources." + n.Name
}

func compileNodes(d *decoder, c *Compiled, specs []NodeSpec, layerIdx map[string]int) {
	for i := range specs {
		s := &specs[i]
		if s.Name == External {
			d.errorf(s.Line, nodePath(s), "%q is reserved for callers outside the traced system", External)
		}
		if strings.TrimSpace(s.Name) == "" {
			d.errorf(s.Line, nodePath(s), "a name cannot be blank: a span whose service name is blank has none")
			continue
		}
		if _, dup := c.hosts[s.Name]; dup {
			d.errorf(s.Line, nodePath(s), "duplicate name %q: services and resources share one namespace", s.Name)
			continue
		}
		layer := -1
		if s.Layer != "" {
			l, ok := layerIdx[s.Layer]
			if !ok {
				d.errorf(s.LayerLine, nodePath(s)+".layer", "unknown layer %q (layers: %s)", s.Layer, list(c.Layers))
			}
			layer = l
			if !ok {
				layer = -1
			}
		}
		c.hosts[s.Name] = host{id: NodeID(len(c.nodes))}
		c.outgoing = append(c.outgoing, deref(s.Expect))
		c.incoming = append(c.incoming, deref(s.ExpectIncoming))
		c.expects = c.expects || s.Expect != nil || s.ExpectIncoming != nil
		c.layerOf = append(c.layerOf, int32(layer))
		c.nodes = append(c.nodes, Node{
			Name: s.Name, Kind: s.Kind, Layer: layer, Zone: s.Zone, Owner: s.Owner,
			Ingress: s.Ingress, Line: s.Line, DepsLine: s.DepsLine,
		})
	}
}

func compileAliases(d *decoder, c *Compiled, specs []NodeSpec) {
	byHost := map[string][]portAlias{} // aliases with a port, gathered to be laid out host by host
	var order []string
	for i := range specs {
		s := &specs[i]
		id := c.Lookup(s.Name)
		for _, a := range s.Aliases {
			name, port := splitHostPort(a)
			if port > 0 {
				if other := findPort(byHost[name], port); other != NoNode {
					d.errorf(s.AliasLine, nodePath(s)+".aliases", "alias %q is already used by %s", a, c.nodes[other].Name)
					continue
				}
				if byHost[name] == nil {
					order = append(order, name)
				}
				byHost[name] = append(byHost[name], portAlias{port: port, id: id})
				continue
			}
			if other := c.Lookup(a); other != NoNode && other != id {
				d.errorf(s.AliasLine, nodePath(s)+".aliases", "alias %q is already a name or alias of %s", a, c.nodes[other].Name)
				continue
			}
			c.hosts[a] = host{id: id}
		}
	}
	for _, name := range order {
		h, ok := c.hosts[name]
		if !ok {
			h.id = NoNode
		}
		h.ports = portRange{first: int32(len(c.ports)), n: int32(len(byHost[name]))}
		c.ports = append(c.ports, byHost[name]...)
		c.hosts[name] = h
	}
}

func findPort(aliases []portAlias, port int64) NodeID {
	for _, a := range aliases {
		if a.port == port {
			return a.id
		}
	}
	return NoNode
}

// splitHostPort splits "host:port"; port is 0 when there is none (IPv6 literals in brackets work too).
func splitHostPort(addr string) (string, int64) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || strings.Contains(addr[i+1:], "]") {
		return addr, 0
	}
	p, err := strconv.ParseInt(addr[i+1:], 10, 64)
	if err != nil || p <= 0 {
		return addr, 0
	}
	return strings.Trim(addr[:i], "[]"), p
}

func deref(e *Expect) Expect {
	if e == nil {
		return Expect{}
	}
	return *e
}

func compileDeps(d *decoder, c *Compiled, specs []NodeSpec) {
	for i := range specs {
		s := &specs[i]
		from := c.Lookup(s.Name)
		for _, dep := range s.DependsOn {
			to := c.Lookup(dep.To)
			if to == NoNode {
				d.errorf(dep.Line, dep.Path, "depends on %q, which is neither a service nor a resource of this model", dep.To)
				continue
			}
			if i, dup := c.building[edgeKey(from, to)]; dup && c.edgeDeps[i] != nil {
				d.errorf(dep.Line, dep.Path, "%s already depends on %s", s.Name, dep.To)
				continue
			}
			cd := &Dependency{Line: dep.Line, expect: deref(dep.Expect).over(c.outgoing[from]).over(c.incoming[to])}
			for j, op := range dep.Operations {
				g, err := compileGlob(op)
				if err != nil {
					d.errorf(dep.Line, index(dep.Path+".operations", j), "bad glob %q: %v", op, err)
					continue
				}
				cd.operations = append(cd.operations, g)
			}
			c.track(from, to, cd, nil)
			c.expects = c.expects || dep.Expect != nil
		}
	}
}

func compileResources(d *decoder, c *Compiled, specs []NodeSpec) {
	var rs []resource
	keys := map[string][]string{} // one copy of each key's names, shared by its matchers
	for i := range specs {
		s := &specs[i]
		if len(s.Match) == 0 {
			continue
		}
		r := resource{id: c.Lookup(s.Name), order: len(rs)}
		for _, ms := range s.Match {
			g, err := compileGlob(ms.Glob)
			if err != nil {
				d.errorf(ms.Line, nodePath(s)+".match."+ms.Key, "bad glob %q: %v", ms.Glob, err)
				continue
			}
			if keys[ms.Key] == nil {
				keys[ms.Key] = semconv.Equivalents(ms.Key)
			}
			r.matches = append(r.matches, attrMatch{keys: keys[ms.Key], glob: g})
		}
		rs = append(rs, r)
	}
	c.resources = newResourceIndex(rs)
}

package importing

import (
	"fmt"
	"os"
	"strings"
	"unicode"
)

// Structurizr DSL has no Go parser (Structurizr's is Java), so this reads the part of it an intent
// needs: the elements of the model (people, software systems, containers, components, groups,
// archetypes of them) with their tags, and the relationships between them. Views, styles,
// deployment and configuration are skipped whole.

// TagMap says how tags become layers and zones.
type TagMap struct{ Layers, Zones map[string]string }

// ParseTagMap reads TAG=LAYER and TAG=ZONE flags.
func ParseTagMap(layers, zones []string) (TagMap, error) {
	m := TagMap{Layers: map[string]string{}, Zones: map[string]string{}}
	for _, pair := range []struct {
		into  map[string]string
		items []string
	}{{m.Layers, layers}, {m.Zones, zones}} {
		for _, it := range pair.items {
			tag, v, ok := strings.Cut(it, "=")
			if !ok || tag == "" || v == "" {
				return m, fmt.Errorf("%q: want TAG=NAME", it)
			}
			pair.into[tag] = v
		}
	}
	return m, nil
}

type dslElement struct {
	id, name, kind string // kind: person, softwaresystem, container, component, group
	tags           []string
	technology     string
	parent         *dslElement // the enclosing element (groups left out)
	system         *dslElement // the software system it belongs to
	hasContainers  bool
	line           int
}

type dslRelation struct {
	from, to *dslElement
	line     int
}

type dslParser struct {
	file       string
	toks       []dslToken
	pos        int
	archetypes map[string]archetype
	elements   []*dslElement
	byID       map[string][]*dslElement
	pending    []pendingRelation
}

type archetype struct {
	base string
	tags []string
	tech string
}

type pendingRelation struct {
	from, to string
	scope    *dslElement
	line     int
}

// Structurizr imports Structurizr DSL workspaces: containers are the services (a software system
// without containers is one; components count as their container's), a container tagged
// "Database" or whose technology names a database is a database resource, a software system
// tagged "External" or "Existing System" an external one; a relationship from a person makes its
// target an ingress. A container's zone is its software system unless tags say otherwise.
func Structurizr(tags TagMap, files ...string) (*Result, error) {
	r := &Result{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		p := &dslParser{file: file, archetypes: map[string]archetype{}, byID: map[string][]*dslElement{}}
		if p.toks, err = tokenize(file, string(data)); err != nil {
			return nil, err
		}
		if err := p.block(nil, "workspace"); err != nil {
			return nil, err
		}
		rels, err := p.resolve(r)
		if err != nil {
			return nil, err
		}
		p.declare(r, rels, tags)
	}
	return r, nil
}

type dslToken struct {
	text   string
	quoted bool
	line   int
}

// tokenize splits the DSL into words, quoted strings, braces and line ends ("\n" tokens), leaving
// out comments.
func tokenize(file, s string) ([]dslToken, error) {
	var toks []dslToken
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			toks = append(toks, dslToken{text: "\n", line: line})
			line++
			i++
		case blank(c):
			i++
		case c == '#' || strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: a comment that never ends", file, line)
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				if s[j] == '\n' {
					return nil, fmt.Errorf("%s:%d: a string that never ends", file, line)
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("%s:%d: a string that never ends", file, line)
			}
			toks = append(toks, dslToken{text: b.String(), quoted: true, line: line})
			i = j + 1
		case c == '{' || c == '}' || c == '=':
			toks = append(toks, dslToken{text: string(c), line: line})
			i++
		default:
			j := i
			for j < len(s) && !blank(s[j]) && s[j] != '\n' && !strings.ContainsRune("{}=\"", rune(s[j])) {
				j++ // at least once: s[i] is none of these
			}
			toks = append(toks, dslToken{text: s[i:j], line: line})
			i = j
		}
	}
	return toks, nil
}

// blank is a byte that separates tokens on a line. Bytes are compared, not runes: a byte of a UTF-8
// sequence read as a rune may look like a space (0x85, 0xA0), and then no token would advance.
func blank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

// statement returns the tokens up to the end of the line, and whether a block opens after them.
func (p *dslParser) statement() ([]dslToken, bool) {
	var st []dslToken
	for p.pos < len(p.toks) {
		t := p.toks[p.pos]
		p.pos++
		switch {
		case t.text == "\n" && !t.quoted:
			if len(st) > 0 {
				return st, false
			}
		case t.text == "{" && !t.quoted:
			return st, true
		case t.text == "}" && !t.quoted:
			p.pos--
			return st, false
		default:
			st = append(st, t)
		}
	}
	return st, false
}

// skip passes over a block whose "{" was read.
func (p *dslParser) skip() {
	for depth := 1; p.pos < len(p.toks) && depth > 0; p.pos++ {
		switch t := p.toks[p.pos]; {
		case t.quoted:
		case t.text == "{":
			depth++
		case t.text == "}":
			depth--
		}
	}
}

// block reads statements until its "}" (or the end), inside element scope.
func (p *dslParser) block(scope *dslElement, context string) error {
	for p.pos < len(p.toks) {
		if t := p.toks[p.pos]; t.text == "}" && !t.quoted {
			p.pos++
			return nil
		}
		st, opens := p.statement()
		if len(st) == 0 {
			if opens {
				p.skip()
			}
			continue
		}
		if err := p.statementIn(scope, context, st, opens); err != nil {
			return err
		}
	}
	return nil
}

var elementKinds = map[string]string{"person": "person", "softwaresystem": "softwaresystem", "container": "container", "component": "component", "group": "group"}

func (p *dslParser) statementIn(scope *dslElement, context string, st []dslToken, opens bool) error {
	word := strings.ToLower(st[0].text)
	switch {
	case context == "archetypes":
		return p.archetype(st, opens)
	case word == "workspace" || word == "model":
		if opens {
			return p.block(scope, word)
		}
		return nil
	case word == "archetypes" && opens:
		return p.block(scope, "archetypes")
	case word == "views" || word == "configuration" || word == "deploymentenvironment" || word == "styles" || word == "properties" || word == "perspectives" || word == "!docs" || word == "!adrs":
		if opens {
			p.skip()
		}
		return nil
	case (word == "tag" || word == "tags") && scope != nil:
		for _, t := range st[1:] {
			scope.tags = append(scope.tags, splitTags(t.text)...)
		}
		return nil
	case word == "technology" && scope != nil && len(st) > 1:
		scope.technology = st[1].text
		return nil
	case word == "description" || word == "url" || strings.HasPrefix(word, "!"):
		if opens {
			p.skip()
		}
		return nil
	}
	if i := indexOf(st, "->"); i >= 0 {
		return p.relation(scope, st, i, opens)
	}
	id := ""
	if len(st) >= 3 && st[1].text == "=" && !st[1].quoted {
		id, st = st[0].text, st[2:]
	}
	if len(st) == 0 {
		return fmt.Errorf("%s:%d: an assignment to nothing", p.file, p.toks[p.pos-1].line)
	}
	return p.element(scope, id, st, opens)
}

func indexOf(st []dslToken, s string) int {
	for i, t := range st {
		if t.text == s && !t.quoted {
			return i
		}
	}
	return -1
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (p *dslParser) archetype(st []dslToken, opens bool) error {
	if len(st) < 3 || st[1].text != "=" {
		return fmt.Errorf("%s:%d: an archetype is NAME = TYPE", p.file, st[0].line)
	}
	a := archetype{base: strings.ToLower(st[2].text)}
	if parent, ok := p.archetypes[a.base]; ok {
		a = parent
	}
	if opens {
		holder := &dslElement{}
		if err := p.block(holder, "archetype"); err != nil {
			return err
		}
		a.tags = append(append([]string{}, a.tags...), holder.tags...)
		if holder.technology != "" {
			a.tech = holder.technology
		}
	}
	p.archetypes[strings.ToLower(st[0].text)] = a
	return nil
}

// element reads `TYPE "name" "description" ["technology"] ["tags"]`, and its block.
func (p *dslParser) element(scope *dslElement, id string, st []dslToken, opens bool) error {
	word := strings.ToLower(st[0].text)
	e := &dslElement{id: id, kind: elementKinds[word], line: st[0].line}
	if a, ok := p.archetypes[word]; ok {
		e.kind, e.tags, e.technology = elementKinds[a.base], append([]string{}, a.tags...), a.tech
	}
	if e.kind == "" {
		return fmt.Errorf("%s:%d: %q is not an element type, a relationship or a statement this import reads", p.file, st[0].line, st[0].text)
	}
	var args []string
	for _, t := range st[1:] {
		args = append(args, t.text)
	}
	if len(args) > 0 {
		e.name = args[0]
	}
	tagAt := map[string]int{"person": 2, "softwaresystem": 2, "container": 3, "component": 3}[e.kind]
	if e.kind == "container" || e.kind == "component" {
		if len(args) > 2 {
			e.technology = args[2]
		}
	}
	if tagAt > 0 && len(args) > tagAt {
		e.tags = append(e.tags, splitTags(args[tagAt])...)
	}
	if e.kind == "group" {
		if opens {
			return p.block(scope, "group") // a group holds elements; it is not one of their parents
		}
		return nil
	}
	e.parent = scope
	switch {
	case e.kind == "softwaresystem":
		e.system = e
	case scope != nil:
		e.system = scope.system
		if e.kind == "container" && scope.system != nil {
			scope.system.hasContainers = true
		}
	}
	p.elements = append(p.elements, e)
	if id != "" {
		p.byID[strings.ToLower(id)] = append(p.byID[strings.ToLower(id)], e)
	}
	if opens {
		return p.block(e, "element")
	}
	return nil
}

// relation reads `a -> b ...` or, inside an element's block, `-> b ...`.
func (p *dslParser) relation(scope *dslElement, st []dslToken, arrow int, opens bool) error {
	if opens {
		p.skip()
	}
	if arrow+1 >= len(st) {
		return fmt.Errorf("%s:%d: a relationship with no destination", p.file, st[arrow].line)
	}
	from := "this"
	switch {
	case arrow == 1:
		from = st[0].text
	case arrow == 3 && st[1].text == "=": // rel = a -> b
		from = st[2].text
	case arrow != 0:
		return fmt.Errorf("%s:%d: a relationship reads SOURCE -> DESTINATION", p.file, st[arrow].line)
	}
	p.pending = append(p.pending, pendingRelation{from: from, to: st[arrow+1].text, scope: scope, line: st[arrow].line})
	return nil
}

// lookup finds what an identifier names: this, a hierarchical a.b.c, or a name seen anywhere
// (the nearest to the scope when several share it).
func (p *dslParser) lookup(id string, scope *dslElement) (*dslElement, bool) {
	if id == "this" {
		return scope, scope != nil
	}
	if i := strings.LastIndexByte(id, '.'); i >= 0 {
		id = id[i+1:]
	}
	cands := p.byID[strings.ToLower(id)]
	if len(cands) == 1 {
		return cands[0], true
	}
	for s := scope; s != nil; s = s.parent {
		for _, c := range cands {
			if c.parent == s {
				return c, true
			}
		}
	}
	return nil, false
}

func (p *dslParser) resolve(r *Result) ([]dslRelation, error) {
	var rels []dslRelation
	for _, pr := range p.pending {
		from, ok1 := p.lookup(pr.from, pr.scope)
		to, ok2 := p.lookup(pr.to, pr.scope)
		if !ok1 || !ok2 {
			missing := pr.from
			if ok1 {
				missing = pr.to
			}
			return nil, fmt.Errorf("%s:%d: %q names no element of the model", p.file, pr.line, missing)
		}
		rels = append(rels, dslRelation{from: from, to: to, line: pr.line})
	}
	return rels, nil
}

// node is the intent node an element counts as: its container for a component, itself for a
// container or a software system without containers; "" for a person or a software system drawn
// through its containers.
func node(e *dslElement) *dslElement {
	switch e.kind {
	case "component":
		if e.parent != nil {
			return node(e.parent)
		}
	case "container":
		return e
	case "softwaresystem":
		if !e.hasContainers {
			return e
		}
	}
	return nil
}

func (p *dslParser) declare(r *Result, rels []dslRelation, tags TagMap) {
	name := func(e *dslElement) string { return slug(e.name) }
	for _, e := range p.elements {
		if n := node(e); n != e {
			continue
		}
		s := r.Service(name(e), fmt.Sprintf("Structurizr %s %q (%s)", e.kind, e.name, at(p.file, e.line)))
		if e.system != nil && e.system != e {
			s.Zone = slug(e.system.name)
		}
		for _, t := range e.tags {
			if z, ok := tags.Zones[t]; ok {
				s.Zone = z
			}
			if l, ok := tags.Layers[t]; ok {
				s.Layer = l
			}
		}
		s.Kind = structurizrKind(e)
	}
	for _, rel := range rels {
		where := at(p.file, rel.line)
		from, to := node(rel.from), node(rel.to)
		switch {
		case rel.from.kind == "person" && to != nil:
			r.Lookup(name(to)).Ingress = true
		case from == nil || to == nil:
			r.Skip(where, fmt.Sprintf("%s -> %s", rel.from.name, rel.to.name), "a person, or a software system drawn through its containers: its containers' relationships say which calls")
		case from == to:
			r.Skip(where, fmt.Sprintf("%s -> %s", rel.from.name, rel.to.name), "within one container")
		case r.Lookup(name(from)).Kind != "":
			r.Skip(where, fmt.Sprintf("%s -> %s", rel.from.name, rel.to.name), "a resource declares no dependencies")
		default:
			r.Depend(name(from), name(to), "Structurizr relationship ("+where+")")
		}
	}
}

func structurizrKind(e *dslElement) string {
	for _, t := range e.tags {
		switch strings.ToLower(t) {
		case "database", "datastore":
			return "database"
		case "queue", "topic", "message bus":
			return "messaging"
		case "external", "existing system":
			if e.kind == "softwaresystem" {
				return "external"
			}
		}
	}
	tech := strings.ToLower(e.technology)
	for _, db := range []string{"database", "mysql", "postgres", "oracle", "sql server", "mongodb", "redis"} {
		if strings.Contains(tech, db) {
			return "database"
		}
	}
	return ""
}

// slug makes a name as services are named: lower case, words joined by hyphens.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

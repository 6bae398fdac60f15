package intent

import (
	"errors"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Error is a problem in an intent file: it names the file, the line and the key.
type Error struct {
	File string
	Line int
	Key  string // path of the key, such as services.frontend.depends_on[1].to
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// maxNodes bounds the YAML nodes one file may expand to, aliases included: an alias bomb stops here.
const maxNodes = 1_000_000

// maxErrors bounds how many problems one load reports.
const maxErrors = 20

// decoder walks a yaml.Node tree and collects errors with their positions.
type decoder struct {
	file    string
	errs    []error
	visited int
}

// documentKey names the whole document where an error is about its root rather than a key.
const documentKey = "(document)"

func (d *decoder) errorf(line int, key, format string, args ...any) {
	if key == "" {
		key = documentKey
	}
	if len(d.errs) < maxErrors {
		d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
}

func (d *decoder) err() error { return errors.Join(d.errs...) }

// resolve follows aliases and counts nodes against the budget.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.visited++
	return n
}

func (d *decoder) overBudget() bool { return d.visited > maxNodes }

// document parses data as a YAML document and returns its root. A file with nothing in it but
// blanks and comments is an error, as is one that is not YAML; what names the file in the message
// ("intent", "baseline").
func (d *decoder) document(data []byte, what string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(d.file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		d.errorf(1, "version", "the %s file is empty", what)
		return nil, d.err()
	}
	return doc.Content[0], nil
}

// field is one key of a mapping.
type field struct {
	key  string
	line int
	val  *yaml.Node
}

// fields reads a mapping, rejecting keys not in allowed (when non-nil) and duplicate keys.
func (d *decoder) fields(n *yaml.Node, path string, allowed ...string) ([]field, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "expected a mapping, found %s", describe(n))
		return nil, false
	}
	seen := make(map[string]bool, len(n.Content)/2)
	out := make([]field, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "keys must be plain strings")
			continue
		}
		kp := join(path, k.Value)
		if seen[k.Value] {
			d.errorf(k.Line, kp, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !contains(allowed, k.Value) {
			d.errorf(k.Line, kp, "unknown key %q (allowed: %s)", k.Value, list(allowed))
			continue
		}
		out = append(out, field{key: k.Value, line: k.Line, val: v})
	}
	return out, true
}

func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n.Line, path, "expected a string, found %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) nonEmptyStr(n *yaml.Node, path string) (string, bool) {
	s, ok := d.str(n, path)
	if ok && s == "" {
		d.errorf(d.resolve(n).Line, path, "must not be empty")
		return "", false
	}
	return s, ok
}

func (d *decoder) oneOf(n *yaml.Node, path string, values ...string) (string, bool) {
	s, ok := d.str(n, path)
	if ok && !contains(values, s) {
		d.errorf(d.resolve(n).Line, path, "%q is not one of %s", s, list(values))
		return "", false
	}
	return s, ok
}

func (d *decoder) boolean(n *yaml.Node, path string) bool {
	n = d.resolve(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		d.errorf(n.Line, path, "expected true or false, found %s", describe(n))
	}
	return b
}

func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	n = d.resolve(n)
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		d.errorf(n.Line, path, "expected an integer, found %s", describe(n))
		return 0, false
	}
	return v, true
}

// items reads a sequence.
func (d *decoder) items(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "expected a list, found %s", describe(n))
		return nil, false
	}
	return n.Content, true
}

// strs reads a string, or a list of strings.
func (d *decoder) strs(n *yaml.Node, path string) []string {
	r := d.resolve(n)
	if r.Kind == yaml.ScalarNode {
		if s, ok := d.nonEmptyStr(r, path); ok {
			return []string{s}
		}
		return nil
	}
	items, _ := d.items(r, path)
	out := make([]string, 0, len(items))
	for i, it := range items {
		if s, ok := d.nonEmptyStr(it, index(path, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unsupported node"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func contains(values []string, s string) bool {
	for _, v := range values {
		if v == s {
			return true
		}
	}
	return false
}

func list(values []string) string {
	s := ""
	for i, v := range values {
		if i > 0 {
			s += ", "
		}
		s += v
	}
	return s
}

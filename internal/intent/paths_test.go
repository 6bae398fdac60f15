package intent

import (
	"strings"
	"testing"
)

const pathsBase = "version: 1\nservices: {a: {}, b: {}, c: {}}\npaths:\n"

// TestPathErrors: a broken path rule names file, line and key, as the rest of the intent does.
func TestPathErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "  - name: p\n    max_depth: 3\n    sevrity: info\n", "f.yaml:6: paths[0].sevrity: unknown key"},
		{"no check", "  - name: p\n", "f.yaml:4: paths[0].deny: missing: a path rule needs one of"},
		{"two checks", "  - name: p\n    max_depth: 3\n    cycles: deny\n", "f.yaml:6: paths[0].cycles: a path rule has one of"},
		{"no name", "  - max_depth: 3\n", "f.yaml:4: paths[0].name: missing"},
		{"deny without to", "  - name: p\n    deny: {from: a}\n", "f.yaml:5: paths[0].deny.to: missing"},
		{"deny without from", "  - name: p\n    deny: {to: a, via: b}\n", "f.yaml:5: paths[0].deny.from: missing"},
		{"require without via", "  - name: p\n    require: {to: a}\n", "f.yaml:5: paths[0].require.via: missing"},
		{"require with from", "  - name: p\n    require: {from: a, to: b, via: c}\n", "f.yaml:5: paths[0].require.from: unknown key"},
		{"unknown node", "  - name: p\n    deny: {from: a, to: pyment}\n", "f.yaml:5: paths[0].deny.to: \"pyment\" is neither"},
		{"depth not a number", "  - name: p\n    max_depth: deep\n", "f.yaml:5: paths[0].max_depth: expected an integer"},
		{"depth zero", "  - name: p\n    max_depth: 0\n", "f.yaml:5: paths[0].max_depth: must be at least 1"},
		{"cycles allow", "  - name: p\n    cycles: allow\n", "f.yaml:5: paths[0].cycles: \"allow\" is not one of deny"},
		{"services without cycles", "  - name: p\n    max_depth: 2\n    services: a\n", "f.yaml:6: paths[0].services: only a cycles rule selects services"},
		{"name shared with a rule", "  - name: r\n    max_depth: 2\nrules:\n  - name: r\n    deny: {from: a, to: b}\n", "duplicate rule name \"r\""},
		{"bad severity", "  - name: p\n    cycles: deny\n    severity: high\n", "f.yaml:6: paths[0].severity: \"high\" is not one of"},
		{"not a list", "  name: p\n", "f.yaml:4: paths: expected a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBytes("f.yaml", []byte(pathsBase+tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}

// TestPathsLoadAndWrite: every form loads, with its selectors compiled, and Write gives it back.
func TestPathsLoadAndWrite(t *testing.T) {
	src := pathsBase + `  - name: no-a-to-c-via-b
    deny: {from: a, to: c, via: b}
    except: [{from: a, to: c}]
    severity: critical
    message: through b, a must not reach c
  - name: c-through-b
    require: {to: c, via: b}
  - name: shallow
    max_depth: 4
  - name: no-loops
    cycles: deny
    services: {name: [a, b]}
`
	c, err := LoadBytes("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Paths()
	if len(p) != 4 || p[0].Kind != PathDeny || p[1].Kind != PathRequire || p[2].Kind != PathMaxDepth || p[3].Kind != PathCycles {
		t.Fatalf("paths: %+v", p)
	}
	a, b, cc := c.Peer(c.Lookup("a")), c.Peer(c.Lookup("b")), c.Peer(c.Lookup("c"))
	switch {
	case !p[0].From(a) || p[0].From(b) || !p[0].To(cc) || !p[0].Via(b) || !p[0].HasVia || !p[0].Excepted(a, cc) || p[0].Excepted(b, cc):
		t.Error("deny selectors")
	case p[0].Severity != SeverityCritical || p[0].Message == "" || p[0].Line != 4:
		t.Errorf("deny: %+v", p[0])
	case p[1].HasVia != true || !p[1].To(cc) || p[1].To(a) || p[1].Severity != SeverityWarning:
		t.Error("require selectors")
	case p[2].MaxDepth != 4:
		t.Error("max_depth")
	case !p[3].To(a) || !p[3].To(b) || p[3].To(cc):
		t.Error("cycles: services")
	}
	out, err := Write(c.Model, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadBytes("again.yaml", out)
	if err != nil {
		t.Fatalf("written model does not load: %v\n%s", err, out)
	}
	if len(again.Paths()) != 4 {
		t.Fatalf("written back:\n%s", out)
	}
	for i, r := range again.Paths() {
		w := p[i]
		if r.Name != w.Name || r.Kind != w.Kind || r.MaxDepth != w.MaxDepth || r.HasVia != w.HasVia || r.Severity != w.Severity || r.Message != w.Message {
			t.Errorf("path %d written back as %+v, was %+v", i, r, w)
		}
	}
	cyc := again.Paths()[3]
	if !cyc.To(a) || cyc.To(cc) {
		t.Error("cycles services written back")
	}
}

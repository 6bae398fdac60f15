package intent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoad: no input makes the loader panic or hang; what loads is a usable model, and what fails
// says where.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"../../testdata/intent", "../../testdata/demo", "../../testdata/online-boutique"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("version: 1\nservices: {a: {depends_on: [{to: a, operations: ['*']}]}}\n"))
	f.Add([]byte("version: 1\nlayers: [&x a, *x]\n"))
	f.Add([]byte("version: 1\nrules: [{name: r, deny: {from: {kind: [database]}, to: '*'}, except: [{}]}]\n"))
	f.Add([]byte("version: 1\nservices: {a: {}, b: {}}\npaths:\n  - {name: p, deny: {from: a, to: '*', via: {kind: service}}, except: [{to: b}]}\n  - {name: q, require: {to: b, via: a}}\n  - {name: d, max_depth: 3}\n  - {name: c, cycles: deny, services: [a]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ok := loads(t, "f.yaml", data, LoadBytes)
		if !ok {
			return
		}
		for id := 0; id < c.NumNodes(); id++ {
			n := c.Node(NodeID(id))
			if c.Lookup(n.Name) != NodeID(id) {
				t.Fatalf("node %q does not look itself up", n.Name)
			}
			for to := 0; to < c.NumNodes(); to++ {
				if d := c.Dependency(NodeID(id), NodeID(to)); d != nil {
					d.AllowsOperation("a", "/", "b")
				}
			}
		}
		for _, r := range c.Rules() {
			r.Matches(Peer{ID: 0, Name: "x"}, Peer{ID: NoNode, Name: "y", Kind: KindDatabase})
		}
	})
}

// FuzzLoadBaseline: no input makes the baseline reader panic or hang, and what fails says where.
func FuzzLoadBaseline(f *testing.F) {
	f.Add([]byte("version: 1\naccepted:\n  - {caller: web, callee: pay, kind: forbidden_dependency, until: 2026-12-31, reason: PAY-123}\n"))
	f.Add([]byte("# emptied\n"))
	f.Add([]byte("version: 1\naccepted: [&a {caller: x, callee: y}, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, ok := loads(t, "b.yaml", data, ParseBaseline)
		if !ok {
			return
		}
		for _, e := range b.Entries {
			if e.Caller == "" || e.Callee == "" {
				t.Fatalf("an entry without caller or callee loaded: %+v", e)
			}
		}
	})
}

// loads reads data with load, and fails the test when load hangs, or fails without naming the file
// and line; ok says whether data loaded.
func loads[T any](t *testing.T, file string, data []byte, load func(file string, data []byte) (T, error)) (v T, ok bool) {
	watchdog := time.AfterFunc(3*time.Second, func() { panic(fmt.Sprintf("loading %s hangs on %q", file, data)) })
	defer watchdog.Stop()
	v, err := load(file, data)
	if err != nil && !strings.HasPrefix(err.Error(), file+":") {
		t.Fatalf("error without file and line: %v", err)
	}
	return v, err == nil
}

package intent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteRoundTrip: every model of the repository, written, reads back to the same model.
func TestWriteRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/*/*.yaml")
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := LoadBytes(f, data)
		if err != nil {
			continue // not an intent file (collector configurations live there too)
		}
		n++
		out, err := Write(c.Model, map[string]Note{"frontend": "learned: first seen now"})
		if err != nil {
			t.Fatal(err)
		}
		back, err := LoadBytes("written.yaml", out)
		if err != nil {
			t.Fatalf("%s written does not load: %v\n%s", f, err, out)
		}
		if back.NumNodes() != c.NumNodes() || len(back.Rules()) != len(c.Rules()) || len(back.Tracked()) != len(c.Tracked()) ||
			back.HasExpectations() != c.HasExpectations() {
			t.Errorf("%s changed in writing:\n%s", f, out)
		}
		for id := 0; id < c.NumNodes(); id++ {
			a, b := c.Node(NodeID(id)), back.Node(back.Lookup(c.Node(NodeID(id)).Name))
			if a.Name != b.Name || a.Kind != b.Kind || a.Layer != b.Layer || a.Ingress != b.Ingress || a.Zone != b.Zone {
				t.Errorf("%s: node %+v became %+v", f, a, b)
			}
		}
		if c.Lookup("frontend") != NoNode && !strings.Contains(string(out), "# learned: first seen now") {
			t.Errorf("%s: the note is not written", f)
		}
	}
	if n < 3 {
		t.Fatalf("only %d intent files found", n)
	}
}

package importing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every reader of outside data is fuzzed: whatever the file holds, it gives a result or an error
// that names the file, and never panics.

func fuzzFile(t *testing.T, data []byte, read func(string) (*Result, error)) {
	path := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := read(path)
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("an error that does not name the file: %v", err)
		}
		return
	}
	if _, err := Merge(nil, r); err != nil {
		t.Fatalf("what was read does not merge: %v", err)
	}
	for _, s := range r.Skipped {
		if !strings.HasPrefix(s.Where, path) {
			t.Fatalf("a skip that does not name the file: %s", s)
		}
	}
}

func seedFiles(f *testing.F, glob string) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "intent-sources", glob))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
}

func FuzzStructurizr(f *testing.F) {
	seedFiles(f, "structurizr/*/workspace.dsl")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFile(t, data, func(p string) (*Result, error) { return Structurizr(TagMap{}, p) })
	})
}

func FuzzNetworkPolicy(f *testing.F) {
	seedFiles(f, "online-boutique-network-policies/network-policy-*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFile(t, data, func(p string) (*Result, error) { return NetworkPolicies("app", p) })
	})
}

func FuzzBackstage(f *testing.F) {
	seedFiles(f, "backstage/*/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFile(t, data, func(p string) (*Result, error) { return Backstage(p) })
	})
}

func FuzzOpenSLO(f *testing.F) {
	seedFiles(f, "openslo/*/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFile(t, data, func(p string) (*Result, error) { return OpenSLO("ms", p) })
	})
}

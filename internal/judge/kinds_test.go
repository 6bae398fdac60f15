package judge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchitectureNamesWhereEachKindIsDecided: ARCHITECTURE.md's table names, for every kind, the
// file and function the table of kinds says decide it, and those exist.
func TestArchitectureNamesWhereEachKindIsDecided(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	for k := range NumKinds {
		row := "| `" + k.String() + "` | " + k.DecidedBy() + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("ARCHITECTURE.md lacks the row %s", row)
		}
		file, funcs, _ := strings.Cut(k.DecidedBy(), " ")
		src, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		for _, fn := range strings.Split(funcs, ", ") {
			name := fn[strings.LastIndexByte(fn, '.')+1:]
			if !strings.Contains(string(src), ") "+name+"(") && !strings.Contains(string(src), "func "+name+"(") {
				t.Errorf("%s: %s has no function %s", k, file, fn)
			}
		}
	}
}

func TestKindNamesRoundTrip(t *testing.T) {
	for k := range NumKinds {
		if got, ok := ParseKind(k.String()); !ok || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, ok)
		}
	}
	if _, ok := ParseKind("forbidden_dependnecy"); ok {
		t.Error("a misspelt kind parses")
	}
}

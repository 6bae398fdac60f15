package intent

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/driftprocessor/driftprocessor/internal/semconv"
)

// TestMatchResourceAgreesWithTryingEveryResource compares the index with its definition, on random
// models and spans: the first resource in file order whose every matcher matches, each matcher
// reading the first of its key's semantic-convention names that the span has.
func TestMatchResourceAgreesWithTryingEveryResource(t *testing.T) {
	keys := []string{"db.system.name", "db.system", "db.namespace", "db.name", "messaging.destination.name", "server.address"}
	values := []string{"a", "b", "c", "ab"}
	patterns := append([]string{"a*", "*", "?", "[ab]"}, values...)
	rng := rand.New(rand.NewPCG(1, 2))
	for model := 0; model < 300; model++ {
		type spec struct {
			name    string
			matches map[string]string
		}
		var specs []spec
		var y strings.Builder
		y.WriteString("version: 1\nresources:\n")
		for i := range 1 + rng.IntN(12) {
			s := spec{name: fmt.Sprintf("r%d", i), matches: map[string]string{}}
			for range 1 + rng.IntN(3) {
				pool := values
				if rng.IntN(4) == 0 {
					pool = patterns
				}
				s.matches[keys[rng.IntN(len(keys))]] = pool[rng.IntN(len(pool))]
			}
			specs = append(specs, s)
			fmt.Fprintf(&y, "  %s:\n    kind: database\n    match:\n", s.name)
			for k, v := range s.matches {
				fmt.Fprintf(&y, "      %s: %q\n", k, v)
			}
		}
		c, err := LoadBytes("r.yaml", []byte(y.String()))
		if err != nil {
			t.Fatal(err)
		}
		for range 50 {
			attrs := mapAttrs{}
			for _, k := range keys {
				if rng.IntN(2) == 0 {
					attrs[k] = values[rng.IntN(len(values))]
				}
			}
			want := ""
			for _, s := range specs {
				if everyMatcherMatches(t, s.matches, attrs) {
					want = s.name
					break
				}
			}
			got := ""
			if id := MatchResource(c, attrs); id != NoNode {
				got = c.Node(id).Name
			}
			if got != want {
				t.Fatalf("model:\n%s\nspan %v: matched %q, want %q", y.String(), attrs, got, want)
			}
		}
	}
}

func everyMatcherMatches(t *testing.T, matches map[string]string, attrs mapAttrs) bool {
	for k, pattern := range matches {
		g, err := compileGlob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := "", false
		for _, name := range semconv.Equivalents(k) {
			if v, ok = attrs[name]; ok {
				break
			}
		}
		if !ok || !g.match(v) {
			return false
		}
	}
	return true
}

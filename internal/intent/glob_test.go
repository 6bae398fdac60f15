package intent

import "testing"

// TestMatcherAgreesWithGobwas: the parts matcher gives gobwas/glob's answer, however the name is cut.
func TestMatcherAgreesWithGobwas(t *testing.T) {
	patterns := []string{"*", "a*", "*b", "a*b", "a?c", "*.stripe.com", "oteldemo.*/Get*", "**x", "a*b*c", "", "abc", "[ab]*", "{GET,POST} /cart*"}
	names := []string{"", "a", "b", "ab", "abc", "axb", "acb", "api.stripe.com", "stripe.com", "oteldemo.Cart/GetCart",
		"oteldemo.Cart/Empty", "xx", "aXbYc", "GET /cart/1", "PUT /cart"}
	for _, pat := range patterns {
		m, err := compileGlob(pat)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := compileGlob(pat)
		ref.simple = false
		for _, name := range names {
			want := name == pat
			if ref.g != nil {
				want = ref.g.Match(name)
			}
			for cut1 := 0; cut1 <= len(name); cut1++ {
				for cut2 := cut1; cut2 <= len(name); cut2++ {
					if got := m.matchParts(name[:cut1], name[cut1:cut2], name[cut2:]); got != want {
						t.Errorf("%q ~ %q cut at %d,%d: %v, want %v", pat, name, cut1, cut2, got, want)
					}
				}
			}
		}
	}
}

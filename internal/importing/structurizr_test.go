package importing

import "testing"

// TestTokensSplitAtASCIIBlanksOnly: a form feed separates tokens as a space does, and a name with
// bytes that read as spaces when taken one by one (à is C3 A0) stays whole. The reader before looped for ever on both.
func TestTokensSplitAtASCIIBlanksOnly(t *testing.T) {
	toks, err := tokenize("w.dsl", "gàteway\f= softwareSystem \"Gàteway\"\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		got = append(got, tk.text)
	}
	want := []string{"gàteway", "=", "softwareSystem", "Gàteway", "\n"}
	if len(got) != len(want) {
		t.Fatalf("tokens %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tokens %q, want %q", got, want)
		}
	}
}

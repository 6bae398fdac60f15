package clean

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestName(t *testing.T) {
	long := strings.Repeat("é", MaxLen) // 2 bytes each
	if got := Name(long); len(got) != MaxLen || !utf8.ValidString(got) {
		t.Errorf("cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := Name("x" + long); len(got) != MaxLen-1 || !utf8.ValidString(got) {
		t.Errorf("cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := Name("bad\xffname"); got != "bad\uFFFDname" {
		t.Errorf("invalid UTF-8: %q", got)
	}
	if got := Name("cart"); got != "cart" {
		t.Errorf("%q", got)
	}
	for in, want := range map[string]string{
		"car\x00t": "cart", "cart\n": "cart", "\tcart\x7f": "cart", "cart\u0085": "cart", // C0, DEL, C1
		"bad\xff\x00name": "bad\uFFFDname", "é\x1b[31m": "é[31m", "\x00": "",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameAllocatesNothingForValidNames(t *testing.T) {
	s := strings.Repeat("a", 1000)
	if n := testing.AllocsPerRun(100, func() { _ = Name(s) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

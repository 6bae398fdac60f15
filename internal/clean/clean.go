// Package clean bounds the names that come from span data, which nobody vouches for, before they
// become span attributes, metric labels or stored state.
package clean

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen bounds a name taken from span data, in bytes.
const MaxLen = 256

// Name cuts s to MaxLen bytes on a rune boundary, replaces invalid UTF-8 and removes control
// characters (a NUL or a newline in a service name would reach label values and log lines). It
// allocates only when s has something to replace or remove.
func Name(s string) string { return NameWithin(s, MaxLen) }

// NameWithin is Name, cut to max bytes: for a value that holds several names.
func NameWithin(s string, max int) string {
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) { // cut on a rune boundary
			cut--
		}
		s = s[:cut]
	}
	valid := utf8.ValidString(s)
	if valid && !hasControl(s) {
		return s
	}
	if !valid {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// hasControl reports whether s holds a control character: C0, DEL, or C1 (U+0080 to U+009F, in
// UTF-8 0xC2 followed by 0x80 to 0x9F).
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return true
		}
	}
	return false
}

// Storable bounds a value that is stored until it is used: cut to MaxLen bytes, without holding on to a
// larger value it was cut from. It does not check UTF-8; Name does that where the value is used.
func Storable(s string) string {
	if len(s) > MaxLen {
		return strings.Clone(Name(s))
	}
	return s
}

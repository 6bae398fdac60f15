// Package clean bounds the names that come from span data, which nobody vouches for, before they
// become span attributes, metric labels or stored state.
package clean

import (
	"strings"
	"unicode/utf8"
)

// MaxLen bounds a name taken from span data, in bytes.
const MaxLen = 256

// Name cuts s to MaxLen bytes on a rune boundary and replaces invalid UTF-8. It allocates only when
// s is not valid UTF-8.
func Name(s string) string {
	if len(s) > MaxLen {
		cut := MaxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) { // cut on a rune boundary
			cut--
		}
		s = s[:cut]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// Storable bounds a value that is stored until it is used: cut to MaxLen bytes, without holding on to a
// larger value it was cut from. It does not check UTF-8; Name does that where the value is used.
func Storable(s string) string {
	if len(s) > MaxLen {
		return strings.Clone(Name(s))
	}
	return s
}

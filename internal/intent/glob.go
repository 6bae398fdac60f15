package intent

import (
	"strings"

	"github.com/gobwas/glob"
)

// matcher matches a string against a literal or a glob (`*`, `?`, `[...]`, `{a,b}`); `*` also
// crosses `/` and `.`, since operation and host names are not paths. Patterns of only `*` and `?`
// are matched here, against a name given in parts, so that matching allocates nothing; the others
// go to gobwas/glob.
type matcher struct {
	literal string
	simple  bool // literal holds a pattern of only `*` and `?` wildcards
	g       glob.Glob
}

func compileGlob(pattern string) (matcher, error) {
	if !strings.ContainsAny(pattern, `*?[]{}\`) {
		return matcher{literal: pattern}, nil
	}
	g, err := glob.Compile(pattern)
	if err != nil {
		return matcher{}, err
	}
	if !strings.ContainsAny(pattern, `[]{}\`) {
		return matcher{literal: pattern, simple: true, g: g}, nil
	}
	return matcher{g: g}, nil
}

func (m matcher) match(s string) bool { return m.matchParts(s, "", "") }

// matchParts matches a+sep+b without building it, unless the pattern needs gobwas/glob.
func (m matcher) matchParts(a, sep, b string) bool {
	switch {
	case m.simple:
		return wildcard(m.literal, parts{a, sep, b})
	case m.g != nil:
		return m.g.Match(a + sep + b)
	}
	l := m.literal
	return len(l) == len(a)+len(sep)+len(b) && l[:len(a)] == a && l[len(a):len(a)+len(sep)] == sep && l[len(a)+len(sep):] == b
}

func (m matcher) isGlob() bool { return m.g != nil }

// isLiteral reports whether the pattern matches one string only.
func (m matcher) isLiteral() bool { return m.g == nil && !m.simple }

// parts is a string given as three pieces.
type parts [3]string

func (p *parts) len() int { return len(p[0]) + len(p[1]) + len(p[2]) }

func (p *parts) at(i int) byte {
	if i < len(p[0]) {
		return p[0][i]
	}
	i -= len(p[0])
	if i < len(p[1]) {
		return p[1][i]
	}
	return p[2][i-len(p[1])]
}

// wildcard matches s against a pattern of literal bytes, `*` (any run) and `?` (any one byte), in
// linear time: on a mismatch it backtracks only to the last star.
func wildcard(pattern string, s parts) bool {
	n := s.len()
	p, i := 0, 0
	star, mark := -1, 0
	for i < n {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s.at(i)):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

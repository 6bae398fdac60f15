package intent

import (
	"strings"

	"github.com/gobwas/glob"
)

// matcher matches a string against a literal or a glob (`*`, `?`, `[...]`, `{a,b}`); `*` also
// crosses `/` and `.`, since operation and host names are not paths.
type matcher struct {
	literal string
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
	return matcher{g: g}, nil
}

func (m matcher) match(s string) bool {
	if m.g == nil {
		return m.literal == s
	}
	return m.g.Match(s)
}

func (m matcher) isGlob() bool { return m.g != nil }

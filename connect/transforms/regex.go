package transforms

import (
	"fmt"
	"regexp"
	"strings"
)

// Java regexes mostly run on Go's RE2; possessive quantifiers, lookaround
// and backreferences do not, and are reported as errors at configuration.

// compileJavaRegex compiles re to match whole strings, as Matcher.matches.
func compileJavaRegex(re string) (*regexp.Regexp, error) {
	r, err := regexp.Compile(`^(?:` + re + `)$`)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", re, err)
	}
	return r, nil
}

// javaReplacement turns Java's "$1" and "\$" into Go's "${1}" and "$$".
func javaReplacement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case c == '$' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				b.WriteString("$$")
				continue
			}
			b.WriteString(s[i : i+j+1])
			i += j
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

type regexpReplacer struct {
	re       *regexp.Regexp
	template string
}

// replace returns the replacement when s matches.
func (r *regexpReplacer) replace(s string) (string, bool) {
	m := r.re.FindStringSubmatchIndex(s)
	if m == nil {
		return s, false
	}
	return string(r.re.ExpandString(nil, r.template, s, m)), true
}

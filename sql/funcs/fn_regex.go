package funcs

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/sluicedata/sluice/sql/types"
)

// Regular expressions use Go's RE2 syntax, which matches Java's for the
// common constructs (classes, groups, quantifiers, anchors, (?i) flags) but
// has no backreferences or lookaround; it runs in linear time, so a pattern
// from a query cannot stall the stream. REGEXP_REPLACE takes Java's
// replacement syntax ($1, ${name}, \$).

// regexCache compiles each pattern once per call site.
type regexCache struct{ m sync.Map }

func (c *regexCache) get(p string) (*regexp.Regexp, error) {
	if r, ok := c.m.Load(p); ok {
		return r.(*regexp.Regexp), nil
	}
	r, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %w", p, err)
	}
	c.m.Store(p, r)
	return r, nil
}

// withRegex builds an implementation that gets a per-call-site cache.
func withRegex(f func(c *regexCache, a []types.Value) (types.Value, error)) Impl {
	return func(in []types.Type, out types.Type) EvalFunc {
		c := &regexCache{}
		return strict(func(a []types.Value) (types.Value, error) { return f(c, a) })(in, out)
	}
}

func regexFunctions() []Function {
	extract := func(all bool) func(c *regexCache, a []types.Value) (types.Value, error) {
		return func(c *regexCache, a []types.Value) (types.Value, error) {
			re, err := c.get(a[0].(string))
			if err != nil {
				return nil, err
			}
			group := 0
			if len(a) == 3 {
				group = int(a[2].(int32))
			}
			if group < 0 || group > re.NumSubexp() {
				return nil, fmt.Errorf("no group %d in %q", group, a[0])
			}
			s := a[1].(string)
			if !all {
				m := re.FindStringSubmatchIndex(s)
				if m == nil || m[2*group] < 0 {
					return nil, nil
				}
				return s[m[2*group]:m[2*group+1]], nil
			}
			out := []types.Value{}
			for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
				if m[2*group] < 0 {
					out = append(out, nil)
					continue
				}
				out = append(out, s[m[2*group]:m[2*group+1]])
			}
			return out, nil
		}
	}
	return []Function{
		fn("REGEXP_EXTRACT", CatRegex, "Returns the first substring matched by the pattern, or the given capturing group of that match; NULL when nothing matches.",
			V(PString, withRegex(extract(false)), P("pattern", PString), P("input", PString)),
			V(PString, withRegex(extract(false)), P("pattern", PString), P("input", PString), P("group", PInt)),
		),
		fn("REGEXP_EXTRACT_ALL", CatRegex, "Returns every substring matched by the pattern, or the given capturing group of each match.",
			V(ArrayP(PString), withRegex(extract(true)), P("pattern", PString), P("input", PString)),
			V(ArrayP(PString), withRegex(extract(true)), P("pattern", PString), P("input", PString), P("group", PInt)),
		),
		fn("REGEXP_REPLACE", CatRegex, "Replaces every match of the pattern with the replacement ($n refers to a group).",
			V(PString, withRegex(func(c *regexCache, a []types.Value) (types.Value, error) {
				re, err := c.get(a[1].(string))
				if err != nil {
					return nil, err
				}
				tmpl, err := javaReplacement(a[2].(string))
				if err != nil {
					return nil, err
				}
				return re.ReplaceAllString(a[0].(string), tmpl), nil
			}), P("input", PString), P("pattern", PString), P("replacement", PString))),
		fn("REGEXP_SPLIT_TO_ARRAY", CatRegex, "Splits a string on matches of the pattern, keeping empty parts; an empty pattern splits every character.",
			V(ArrayP(PString), withRegex(func(c *regexCache, a []types.Value) (types.Value, error) {
				s, p := a[0].(string), a[1].(string)
				var parts []string
				if p == "" {
					parts = strings.Split(s, "")
				} else {
					re, err := c.get(p)
					if err != nil {
						return nil, err
					}
					parts = re.Split(s, -1)
				}
				out := make([]types.Value, len(parts))
				for i, x := range parts {
					out[i] = x
				}
				return out, nil
			}), P("input", PString), P("pattern", PString))),
	}
}

// javaReplacement turns Java's Matcher replacement syntax into Go's
// template syntax: $1 -> ${1}, ${name} stays, \x -> x, $ in the output is
// escaped as $$.
func javaReplacement(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) {
				return "", fmt.Errorf("character to be escaped is missing in replacement %q", s)
			}
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case '$':
			if i+1 >= len(s) {
				return "", fmt.Errorf("illegal group reference: group index is missing in replacement %q", s)
			}
			if s[i+1] == '{' {
				j := strings.IndexByte(s[i:], '}')
				if j < 0 {
					return "", fmt.Errorf("named capturing group is missing trailing '}' in replacement %q", s)
				}
				b.WriteString(s[i : i+j+1])
				i += j
				continue
			}
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				return "", fmt.Errorf("illegal group reference in replacement %q", s)
			}
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

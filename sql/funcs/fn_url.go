package funcs

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

// parseURI parses s as java.net.URI would accept it: characters URIs never
// contain (space, quotes, <>, \, ^, `, {|}, controls) make it invalid.
func parseURI(s string) (*url.URL, bool) {
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("\"<>\\^`{|}", r) {
			return nil, false
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, false
	}
	return u, true
}

// formEncode is application/x-www-form-urlencoded escaping, as Java's
// URLEncoder: letters, digits and -_.* stay, space becomes +.
func formEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.*", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
		}
	}
	return b.String()
}

func urlFunctions() []Function {
	part := func(name, desc string, f func(u *url.URL) types.Value) Function {
		return fn(name, CatURL, desc, V(PString, strict(func(a []types.Value) (types.Value, error) {
			u, ok := parseURI(a[0].(string))
			if !ok {
				return nil, nil
			}
			return f(u), nil
		}), P("url", PString)))
	}
	nonEmpty := func(s string, present bool) types.Value {
		if !present {
			return nil
		}
		return s
	}
	return []Function{
		fn("URL_DECODE_PARAM", CatURL, "Decodes an application/x-www-form-urlencoded value (+ and %XX).",
			V(PString, strict(func(a []types.Value) (types.Value, error) {
				s, err := url.QueryUnescape(a[0].(string))
				if err != nil {
					return nil, err
				}
				return s, nil
			}), P("input", PString))),
		fn("URL_ENCODE_PARAM", CatURL, "Encodes a value for use as a URL query parameter (application/x-www-form-urlencoded).",
			V(PString, strict(func(a []types.Value) (types.Value, error) { return formEncode(a[0].(string)), nil }), P("input", PString))),
		part("URL_EXTRACT_FRAGMENT", "Returns the decoded fragment of a URL; NULL when there is none or the URL is invalid.", func(u *url.URL) types.Value {
			return nonEmpty(u.Fragment, u.Fragment != "" || u.RawFragment != "")
		}),
		part("URL_EXTRACT_HOST", "Returns the host of a URL; NULL when the URL is invalid or has none.", func(u *url.URL) types.Value {
			h := u.Hostname()
			return nonEmpty(h, h != "")
		}),
		fn("URL_EXTRACT_PARAMETER", CatURL, "Returns the decoded value of a query parameter of a URL (empty when it has no value); NULL when absent or the URL is invalid.",
			V(PString, strict(func(a []types.Value) (types.Value, error) {
				u, ok := parseURI(a[0].(string))
				if !ok || u.RawQuery == "" && !u.ForceQuery {
					return nil, nil
				}
				// The percent-decoded query (URI.getQuery), split on & and
				// the first =; a key without = has the empty value.
				query, err := url.PathUnescape(u.RawQuery)
				if err != nil {
					return nil, nil
				}
				want := a[1].(string)
				for _, kv := range strings.Split(query, "&") {
					if k, v, _ := strings.Cut(kv, "="); k == want {
						return v, nil
					}
				}
				return nil, nil
			}), P("url", PString), P("parameter", PString))),
		part("URL_EXTRACT_PATH", "Returns the decoded path of a URL (empty when none); NULL when the URL is invalid.", func(u *url.URL) types.Value {
			if u.Opaque != "" {
				return nil
			}
			return u.Path
		}),
		fn("URL_EXTRACT_PORT", CatURL, "Returns the explicit port of a URL; NULL when none or the URL is invalid.",
			V(PInt, strict(func(a []types.Value) (types.Value, error) {
				u, ok := parseURI(a[0].(string))
				if !ok || u.Port() == "" {
					return nil, nil
				}
				p, err := strconv.ParseInt(u.Port(), 10, 32)
				if err != nil {
					return nil, nil
				}
				return int32(p), nil
			}), P("url", PString))),
		part("URL_EXTRACT_PROTOCOL", "Returns the scheme of a URL; NULL when none or the URL is invalid.", func(u *url.URL) types.Value {
			return nonEmpty(u.Scheme, u.Scheme != "")
		}),
		part("URL_EXTRACT_QUERY", "Returns the decoded query string of a URL; NULL when none or the URL is invalid.", func(u *url.URL) types.Value {
			if u.RawQuery == "" && !u.ForceQuery {
				return nil
			}
			q, err := url.PathUnescape(u.RawQuery)
			if err != nil {
				return nil
			}
			return q
		}),
	}
}

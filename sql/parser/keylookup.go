package parser

import (
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
)

// KeyLookup is the statement shape of the most frequent pull query, a key
// lookup: SELECT * FROM Table WHERE Column = 'Key'.
type KeyLookup struct {
	// Table and Column are the names as the parser reads them: upper-cased
	// unless quoted.
	Table, Column string
	// Key is the string literal, unquoted.
	Key string
}

// MatchKeyLookup recognizes a statement of the exact shape
//
//	SELECT * FROM <name> WHERE <name> = '<string>' [;]
//
// (keywords in any case, any white space between tokens) without
// tokenizing or building an AST, so that a server can answer the lookup
// from a prepared plan. It returns false for anything else: other SELECT
// lists, other predicates, LIMIT, EMIT, several statements, comments,
// variable references (any '$'), names that are reserved words. What it
// accepts, ParseScript parses to the same query (a test holds it to that).
func MatchKeyLookup(text string) (KeyLookup, bool) {
	if strings.IndexByte(text, '$') >= 0 {
		return KeyLookup{}, false // ${var} is substituted, even in strings
	}
	m := keyLookupMatcher{s: text}
	var out KeyLookup
	// Words need no space check: keyword refuses a word that goes on, and
	// name reads a word to its end, as the lexer does.
	ok := m.space() && m.keyword("SELECT") && m.space() && m.punct('*') && m.space() &&
		m.keyword("FROM") && m.space() && m.name(&out.Table) && m.space() &&
		m.keyword("WHERE") && m.space() && m.name(&out.Column) && m.space() &&
		m.punct('=') && m.space() && m.str(&out.Key) && m.space()
	if !ok {
		return KeyLookup{}, false
	}
	if m.i < len(m.s) && m.s[m.i] == ';' {
		m.i++
		if !m.space() {
			return KeyLookup{}, false
		}
	}
	if m.i != len(m.s) {
		return KeyLookup{}, false
	}
	return out, true
}

// keyLookupMatcher walks text for MatchKeyLookup; i is the offset reached.
type keyLookupMatcher struct {
	s string
	i int
}

// space skips white space; a comment fails the match.
func (m *keyLookupMatcher) space() bool {
	for m.i < len(m.s) {
		switch m.s[m.i] {
		case ' ', '\t', '\n', '\r', '\f':
			m.i++
			continue
		case '-':
			if m.i+1 < len(m.s) && m.s[m.i+1] == '-' {
				return false
			}
		case '/':
			if m.i+1 < len(m.s) && m.s[m.i+1] == '*' {
				return false
			}
		}
		return true
	}
	return true
}

// keyword reads the word kw in any case, not followed by an identifier
// character.
func (m *keyLookupMatcher) keyword(kw string) bool {
	end := m.i + len(kw)
	if end > len(m.s) || !strings.EqualFold(m.s[m.i:end], kw) || end < len(m.s) && isIdentChar(m.s[end]) {
		return false
	}
	m.i = end
	return true
}

func (m *keyLookupMatcher) punct(c byte) bool {
	if m.i < len(m.s) && m.s[m.i] == c {
		m.i++
		return true
	}
	return false
}

// name reads an identifier as the lexer and parser do: a word (letter or
// '_' then letters, digits, '_' or '@') upper-cased, not reserved; or a
// `quoted` or "quoted" identifier, not empty, as written.
func (m *keyLookupMatcher) name(out *string) bool {
	if m.i >= len(m.s) {
		return false
	}
	switch c := m.s[m.i]; {
	case isLetter(c):
		j := m.i
		for j < len(m.s) && isIdentChar(m.s[j]) {
			j++
		}
		w := strings.ToUpper(m.s[m.i:j])
		if ast.IsReserved(w) {
			return false
		}
		*out, m.i = w, j
		return true
	case c == '`' || c == '"':
		s, ok := m.quoted(c)
		if !ok || s == "" {
			return false
		}
		*out = s
		return true
	}
	return false
}

// str reads a 'string' literal.
func (m *keyLookupMatcher) str(out *string) bool {
	if m.i >= len(m.s) || m.s[m.i] != '\'' {
		return false
	}
	s, ok := m.quoted('\'')
	*out = s
	return ok
}

// quoted reads text quoted with q, where a doubled q stands for itself.
// Text without doubled quotes is a substring of the statement (no copy).
func (m *keyLookupMatcher) quoted(q byte) (string, bool) {
	start := m.i + 1
	end := strings.IndexByte(m.s[start:], q)
	if end < 0 {
		return "", false
	}
	end += start
	if end+1 >= len(m.s) || m.s[end+1] != q {
		m.i = end + 1
		return m.s[start:end], true
	}
	var b strings.Builder
	i := start
	for {
		if i >= len(m.s) {
			return "", false
		}
		if m.s[i] == q {
			if i+1 < len(m.s) && m.s[i+1] == q {
				b.WriteByte(q)
				i += 2
				continue
			}
			break
		}
		b.WriteByte(m.s[i])
		i++
	}
	m.i = i + 1
	return b.String(), true
}

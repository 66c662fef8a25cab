package parser

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
)

// tokKind is a token's lexical class.
type tokKind int

const (
	tEOF      tokKind = iota
	tWord             // unquoted identifier or keyword; Text is upper-cased
	tQuoted           // `x` or "x": a case-sensitive identifier
	tString           // 'x'
	tInt              // 123
	tDecimal          // 1.5, .5, 1.
	tFloat            // 1.5E3
	tVariable         // ${name}
	tPunct            // operators and punctuation
)

// token is one lexical token. Text is the value: upper-cased for words,
// unquoted for quoted identifiers and strings, the variable name for
// variables, the digits for numbers, the symbol for punctuation. Raw is the
// source text as written.
type token struct {
	kind tokKind
	text string
	raw  string
	pos  ast.Pos
	off  int // byte offset of the token's start
}

// describe is how an error message shows the token.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return ast.QuoteString(t.text)
	}
	return "'" + t.raw + "'"
}

// Error is a syntax error at a position.
type Error struct {
	Pos ast.Pos
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg) }

type lexer struct {
	src       string
	off       int
	line, col int
	toks      []token
}

// lex splits src into tokens, dropping white space and comments. The last
// token is tEOF.
func lex(src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1, toks: make([]token, 0, len(src)/4+8)}
	for {
		if err := l.skip(); err != nil {
			return nil, err
		}
		if l.off >= len(src) {
			l.toks = append(l.toks, token{kind: tEOF, pos: l.pos(), off: l.off})
			return l.toks, nil
		}
		if err := l.token(); err != nil {
			return nil, err
		}
	}
}

func (l *lexer) pos() ast.Pos { return ast.Pos{Line: l.line, Col: l.col} }

func (l *lexer) errorf(p ast.Pos, format string, args ...any) error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// advance moves n bytes forward, counting lines.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

func (l *lexer) peek(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// skip skips white space, -- comments and /* */ comments.
func (l *lexer) skip() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.advance(1)
		case c == '-' && l.peek(1) == '-':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		case c == '/' && l.peek(1) == '*':
			start := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return l.errorf(start, "unterminated /* comment")
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

// isLetter is ksqlDB's identifier start: ASCII letters and '_' (other
// characters need quoting).
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '@' }

// Punctuation; two-character symbols win over their first character.
var twoCharPuncts = map[string]bool{"<>": true, "!=": true, "<=": true, ">=": true, "||": true, "->": true, "=>": true, ":=": true}

const oneCharPuncts = "=<>+-*/%()[],.;"

func (l *lexer) emit(kind tokKind, text string, start int, p ast.Pos) {
	l.toks = append(l.toks, token{kind: kind, text: text, raw: l.src[start:l.off], pos: p, off: start})
}

func (l *lexer) token() error {
	p, start := l.pos(), l.off
	c := l.src[l.off]
	switch {
	case isLetter(c):
		i := l.off
		for i < len(l.src) && isIdentChar(l.src[i]) {
			i++
		}
		l.advance(i - l.off)
		l.emit(tWord, strings.ToUpper(l.src[start:l.off]), start, p)
	case c == '`' || c == '"' || c == '\'':
		s, ok := l.quoted(c)
		if !ok {
			what := map[byte]string{'`': "quoted identifier", '"': "quoted identifier", '\'': "string"}[c]
			return l.errorf(p, "unterminated %s", what)
		}
		kind := tQuoted
		if c == '\'' {
			kind = tString
		} else if s == "" {
			return l.errorf(p, "empty quoted identifier")
		}
		l.emit(kind, s, start, p)
	case isDigit(c) || c == '.' && isDigit(l.peek(1)):
		return l.number(p, start)
	case c == '$' && l.peek(1) == '{':
		end := strings.IndexByte(l.src[l.off:], '}')
		if end < 0 {
			return l.errorf(p, "unterminated variable reference ${")
		}
		l.advance(end + 1)
		l.emit(tVariable, l.src[start+2:l.off-1], start, p)
	default:
		if two := l.src[l.off:min(l.off+2, len(l.src))]; len(two) == 2 && twoCharPuncts[two] {
			l.advance(2)
			l.emit(tPunct, two, start, p)
			return nil
		}
		if strings.IndexByte(oneCharPuncts, c) < 0 {
			return l.errorf(p, "unexpected character %q", rune(c))
		}
		l.advance(1)
		l.emit(tPunct, l.src[start:l.off], start, p)
	}
	return nil
}

// quoted reads a string quoted with q, where a doubled q stands for itself.
func (l *lexer) quoted(q byte) (string, bool) {
	var b strings.Builder
	i := l.off + 1
	for {
		if i >= len(l.src) {
			return "", false
		}
		if l.src[i] == q {
			if i+1 < len(l.src) && l.src[i+1] == q {
				b.WriteByte(q)
				i += 2
				continue
			}
			break
		}
		b.WriteByte(l.src[i])
		i++
	}
	l.advance(i + 1 - l.off)
	return b.String(), true
}

// number reads 12, 1.5, .5, 1., 1E3, 1.5e-3, or an identifier starting
// with a digit (1abc), whichever is longer, as ksqlDB's lexer does.
func (l *lexer) number(p ast.Pos, start int) error {
	i := l.off
	if isDigit(l.src[i]) {
		j := i
		for j < len(l.src) && isDigit(l.src[j]) {
			j++
		}
		k := j
		for k < len(l.src) && isIdentChar(l.src[k]) {
			k++
		}
		if k > j && k-start > floatLen(l.src[start:]) {
			l.advance(k - l.off)
			l.emit(tWord, strings.ToUpper(l.src[start:k]), start, p)
			return nil
		}
	}
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	kind := tInt
	if i < len(l.src) && l.src[i] == '.' {
		kind = tDecimal
		i++
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
	}
	if i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && isDigit(l.src[j]) {
			for j < len(l.src) && isDigit(l.src[j]) {
				j++
			}
			kind, i = tFloat, j
		}
	}
	l.advance(i - l.off)
	l.emit(kind, l.src[start:l.off], start, p)
	return nil
}

// floatLen is the length of a digits-exponent number (1E5, 2e-3) at the
// start of s, or 0.
func floatLen(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != 'e' && s[i] != 'E' {
		return 0
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i {
		return 0
	}
	return j
}

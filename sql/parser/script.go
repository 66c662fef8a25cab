package parser

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
)

// Substitute replaces variable references ${name} in text with the values of
// vars, as ksqlDB does before parsing. Names are case-insensitive (vars is
// looked up with the name lower-cased; see Variables). Inside a string
// literal the value's quotes are doubled so the literal holds exactly the
// value; elsewhere the value is inserted as is (DEFINE x = ”'t”' makes
// ${x} the literal 't'). $${name} is an escaped reference and becomes
// ${name}. Comments are left alone. A reference to an undefined variable is
// an error naming it.
func Substitute(text string, vars map[string]string) (string, error) {
	var b strings.Builder
	line, col := 1, 1
	quote := byte(0) // the quote we are inside of: ', ` or "
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case quote == 0 && c == '-' && strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			b.WriteString(text[i : i+end])
			i += end
			continue
		case quote == 0 && strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				end = len(text) - i - 2
			} else {
				end += 2
			}
			seg := text[i : i+2+end]
			b.WriteString(seg)
			line += strings.Count(seg, "\n")
			i += len(seg)
			continue
		case c == '\'' || c == '`' || c == '"':
			// A doubled quote toggles twice.
			if quote == 0 {
				quote = c
			} else if quote == c {
				quote = 0
			}
		case c == '$' && strings.HasPrefix(text[i:], "$${"):
			b.WriteString("${")
			i += 3
			col += 3
			continue
		case c == '$' && strings.HasPrefix(text[i:], "${"):
			end := strings.IndexByte(text[i:], '}')
			if end < 0 {
				return "", &Error{Pos: ast.Pos{Line: line, Col: col}, Msg: "unterminated variable reference ${"}
			}
			name := text[i+2 : i+end]
			v, ok := vars[strings.ToLower(name)]
			if !ok {
				return "", &Error{Pos: ast.Pos{Line: line, Col: col}, Msg: fmt.Sprintf("variable ${%s} is not defined (DEFINE %s = '...' first)", name, name)}
			}
			if quote == '\'' {
				v = strings.ReplaceAll(v, "'", "''")
			}
			b.WriteString(v)
			i += end + 1
			col += end + 1
			continue
		}
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), nil
}

// Variables holds defined variables by lower-cased name, the form Substitute
// looks them up in.
type Variables map[string]string

// Define sets a variable; names are case-insensitive.
func (v Variables) Define(name, value string) { v[strings.ToLower(name)] = value }

// Undefine removes a variable.
func (v Variables) Undefine(name string) { delete(v, strings.ToLower(name)) }

// Split returns the statements of text, each without its semicolon, trimmed,
// with the position of its first character. Semicolons inside strings,
// quoted identifiers and comments do not split.
func Split(text string) ([]Chunk, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	var out []Chunk
	start := -1
	for i, t := range toks {
		if t.kind == tEOF || t.isPunct(";") {
			if start >= 0 {
				out = append(out, Chunk{Pos: toks[start].pos, Text: strings.TrimSpace(text[toks[start].off:t.off])})
			}
			start = -1
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out, nil
}

// Chunk is one statement's text within a larger text.
type Chunk struct {
	Pos  ast.Pos
	Text string
}

// ParseScript parses statements one at a time, as ksqlDB runs a script or a
// REST request: DEFINE and UNDEFINE update vars (which may be nil) as they
// are met, and each other statement has its variables substituted before it
// is parsed. Positions refer to the original text. Text in the result is the
// substituted statement.
func ParseScript(text string, vars Variables) ([]Parsed, error) {
	if vars == nil {
		vars = Variables{}
	}
	chunks, err := Split(text)
	if err != nil {
		return nil, err
	}
	var out []Parsed
	for _, c := range chunks {
		// Pad so that positions in the chunk are positions in text.
		pad := strings.Repeat("\n", c.Pos.Line-1) + strings.Repeat(" ", c.Pos.Col-1)
		src := pad + c.Text
		first := strings.ToUpper(strings.Fields(c.Text)[0])
		if first != "DEFINE" && first != "UNDEFINE" {
			if src, err = Substitute(src, vars); err != nil {
				return nil, err
			}
		}
		s, err := ParseStatement(src)
		if err != nil {
			return nil, err
		}
		switch s := s.(type) {
		case *ast.DefineVariable:
			vars.Define(s.Name, s.Value)
		case *ast.UndefineVariable:
			vars.Undefine(s.Name)
		}
		out = append(out, Parsed{Statement: s, Text: strings.TrimSpace(src)})
	}
	return out, nil
}

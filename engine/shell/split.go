package shell

import "strings"

// splitter collects input lines into complete statements: text up to a ';'
// that is outside quotes ('...', "...", `...`) and comments (-- and /* */).
// It keeps state across lines so a statement may span several.
type splitter struct {
	buf          strings.Builder
	quote        byte // the open quote character, or 0
	blockComment bool
}

// add feeds one line and returns the statements it completed, each with its
// terminating ';'.
func (s *splitter) add(line string) []string {
	var out []string
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case s.blockComment:
			s.buf.WriteByte(c)
			if c == '*' && i+1 < len(line) && line[i+1] == '/' {
				s.buf.WriteByte('/')
				i++
				s.blockComment = false
			}
		case s.quote != 0:
			s.buf.WriteByte(c)
			if c == s.quote {
				// A doubled quote is an escaped quote inside the literal.
				if i+1 < len(line) && line[i+1] == s.quote {
					s.buf.WriteByte(c)
					i++
				} else {
					s.quote = 0
				}
			}
		case c == '\'' || c == '"' || c == '`':
			s.quote = c
			s.buf.WriteByte(c)
		case c == '-' && i+1 < len(line) && line[i+1] == '-':
			i = len(line) // the rest of the line is a comment
		case c == '/' && i+1 < len(line) && line[i+1] == '*':
			s.blockComment = true
			s.buf.WriteString("/*")
			i++
		case c == ';':
			s.buf.WriteByte(';')
			if stmt := strings.TrimSpace(s.buf.String()); stmt != ";" {
				out = append(out, stmt)
			}
			s.buf.Reset()
		default:
			s.buf.WriteByte(c)
		}
	}
	if s.buf.Len() > 0 {
		s.buf.WriteByte('\n')
	}
	return out
}

// pending reports whether an unfinished statement is buffered.
func (s *splitter) pending() bool { return strings.TrimSpace(s.buf.String()) != "" }

// rest returns the unfinished text and clears it.
func (s *splitter) rest() string {
	r := strings.TrimSpace(s.buf.String())
	s.buf.Reset()
	s.quote, s.blockComment = 0, false
	return r
}

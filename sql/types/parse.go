package types

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// keywords are the type names Parse knows; a field with one of these names
// prints back-quoted.
var keywords = map[string]Kind{
	"BOOLEAN": Boolean, "INT": Int, "INTEGER": Int, "BIGINT": Bigint, "DOUBLE": Double,
	"DECIMAL": Decimal, "STRING": String, "VARCHAR": String, "BYTES": Bytes, "DATE": Date,
	"TIME": Time, "TIMESTAMP": Timestamp, "ARRAY": Array, "MAP": Map, "STRUCT": Struct,
}

// Parse reads a type in ksqlDB syntax: type names are case-insensitive
// (INTEGER and VARCHAR are accepted as INT and STRING), unquoted STRUCT field
// names are upper-cased and back-quoted ones kept as written, MAP keys must be
// STRING.
func Parse(s string) (Type, error) {
	p := &parser{src: s}
	p.next()
	t, err := p.typ()
	if err != nil {
		return Type{}, err
	}
	if p.tok != "" {
		return Type{}, p.errorf("unexpected %q after type", p.tok)
	}
	return t, nil
}

// MustParse is Parse for tests and static tables; it panics on error.
func MustParse(s string) Type {
	t, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

type parser struct {
	src    string
	pos    int    // offset after tok
	tok    string // current token, "" at end
	quoted bool   // tok was back-quoted (its text is unquoted)
	start  int
	err    error
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("type %q at offset %d: %s", p.src, p.start, fmt.Sprintf(format, args...))
}

func (p *parser) next() {
	for p.pos < len(p.src) && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
	p.start, p.quoted, p.tok = p.pos, false, ""
	if p.pos >= len(p.src) {
		return
	}
	c := p.src[p.pos]
	switch {
	case c == '`':
		var b strings.Builder
		i := p.pos + 1
		for {
			if i >= len(p.src) {
				p.err = p.errorf("unterminated quoted identifier")
				p.pos = len(p.src)
				return
			}
			if p.src[i] == '`' {
				if i+1 < len(p.src) && p.src[i+1] == '`' {
					b.WriteByte('`')
					i += 2
					continue
				}
				break
			}
			b.WriteByte(p.src[i])
			i++
		}
		p.tok, p.quoted, p.pos = b.String(), true, i+1
	case c == '_' || unicode.IsLetter(rune(c)) || c >= '0' && c <= '9':
		i := p.pos
		for i < len(p.src) && (p.src[i] == '_' || unicode.IsLetter(rune(p.src[i])) || p.src[i] >= '0' && p.src[i] <= '9') {
			i++
		}
		p.tok, p.pos = p.src[p.pos:i], i
	default:
		p.tok, p.pos = string(c), p.pos+1
	}
}

func (p *parser) expect(tok string) error {
	if p.err != nil {
		return p.err
	}
	if p.quoted || p.tok != tok {
		if p.tok == "" {
			return p.errorf("expected %q, found end of input", tok)
		}
		return p.errorf("expected %q, found %q", tok, p.tok)
	}
	p.next()
	return nil
}

func (p *parser) int() (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := strconv.Atoi(p.tok)
	if err != nil || p.quoted {
		return 0, p.errorf("expected a number, found %q", p.tok)
	}
	p.next()
	return n, nil
}

func (p *parser) typ() (Type, error) {
	if p.err != nil {
		return Type{}, p.err
	}
	if p.tok == "" {
		return Type{}, p.errorf("expected a type, found end of input")
	}
	k, ok := keywords[strings.ToUpper(p.tok)]
	if !ok || p.quoted {
		return Type{}, p.errorf("unknown type %q", p.tok)
	}
	p.next()
	switch k {
	case Decimal:
		if err := p.expect("("); err != nil {
			return Type{}, err
		}
		prec, err := p.int()
		if err != nil {
			return Type{}, err
		}
		if err := p.expect(","); err != nil {
			return Type{}, err
		}
		scale, err := p.int()
		if err != nil {
			return Type{}, err
		}
		if err := p.expect(")"); err != nil {
			return Type{}, err
		}
		t := DecimalOf(prec, scale)
		return t, t.Validate()
	case Array:
		if err := p.expect("<"); err != nil {
			return Type{}, err
		}
		e, err := p.typ()
		if err != nil {
			return Type{}, err
		}
		return ArrayOf(e), p.expect(">")
	case Map:
		if err := p.expect("<"); err != nil {
			return Type{}, err
		}
		kt, err := p.typ()
		if err != nil {
			return Type{}, err
		}
		if kt.Kind != String {
			return Type{}, fmt.Errorf("type %q: MAP keys must be STRING, not %s", p.src, kt)
		}
		if err := p.expect(","); err != nil {
			return Type{}, err
		}
		v, err := p.typ()
		if err != nil {
			return Type{}, err
		}
		return MapOf(v), p.expect(">")
	case Struct:
		if err := p.expect("<"); err != nil {
			return Type{}, err
		}
		t := Type{Kind: Struct}
		for p.tok != ">" || p.quoted {
			if len(t.Fields) > 0 {
				if err := p.expect(","); err != nil {
					return Type{}, err
				}
			}
			if p.err != nil {
				return Type{}, p.err
			}
			if p.tok == "" {
				return Type{}, p.errorf("expected a field name, found end of input")
			}
			name := p.tok
			if !p.quoted {
				name = strings.ToUpper(name)
			}
			if _, i := t.exactField(name); i >= 0 {
				return Type{}, p.errorf("duplicate field %q", name)
			}
			p.next()
			ft, err := p.typ()
			if err != nil {
				return Type{}, err
			}
			t.Fields = append(t.Fields, F(name, ft))
		}
		return t, p.expect(">")
	}
	return Type{Kind: k}, nil
}

func (t Type) exactField(name string) (Field, int) {
	for i, f := range t.Fields {
		if f.Name == name {
			return f, i
		}
	}
	return Field{}, -1
}

// Validate checks DECIMAL bounds (1 <= precision <= 1000, 0 <= scale <=
// precision), that collections have an element type and that STRUCT field
// names are unique and non-empty, recursively.
func (t Type) Validate() error {
	switch t.Kind {
	case Decimal:
		if t.Precision < 1 || t.Precision > MaxDecimalPrecision {
			return fmt.Errorf("DECIMAL precision must be between 1 and %d: %d", MaxDecimalPrecision, t.Precision)
		}
		if t.Scale < 0 || t.Scale > t.Precision {
			return fmt.Errorf("DECIMAL scale must be between 0 and the precision (%d): %d", t.Precision, t.Scale)
		}
	case Array, Map:
		if t.Elem == nil {
			return fmt.Errorf("%s without an element type", t.Kind)
		}
		return t.Elem.Validate()
	case Struct:
		for i, f := range t.Fields {
			if f.Name == "" {
				return fmt.Errorf("STRUCT field %d has no name", i)
			}
			if _, j := t.exactField(f.Name); j != i {
				return fmt.Errorf("duplicate STRUCT field %q", f.Name)
			}
			if err := f.Type.Validate(); err != nil {
				return fmt.Errorf("field %s: %w", QuoteIdent(f.Name), err)
			}
		}
	default:
		if !t.Kind.Primitive() {
			return fmt.Errorf("invalid type kind %d", int(t.Kind))
		}
	}
	return nil
}

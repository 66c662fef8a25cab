package converters

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A JSON parser into Go values, faster than encoding/json's decoding into
// interface values (no reflection, one pass) and with the number handling
// the converters need: json.Number when a schema will decide the type, or
// Connect's schemaless rule (int64 for integers that fit, float64 for the
// rest) directly.

type jsonParser struct {
	b          []byte
	i          int
	schemaless bool // numbers as int64/float64 instead of json.Number
	depth      int
	// schemaSpan is where the value of the top-level key "schema" lies, so
	// the JSON converter can cache parsed schemas by their text.
	schemaSpan [2]int
	// pairs is a stack of the members of the objects being parsed, so each
	// map is made once at its final size instead of growing.
	pairs []jsonPair
	// keys, when set, interns object keys.
	keys *Keys
	// skip checks the text without building values: every value is
	// returned as nil, but the same text fails with the same error.
	skip bool
}

// Keys interns the object keys a parser reads, so that records of one
// topic, which repeat the same keys, share their key strings instead of
// allocating each one again (a fifth of a JSON record's allocations). It
// is a small hash-indexed table; a slot holds the last key that hashed to
// it. Safe for concurrent use; the zero value is ready.
type Keys struct {
	slots [256]atomic.Pointer[string]
}

// intern returns b as a string, from the table when it holds it.
func (k *Keys) intern(b []byte) string {
	slot := &k.slots[keyHash(b)>>(64-8)] // 256 slots: the top 8 bits
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// keyHash hashes a key from its length and its first and last 8 bytes
// (all of a shorter key's): a key table needs few collisions, not strength,
// and hashing every byte of each key was a tenth of parsing a record.
func keyHash(b []byte) uint64 {
	const mul = 0x9e3779b97f4a7c15
	n := len(b)
	h := uint64(n+1) * mul
	if n >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * mul
		return (h ^ binary.LittleEndian.Uint64(b[n-8:])) * mul
	}
	var w uint64
	for i, c := range b {
		w |= uint64(c) << (8 * i)
	}
	return (h ^ w) * mul
}

type jsonPair struct {
	k string
	v any
}

const maxJSONDepth = 10000

// ParseSchemaless parses exactly one JSON value from b as a schemaless
// Connect value, as JsonConverter does with schemas.enable=false: objects
// are map[string]any, arrays []any, integers that fit int64 (other numbers
// float64).
func ParseSchemaless(b []byte) (any, error) { return parseJSON(b, true) }

// ParseSchemalessKeys is ParseSchemaless with object keys interned in keys.
func ParseSchemalessKeys(b []byte, keys *Keys) (any, error) {
	v, _, err := parseJSONWith(b, true, keys)
	return v, err
}

// parseJSON parses exactly one JSON value from b.
func parseJSON(b []byte, schemaless bool) (any, error) {
	v, _, err := parseJSONSpan(b, schemaless)
	return v, err
}

// parseJSONSpan also returns the text of the top-level "schema" value.
func parseJSONSpan(b []byte, schemaless bool) (any, []byte, error) {
	return parseJSONWith(b, schemaless, nil)
}

// checkJSON reports whether parseJSONWith(b, schemaless, ...) would succeed.
// It runs the same parser without building values (no maps, strings or
// boxed numbers), so it accepts exactly what the parser accepts.
func checkJSON(b []byte, schemaless bool) bool {
	p := &jsonParser{b: b, schemaless: schemaless, skip: true}
	_, err := p.all()
	return err == nil
}

// pairStacks holds the parsers' member stacks. (A stack array in
// parseJSONWith's frame escaped to the heap: a kilobyte cleared and
// collected per document.)
var pairStacks = sync.Pool{New: func() any { s := make([]jsonPair, 0, 32); return &s }}

func parseJSONWith(b []byte, schemaless bool, keys *Keys) (any, []byte, error) {
	stack := pairStacks.Get().(*[]jsonPair)
	p := &jsonParser{b: b, schemaless: schemaless, pairs: (*stack)[:0], keys: keys}
	v, err := p.all()
	// object clears the members it pops, so the stack holds no values.
	if cap(p.pairs) <= 1024 { // a huge object's stack is left to the collector
		*stack = p.pairs[:0]
		pairStacks.Put(stack)
	}
	if err != nil {
		return nil, nil, err
	}
	return v, b[p.schemaSpan[0]:p.schemaSpan[1]], nil
}

// all parses exactly one JSON value, with optional white space around it.
func (p *jsonParser) all() (any, error) {
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, p.errorf("unexpected data after the JSON value")
	}
	return v, nil
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.b) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *jsonParser) literal(word string) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return p.errorf("invalid literal")
	}
	p.i += len(word)
	return nil
}

func (p *jsonParser) object() (any, error) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.i++ // {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		if p.skip {
			return nil, nil
		}
		return map[string]any{}, nil
	}
	base := len(p.pairs)
	defer func() { clear(p.pairs[base:]); p.pairs = p.pairs[:base] }()
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.errorf("expected a string key")
		}
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.errorf("expected ':' after object key")
		}
		p.i++
		p.space()
		start := p.i
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if p.depth == 1 && k == "schema" {
			p.schemaSpan = [2]int{start, p.i}
		}
		if !p.skip {
			p.pairs = append(p.pairs, jsonPair{k, v})
		}
		p.space()
		if p.i >= len(p.b) {
			return nil, p.errorf("unexpected end of input in object")
		}
		if p.b[p.i] == ',' {
			p.i++
			continue
		}
		if p.b[p.i] == '}' {
			p.i++
			p.depth--
			if p.skip {
				return nil, nil
			}
			m := make(map[string]any, len(p.pairs)-base)
			for _, kv := range p.pairs[base:] {
				m[kv.k] = kv.v // a repeated key keeps its last value, as before
			}
			return m, nil
		}
		return nil, p.errorf("expected ',' or '}' in object")
	}
}

func (p *jsonParser) array() (any, error) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.i++ // [
	out := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		if p.skip {
			return nil, nil
		}
		return out, nil
	}
	for {
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if !p.skip {
			out = append(out, v)
		}
		p.space()
		if p.i >= len(p.b) {
			return nil, p.errorf("unexpected end of input in array")
		}
		if p.b[p.i] == ',' {
			p.i++
			continue
		}
		if p.b[p.i] == ']' {
			p.i++
			p.depth--
			if p.skip {
				return nil, nil
			}
			return out, nil
		}
		return nil, p.errorf("expected ',' or ']' in array")
	}
}

// key reads an object key: interned when the parser has a Keys table and
// the key is plain (valid UTF-8 without escapes), else as str does.
func (p *jsonParser) key() (string, error) {
	if p.keys == nil {
		return p.str()
	}
	start := p.i + 1
	ascii := true
	for j := skipPlainASCII(p.b, start); j < len(p.b); j++ {
		c := p.b[j]
		if c == '"' {
			k := p.b[start:j]
			if !ascii && !utf8.Valid(k) {
				break
			}
			p.i = j + 1
			return p.keys.intern(k), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	return p.str()
}

func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	ascii := true
	p.i = skipPlainASCII(p.b, p.i)
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			if p.skip {
				return "", nil // invalid UTF-8 is replaced, never an error
			}
			if !ascii && !utf8.Valid(s) {
				return string([]rune(string(s))), nil // invalid bytes become U+FFFD, as encoding/json does
			}
			return string(s), nil
		}
		if c == '\\' {
			return p.escapedStr(start)
		}
		if c < 0x20 {
			return "", p.errorf("control character in string")
		}
		ascii = ascii && c < utf8.RuneSelf
		p.i++
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) escapedStr(start int) (string, error) {
	buf := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(buf) {
				return string([]rune(string(buf))), nil
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return "", p.errorf("unterminated escape")
		}
		p.i += 2
		switch e := p.b[p.i-1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					var ok2 bool
					if r2, ok2 = p.hex4(); !ok2 {
						return "", p.errorf("invalid \\u escape")
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
					} else {
						p.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errorf("invalid escape \\%c", e)
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	intStart := p.i
	if digits() == 0 {
		return nil, p.errorf("invalid number")
	}
	if p.b[intStart] == '0' && p.i-intStart > 1 {
		return nil, p.errorf("invalid number (leading zero)")
	}
	integral := true
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		integral = false
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		integral = false
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	if p.skip {
		if !p.schemaless || integral && p.i-intStart <= 18 {
			return nil, nil // these forms always convert
		}
		// Below, only the float parse can fail (out of range). It reads the
		// text without keeping it, so no copy of the text is made.
		if _, err := strconv.ParseFloat(unsafe.String(&p.b[start], p.i-start), 64); err != nil {
			return nil, p.errorf("number out of range")
		}
		return nil, nil
	}
	if p.schemaless && integral && p.i-intStart <= 18 {
		// Up to 18 digits always fit an int64: no string, no strconv.
		var n int64
		for _, d := range p.b[intStart:p.i] {
			n = n*10 + int64(d-'0')
		}
		if p.b[start] == '-' {
			n = -n
		}
		return n, nil
	}
	if !p.schemaless {
		return json.Number(string(p.b[start:p.i])), nil
	}
	// strconv keeps no reference to its input (its errors hold a copy), so
	// the text is read in place.
	text := unsafe.String(&p.b[start], p.i-start)
	if integral {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s: %w", text, err)
	}
	return f, nil
}

package converters

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// Canonical JSON text: a schemaless value written exactly as
// FromConnect(ParseSchemaless(text)) would write it with schemas.enable=false
// (keys sorted, no whitespace, numbers and strings as the converter prints
// them), produced in one pass over the text without building Go values.
// Sources that read JSON (file source, format=json) hand it over as
// connect.Record.ValueJSON, and a JSON converter writes it as it is: parsing
// each line into a map and printing the map back was half of a JSON file
// pipeline's CPU.
//
// Scalars go through the parser's own number and string readers and the
// printer's own writers, so they come out byte for byte as before; only
// objects are handled here, by sorting their members. Anything unusual (an
// escaped or repeated key, deep nesting, invalid JSON) makes Canonical give
// up, and the caller parses the text the old way, which also reports the
// error.

// Canonicalizer turns JSON objects into canonical text. It keeps scratch
// space and the member order of the last object between calls; it is not
// safe for concurrent use.
type Canonicalizer struct {
	p jsonParser
	// values[d] holds the canonical member values of the object being
	// written at depth d, until they are written out in key order.
	values  [][]byte
	members []member // members of the objects being written, a stack
	// scratchOrder is the key order of a nested object, used before the
	// next nested object is read.
	scratchOrder []int
	// lastKeys and lastOrder remember the top-level keys of the last object
	// in the order read and the order to write them: lines written by one
	// program repeat their key order.
	lastKeys  [][]byte
	lastOrder []int
}

// member is one object member: its key and the span of its canonical
// value in the values buffer of its depth or, when in is set, in the
// input (a scalar whose canonical text is its own token).
type member struct {
	// The key is b[keyStart:keyEnd] of the input: offsets, not a slice,
	// so that the members stack holds no pointers (no write barriers).
	keyStart, keyEnd int
	start, end       int
	in               bool
}

func (c *Canonicalizer) key(m *member) []byte { return c.p.b[m.keyStart:m.keyEnd] }

// maxCanonicalDepth bounds nesting; deeper documents take the parser's path.
const maxCanonicalDepth = 64

// Object returns the canonical text of the JSON object in b, appended to
// out, or false when b is not an object Canonical handles (the caller then
// parses b with ParseSchemaless, which reports any error).
func (c *Canonicalizer) Object(b, out []byte) ([]byte, bool) {
	c.p = jsonParser{b: b, schemaless: true}
	c.p.space()
	if c.p.i >= len(b) || b[c.p.i] != '{' {
		return out, false
	}
	c.members = c.members[:0]
	out = slices.Grow(out, len(b)+16) // the canonical text is rarely longer
	out, ok := c.object(out, true)
	if !ok {
		return out, false
	}
	c.p.space()
	return out, c.p.i == len(b)
}

// value writes the canonical text of the value at the parser's position.
func (c *Canonicalizer) value(out []byte) ([]byte, bool) {
	p := &c.p
	if p.i >= len(p.b) {
		return out, false
	}
	switch ch := p.b[p.i]; {
	case ch == '{':
		return c.object(out, false)
	case ch == '[':
		return c.array(out)
	case ch == '"':
		return c.str(out)
	case ch == 't', ch == 'f', ch == 'n':
		word := "null"
		if ch == 't' {
			word = "true"
		} else if ch == 'f' {
			word = "false"
		}
		if p.literal(word) != nil {
			return out, false
		}
		return append(out, word...), true
	case ch == '-' || ch >= '0' && ch <= '9':
		if text, end, ok := plainNumber(p.b, p.i); ok {
			p.i = end
			return append(out, text...), true
		}
		n, err := p.number()
		if err != nil {
			return out, false
		}
		out, err = appendSchemaless(out, n, jsonPath{}, nil)
		return out, err == nil
	}
	return out, false
}

// str writes a string: verbatim when it needs no decoding, else decoded by
// the parser and quoted by the printer.
func (c *Canonicalizer) str(out []byte) ([]byte, bool) {
	p := &c.p
	start := p.i + 1
	ascii := true
	for j := skipPlainASCII(p.b, start); j < len(p.b); j++ {
		ch := p.b[j]
		if ch == '"' {
			if !ascii && !utf8.Valid(p.b[start:j]) {
				break
			}
			p.i = j + 1
			return append(out, p.b[start-1:j+1]...), true
		}
		if ch == '\\' || ch < 0x20 {
			break
		}
		ascii = ascii && ch < utf8.RuneSelf
	}
	s, err := p.str()
	if err != nil {
		return out, false
	}
	return appendJSONString(out, s), true
}

func (c *Canonicalizer) array(out []byte) ([]byte, bool) {
	p := &c.p
	if p.depth++; p.depth > maxCanonicalDepth {
		return out, false
	}
	p.i++ // [
	out = append(out, '[')
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return append(out, ']'), true
	}
	for first := true; ; first = false {
		if !first {
			out = append(out, ',')
		}
		p.space()
		var ok bool
		if out, ok = c.value(out); !ok {
			return out, false
		}
		p.space()
		if p.i >= len(p.b) {
			return out, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return append(out, ']'), true
		default:
			return out, false
		}
	}
}

// object reads the members, writing their values to scratch, then writes
// them to out in key order.
func (c *Canonicalizer) object(out []byte, top bool) ([]byte, bool) {
	p := &c.p
	if p.depth++; p.depth > maxCanonicalDepth {
		return out, false
	}
	p.i++ // {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return append(out, "{}"...), true
	}
	for len(c.values) <= p.depth {
		c.values = append(c.values, nil)
	}
	d, base := p.depth, len(c.members)
	out, vals, ok := c.objectMembers(out, top, c.values[d][:0], base)
	c.values[d] = vals[:0] // keep the space
	c.members = c.members[:base]
	return out, ok
}

// objectMembers reads an object's members, from the first key on,
// writing their values to vals, then writes them to out in key order.
func (c *Canonicalizer) objectMembers(out []byte, top bool, vals []byte, base int) ([]byte, []byte, bool) {
	p := &c.p
	for {
		p.space()
		keyStart, keyEnd, ok := c.plainKey()
		if !ok {
			return out, vals, false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return out, vals, false
		}
		p.i++
		p.space()
		if end := c.verbatim(); end > 0 {
			c.members = append(c.members, member{keyStart: keyStart, keyEnd: keyEnd, start: p.i, end: end, in: true})
			p.i = end
		} else {
			start := len(vals)
			if vals, ok = c.value(vals); !ok {
				return out, vals, false
			}
			c.members = append(c.members, member{keyStart: keyStart, keyEnd: keyEnd, start: start, end: len(vals)})
		}
		p.space()
		if p.i >= len(p.b) {
			return out, vals, false
		}
		if p.b[p.i] == ',' {
			p.i++
			continue
		}
		if p.b[p.i] != '}' {
			return out, vals, false
		}
		p.i++
		p.depth--
		break
	}
	ms := c.members[base:]
	order := c.order(ms, top)
	for i := 1; i < len(order); i++ {
		if bytes.Equal(c.key(&ms[order[i-1]]), c.key(&ms[order[i]])) {
			return out, vals, false // a repeated key: the parser keeps the last, leave it to it
		}
	}
	out = append(out, '{')
	for i, j := range order {
		if i > 0 {
			out = append(out, ',')
		}
		m := &ms[j]
		out = append(out, '"')
		out = append(out, p.b[m.keyStart:m.keyEnd]...)
		out = append(out, '"', ':')
		if m.in {
			out = append(out, p.b[m.start:m.end]...)
		} else {
			out = append(out, vals[m.start:m.end]...)
		}
	}
	return append(out, '}'), vals, true
}

// order returns the indexes of ms in key order. For the top-level object
// it reuses the last object's order when its keys came in the same order;
// nested objects are sorted each time.
func (c *Canonicalizer) order(ms []member, top bool) []int {
	if top {
		same := len(ms) == len(c.lastKeys)
		for i := 0; same && i < len(ms); i++ {
			same = bytes.Equal(c.key(&ms[i]), c.lastKeys[i])
		}
		if same {
			return c.lastOrder
		}
	}
	idx := c.scratchOrder[:0]
	for i := range ms {
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return bytes.Compare(c.key(&ms[a]), c.key(&ms[b])) })
	if !top {
		c.scratchOrder = idx
		return idx
	}
	c.lastKeys = c.lastKeys[:0]
	for i := range ms {
		c.lastKeys = append(c.lastKeys, append([]byte(nil), c.key(&ms[i])...))
	}
	c.lastOrder = append(c.lastOrder[:0], idx...)
	return c.lastOrder
}

// verbatim returns the end of the value at the parser's position when its
// canonical text is the token itself (a string of plain ASCII, a literal,
// a number plainNumber keeps as it is), else 0: value would copy such a
// value to the scratch buffer unchanged.
func (c *Canonicalizer) verbatim() int {
	b, i := c.p.b, c.p.i
	if i >= len(b) {
		return 0
	}
	switch ch := b[i]; {
	case ch == '"':
		if j := skipPlainASCII(b, i+1); j < len(b) && b[j] == '"' {
			return j + 1
		}
	case ch == 't':
		if len(b)-i >= 4 && string(b[i:i+4]) == "true" {
			return i + 4
		}
	case ch == 'f':
		if len(b)-i >= 5 && string(b[i:i+5]) == "false" {
			return i + 5
		}
	case ch == 'n':
		if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
			return i + 4
		}
	case ch == '-' || ch >= '0' && ch <= '9':
		if text, end, ok := plainNumber(b, i); ok && len(text) == end-i {
			return end
		}
	}
	return 0
}

// plainKey reads a key that needs no decoding (no escapes, valid UTF-8),
// so its bytes compare as the parsed string would, and returns where its
// bytes lie in the input.
func (c *Canonicalizer) plainKey() (start, end int, ok bool) {
	p := &c.p
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return 0, 0, false
	}
	start = p.i + 1
	ascii := true
	for j := skipPlainASCII(p.b, start); j < len(p.b); j++ {
		ch := p.b[j]
		if ch == '"' {
			if !ascii && !utf8.Valid(p.b[start:j]) {
				return 0, 0, false
			}
			p.i = j + 1
			return start, j, true
		}
		if ch == '\\' || ch < 0x20 {
			return 0, 0, false
		}
		ascii = ascii && ch < utf8.RuneSelf
	}
	return 0, 0, false
}

// plainNumber returns the canonical text of the number token at b[i:] and
// where it ends, for the common tokens whose canonical text can be read
// off the token itself; ok is false for the others, which go through the
// parser and printer.
//
//   - an integer of at most 18 digits (no leading zero, not -0) prints as
//     itself (int64);
//   - a decimal without exponent, with at most 15 significant digits, not
//     zero, and 1e-3 <= |v| < 1e7, is a double that prints (Java's
//     Double.toString, the shortest text that reads back) as the token
//     without trailing fraction zeros, keeping one digit after the point:
//     decimals of up to 15 digits each read back to a different double, so
//     no shorter text names the same one.
func plainNumber(b []byte, i int) (text []byte, end int, ok bool) {
	start := i
	if b[i] == '-' {
		i++
	}
	intStart := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	intDigits := i - intStart
	if intDigits == 0 || intDigits > 1 && b[intStart] == '0' {
		return nil, 0, false
	}
	if i == len(b) || b[i] != '.' && b[i] != 'e' && b[i] != 'E' {
		if intDigits > 18 || intDigits == 1 && b[intStart] == '0' && intStart > start {
			return nil, 0, false // too long for the quick path, or -0
		}
		return b[start:i], i, true
	}
	if b[i] != '.' {
		return nil, 0, false
	}
	i++
	fracStart := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == fracStart || i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		return nil, 0, false
	}
	frac := b[fracStart:i]
	for len(frac) > 1 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	intZero := intDigits == 1 && b[intStart] == '0'
	sig := len(frac)
	if intZero {
		lead := 0
		for lead < len(frac) && frac[lead] == '0' {
			lead++
		}
		if lead == len(frac) || lead > 2 {
			return nil, 0, false // zero, or below 1e-3
		}
		sig -= lead
	} else {
		sig += intDigits
		if intDigits > 7 {
			return nil, 0, false // 1e7 or more
		}
	}
	if sig > 15 {
		return nil, 0, false
	}
	if len(frac) == i-fracStart {
		return b[start:i], i, true // no zeros to drop
	}
	return b[start : fracStart+len(frac)], i, true
}

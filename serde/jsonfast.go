package serde

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/buger/jsonparser"

	"github.com/sluicedata/sluice/sql/types"
)

// The fast JSON path reads values directly from the bytes, driven by the SQL
// type, with github.com/buger/jsonparser (no intermediate map[string]any,
// which made encoding/json the largest cost of a stateless query). It
// accepts exactly what fromJSON accepts; the input is checked with
// json.Valid first, and any value it cannot read falls back to the
// encoding/json path, which produces the error message.

var errFast = errors.New("fast path declined")

// decodeJSONFast reads b as a value of type t; errFast means "use the slow
// path".
func decodeJSONFast(t types.Type, b []byte) (types.Value, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errFast
	}
	vt := kindOf(b[0])
	if vt != jsonparser.Object {
		// Scalars and arrays are rare as whole records: check them fully.
		if !json.Valid(b) {
			return nil, errFast
		}
		return fastValue(t, b, vt, nil)
	}
	// Objects are checked as they are read: keys, separators and every
	// value read as a column are parsed strictly, values of unknown fields
	// are checked with json.Valid, and only white space and the closing
	// brace may follow the last member (closes), so nothing trails it.
	st := types.TextCopyOf(b)
	return fastValue(t, b, vt, &st)
}

func kindOf(c byte) jsonparser.ValueType {
	switch c {
	case '{':
		return jsonparser.Object
	case '[':
		return jsonparser.Array
	case '"':
		return jsonparser.String
	case 't', 'f':
		return jsonparser.Boolean
	case 'n':
		return jsonparser.Null
	}
	return jsonparser.Number
}

// fastValue converts one JSON value (for strings: the bytes inside the
// quotes, as jsonparser hands them out, except at the top level).
// Strings are cut from st's copy of the document where they can be (st may
// be nil).
func fastValue(t types.Type, v []byte, vt jsonparser.ValueType, st *types.TextCopy) (types.Value, error) {
	if vt == jsonparser.Null {
		return nil, nil
	}
	if vt == jsonparser.String && len(v) > 0 && v[0] == '"' {
		v = v[1 : len(v)-1] // top-level string
	}
	switch t.Kind {
	case types.Boolean:
		switch vt {
		case jsonparser.Boolean:
			return v[0] == 't', nil
		case jsonparser.String:
			s, err := unquote(v)
			if err != nil {
				return nil, errFast
			}
			if b, err := strconv.ParseBool(s); err == nil {
				return b, nil
			}
		}
		return nil, errFast
	case types.Int, types.Bigint, types.Date, types.Time, types.Timestamp:
		var n int64
		if vt == jsonparser.Number {
			// Parse the bytes in place (no string): validNumber rules out
			// what JSON forbids, ParseInt fractions and overflow.
			var err error
			if !validNumber(v) {
				return nil, errFast
			}
			if n, err = jsonparser.ParseInt(v); err != nil {
				return nil, errFast
			}
		} else {
			s, ok := numText(v, vt)
			if !ok {
				return nil, errFast
			}
			var err error
			if n, err = strconv.ParseInt(s, 10, 64); err != nil {
				return nil, errFast
			}
		}
		if (t.Kind == types.Int || t.Kind == types.Date || t.Kind == types.Time) && (n < math.MinInt32 || n > math.MaxInt32) {
			return nil, errFast
		}
		switch t.Kind {
		case types.Int:
			return int32(n), nil
		case types.Date:
			return types.DateVal(n), nil
		case types.Time:
			if n < 0 || n >= types.MillisPerDay {
				return nil, errFast
			}
			return types.TimeVal(n), nil
		case types.Timestamp:
			return types.TimestampVal(n), nil
		}
		return n, nil
	case types.Double:
		s, ok := numText(v, vt)
		if !ok {
			return nil, errFast
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errFast
		}
		return f, nil
	case types.Decimal:
		s, ok := numText(v, vt)
		if !ok {
			return nil, errFast
		}
		d, err := types.ParseDec(s)
		if err != nil {
			return nil, errFast
		}
		r, err := fitDecimal(t, d, "JSON")
		if err != nil {
			return nil, errFast
		}
		return r, nil
	case types.String:
		switch vt {
		case jsonparser.String:
			if bytes.IndexByte(v, '\\') < 0 {
				if s, ok := st.String(v); ok {
					return s, nil
				}
			}
			s, err := unquote(v)
			if err != nil {
				return nil, errFast
			}
			return s, nil
		case jsonparser.Number:
			if !validNumber(v) {
				return nil, errFast
			}
			if s, ok := st.String(v); ok {
				return s, nil
			}
			return string(v), nil
		case jsonparser.Boolean:
			return strconv.FormatBool(v[0] == 't'), nil
		}
		return nil, errFast
	case types.Bytes:
		if vt != jsonparser.String {
			return nil, errFast
		}
		s, err := unquote(v)
		if err != nil {
			return nil, errFast
		}
		out, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errFast
		}
		return out, nil
	case types.Array:
		if vt != jsonparser.Array {
			return nil, errFast
		}
		out := []types.Value{}
		var ferr error
		_, err := jsonparser.ArrayEach(v, func(ev []byte, et jsonparser.ValueType, _ int, err error) {
			if ferr != nil {
				return
			}
			if err != nil {
				ferr = errFast
				return
			}
			x, err := fastValue(*t.Elem, ev, et, st)
			if err != nil {
				ferr = err
				return
			}
			out = append(out, x)
		})
		if err != nil || ferr != nil {
			return nil, errFast
		}
		return out, nil
	case types.Map:
		if vt != jsonparser.Object {
			return nil, errFast
		}
		out := map[string]types.Value{}
		last := 1
		err := jsonparser.ObjectEach(v, func(k, ev []byte, et jsonparser.ValueType, off int) error {
			last = off
			key, err := unquote(k)
			if err != nil {
				return errFast
			}
			x, err := fastValue(*t.Elem, ev, et, st)
			if err != nil {
				return err
			}
			out[key] = x
			return nil
		})
		if err != nil || !closes(v, last) {
			return nil, errFast
		}
		return out, nil
	case types.Struct:
		if vt != jsonparser.Object {
			return nil, errFast
		}
		out := make(types.StructVal, len(t.Fields))
		for i, f := range t.Fields {
			out[i].Name = f.Name
		}
		if err := fastStruct(t, v, st, out, nil); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, errFast
}

// fastStruct reads the object v as a value of the STRUCT type t: field
// values go into out[i].Value, or into dst[i] when out is nil (a row read
// into its caller's slice); either starts with every value nil.
func fastStruct(t types.Type, v []byte, st *types.TextCopy, out types.StructVal, dst []types.Value) error {
	get := func(i int) types.Value {
		if out == nil {
			return dst[i]
		}
		return out[i].Value
	}
	// exact[i] records that field i was set by an exact name match,
	// which wins over a case-insensitive one (as in fromJSON).
	var exactBuf [32]bool
	exact := exactBuf[:0]
	if len(t.Fields) <= len(exactBuf) {
		exact = exactBuf[:len(t.Fields)]
	} else {
		exact = make([]bool, len(t.Fields))
	}
	last := 1
	err := jsonparser.ObjectEach(v, func(k, ev []byte, et jsonparser.ValueType, off int) error {
		last = off
		idx, isExact := -1, false
		for i, f := range t.Fields {
			if len(f.Name) == len(k) && f.Name == string(k) {
				idx, isExact = i, true
				break
			}
		}
		if idx < 0 {
			if bytes.IndexByte(k, '\\') >= 0 {
				return errFast
			}
			for i, f := range t.Fields {
				if !exact[i] && get(i) == nil && strings.EqualFold(f.Name, string(k)) {
					idx = i
					break
				}
			}
		}
		if idx < 0 || exact[idx] {
			if et == jsonparser.Object || et == jsonparser.Array {
				if !json.Valid(ev) {
					return errFast
				}
			} else if et == jsonparser.String {
				if _, err := unquote(ev); err != nil {
					return errFast
				}
			} else if et == jsonparser.Number && !validNumber(ev) {
				return errFast
			}
			return nil
		}
		x, err := fastValue(t.Fields[idx].Type, ev, et, st)
		if err != nil {
			return err
		}
		if out == nil {
			dst[idx] = x
		} else {
			out[idx].Value = x
		}
		exact[idx] = isExact
		return nil
	})
	if err != nil || !closes(v, last) {
		return errFast
	}
	return nil
}

// numText returns the text of a number, or of a string holding one.
func numText(v []byte, vt jsonparser.ValueType) (string, bool) {
	switch vt {
	case jsonparser.Number:
		return string(v), validNumber(v)
	case jsonparser.String:
		s, err := unquote(v)
		if err != nil {
			return "", false
		}
		return strings.TrimSpace(s), true
	}
	return "", false
}

// unquote resolves the escapes of a JSON string's contents.
func unquote(v []byte) (string, error) {
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v), nil
	}
	return jsonparser.ParseString(v)
}

// appendJSONString writes s as a JSON string, escaping as encoding/json
// does (including <, > and & as \u003c ... and invalid UTF-8 as U+FFFD).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// closes reports whether only white space and the closing brace follow the
// last member of the object v (last is the offset after it): jsonparser
// accepts a trailing comma, JSON does not.
func closes(v []byte, last int) bool {
	rest := bytes.TrimSpace(v[last:])
	return len(rest) == 1 && rest[0] == '}'
}

// validNumber checks JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(b)
}

// appendDec writes d as plain decimal text with its scale ("1.10"), without
// formatting a big.Int when the unscaled value fits an int64.
func appendDec(dst []byte, d types.Dec) []byte {
	if d.Unscaled == nil || !d.Unscaled.IsInt64() || d.Scale < 0 {
		return append(dst, d.String()...)
	}
	n := d.Unscaled.Int64()
	if n == math.MinInt64 {
		return append(dst, d.String()...)
	}
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var buf [24]byte
	digits := strconv.AppendInt(buf[:0], n, 10)
	if d.Scale == 0 {
		return append(dst, digits...)
	}
	if len(digits) <= d.Scale {
		dst = append(dst, '0', '.')
		for i := len(digits); i < d.Scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-d.Scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-d.Scale:]...)
}

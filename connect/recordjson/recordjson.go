// Package recordjson writes Connect values as plain JSON (no schema envelope),
// the way Kafka Connect's JsonConverter does with schemas.enable=false, for
// connectors that write JSON to the outside world (file, http).
//
// Structs become objects with their fields in schema order; bytes are
// base64; Timestamp is epoch milliseconds, Date days since the epoch, Time
// milliseconds of the day, as JsonConverter writes them. Decimals are JSON
// numbers (JsonConverter's decimal.format=NUMERIC), not base64, since a file
// or webhook reader cannot decode Connect's base64 form.
package recordjson

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/keyorder"
)

// Marshal returns the JSON of value v with schema s (nil when schemaless).
func Marshal(v any, s *connect.Schema) ([]byte, error) { return Append(nil, v, s) }

// Append appends the JSON of v to buf.
func Append(buf []byte, v any, s *connect.Schema) ([]byte, error) {
	return AppendOrdered(buf, v, s, nil)
}

// AppendOrdered is Append for a writer of many records: when v is a
// schemaless object, its keys are ordered through order (see keyorder),
// which a writer keeps from one record to the next. A nil order sorts.
func AppendOrdered(buf []byte, v any, s *connect.Schema, order *keyorder.Cache) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case string:
		return appendString(buf, x), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int8:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case float32:
		return appendFloat(buf, float64(x), 32)
	case float64:
		return appendFloat(buf, x, 64)
	case []byte:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, x)
		return append(buf, '"'), nil
	case time.Time:
		name := ""
		if s != nil {
			name = s.Name
		}
		switch name {
		case connect.DateName:
			return strconv.AppendInt(buf, x.Unix()/86400, 10), nil
		case connect.TimeName:
			ms := x.UnixMilli() % 86400000
			if ms < 0 {
				ms += 86400000
			}
			return strconv.AppendInt(buf, ms, 10), nil
		}
		return strconv.AppendInt(buf, x.UnixMilli(), 10), nil
	case *connect.StructValue:
		buf = append(buf, '{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, f.Name)
			buf = append(buf, ':')
			var err error
			if buf, err = Append(buf, x.Values[i], f.Schema); err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		return append(buf, '}'), nil
	case []any:
		var elem *connect.Schema
		if s != nil {
			elem = s.Value
		}
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = Append(buf, e, elem); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		var elem *connect.Schema
		if s != nil {
			elem = s.Value
		}
		// Keys sorted, for stable output.
		var arr [32]keyorder.Entry
		buf = append(buf, '{')
		for i, e := range order.Sorted(x, arr[:0]) {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, e.Key)
			buf = append(buf, ':')
			var err error
			if buf, err = Append(buf, e.Value, elem); err != nil {
				return nil, fmt.Errorf("key %s: %w", e.Key, err)
			}
		}
		return append(buf, '}'), nil
	case map[any]any:
		// Non-string keys: an array of [key, value] pairs, as JsonConverter
		// writes maps whose keys are not strings.
		var ks, vs *connect.Schema
		if s != nil {
			ks, vs = s.Key, s.Value
		}
		type kv struct {
			k   []byte
			val any
		}
		pairs := make([]kv, 0, len(x))
		for k, val := range x {
			kb, err := Append(nil, k, ks)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, kv{kb, val})
		}
		sort.Slice(pairs, func(i, j int) bool { return string(pairs[i].k) < string(pairs[j].k) })
		buf = append(buf, '[')
		for i, p := range pairs {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '[')
			buf = append(buf, p.k...)
			buf = append(buf, ',')
			var err error
			if buf, err = Append(buf, p.val, vs); err != nil {
				return nil, err
			}
			buf = append(buf, ']')
		}
		return append(buf, ']'), nil
	case fmt.Stringer:
		// Decimals (sql/types.Dec) print as plain numbers.
		str := x.String()
		if json.Valid([]byte(str)) {
			if _, err := strconv.ParseFloat(str, 64); err == nil {
				return append(buf, str...), nil
			}
		}
		return appendString(buf, str), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot write %T as JSON: %w", v, err)
	}
	return append(buf, b...), nil
}

func appendFloat(buf []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		// JSON has no NaN or infinity; JsonConverter writes them as strings.
		return appendString(buf, strconv.FormatFloat(f, 'g', -1, bits)), nil
	}
	return strconv.AppendFloat(buf, f, 'g', -1, bits), nil
}

const hex = "0123456789abcdef"

// plainASCII holds the ASCII bytes written as they are in a JSON string.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && plainASCII[s[i]] {
			i++ // a run that needs no escaping, read at a table lookup a byte
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

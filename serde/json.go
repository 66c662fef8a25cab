package serde

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

// JSON is ksqlDB's JSON format. Values map to JSON as ksqlDB writes them:
// BOOLEAN, INT, BIGINT and DOUBLE as JSON booleans and numbers (NaN and the
// infinities as the strings "NaN", "Infinity", "-Infinity"), DECIMAL as a
// number carrying its scale (1.10), STRING as a string, BYTES as standard
// base64, DATE as days since the epoch, TIME as milliseconds since midnight,
// TIMESTAMP as milliseconds since the epoch, ARRAY as an array, MAP and STRUCT
// as objects (STRUCT fields in declared order).
//
// Reading is lenient in ksqlDB's way: object fields match column names
// case-insensitively when there is no exact match, missing fields are NULL,
// numbers may arrive as strings and DECIMALs as strings or numbers of any
// scale that converts without loss.
//
// A single-column row is written wrapped in an object ({"COL": 1}) unless
// UnwrapSingle is set (WRAP_SINGLE_VALUE=false); keys are always unwrapped,
// as ksqlDB writes single key columns.
type JSON struct {
	UnwrapSingle bool
}

// Name is "JSON".
func (JSON) Name() string { return "JSON" }

type jsonCodec struct {
	outer, t types.Type
	w        wrapper
}

func (f JSON) codec(t types.Type, key bool) (*jsonCodec, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	inner, w := newWrapper(t, !key && !f.UnwrapSingle)
	return &jsonCodec{outer: t, t: inner, w: w}, nil
}

// Serializer implements Format.
func (f JSON) Serializer(t types.Type, key bool) (Serializer, error) { return f.codec(t, key) }

// Deserializer implements Format.
func (f JSON) Deserializer(t types.Type, key bool) (Deserializer, error) { return f.codec(t, key) }

func (c *jsonCodec) Serialize(_ context.Context, _ string, v types.Value) ([]byte, error) {
	if err := check(c.outer, v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	return appendJSON(make([]byte, 0, 128), c.t, c.w.unwrap(v)), nil
}

func (c *jsonCodec) Deserialize(_ context.Context, _ string, b []byte) (types.Value, error) {
	if b == nil {
		return nil, nil
	}
	v, err := decodeJSON(c.t, b)
	if err != nil {
		return nil, err
	}
	return c.w.wrap(v), nil
}

// DeserializeFields implements FieldsDeserializer: an unwrapped row read as
// a JSON object goes straight into dst; anything else (null, a wrapped
// single value, a document the fast path declines) through Deserialize.
func (c *jsonCodec) DeserializeFields(ctx context.Context, topic string, b []byte, dst []types.Value) (bool, error) {
	clear(dst)
	if b == nil {
		return false, nil
	}
	if !c.w.on && c.t.Kind == types.Struct && len(dst) == len(c.t.Fields) {
		if d := bytes.TrimSpace(b); len(d) > 0 && d[0] == '{' {
			st := types.TextCopyOf(d)
			if err := fastStruct(c.t, d, &st, nil, dst); err == nil {
				return true, nil
			}
			clear(dst)
		}
	}
	v, err := c.Deserialize(ctx, topic, b)
	if err != nil || v == nil {
		return false, err
	}
	s, ok := v.(types.StructVal)
	if !ok {
		return false, fmt.Errorf("JSON: got %T, want a row", v)
	}
	for i := range min(len(s), len(dst)) {
		dst[i] = s[i].Value
	}
	return true, nil
}

// decodeJSON parses one JSON document as a value of type t.
func decodeJSON(t types.Type, b []byte) (types.Value, error) {
	if v, err := decodeJSONFast(t, b); err == nil {
		return v, nil
	}
	return fromJSONText(t, b)
}

// fromJSONText is the encoding/json path: slower, with precise errors.
func fromJSONText(t types.Type, b []byte) (types.Value, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var raw any
	if err := d.Decode(&raw); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("JSON: data after the value")
	}
	return fromJSON(t, raw, "")
}

// AppendJSON appends v, a value of type t, as the JSON format writes it
// unwrapped: the bytes of JSON{UnwrapSingle: true}'s Serializer for a
// single-field STRUCT of t, without a buffer per value. Rows are written
// column after column this way (a push or pull query's JSON arrays). On an
// error dst is returned as it was.
func AppendJSON(dst []byte, t types.Type, v types.Value) ([]byte, error) {
	if err := types.Check(t, v); err != nil {
		return dst, fmt.Errorf("serialize %s: %w", t, err)
	}
	return appendJSON(dst, t, v), nil
}

// appendJSON writes v (which fits t) as JSON.
func appendJSON(dst []byte, t types.Type, v types.Value) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(dst, x)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		switch {
		case math.IsNaN(x):
			return append(dst, `"NaN"`...)
		case math.IsInf(x, 1):
			return append(dst, `"Infinity"`...)
		case math.IsInf(x, -1):
			return append(dst, `"-Infinity"`...)
		}
		return strconv.AppendFloat(dst, x, 'g', -1, 64)
	case types.Dec:
		return appendDec(dst, x)
	case string:
		return appendJSONString(dst, x)
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"')
	case types.DateVal:
		return strconv.AppendInt(dst, int64(x), 10)
	case types.TimeVal:
		return strconv.AppendInt(dst, int64(x), 10)
	case types.TimestampVal:
		return strconv.AppendInt(dst, int64(x), 10)
	case []types.Value:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, *t.Elem, e)
		}
		return append(dst, ']')
	case map[string]types.Value:
		dst = append(dst, '{')
		first := true
		for _, k := range sortedKeys(x) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSON(dst, *t.Elem, x[k])
		}
		return append(dst, '}')
	case types.StructVal:
		dst = append(dst, '{')
		for i, f := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, f.Name) // not appendJSON: boxing the name allocates
			dst = append(dst, ':')
			dst = appendJSON(dst, t.Fields[i].Type, f.Value)
		}
		return append(dst, '}')
	}
	panic(fmt.Sprintf("serde: unexpected %T", v))
}

// fromJSON converts a value decoded by encoding/json (with UseNumber) to t.
func fromJSON(t types.Type, raw any, path string) (types.Value, error) {
	if raw == nil {
		return nil, nil
	}
	bad := func() error {
		return fmt.Errorf("JSON%s: cannot read %s as %s", pathOr(path), describe(raw), t)
	}
	switch t.Kind {
	case types.Boolean:
		switch x := raw.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, bad()
	case types.Int, types.Bigint, types.Date, types.Time, types.Timestamp:
		s, ok := numberText(raw)
		if !ok {
			return nil, bad()
		}
		bits := 64
		if t.Kind == types.Int || t.Kind == types.Date || t.Kind == types.Time {
			bits = 32
		}
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return nil, bad()
		}
		switch t.Kind {
		case types.Int:
			return int32(n), nil
		case types.Date:
			return types.DateVal(n), nil
		case types.Time:
			if n < 0 || n >= types.MillisPerDay {
				return nil, fmt.Errorf("JSON%s: time %d ms is outside a day", pathOr(path), n)
			}
			return types.TimeVal(n), nil
		case types.Timestamp:
			return types.TimestampVal(n), nil
		}
		return n, nil
	case types.Double:
		s, ok := numberText(raw)
		if !ok {
			return nil, bad()
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
			return nil, bad()
		}
		return f, nil
	case types.Decimal:
		s, ok := numberText(raw)
		if !ok {
			return nil, bad()
		}
		d, err := types.ParseDec(s)
		if err != nil {
			return nil, bad()
		}
		return fitDecimal(t, d, "JSON"+pathOr(path))
	case types.String:
		switch x := raw.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
		return nil, bad()
	case types.Bytes:
		s, ok := raw.(string)
		if !ok {
			return nil, bad()
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("JSON%s: BYTES must be base64: %w", pathOr(path), err)
		}
		return b, nil
	case types.Array:
		a, ok := raw.([]any)
		if !ok {
			return nil, bad()
		}
		out := make([]types.Value, len(a))
		for i, e := range a {
			v, err := fromJSON(*t.Elem, e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case types.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, bad()
		}
		out := make(map[string]types.Value, len(m))
		for k, e := range m {
			v, err := fromJSON(*t.Elem, e, fmt.Sprintf("%s[%q]", path, k))
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case types.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, bad()
		}
		out := make(types.StructVal, len(t.Fields))
		for i, f := range t.Fields {
			out[i].Name = f.Name
			e, ok := m[f.Name]
			if !ok {
				for k, x := range m {
					if strings.EqualFold(k, f.Name) {
						e = x
						break
					}
				}
			}
			v, err := fromJSON(f.Type, e, path+"."+f.Name)
			if err != nil {
				return nil, err
			}
			out[i].Value = v
		}
		return out, nil
	}
	return nil, bad()
}

// fitDecimal rescales d to t's scale without loss and checks its precision.
func fitDecimal(t types.Type, d types.Dec, where string) (types.Dec, error) {
	r, ok := d.Rescale(t.Scale)
	if !ok {
		return types.Dec{}, fmt.Errorf("%s: %s does not fit %s without rounding", where, d, t)
	}
	if r.Precision() > t.Precision {
		return types.Dec{}, fmt.Errorf("%s: %s does not fit %s", where, d, t)
	}
	return r, nil
}

// decFromRat converts an exact rational to t's scale.
func decFromRat(t types.Type, r *big.Rat, where string) (types.Dec, error) {
	n := new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil))
	q, rem := new(big.Int).QuoRem(n, r.Denom(), new(big.Int))
	if rem.Sign() != 0 {
		return types.Dec{}, fmt.Errorf("%s: %s does not fit %s without rounding", where, r.RatString(), t)
	}
	return fitDecimal(t, types.Dec{Unscaled: q, Scale: t.Scale}, where)
}

func numberText(raw any) (string, bool) {
	switch x := raw.(type) {
	case json.Number:
		return x.String(), true
	case string:
		return strings.TrimSpace(x), true
	}
	return "", false
}

func pathOr(path string) string {
	if path == "" {
		return ""
	}
	return " " + strings.TrimPrefix(path, ".")
}

func describe(raw any) string {
	switch raw.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", raw)
}

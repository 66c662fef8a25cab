package converters

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/sluicedata/sluice/connect/internal/keyorder"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/javafmt"
	"github.com/sluicedata/sluice/sql/types"
)

func (c *JSON) appendValue(b []byte, s *connect.Schema, v any, at jsonPath) ([]byte, error) {
	if s == nil {
		var order *keyorder.Cache
		if at == (jsonPath{}) { // the record's own object: its keys repeat from record to record
			order = &c.order
		}
		return appendSchemaless(b, v, at, order)
	}
	if v == nil {
		if s.Default != nil && c.replaceNullWith {
			return c.appendValue(b, s, s.Default, at)
		}
		if !s.Optional {
			return nil, fmt.Errorf("%sinvalid null value for required %s field", where(at.String()), s.Type)
		}
		return append(b, "null"...), nil
	}
	switch logicalName(s) {
	case connect.DecimalName:
		scale, err := decimalScale(s)
		if err != nil {
			return nil, fmt.Errorf("%s%w", where(at.String()), err)
		}
		d, err := decOf(v, scale)
		if err != nil {
			return nil, fmt.Errorf("%s%w", where(at.String()), err)
		}
		if c.decimalNumeric {
			return append(b, d.String()...), nil
		}
		return appendBase64(b, twosComplement(d.Unscaled)), nil
	case connect.DateName, connect.TimeName, connect.TimestampName:
		n, err := logicalToInt(s.Name, v)
		if err != nil {
			return nil, fmt.Errorf("%s%w", where(at.String()), err)
		}
		return strconv.AppendInt(b, n, 10), nil
	}
	switch s.Type {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		n, err := intOf(s.Type, v)
		if err != nil {
			return nil, fmt.Errorf("%s%w", where(at.String()), err)
		}
		return strconv.AppendInt(b, n, 10), nil
	case connect.Float32, connect.Float64:
		f, ok := asFloat64(v)
		if !ok {
			return nil, wrongType(at, s, v)
		}
		return appendFloat(b, f, s.Type == connect.Float32), nil
	case connect.Boolean:
		x, ok := v.(bool)
		if !ok {
			return nil, wrongType(at, s, v)
		}
		return strconv.AppendBool(b, x), nil
	case connect.String:
		x, ok := v.(string)
		if !ok {
			return nil, wrongType(at, s, v)
		}
		return appendJSONString(b, x), nil
	case connect.Bytes:
		x, ok := v.([]byte)
		if !ok {
			return nil, wrongType(at, s, v)
		}
		return appendBase64(b, x), nil
	case connect.Array:
		xs, ok := v.([]any)
		if !ok {
			return nil, wrongType(at, s, v)
		}
		in := at.String()
		b = append(b, '[')
		for i, x := range xs {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = c.appendValue(b, s.Value, x, jsonPath{in: in, idx: i + 1}); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case connect.Map:
		return c.appendMap(b, s, v, at)
	case connect.Struct:
		sv, ok := v.(*connect.StructValue)
		if !ok {
			return nil, wrongType(at, s, v)
		}
		if sv.Schema != s && !sameStructShape(sv.Schema, s) {
			return nil, fmt.Errorf("%sstruct value of schema %q does not match schema %q", where(at.String()), sv.Schema.Name, s.Name)
		}
		in := at.String() // once for all the fields
		b = append(b, '{')
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			var err error
			if b, err = c.appendValue(b, f.Schema, sv.Values[i], jsonPath{in: in, name: f.Name}); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("%sunknown schema type %q", where(at.String()), s.Type)
}

// wrongType is the error for a value that is not of its schema's type (a
// function, not a closure: appendValue runs for every field of every record).
func wrongType(at jsonPath, s *connect.Schema, v any) error {
	return fmt.Errorf("%sexpected %s, got %T", where(at.String()), s.Type, v)
}

// appendMap writes a map as an object when its keys are strings, and as an
// array of [key, value] pairs otherwise, as Kafka does.
func (c *JSON) appendMap(b []byte, s *connect.Schema, v any, at jsonPath) ([]byte, error) {
	path := at.String()
	type kv struct{ k, v any }
	var entries []kv
	switch m := v.(type) {
	case map[string]any:
		for k, x := range m {
			entries = append(entries, kv{k, x})
		}
	case map[any]any:
		for k, x := range m {
			entries = append(entries, kv{k, x})
		}
	default:
		return nil, fmt.Errorf("%sexpected map, got %T", where(path), v)
	}
	// Go maps have no order; sort by the key's text for stable output.
	sort.Slice(entries, func(i, j int) bool { return fmt.Sprint(entries[i].k) < fmt.Sprint(entries[j].k) })
	var err error
	if s.Key.Type == connect.String {
		b = append(b, '{')
		for i, e := range entries {
			if i > 0 {
				b = append(b, ',')
			}
			k, ok := e.k.(string)
			if !ok {
				return nil, fmt.Errorf("%smap key %v is %T, the key schema says string", where(path), e.k, e.k)
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			if b, err = c.appendValue(b, s.Value, e.v, jsonPath{in: path, name: k}); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	b = append(b, '[')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		open, sep, end := `[`, `,`, `]`
		if c.entryObjects {
			open, sep, end = `{"key":`, `,"value":`, `}`
		}
		b = append(b, open...)
		if b, err = c.appendValue(b, s.Key, e.k, jsonPath{name: path + "<key>"}); err != nil {
			return nil, err
		}
		b = append(b, sep...)
		if b, err = c.appendValue(b, s.Value, e.v, jsonPath{name: fmt.Sprintf("%s[%v]", path, e.k)}); err != nil {
			return nil, err
		}
		b = append(b, end...)
	}
	return append(b, ']'), nil
}

// sameStructShape reports whether two struct schemas have the same field
// names, so a value built against an equal copy of a schema is accepted.
func sameStructShape(a, b *connect.Schema) bool {
	if a == nil || b == nil || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name {
			return false
		}
	}
	return true
}

// appendSchemaless writes a value without schema by its Go type. Beyond
// Kafka (which refuses them) decimals are written as numbers, times as epoch
// milliseconds and structs as objects.
func appendSchemaless(b []byte, v any, at jsonPath, order *keyorder.Cache) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendJSONString(b, x), nil
	case []byte:
		return appendBase64(b, x), nil
	case float64:
		return appendFloat(b, x, false), nil
	case float32:
		return appendFloat(b, float64(x), true), nil
	case json.Number:
		return append(b, x...), nil
	case types.Dec:
		return append(b, x.String()...), nil
	case time.Time:
		return strconv.AppendInt(b, x.UnixMilli(), 10), nil
	case []any:
		in := at.String()
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendSchemaless(b, e, jsonPath{in: in, idx: i + 1}, nil); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		// Keys sorted, for output that does not change from run to run;
		// entries are collected with their values in a stack array for the
		// usual object sizes.
		var arr [32]keyorder.Entry
		in := at.String()
		b = append(b, '{')
		for i, kv := range order.Sorted(x, arr[:0]) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, kv.Key)
			b = append(b, ':')
			if b, err = appendSchemaless(b, kv.Value, jsonPath{in: in, name: kv.Key}, nil); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%sschemaless map key %v is %T; JSON object keys must be strings", where(at.String()), k, k)
			}
			m[ks] = e
		}
		return appendSchemaless(b, m, at, order)
	case *connect.StructValue:
		return (&JSON{replaceNullWith: true}).appendValue(b, x.Schema, x, at)
	}
	if n, ok := connect.AsInt64(v); ok {
		return strconv.AppendInt(b, n, 10), nil
	}
	return nil, fmt.Errorf("%scannot write %T as JSON without a schema", where(at.String()), v)
}

func appendFloat(b []byte, f float64, is32 bool) []byte {
	bits := 64
	if is32 {
		bits = 32
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		// Jackson quotes non-finite numbers by default.
		return appendJSONString(b, javafmt.Double(f, bits))
	}
	return javafmt.AppendDouble(b, f, bits)
}

func appendBase64(b []byte, x []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, x)
	return append(b, '"')
}

// appendJSONString quotes s as Jackson does: escapes for quote, backslash
// and control characters only (no HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\uFFFD`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

// jsonPath says where a value sits, for error messages. The container's
// path and the value's own name are joined only when an error needs them:
// writing a record builds no string per field.
type jsonPath struct {
	in   string // the container's path
	name string // the field or key
	idx  int    // array index + 1; 0 when not an array element
}

func (p jsonPath) String() string {
	if p.idx > 0 {
		return p.in + "[" + strconv.Itoa(p.idx-1) + "]"
	}
	return joinPath(p.in, p.name)
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// decodeJSON parses one JSON document keeping numbers as json.Number.
func decodeJSON(data []byte) (any, error) { return parseJSON(data, false) }

// schemalessFromJSON turns decoded JSON into Connect's schemaless values:
// integers int64, other numbers float64.
func schemalessFromJSON(raw any) (any, error) {
	switch x := raw.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", x, err)
		}
		return f, nil
	case []any:
		for i, e := range x {
			v, err := schemalessFromJSON(e)
			if err != nil {
				return nil, err
			}
			x[i] = v
		}
		return x, nil
	case map[string]any:
		for k, e := range x {
			v, err := schemalessFromJSON(e)
			if err != nil {
				return nil, err
			}
			x[k] = v
		}
		return x, nil
	}
	return raw, nil
}

// valueFromJSON converts decoded JSON to a value of schema s.
func valueFromJSON(s *connect.Schema, raw any, path string) (any, error) {
	if raw == nil {
		if s.Default != nil {
			return s.Default, nil
		}
		if s.Optional {
			return nil, nil
		}
		return nil, fmt.Errorf("%sinvalid null value for required %s field", where(path), s.Type)
	}
	bad := func() error {
		return fmt.Errorf("%sexpected %s, got JSON %s", where(path), s.Type, jsonKind(raw))
	}
	switch logicalName(s) {
	case connect.DecimalName:
		scale, err := decimalScale(s)
		if err != nil {
			return nil, err
		}
		switch x := raw.(type) {
		case string:
			b, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return nil, fmt.Errorf("%sdecimal is not base64: %w", where(path), err)
			}
			return types.Dec{Unscaled: fromTwosComplement(b), Scale: scale}, nil
		case json.Number:
			d, err := types.ParseDec(string(x))
			if err != nil {
				return nil, fmt.Errorf("%s%w", where(path), err)
			}
			return decOf(d, scale)
		}
		return nil, bad()
	case connect.DateName, connect.TimeName, connect.TimestampName:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, bad()
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s%s %s is not an integer", where(path), s.Name, n)
		}
		return intToLogical(s.Name, i), nil
	}
	switch s.Type {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, bad()
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s%s is not an integer", where(path), n)
		}
		if _, err := intOf(s.Type, i); err != nil {
			return nil, fmt.Errorf("%s%w", where(path), err)
		}
		return typedInt(s.Type, i), nil
	case connect.Float32, connect.Float64:
		var f float64
		switch x := raw.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(string(x), 64); err != nil {
				return nil, fmt.Errorf("%s%s: %w", where(path), x, err)
			}
		case string: // Jackson's quoted non-finite numbers
			switch x {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return nil, bad()
			}
		default:
			return nil, bad()
		}
		if s.Type == connect.Float32 {
			return float32(f), nil
		}
		return f, nil
	case connect.Boolean:
		x, ok := raw.(bool)
		if !ok {
			return nil, bad()
		}
		return x, nil
	case connect.String:
		x, ok := raw.(string)
		if !ok {
			return nil, bad()
		}
		return x, nil
	case connect.Bytes:
		x, ok := raw.(string)
		if !ok {
			return nil, bad()
		}
		b, err := base64.StdEncoding.DecodeString(x)
		if err != nil {
			return nil, fmt.Errorf("%sbytes are not base64: %w", where(path), err)
		}
		return b, nil
	case connect.Array:
		xs, ok := raw.([]any)
		if !ok {
			return nil, bad()
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			v, err := valueFromJSON(s.Value, x, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case connect.Map:
		if s.Key.Type == connect.String {
			obj, ok := raw.(map[string]any)
			if !ok {
				return nil, bad()
			}
			out := make(map[string]any, len(obj))
			for k, x := range obj {
				v, err := valueFromJSON(s.Value, x, joinPath(path, k))
				if err != nil {
					return nil, err
				}
				out[k] = v
			}
			return out, nil
		}
		pairs, ok := raw.([]any)
		if !ok {
			return nil, fmt.Errorf("%smaps with non-string keys must be JSON arrays of [key, value] pairs, got %s", where(path), jsonKind(raw))
		}
		out := make(map[any]any, len(pairs))
		for i, p := range pairs {
			kv, ok := p.([]any)
			if obj, isObj := p.(map[string]any); isObj && len(obj) == 2 {
				// JSON Schema's form of an entry: {"key": k, "value": v}
				_, hasKey := obj["key"]
				_, hasValue := obj["value"]
				kv, ok = []any{obj["key"], obj["value"]}, hasKey && hasValue
			}
			if !ok || len(kv) != 2 {
				return nil, fmt.Errorf("%s[%d]: map entry must be a [key, value] array", path, i)
			}
			k, err := valueFromJSON(s.Key, kv[0], fmt.Sprintf("%s[%d].key", path, i))
			if err != nil {
				return nil, err
			}
			v, err := valueFromJSON(s.Value, kv[1], fmt.Sprintf("%s[%d].value", path, i))
			if err != nil {
				return nil, err
			}
			if !comparable(k) {
				return nil, fmt.Errorf("%s[%d]: map key of type %s cannot be a Go map key", path, i, s.Key.Type)
			}
			out[k] = v
		}
		return out, nil
	case connect.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, bad()
		}
		sv := connect.NewStruct(s)
		for i, f := range s.Fields {
			v, err := valueFromJSON(f.Schema, obj[f.Name], joinPath(path, f.Name))
			if err != nil {
				return nil, err
			}
			sv.Values[i] = v
		}
		return sv, nil
	}
	return nil, fmt.Errorf("%sunknown schema type %q", where(path), s.Type)
}

// comparable reports whether v can be a key of a Go map.
func comparable(v any) bool {
	switch v.(type) {
	case []byte, []any, map[string]any, map[any]any, *connect.StructValue, types.Dec:
		return false
	}
	return true
}

func jsonKind(raw any) string {
	switch raw.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", raw)
}

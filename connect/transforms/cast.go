package transforms

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/javafmt"
	"github.com/sluicedata/sluice/sql/types"
)

// Cast changes the type of fields, or of the whole key or value, to a
// primitive type (Kafka's Cast): integers, floats, boolean and string cast
// to one another, bytes to string (base64), Decimal to numbers and string,
// Date/Time/Timestamp to string (ISO 8601, UTC).
type Cast struct {
	side        side
	whole       connect.SchemaType // set when the spec names one type
	fields      map[string]connect.SchemaType
	order       []string
	replaceNull bool
	cache       schemaCache
}

var castTargets = []connect.SchemaType{connect.Int8, connect.Int16, connect.Int32, connect.Int64,
	connect.Float32, connect.Float64, connect.Boolean, connect.String}

var castFields = []connect.FieldSpec{
	{Name: "spec", Type: connect.TypeList, Required: true, Importance: "HIGH",
		Doc: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. " +
			"A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. " +
			"Note that binary fields can only be cast to string.",
		Validate: func(v string) error { _, _, _, err := parseCastSpec(v); return err }},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "Cast", "Cast fields or the entire key or value to a specific type, e.g. to force an integer field to a smaller width.",
		castFields, func(key bool) connect.Transform { return &Cast{side: side(key)} })
}

// parseCastSpec reads "f1:int32,f2:string" or a single type.
func parseCastSpec(spec string) (connect.SchemaType, map[string]connect.SchemaType, []string, error) {
	parts := splitList(spec)
	if len(parts) == 0 {
		return "", nil, nil, fmt.Errorf("must specify at least one field to cast")
	}
	if len(parts) == 1 && !strings.Contains(parts[0], ":") {
		t, err := castType(parts[0])
		return t, nil, nil, err
	}
	fields := map[string]connect.SchemaType{}
	var order []string
	for _, p := range parts {
		name, typ, ok := strings.Cut(p, ":")
		name, typ = strings.TrimSpace(name), strings.TrimSpace(typ)
		if !ok || name == "" || typ == "" {
			return "", nil, nil, fmt.Errorf("invalid cast mapping %q: expected field:type (or a single type for the whole value)", p)
		}
		t, err := castType(typ)
		if err != nil {
			return "", nil, nil, fmt.Errorf("field %q: %w", name, err)
		}
		if _, dup := fields[name]; dup {
			return "", nil, nil, fmt.Errorf("field %q is cast twice", name)
		}
		fields[name] = t
		order = append(order, name)
	}
	return "", fields, order, nil
}

func castType(s string) (connect.SchemaType, error) {
	for _, t := range castTargets {
		if strings.EqualFold(s, string(t)) {
			return t, nil
		}
	}
	return "", fmt.Errorf("invalid type %q found in casting spec; valid types are int8, int16, int32, int64, float32, float64, boolean, string", s)
}

// splitList splits a comma-separated list, trimmed, without empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Configure parses spec.
func (c *Cast) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: castFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	var err error
	c.whole, c.fields, c.order, err = parseCastSpec(cfg["spec"])
	if err != nil {
		return err
	}
	c.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

// Apply casts the configured fields.
func (c *Cast) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := c.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		out, err := c.schemaless(v)
		if err != nil {
			return nil, err
		}
		return c.side.with(r, nil, out), nil
	}
	if c.whole != "" {
		if !castable(schema) {
			return nil, fmt.Errorf("Cast: cannot cast a %s %s", schema.Type, c.side)
		}
		out, err := castValue(schema, v, c.whole)
		if err != nil {
			return nil, fmt.Errorf("Cast %s: %w", c.side, err)
		}
		ns := &connect.Schema{Type: c.whole, Optional: schema.Optional}
		if schema.Default != nil {
			if ns.Default, err = castValue(schema, schema.Default, c.whole); err != nil {
				return nil, fmt.Errorf("Cast %s default: %w", c.side, err)
			}
		}
		return c.side.with(r, ns, out), nil
	}
	sv, err := requireStruct(schema, v, "cast types")
	if err != nil {
		return nil, err
	}
	ns, err := c.cache.get(schema, c.castSchema)
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	for i, f := range schema.Fields {
		fv := fieldValue(sv, i, c.replaceNull)
		if t, ok := c.fields[f.Name]; ok && fv != nil {
			if fv, err = castValue(f.Schema, fv, t); err != nil {
				return nil, fmt.Errorf("Cast field %q: %w", f.Name, err)
			}
		}
		out.Values[i] = fv
	}
	return c.side.with(r, ns, out), nil
}

func (c *Cast) castSchema(s *connect.Schema) (*connect.Schema, error) {
	ns := copyBasics(s, connect.Struct)
	for _, f := range s.Fields {
		t, ok := c.fields[f.Name]
		if !ok {
			ns.Fields = append(ns.Fields, f)
			continue
		}
		if !castable(f.Schema) {
			return nil, fmt.Errorf("Cast: field %q of type %s cannot be cast", f.Name, f.Schema.Type)
		}
		if f.Schema.Type == connect.Bytes && f.Schema.Name == "" && t != connect.String {
			return nil, fmt.Errorf("Cast: field %q: bytes can only be cast to string", f.Name)
		}
		fs := &connect.Schema{Type: t, Optional: f.Schema.Optional}
		if f.Schema.Default != nil {
			d, err := castValue(f.Schema, f.Schema.Default, t)
			if err != nil {
				return nil, fmt.Errorf("Cast field %q default: %w", f.Name, err)
			}
			fs.Default = d
		}
		ns.Fields = append(ns.Fields, connect.Field{Name: f.Name, Schema: fs})
	}
	return ns, nil
}

func castable(s *connect.Schema) bool {
	switch s.Type {
	case connect.Array, connect.Map, connect.Struct:
		return false
	}
	return true
}

func (c *Cast) schemaless(v any) (any, error) {
	if c.whole != "" {
		out, err := castValue(nil, v, c.whole)
		if err != nil {
			return nil, fmt.Errorf("Cast %s: %w", c.side, err)
		}
		return out, nil
	}
	m, err := requireMap(v, "cast types")
	if err != nil {
		return nil, err
	}
	out := copyMap(m)
	for _, name := range c.order {
		fv, ok := m[name]
		if !ok || fv == nil {
			continue
		}
		if out[name], err = castValue(nil, fv, c.fields[name]); err != nil {
			return nil, fmt.Errorf("Cast field %q: %w", name, err)
		}
	}
	return out, nil
}

// castValue casts v (of schema s, or inferred from its Go type when s is
// nil) to t.
func castValue(s *connect.Schema, v any, t connect.SchemaType) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case time.Time:
		if t != connect.String {
			if s != nil && s.Name == connect.TimestampName && t == connect.Int64 {
				return x.UnixMilli(), nil
			}
			return nil, fmt.Errorf("%s values can only be cast to string", logicalKind(s))
		}
		return isoFormat(s, x), nil
	case types.Dec:
		if t == connect.String {
			return x.String(), nil
		}
		f, _ := new(big.Rat).SetFrac(x.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil)).Float64()
		if t == connect.Boolean {
			return x.Unscaled.Sign() != 0, nil
		}
		return numberTo(f, t)
	case []byte:
		if t != connect.String {
			return nil, fmt.Errorf("bytes can only be cast to string")
		}
		return base64.StdEncoding.EncodeToString(x), nil
	case bool:
		switch t {
		case connect.Boolean:
			return x, nil
		case connect.String:
			return strconv.FormatBool(x), nil
		}
		n := 0.0
		if x {
			n = 1
		}
		return numberTo(n, t)
	case string:
		return stringTo(x, t)
	}
	if n, ok := connect.AsInt64(v); ok {
		switch t {
		case connect.String:
			return strconv.FormatInt(n, 10), nil
		case connect.Boolean:
			return n != 0, nil
		case connect.Float32:
			return float32(n), nil
		case connect.Float64:
			return float64(n), nil
		}
		return intTo(n, t), nil
	}
	if f, ok := asFloat64(v); ok {
		switch t {
		case connect.String:
			if _, is32 := v.(float32); is32 {
				return javafmt.Double(f, 32), nil
			}
			return javafmt.Double(f, 64), nil
		case connect.Boolean:
			return f != 0, nil
		}
		return numberTo(f, t)
	}
	return nil, fmt.Errorf("cannot cast %T to %s", v, t)
}

func logicalKind(s *connect.Schema) string {
	if s != nil && s.Name != "" {
		return s.Name
	}
	return "time"
}

// isoFormat writes times as Kafka's Values.dateFormatFor does.
func isoFormat(s *connect.Schema, t time.Time) string {
	t = t.UTC()
	if s != nil {
		switch s.Name {
		case connect.DateName:
			return t.Format("2006-01-02")
		case connect.TimeName:
			return t.Format("15:04:05.000Z")
		}
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// intTo narrows n to an integer type, wrapping as Java's casts do.
func intTo(n int64, t connect.SchemaType) any {
	switch t {
	case connect.Int8:
		return int8(n)
	case connect.Int16:
		return int16(n)
	case connect.Int32:
		return int32(n)
	}
	return n
}

// numberTo casts a float to a numeric type; to integers it truncates
// toward zero (saturating at int64's range, then wrapping, as Java does).
func numberTo(f float64, t connect.SchemaType) (any, error) {
	switch t {
	case connect.Float32:
		return float32(f), nil
	case connect.Float64:
		return f, nil
	case connect.String:
		return javafmt.Double(f, 64), nil
	case connect.Boolean:
		return f != 0, nil
	}
	if math.IsNaN(f) {
		return intTo(0, t), nil
	}
	f = math.Trunc(f)
	var n int64
	switch {
	case f >= math.MaxInt64:
		n = math.MaxInt64
	case f <= math.MinInt64:
		n = math.MinInt64
	default:
		n = int64(f)
	}
	return intTo(n, t), nil
}

func stringTo(s string, t connect.SchemaType) (any, error) {
	s2 := strings.TrimSpace(s)
	switch t {
	case connect.String:
		return s, nil
	case connect.Boolean:
		return strings.EqualFold(s2, "true"), nil
	case connect.Float32, connect.Float64:
		f, err := strconv.ParseFloat(s2, 64)
		if err != nil {
			return nil, fmt.Errorf("value %q is not a number", s)
		}
		return numberTo(f, t)
	}
	bits := map[connect.SchemaType]int{connect.Int8: 8, connect.Int16: 16, connect.Int32: 32, connect.Int64: 64}[t]
	n, err := strconv.ParseInt(s2, 10, bits)
	if err != nil {
		return nil, fmt.Errorf("value %q is not an %s", s, t)
	}
	return intTo(n, t), nil
}

// asFloat64 reads any Go number.
func asFloat64(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	if i, ok := connect.AsInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

// ApplyOwned casts the fields of a schemaless value's map in place; with a
// schema, or casting the whole value, it is Apply.
func (c *Cast) ApplyOwned(r *connect.Record) (*connect.Record, error) {
	schema, v := c.side.get(r)
	if schema != nil || v == nil || c.whole != "" {
		return c.Apply(r)
	}
	m, err := requireMap(v, "cast types")
	if err != nil {
		return nil, err
	}
	for _, name := range c.order {
		fv, ok := m[name]
		if !ok || fv == nil {
			continue
		}
		if m[name], err = castValue(nil, fv, c.fields[name]); err != nil {
			return nil, fmt.Errorf("Cast field %q: %w", name, err)
		}
	}
	return r, nil
}

var _ connect.OwnedTransform = (*Cast)(nil)

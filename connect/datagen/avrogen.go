package datagen

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/converters"
)

// This file compiles an Avro schema with avro-random-generator's
// "arg.properties" annotations (as Confluent's datagen uses them) into a
// Connect schema and a tree of generator functions. Compiling once and
// calling closures keeps the per-record cost to a few small allocations.
//
// Supported arg.properties:
//
//	options    list of values (any type, also whole records)
//	range      {min, max}: numbers, min inclusive, max exclusive
//	regex      strings matching a pattern
//	iteration  {start, step, restart}: numbers (and strings of numbers) that
//	           count with the record's iteration
//	length     {min, max} or a number: strings, bytes, arrays, maps
//	odds       probability of true for booleans
//	keys       arg.properties for the keys of a map
//
// A union ["null", T] is an optional T (null half the time); other unions
// become Confluent's io.confluent.connect.avro.Union struct.

// genCtx is the per-record generation state.
type genCtx struct {
	r    rng
	iter int64
	buf  []byte
	err  error // the first error of a textFunc
}

type genFunc func(c *genCtx) any

// A textFunc generates a value as its genFunc does (the same random draws,
// so the same value) and appends the payload the JsonConverter writes for
// it, without building the Go value (see connect.JSONTextSourceTask).
type textFunc func(c *genCtx, b []byte) []byte

type compiled struct {
	schema *connect.Schema
	gen    genFunc
	// text, when set, writes gen's values as JSON text directly; textOf
	// falls back to printing gen's value.
	text textFunc
	// fields are the generators of a record's fields (nil for a record
	// picked from options), so the task can fill structs it allocated in
	// bulk.
	fields []genFunc
	// texts are the textFuncs of the fields and keys their names as the
	// JsonConverter writes them before each value: `{"name":` for the
	// first field, `,"name":` after.
	texts []textFunc
	keys  [][]byte
	// options and optionTexts are the values of a record picked from
	// options (fields nil) and their JSON text.
	options     []any
	optionTexts [][]byte
}

type compiler struct {
	named map[string]*compiled
}

// compileSchema compiles an Avro record schema given as JSON text.
func compileSchema(text string) (*compiled, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("schema is not valid JSON: %w", err)
	}
	c := &compiler{named: map[string]*compiled{}}
	out, err := c.compile(v, "", "schema")
	if err != nil {
		return nil, err
	}
	if out.schema.Type != connect.Struct {
		return nil, fmt.Errorf("schema: the top-level type must be a record, got %s", out.schema.Type)
	}
	return out, nil
}

func (c *compiler) compile(v any, ns, path string) (*compiled, error) {
	switch t := v.(type) {
	case string:
		if isPrimitive(t) {
			return c.primitive(t, map[string]any{}, path)
		}
		if n, ok := c.named[fullName(t, ns)]; ok {
			return n, nil
		}
		if n, ok := c.named[t]; ok {
			return n, nil
		}
		return nil, fmt.Errorf("%s: unknown type %q", path, t)
	case []any:
		return c.union(t, ns, path)
	case map[string]any:
		typ, ok := t["type"]
		if !ok {
			return nil, fmt.Errorf("%s: object without \"type\"", path)
		}
		name, _ := typ.(string)
		switch name {
		case "record", "error":
			return c.record(t, ns, path)
		case "enum":
			return c.enum(t, ns, path)
		case "fixed":
			return c.fixed(t, ns, path)
		case "array":
			return c.array(t, ns, path)
		case "map":
			return c.mapType(t, ns, path)
		}
		if isPrimitive(name) {
			return c.primitive(name, t, path)
		}
		return c.compile(typ, ns, path)
	}
	return nil, fmt.Errorf("%s: unexpected %T in schema", path, v)
}

func isPrimitive(t string) bool {
	switch t {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
		return true
	}
	return false
}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func args(obj map[string]any) map[string]any {
	a, _ := obj["arg.properties"].(map[string]any)
	return a
}

// union compiles ["null", T] to an optional T, and other unions to a
// struct named io.confluent.connect.avro.Union with one optional field per
// branch (named after the branch's type), exactly one set, as Confluent's
// AvroConverter maps them. A branch is picked uniformly; null counts as one.
func (c *compiler) union(branches []any, ns, path string) (*compiled, error) {
	var other []any
	hasNull := false
	for _, b := range branches {
		if s, ok := b.(string); ok && s == "null" {
			hasNull = true
			continue
		}
		other = append(other, b)
	}
	if len(other) == 0 {
		return nil, fmt.Errorf("%s: a union needs a branch other than null", path)
	}
	if len(other) == 1 {
		inner, err := c.compile(other[0], ns, path)
		if err != nil {
			return nil, err
		}
		if !hasNull {
			return inner, nil
		}
		s := *inner.schema
		s.Optional = true
		g := repoint(inner.gen, &s)
		t := textOf(inner)
		return &compiled{schema: &s, gen: func(c *genCtx) any {
			if c.r.next()&1 == 0 {
				return nil
			}
			return g(c)
		}, text: func(c *genCtx, b []byte) []byte {
			if c.r.next()&1 == 0 {
				return append(b, "null"...)
			}
			return t(c, b)
		}}, nil
	}
	schema := &connect.Schema{Type: connect.Struct, Name: "io.confluent.connect.avro.Union", Optional: hasNull}
	gens := make([]genFunc, len(other))
	for i, b := range other {
		bc, err := c.compile(b, ns, fmt.Sprintf("%s|%d", path, i))
		if err != nil {
			return nil, err
		}
		name := branchName(bc.schema)
		if _, _, dup := schema.Field(name); dup {
			return nil, fmt.Errorf("%s: union has two branches of type %s", path, name)
		}
		fs := *bc.schema
		fs.Optional = true
		schema.Fields = append(schema.Fields, connect.Field{Name: name, Schema: &fs})
		gens[i] = repoint(bc.gen, &fs)
	}
	choices := uint64(len(gens))
	if hasNull {
		choices++
	}
	return &compiled{schema: schema, gen: func(c *genCtx) any {
		i := c.r.intn(choices)
		if i == uint64(len(gens)) {
			return nil
		}
		sv := connect.NewStruct(schema)
		sv.Values[i] = gens[i](c)
		return sv
	}}, nil
}

// repoint makes the structs g generates refer to s, the optional copy of
// their schema, so that a value's schema is the schema of its field.
func repoint(g genFunc, s *connect.Schema) genFunc {
	if s.Type != connect.Struct {
		return g
	}
	return func(c *genCtx) any {
		v := g(c).(*connect.StructValue)
		v.Schema = s
		return v
	}
}

// branchName names a union branch as AvroConverter does: the Avro type name
// of a primitive, the last part of a named type's full name.
func branchName(s *connect.Schema) string {
	if s.Name != "" && s.Type != connect.Int32 && s.Type != connect.Int64 {
		if i := strings.LastIndex(s.Name, "."); i >= 0 {
			return s.Name[i+1:]
		}
		return s.Name
	}
	switch s.Type {
	case connect.Int32:
		return "int"
	case connect.Int64:
		return "long"
	case connect.Float32:
		return "float"
	case connect.Float64:
		return "double"
	}
	return string(s.Type)
}

func (c *compiler) record(obj map[string]any, ns, path string) (*compiled, error) {
	name, _ := obj["name"].(string)
	if name == "" {
		return nil, fmt.Errorf("%s: record without a name", path)
	}
	if n, ok := obj["namespace"].(string); ok {
		ns = n
	}
	full := fullName(name, ns)
	if i := strings.LastIndex(full, "."); i >= 0 {
		ns = full[:i]
	}
	schema := &connect.Schema{Type: connect.Struct, Name: full}
	schema.Doc, _ = obj["doc"].(string)
	out := &compiled{schema: schema}
	c.named[full] = out // before the fields, for recursive references
	fields, _ := obj["fields"].([]any)
	if len(fields) == 0 {
		return nil, fmt.Errorf("%s: record %s has no fields", path, full)
	}
	gens := make([]genFunc, len(fields))
	texts := make([]textFunc, len(fields))
	for i, f := range fields {
		fo, ok := f.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: field %d of %s is not an object", path, i, full)
		}
		fname, _ := fo["name"].(string)
		if fname == "" {
			return nil, fmt.Errorf("%s: field %d of %s has no name", path, i, full)
		}
		fc, err := c.compile(fo["type"], ns, path+"."+fname)
		if err != nil {
			return nil, err
		}
		schema.Fields = append(schema.Fields, connect.Field{Name: fname, Schema: fc.schema})
		gens[i] = fc.gen
		texts[i] = textOf(fc)
	}
	if opts, ok := args(obj)["options"].([]any); ok {
		values, err := convertOptions(opts, schema, path)
		if err != nil {
			return nil, err
		}
		out.gen = func(c *genCtx) any {
			v := values[c.r.intn(uint64(len(values)))].(*connect.StructValue)
			// A copy, so that no two records share a mutable struct.
			return &connect.StructValue{Schema: schema, Values: append([]any(nil), v.Values...)}
		}
		out.text = pickText(schema, values)
		if out.text != nil {
			out.options = values
			for _, v := range values {
				t, _ := converters.AppendJSONPayload(nil, schema, v)
				out.optionTexts = append(out.optionTexts, t)
			}
		}
		return out, nil
	}
	out.fields, out.texts = gens, texts
	out.keys = fieldKeys(schema)
	keys := out.keys
	out.text = func(c *genCtx, b []byte) []byte {
		for i, t := range texts {
			b = append(b, keys[i]...)
			b = t(c, b)
		}
		return append(b, '}')
	}
	out.gen = func(c *genCtx) any {
		sv := newStruct(schema, len(gens))
		for i, g := range gens {
			sv.Values[i] = g(c)
		}
		return sv
	}
	return out, nil
}

// Small structs come with their values in one allocation.
type (
	struct4 struct {
		sv   connect.StructValue
		vals [4]any
	}
	struct8 struct {
		sv   connect.StructValue
		vals [8]any
	}
)

func newStruct(schema *connect.Schema, n int) *connect.StructValue {
	switch {
	case n <= 4:
		s := &struct4{}
		s.sv = connect.StructValue{Schema: schema, Values: s.vals[:n:n]}
		return &s.sv
	case n <= 8:
		s := &struct8{}
		s.sv = connect.StructValue{Schema: schema, Values: s.vals[:n:n]}
		return &s.sv
	}
	return &connect.StructValue{Schema: schema, Values: make([]any, n)}
}

func (c *compiler) enum(obj map[string]any, ns, path string) (*compiled, error) {
	name, _ := obj["name"].(string)
	if n, ok := obj["namespace"].(string); ok {
		ns = n
	}
	full := fullName(name, ns)
	syms, _ := obj["symbols"].([]any)
	if len(syms) == 0 {
		return nil, fmt.Errorf("%s: enum %s has no symbols", path, full)
	}
	// Parameters as Confluent's AvroConverter writes them, so an Avro
	// converter can restore the enum.
	params := map[string]string{"io.confluent.connect.avro.Enum": full}
	values := make([]any, len(syms))
	for i, s := range syms {
		str, ok := s.(string)
		if !ok {
			return nil, fmt.Errorf("%s: enum %s symbol %v is not a string", path, full, s)
		}
		params["io.confluent.connect.avro.Enum."+str] = str
		values[i] = str
	}
	schema := &connect.Schema{Type: connect.String, Name: full, Parameters: params}
	if opts, ok := args(obj)["options"].([]any); ok {
		var err error
		if values, err = convertOptions(opts, schema, path); err != nil {
			return nil, err
		}
	}
	out := &compiled{schema: schema, gen: pick(values), text: pickText(schema, values)}
	c.named[full] = out
	return out, nil
}

func (c *compiler) fixed(obj map[string]any, ns, path string) (*compiled, error) {
	name, _ := obj["name"].(string)
	if n, ok := obj["namespace"].(string); ok {
		ns = n
	}
	full := fullName(name, ns)
	size, err := intArg(obj["size"])
	if err != nil || size < 0 {
		return nil, fmt.Errorf("%s: fixed %s needs a size >= 0", path, full)
	}
	schema := &connect.Schema{Type: connect.Bytes, Name: full,
		Parameters: map[string]string{"connect.fixed.size": strconv.FormatInt(size, 10)}}
	out := &compiled{schema: schema, gen: func(c *genCtx) any { return randBytes(c, int(size)) }}
	c.named[full] = out
	return out, nil
}

func (c *compiler) array(obj map[string]any, ns, path string) (*compiled, error) {
	items, err := c.compile(obj["items"], ns, path+"[]")
	if err != nil {
		return nil, err
	}
	schema := &connect.Schema{Type: connect.Array, Value: items.schema}
	a := args(obj)
	if opts, ok := a["options"].([]any); ok {
		values, err := convertOptions(opts, schema, path)
		if err != nil {
			return nil, err
		}
		return &compiled{schema: schema, gen: pick(values)}, nil
	}
	lo, hi, err := lengthArg(a, 1, 5, path)
	if err != nil {
		return nil, err
	}
	g := items.gen
	return &compiled{schema: schema, gen: func(c *genCtx) any {
		n := lo + int(c.r.intn(uint64(hi-lo)))
		out := make([]any, n)
		for i := range out {
			out[i] = g(c)
		}
		return out
	}}, nil
}

func (c *compiler) mapType(obj map[string]any, ns, path string) (*compiled, error) {
	values, err := c.compile(obj["values"], ns, path+"{}")
	if err != nil {
		return nil, err
	}
	schema := &connect.Schema{Type: connect.Map, Key: &connect.Schema{Type: connect.String}, Value: values.schema}
	a := args(obj)
	if opts, ok := a["options"].([]any); ok {
		vals, err := convertOptions(opts, schema, path)
		if err != nil {
			return nil, err
		}
		return &compiled{schema: schema, gen: pick(vals)}, nil
	}
	keyArgs, _ := a["keys"].(map[string]any)
	keys, err := c.primitive("string", map[string]any{"arg.properties": keyArgs}, path+".keys")
	if err != nil {
		return nil, err
	}
	lo, hi, err := lengthArg(a, 1, 5, path)
	if err != nil {
		return nil, err
	}
	kg, vg := keys.gen, values.gen
	return &compiled{schema: schema, gen: func(c *genCtx) any {
		n := lo + int(c.r.intn(uint64(hi-lo)))
		out := make(map[string]any, n)
		for range n {
			out[kg(c).(string)] = vg(c)
		}
		return out
	}}, nil
}

// primitive compiles a primitive type with its arg.properties and logical type.
func (c *compiler) primitive(typ string, obj map[string]any, path string) (*compiled, error) {
	a := args(obj)
	var schema *connect.Schema
	switch typ {
	case "null":
		return nil, fmt.Errorf("%s: a null type is only supported inside a union", path)
	case "boolean":
		schema = &connect.Schema{Type: connect.Boolean}
	case "int":
		schema = &connect.Schema{Type: connect.Int32}
	case "long":
		schema = &connect.Schema{Type: connect.Int64}
	case "float":
		schema = &connect.Schema{Type: connect.Float32}
	case "double":
		schema = &connect.Schema{Type: connect.Float64}
	case "bytes":
		schema = &connect.Schema{Type: connect.Bytes}
	case "string":
		schema = &connect.Schema{Type: connect.String}
	}
	g, t, err := primitiveGen(typ, schema, a, path)
	if err != nil {
		return nil, err
	}
	// Logical types become Connect's logical types, as AvroConverter maps them.
	switch lt, _ := obj["logicalType"].(string); {
	case lt == "timestamp-millis" && typ == "long":
		schema.Name = connect.TimestampName
		inner := g
		g = func(c *genCtx) any { return time.UnixMilli(inner(c).(int64)).UTC() }
	case lt == "date" && typ == "int":
		schema.Name = connect.DateName
		inner := g
		g = func(c *genCtx) any { return time.Unix(int64(inner(c).(int32))*86400, 0).UTC() }
	case lt == "time-millis" && typ == "int":
		schema.Name = connect.TimeName
		inner := g
		g = func(c *genCtx) any { return time.UnixMilli(int64(inner(c).(int32))).UTC() }
	}
	if schema.Name != "" {
		t = nil // textOf prints the logical value
	}
	return &compiled{schema: schema, gen: g, text: t}, nil
}

// primitiveGen returns the generator of a primitive type and, for the
// types that have one, its textFunc.
func primitiveGen(typ string, schema *connect.Schema, a map[string]any, path string) (genFunc, textFunc, error) {
	if opts, ok := a["options"].([]any); ok {
		values, err := convertOptions(opts, schema, path)
		if err != nil {
			return nil, nil, err
		}
		return pick(values), pickText(schema, values), nil
	}
	if it, ok := a["iteration"].(map[string]any); ok {
		return iterationGen(typ, it, path)
	}
	switch typ {
	case "boolean":
		odds := 0.5
		if o, ok := a["odds"]; ok {
			f, err := floatArg(o)
			if err != nil || f < 0 || f > 1 {
				return nil, nil, fmt.Errorf("%s: odds must be a number between 0 and 1", path)
			}
			odds = f
		}
		return func(c *genCtx) any { return c.r.float() < odds },
			func(c *genCtx, b []byte) []byte { return strconv.AppendBool(b, c.r.float() < odds) }, nil
	case "int", "long":
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if typ == "long" {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		if r, ok := a["range"].(map[string]any); ok {
			var err error
			if v, ok := r["min"]; ok {
				if lo, err = intArg(v); err != nil {
					return nil, nil, fmt.Errorf("%s: range.min: %w", path, err)
				}
			}
			if v, ok := r["max"]; ok {
				if hi, err = intArg(v); err != nil {
					return nil, nil, fmt.Errorf("%s: range.max: %w", path, err)
				}
			}
			if hi <= lo {
				return nil, nil, fmt.Errorf("%s: range.max (%d) must be greater than range.min (%d)", path, hi, lo)
			}
		}
		span := uint64(hi - lo)
		if typ == "int" {
			return func(c *genCtx) any { return int32(lo + int64(c.r.intn(span))) },
				func(c *genCtx, b []byte) []byte {
					return strconv.AppendInt(b, int64(int32(lo+int64(c.r.intn(span)))), 10)
				}, nil
		}
		return func(c *genCtx) any { return lo + int64(c.r.intn(span)) },
			func(c *genCtx, b []byte) []byte { return strconv.AppendInt(b, lo+int64(c.r.intn(span)), 10) }, nil
	case "float", "double":
		lo, hi := 0.0, 1.0
		if r, ok := a["range"].(map[string]any); ok {
			var err error
			if v, ok := r["min"]; ok {
				if lo, err = floatArg(v); err != nil {
					return nil, nil, fmt.Errorf("%s: range.min: %w", path, err)
				}
			}
			if v, ok := r["max"]; ok {
				if hi, err = floatArg(v); err != nil {
					return nil, nil, fmt.Errorf("%s: range.max: %w", path, err)
				}
			}
			if hi <= lo {
				return nil, nil, fmt.Errorf("%s: range.max (%g) must be greater than range.min (%g)", path, hi, lo)
			}
		}
		if typ == "float" {
			return func(c *genCtx) any { return float32(lo + c.r.float()*(hi-lo)) },
				func(c *genCtx, b []byte) []byte {
					return converters.AppendJSONFloat(b, float64(float32(lo+c.r.float()*(hi-lo))), true)
				}, nil
		}
		return func(c *genCtx) any { return lo + c.r.float()*(hi-lo) },
			func(c *genCtx, b []byte) []byte { return converters.AppendJSONFloat(b, lo+c.r.float()*(hi-lo), false) }, nil
	case "string":
		if p, ok := a["regex"].(string); ok {
			rg, err := newRegexGen(p)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			return func(c *genCtx) any {
					c.buf = rg.generate(&c.r, c.buf[:0])
					return string(c.buf)
				}, func(c *genCtx, b []byte) []byte {
					if rg.plain { // straight into b: nothing to escape
						b = append(b, '"')
						return append(rg.generate(&c.r, b), '"')
					}
					c.buf = rg.generate(&c.r, c.buf[:0])
					return appendQuoted(b, c.buf)
				}, nil
		}
		lo, hi, err := lengthArg(a, 8, 16, path)
		if err != nil {
			return nil, nil, err
		}
		const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		return func(c *genCtx) any {
				n := lo + int(c.r.intn(uint64(hi-lo)))
				c.buf = c.buf[:0]
				for range n {
					c.buf = append(c.buf, alnum[c.r.intn(uint64(len(alnum)))])
				}
				return string(c.buf)
			}, func(c *genCtx, b []byte) []byte {
				n := lo + int(c.r.intn(uint64(hi-lo)))
				b = append(b, '"')
				for range n {
					b = append(b, alnum[c.r.intn(uint64(len(alnum)))])
				}
				return append(b, '"')
			}, nil
	case "bytes":
		lo, hi, err := lengthArg(a, 8, 16, path)
		if err != nil {
			return nil, nil, err
		}
		return func(c *genCtx) any { return randBytes(c, lo+int(c.r.intn(uint64(hi-lo)))) }, nil, nil
	}
	return nil, nil, fmt.Errorf("%s: unsupported type %s", path, typ)
}

// iterationGen counts with the record's iteration: start + step*n, wrapping
// to start when it reaches restart.
func iterationGen(typ string, it map[string]any, path string) (genFunc, textFunc, error) {
	get := func(key string, def float64) (float64, bool, error) {
		v, ok := it[key]
		if !ok {
			return def, false, nil
		}
		f, err := floatArg(v)
		if err != nil {
			return 0, false, fmt.Errorf("%s: iteration.%s: %w", path, key, err)
		}
		return f, true, nil
	}
	start, _, err := get("start", 0)
	if err != nil {
		return nil, nil, err
	}
	restart, hasRestart, err := get("restart", 0)
	if err != nil {
		return nil, nil, err
	}
	defStep := 1.0
	if hasRestart && restart < start {
		defStep = -1
	}
	step, _, err := get("step", defStep)
	if err != nil {
		return nil, nil, err
	}
	if step == 0 {
		return nil, nil, fmt.Errorf("%s: iteration.step must not be 0", path)
	}
	var period int64 // number of distinct values before wrapping, 0 = never
	if hasRestart {
		period = int64(math.Ceil((restart - start) / step))
		if period <= 0 {
			return nil, nil, fmt.Errorf("%s: iteration.restart (%g) cannot be reached from start (%g) with step %g", path, restart, start, step)
		}
	}
	nth := func(c *genCtx) int64 {
		if period > 0 {
			return c.iter % period
		}
		return c.iter
	}
	switch typ {
	case "int":
		s, st := int64(start), int64(step)
		return func(c *genCtx) any { return int32(s + st*nth(c)) },
			func(c *genCtx, b []byte) []byte { return strconv.AppendInt(b, int64(int32(s+st*nth(c))), 10) }, nil
	case "long":
		s, st := int64(start), int64(step)
		return func(c *genCtx) any { return s + st*nth(c) },
			func(c *genCtx, b []byte) []byte { return strconv.AppendInt(b, s+st*nth(c), 10) }, nil
	case "float":
		return func(c *genCtx) any { return float32(start + step*float64(nth(c))) },
			func(c *genCtx, b []byte) []byte {
				return converters.AppendJSONFloat(b, float64(float32(start+step*float64(nth(c)))), true)
			}, nil
	case "double":
		return func(c *genCtx) any { return start + step*float64(nth(c)) },
			func(c *genCtx, b []byte) []byte {
				return converters.AppendJSONFloat(b, start+step*float64(nth(c)), false)
			}, nil
	case "string":
		s, st := int64(start), int64(step)
		return func(c *genCtx) any { return strconv.FormatInt(s+st*nth(c), 10) },
			func(c *genCtx, b []byte) []byte {
				b = append(b, '"')
				b = strconv.AppendInt(b, s+st*nth(c), 10)
				return append(b, '"')
			}, nil
	case "boolean":
		return func(c *genCtx) any { return nth(c)%2 == 0 },
			func(c *genCtx, b []byte) []byte { return strconv.AppendBool(b, nth(c)%2 == 0) }, nil
	}
	return nil, nil, fmt.Errorf("%s: iteration is not supported for %s", path, typ)
}

func lengthArg(a map[string]any, defLo, defHi int, path string) (lo, hi int, err error) {
	lo, hi = defLo, defHi
	switch l := a["length"].(type) {
	case nil:
	case map[string]any:
		if v, ok := l["min"]; ok {
			n, err := intArg(v)
			if err != nil {
				return 0, 0, fmt.Errorf("%s: length.min: %w", path, err)
			}
			lo = int(n)
		}
		if v, ok := l["max"]; ok {
			n, err := intArg(v)
			if err != nil {
				return 0, 0, fmt.Errorf("%s: length.max: %w", path, err)
			}
			hi = int(n)
		}
	default:
		n, err := intArg(l)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: length: %w", path, err)
		}
		lo, hi = int(n), int(n)+1
	}
	if lo < 0 || hi <= lo {
		return 0, 0, fmt.Errorf("%s: length needs 0 <= min < max, got min %d max %d", path, lo, hi)
	}
	return lo, hi, nil
}

func pick(values []any) genFunc {
	if len(values) == 0 {
		return func(*genCtx) any { return nil }
	}
	return func(c *genCtx) any { return values[c.r.intn(uint64(len(values)))] }
}

func randBytes(c *genCtx, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(c.r.next())
	}
	return b
}

func intArg(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) {
			return 0, fmt.Errorf("%s is not an integer", n)
		}
		return int64(f), nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

func floatArg(v any) (float64, error) {
	if n, ok := v.(json.Number); ok {
		return n.Float64()
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

func convertOptions(opts []any, s *connect.Schema, path string) ([]any, error) {
	if len(opts) == 0 {
		return nil, fmt.Errorf("%s: options is empty", path)
	}
	out := make([]any, len(opts))
	for i, o := range opts {
		v, err := convertJSON(o, s)
		if err != nil {
			return nil, fmt.Errorf("%s: option %d: %w", path, i, err)
		}
		out[i] = v
	}
	return out, nil
}

// convertJSON turns a JSON option value into the Go value of schema s.
func convertJSON(v any, s *connect.Schema) (any, error) {
	if v == nil {
		if s.Optional {
			return nil, nil
		}
		return nil, fmt.Errorf("null is not a %s", s.Type)
	}
	switch s.Type {
	case connect.Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case connect.Int32, connect.Int64:
		n, err := intArg(v)
		if err != nil {
			return nil, err
		}
		if s.Type == connect.Int32 {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, fmt.Errorf("%d does not fit an int", n)
			}
			return int32(n), nil
		}
		if s.Name == connect.TimestampName {
			return time.UnixMilli(n).UTC(), nil
		}
		return n, nil
	case connect.Float32, connect.Float64:
		f, err := floatArg(v)
		if err != nil {
			return nil, err
		}
		if s.Type == connect.Float32 {
			return float32(f), nil
		}
		return f, nil
	case connect.String:
		if str, ok := v.(string); ok {
			return str, nil
		}
	case connect.Bytes:
		if str, ok := v.(string); ok {
			return []byte(str), nil
		}
	case connect.Array:
		if arr, ok := v.([]any); ok {
			out := make([]any, len(arr))
			for i, e := range arr {
				ev, err := convertJSON(e, s.Value)
				if err != nil {
					return nil, err
				}
				out[i] = ev
			}
			return out, nil
		}
	case connect.Map:
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, e := range m {
				ev, err := convertJSON(e, s.Value)
				if err != nil {
					return nil, err
				}
				out[k] = ev
			}
			return out, nil
		}
	case connect.Struct:
		if m, ok := v.(map[string]any); ok {
			sv := connect.NewStruct(s)
			for i, f := range s.Fields {
				fv, err := convertJSON(m[f.Name], f.Schema)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", f.Name, err)
				}
				sv.Values[i] = fv
			}
			return sv, nil
		}
	}
	return nil, fmt.Errorf("%v is not a valid %s", v, s.Type)
}

// textOf returns cp's textFunc, or one that prints the value of cp.gen
// as the JsonConverter does.
func textOf(cp *compiled) textFunc {
	if cp.text != nil {
		return cp.text
	}
	return func(c *genCtx, b []byte) []byte {
		out, err := converters.AppendJSONPayload(b, cp.schema, cp.gen(c))
		if err != nil {
			if c.err == nil {
				c.err = err
			}
			return b
		}
		return out
	}
}

// pickText is the textFunc of pick(values): the values printed once, one
// drawn as pick draws it. Nil (textOf prints) when a value cannot be
// printed, so that its error comes up as it would otherwise.
func pickText(s *connect.Schema, values []any) textFunc {
	if len(values) == 0 {
		return nil
	}
	texts := make([][]byte, len(values))
	for i, v := range values {
		t, err := converters.AppendJSONPayload(nil, s, v)
		if err != nil {
			return nil
		}
		texts[i] = t
	}
	return func(c *genCtx, b []byte) []byte { return append(b, texts[c.r.intn(uint64(len(texts)))]...) }
}

// fieldKeys returns, for each field of struct schema s, what the
// JsonConverter writes before its value.
func fieldKeys(s *connect.Schema) [][]byte {
	out := make([][]byte, len(s.Fields))
	for i, f := range s.Fields {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		out[i] = append(converters.AppendJSONString([]byte{sep}, f.Name), ':')
	}
	return out
}

// appendQuoted appends s as a JSON string, as the JsonConverter writes it.
func appendQuoted(b, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return converters.AppendJSONString(b, string(s))
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

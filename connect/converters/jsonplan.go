package converters

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// A structPlan is a struct schema compiled for writing its values: each
// field's key is quoted once with its separator, and the common field types
// get a kind that writes them without looking at the schema again. A CDC
// source writes thousands of records of one schema per second; with the
// plan a record's payload costs little more than appending its values.
// Anything the plan has no fast path for (logical types other than
// Decimal, arrays, maps, nulls replaced by defaults, values of the wrong Go
// type) goes through appendValue, which also produces every error.
type structPlan struct {
	schema *connect.Schema
	fields []fieldPlan
}

type fieldKind uint8

const (
	kindGeneric fieldKind = iota // appendValue
	kindInt                      // int8..int64 without a logical name
	kindString
	kindBool
	kindStruct
	kindDecimal // org.apache.kafka.connect.data.Decimal as base64
	kindFloat64
	kindFloat32
	kindBytes
)

type fieldPlan struct {
	key    []byte // `{"name":` for the first field, `,"name":` after
	name   string
	schema *connect.Schema
	kind   fieldKind
	lo, hi int64       // kindInt: the range of the schema's type
	scale  int         // kindDecimal
	sub    *structPlan // kindStruct
}

// compileStruct builds the plan of struct schema s and of the struct
// schemas of its fields.
func compileStruct(s *connect.Schema) *structPlan {
	p := &structPlan{schema: s, fields: make([]fieldPlan, len(s.Fields))}
	for i, f := range s.Fields {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		key := appendJSONString([]byte{sep}, f.Name)
		fp := fieldPlan{key: append(key, ':'), name: f.Name, schema: f.Schema}
		compileField(&fp)
		p.fields[i] = fp
	}
	return p
}

func compileField(fp *fieldPlan) {
	s := fp.schema
	if s == nil {
		return // appendValue reports it
	}
	if logicalName(s) == connect.DecimalName {
		if scale, err := decimalScale(s); err == nil {
			fp.kind, fp.scale = kindDecimal, scale
		}
		return
	}
	if logicalName(s) != "" {
		return
	}
	switch s.Type {
	case connect.Int8:
		fp.kind, fp.lo, fp.hi = kindInt, math.MinInt8, math.MaxInt8
	case connect.Int16:
		fp.kind, fp.lo, fp.hi = kindInt, math.MinInt16, math.MaxInt16
	case connect.Int32:
		fp.kind, fp.lo, fp.hi = kindInt, math.MinInt32, math.MaxInt32
	case connect.Int64:
		fp.kind, fp.lo, fp.hi = kindInt, math.MinInt64, math.MaxInt64
	case connect.Float64:
		fp.kind = kindFloat64
	case connect.Float32:
		fp.kind = kindFloat32
	case connect.Bytes:
		fp.kind = kindBytes
	case connect.String:
		fp.kind = kindString
	case connect.Boolean:
		fp.kind = kindBool
	case connect.Struct:
		fp.kind, fp.sub = kindStruct, compileStruct(s)
	}
}

// appendStruct writes sv by plan p; at is where sv sits, for errors.
func (c *JSON) appendStruct(b []byte, p *structPlan, sv *connect.StructValue, at jsonPath) ([]byte, error) {
	if sv.Schema != p.schema && !sameStructShape(sv.Schema, p.schema) {
		// appendValue words the mismatch
		return c.appendValue(b, p.schema, sv, at)
	}
	if len(p.fields) == 0 {
		return append(b, "{}"...), nil
	}
	var err error
	for i := range p.fields {
		f := &p.fields[i]
		b = append(b, f.key...)
		if b, err = c.appendField(b, f, sv.Values[i], at); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendField writes one field's value v: by its kind when v is of the
// expected Go type, else through appendValue.
func (c *JSON) appendField(b []byte, f *fieldPlan, v any, in jsonPath) ([]byte, error) {
	if v == nil {
		if f.schema.Optional && f.schema.Default == nil {
			return append(b, "null"...), nil
		}
		return c.appendValue(b, f.schema, v, fieldPath(in, f.name))
	}
	switch f.kind {
	case kindInt:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case int32:
			n = int64(x)
		case int16:
			n = int64(x)
		case int8:
			n = int64(x)
		default:
			return c.appendValue(b, f.schema, v, fieldPath(in, f.name))
		}
		if n < f.lo || n > f.hi {
			return c.appendValue(b, f.schema, v, fieldPath(in, f.name))
		}
		return strconv.AppendInt(b, n, 10), nil
	case kindString:
		if x, ok := v.(string); ok {
			return appendJSONString(b, x), nil
		}
	case kindBool:
		if x, ok := v.(bool); ok {
			return strconv.AppendBool(b, x), nil
		}
	case kindFloat64:
		if x, ok := v.(float64); ok {
			return appendFloat(b, x, false), nil
		}
	case kindFloat32:
		if x, ok := v.(float32); ok {
			return appendFloat(b, float64(x), true), nil
		}
	case kindBytes:
		if x, ok := v.([]byte); ok {
			return appendBase64(b, x), nil
		}
	case kindStruct:
		if x, ok := v.(*connect.StructValue); ok {
			return c.appendStruct(b, f.sub, x, fieldPath(in, f.name))
		}
	case kindDecimal:
		// The usual decimal fits an int64 unscaled and has the schema's
		// scale: its two's complement is built on the stack.
		if d, ok := v.(types.Dec); ok && !c.decimalNumeric && d.Scale == f.scale && d.Unscaled != nil && d.Unscaled.IsInt64() {
			var buf [8]byte
			return appendBase64(b, int64TwosComplement(&buf, d.Unscaled.Int64())), nil
		}
	}
	return c.appendValue(b, f.schema, v, fieldPath(in, f.name))
}

// fieldPath is the path of field name in the struct at at, joined only if
// an error asks for it (jsonPath.String).
func fieldPath(at jsonPath, name string) jsonPath {
	if at == (jsonPath{}) {
		return jsonPath{name: name}
	}
	return jsonPath{in: at.String(), name: name}
}

// int64TwosComplement is n as Java's BigInteger.toByteArray writes it: big
// endian two's complement in the fewest bytes that keep the sign, in buf.
func int64TwosComplement(buf *[8]byte, n int64) []byte {
	binary.BigEndian.PutUint64(buf[:], uint64(n))
	i := 0
	for i < 7 {
		redundant := (buf[i] == 0 && buf[i+1]&0x80 == 0) || (buf[i] == 0xff && buf[i+1]&0x80 != 0)
		if !redundant {
			break
		}
		i++
	}
	return buf[i:]
}

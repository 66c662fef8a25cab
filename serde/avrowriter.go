package serde

// Writing SQL values with a writer schema that was not derived from their
// type: the subject's latest (or latest-with-metadata) schema, for
// serializers with UseLatestVersion. Record fields are matched to columns by
// name (exact, then case-insensitive), union branches by the value, and
// values are converted to the Avro type where no information is lost.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/sql/types"
)

func appendAvroAs(dst []byte, s avro.Schema, t types.Type, v types.Value, path string) ([]byte, error) {
	s = deref(s)
	fail := func() ([]byte, error) {
		return nil, fmt.Errorf("AVRO: %scannot write %s as Avro %s", pathPrefix(path), t, s.Type())
	}
	if u, ok := s.(*avro.UnionSchema); ok {
		for i, b := range u.Types() {
			if (v == nil) != (b.Type() == avro.Null) || v != nil && !avroAccepts(deref(b), t) {
				continue
			}
			dst = binary.AppendVarint(dst, int64(i))
			return appendAvroAs(dst, b, t, v, path)
		}
		if v == nil {
			return nil, fmt.Errorf("AVRO: %sNULL, but the union has no null branch", pathPrefix(path))
		}
		return fail()
	}
	if v == nil {
		if s.Type() == avro.Null {
			return dst, nil
		}
		return nil, fmt.Errorf("AVRO: %sNULL for non-nullable %s", pathPrefix(path), s.Type())
	}
	if !avroAccepts(s, t) {
		return fail()
	}
	logical := logicalOf(s)
	switch s.Type() {
	case avro.Boolean:
		if v.(bool) {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case avro.Int, avro.Long:
		var n int64
		switch x := v.(type) {
		case int32:
			n = int64(x)
		case int64:
			n = x
			if s.Type() == avro.Int && (n < math.MinInt32 || n > math.MaxInt32) {
				return nil, fmt.Errorf("AVRO: %s%d does not fit an Avro int", pathPrefix(path), n)
			}
		case types.DateVal:
			n = int64(x)
		case types.TimeVal:
			n = int64(x)
		case types.TimestampVal:
			n = int64(x)
		}
		if logical != nil {
			switch logical.Type() {
			case avro.TimeMicros, avro.TimestampMicros, avro.LocalTimestampMicros:
				n *= 1000
			}
		}
		return binary.AppendVarint(dst, n), nil
	case avro.Float:
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v.(float64)))), nil
	case avro.Double:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.(float64))), nil
	case avro.String:
		return append(binary.AppendVarint(dst, int64(len(v.(string)))), v.(string)...), nil
	case avro.Enum:
		for i, sym := range s.(*avro.EnumSchema).Symbols() {
			if sym == v.(string) {
				return binary.AppendVarint(dst, int64(i)), nil
			}
		}
		return nil, fmt.Errorf("AVRO: %s%q is not a symbol of enum %s", pathPrefix(path), v, s.(*avro.EnumSchema).FullName())
	case avro.Bytes, avro.Fixed:
		var b []byte
		if d, ok := logical.(*avro.DecimalLogicalSchema); ok {
			dec, err := rescaleDec(v.(types.Dec), d.Scale(), d.Precision())
			if err != nil {
				return nil, fmt.Errorf("AVRO: %s%w", pathPrefix(path), err)
			}
			b = twosComplement(dec)
		} else {
			b = v.([]byte)
		}
		if f, ok := s.(*avro.FixedSchema); ok {
			if _, isDec := logical.(*avro.DecimalLogicalSchema); isDec && len(b) < f.Size() {
				pad := byte(0) // sign-extend the two's complement to the fixed size
				if len(b) > 0 && b[0]&0x80 != 0 {
					pad = 0xff
				}
				b = append(bytes.Repeat([]byte{pad}, f.Size()-len(b)), b...)
			}
			if len(b) != f.Size() {
				return nil, fmt.Errorf("AVRO: %s%d bytes for fixed %s of size %d", pathPrefix(path), len(b), f.FullName(), f.Size())
			}
			return append(dst, b...), nil
		}
		return append(binary.AppendVarint(dst, int64(len(b))), b...), nil
	case avro.Array:
		items := s.(*avro.ArraySchema).Items()
		x := v.([]types.Value)
		if len(x) > 0 {
			dst = binary.AppendVarint(dst, int64(len(x)))
			for i, e := range x {
				var err error
				if dst, err = appendAvroAs(dst, items, *t.Elem, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case avro.Map:
		values := s.(*avro.MapSchema).Values()
		x := v.(map[string]types.Value)
		if len(x) > 0 {
			dst = binary.AppendVarint(dst, int64(len(x)))
			for _, k := range sortedKeys(x) {
				dst = append(binary.AppendVarint(dst, int64(len(k))), k...)
				var err error
				if dst, err = appendAvroAs(dst, values, *t.Elem, x[k], path+"."+k); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case avro.Record:
		x := v.(types.StructVal)
		for _, f := range s.(*avro.RecordSchema).Fields() {
			i := columnIndex(t, f.Name())
			if i < 0 {
				// No column: only a field that can hold null is written (null).
				var err error
				if dst, err = appendAvroAs(dst, f.Type(), types.StringType, nil, path+"."+f.Name()); err != nil {
					return nil, fmt.Errorf("AVRO: field %q of the writer schema has no column and cannot be null", f.Name())
				}
				continue
			}
			var err error
			if dst, err = appendAvroAs(dst, f.Type(), t.Fields[i].Type, x[i].Value, joinPath(path, f.Name())); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	return fail()
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// columnIndex finds the field of STRUCT t named name: exact, then
// case-insensitive (-1 if none).
func columnIndex(t types.Type, name string) int {
	for i, f := range t.Fields {
		if f.Name == name {
			return i
		}
	}
	for i, f := range t.Fields {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// avroAccepts tells whether a value of t can be written as s (no union).
func avroAccepts(s avro.Schema, t types.Type) bool {
	logical := logicalOf(s)
	switch s.Type() {
	case avro.Boolean:
		return t.Kind == types.Boolean
	case avro.Int:
		if logical != nil {
			return logical.Type() == avro.Date && t.Kind == types.Date || logical.Type() == avro.TimeMillis && t.Kind == types.Time
		}
		return t.Kind == types.Int
	case avro.Long:
		if logical != nil {
			switch logical.Type() {
			case avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros:
				return t.Kind == types.Timestamp
			case avro.TimeMicros:
				return t.Kind == types.Time
			}
		}
		return t.Kind == types.Int || t.Kind == types.Bigint
	case avro.Float, avro.Double:
		return t.Kind == types.Double
	case avro.String, avro.Enum:
		return t.Kind == types.String
	case avro.Bytes, avro.Fixed:
		if _, ok := logical.(*avro.DecimalLogicalSchema); ok {
			return t.Kind == types.Decimal
		}
		return t.Kind == types.Bytes
	case avro.Array:
		return t.Kind == types.Array
	case avro.Map:
		return t.Kind == types.Map
	case avro.Record:
		return t.Kind == types.Struct
	}
	return false
}

// rescaleDec brings d to scale, refusing to lose digits, and checks the
// precision.
func rescaleDec(d types.Dec, scale, precision int) (*big.Int, error) {
	u := new(big.Int).Set(d.Unscaled)
	switch {
	case d.Scale < scale:
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale-d.Scale)), nil))
	case d.Scale > scale:
		q, r := new(big.Int).QuoRem(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-scale)), nil), new(big.Int))
		if r.Sign() != 0 {
			return nil, fmt.Errorf("decimal %s has more than %d digits after the point", d, scale)
		}
		u = q
	}
	if precision > 0 && len(new(big.Int).Abs(u).String()) > precision {
		return nil, fmt.Errorf("decimal %s does not fit precision %d", d, precision)
	}
	return u, nil
}

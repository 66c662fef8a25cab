package serde

// Avro binary encoding and decoding driven by a parsed schema (hamba/avro
// parses; the codec is ours so that the mapping to SQL values is exact:
// unions, decimals and the time types never pass through an intermediate
// generic form).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/sql/types"
)

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func logicalOf(s avro.Schema) avro.LogicalSchema {
	if l, ok := s.(avro.LogicalTypeSchema); ok {
		return l.Logical()
	}
	return nil
}

// appendAvro appends v, a value of t, encoded with schema s (derived from t
// by AvroSchema).
func appendAvro(dst []byte, s avro.Schema, t types.Type, v types.Value) ([]byte, error) {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		for i, b := range u.Types() {
			if (v == nil) == (b.Type() == avro.Null) {
				dst = binary.AppendVarint(dst, int64(i))
				if v == nil {
					return dst, nil
				}
				return appendAvro(dst, b, t, v)
			}
		}
		return nil, fmt.Errorf("AVRO: no union branch for %T", v)
	}
	if v == nil {
		return nil, fmt.Errorf("AVRO: NULL for non-nullable %s", s.Type())
	}
	switch x := v.(type) {
	case bool:
		if x {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case int32:
		return binary.AppendVarint(dst, int64(x)), nil
	case int64:
		return binary.AppendVarint(dst, x), nil
	case float64:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x)), nil
	case string:
		return append(binary.AppendVarint(dst, int64(len(x))), x...), nil
	case []byte:
		return append(binary.AppendVarint(dst, int64(len(x))), x...), nil
	case types.Dec:
		b := twosComplement(x.Unscaled)
		return append(binary.AppendVarint(dst, int64(len(b))), b...), nil
	case types.DateVal:
		return binary.AppendVarint(dst, int64(x)), nil
	case types.TimeVal:
		return binary.AppendVarint(dst, int64(x)), nil
	case types.TimestampVal:
		return binary.AppendVarint(dst, int64(x)), nil
	case []types.Value:
		items := s.(*avro.ArraySchema).Items()
		if len(x) > 0 {
			dst = binary.AppendVarint(dst, int64(len(x)))
			for _, e := range x {
				var err error
				if dst, err = appendAvro(dst, items, *t.Elem, e); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case map[string]types.Value:
		values := s.(*avro.MapSchema).Values()
		if len(x) > 0 {
			dst = binary.AppendVarint(dst, int64(len(x)))
			for _, k := range sortedKeys(x) {
				dst = append(binary.AppendVarint(dst, int64(len(k))), k...)
				var err error
				if dst, err = appendAvro(dst, values, *t.Elem, x[k]); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case types.StructVal:
		fields := s.(*avro.RecordSchema).Fields()
		for i, f := range x {
			var err error
			if dst, err = appendAvro(dst, fields[i].Type(), t.Fields[i].Type, f.Value); err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		return dst, nil
	}
	return nil, fmt.Errorf("AVRO: unexpected %T", v)
}

// twosComplement is the shortest big-endian two's complement form of x, as
// the Avro decimal logical type stores unscaled values.
func twosComplement(x *big.Int) []byte {
	switch x.Sign() {
	case 0:
		return []byte{0}
	case 1:
		b := x.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	n := new(big.Int).Not(x).BitLen()/8 + 1
	v := new(big.Int).Add(x, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	return v.FillBytes(make([]byte, n))
}

func fromTwosComplement(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v
}

var errShort = errors.New("truncated Avro data")

// avroReader decodes Avro binary data written with a writer schema into SQL
// values of a target type.
type avroReader struct {
	b   []byte
	pos int
}

func (r *avroReader) long() (int64, error) {
	v, n := binary.Varint(r.b[r.pos:])
	if n <= 0 {
		return 0, errShort
	}
	r.pos += n
	return v, nil
}

func (r *avroReader) fixed(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(r.b)-r.pos) {
		return nil, errShort
	}
	b := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

func (r *avroReader) bytes() ([]byte, error) {
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	return r.fixed(n)
}

// read decodes one datum of schema s as type t; t nil skips the datum.
func (r *avroReader) read(s avro.Schema, t *types.Type, path string) (types.Value, error) {
	s = deref(s)
	mismatch := func() error {
		return fmt.Errorf("%scannot read Avro %s as %s", pathPrefix(path), s.Type(), t)
	}
	switch s.Type() {
	case avro.Null:
		return nil, nil
	case avro.Union:
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		bs := s.(*avro.UnionSchema).Types()
		if i < 0 || i >= int64(len(bs)) {
			return nil, fmt.Errorf("%sunion branch %d out of range", pathPrefix(path), i)
		}
		return r.read(bs[i], t, path)
	case avro.Boolean:
		b, err := r.fixed(1)
		if err != nil {
			return nil, err
		}
		if t != nil && t.Kind != types.Boolean {
			return nil, mismatch()
		}
		return b[0] != 0, nil
	case avro.Int, avro.Long:
		n, err := r.long()
		if err != nil || t == nil {
			return nil, err
		}
		return convertAvroInt(n, s, t, mismatch)
	case avro.Float:
		b, err := r.fixed(4)
		if err != nil || t == nil {
			return nil, err
		}
		if t.Kind != types.Double {
			return nil, mismatch()
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), nil
	case avro.Double:
		b, err := r.fixed(8)
		if err != nil || t == nil {
			return nil, err
		}
		if t.Kind != types.Double {
			return nil, mismatch()
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case avro.String, avro.Bytes, avro.Fixed, avro.Enum:
		var b []byte
		var err error
		switch s.Type() {
		case avro.Fixed:
			b, err = r.fixed(int64(s.(*avro.FixedSchema).Size()))
		case avro.Enum:
			var i int64
			if i, err = r.long(); err == nil {
				syms := s.(*avro.EnumSchema).Symbols()
				if i < 0 || i >= int64(len(syms)) {
					return nil, fmt.Errorf("%senum index %d out of range", pathPrefix(path), i)
				}
				b = []byte(syms[i])
			}
		default:
			b, err = r.bytes()
		}
		if err != nil || t == nil {
			return nil, err
		}
		if d, ok := logicalOf(s).(*avro.DecimalLogicalSchema); ok {
			if t.Kind != types.Decimal {
				return nil, mismatch()
			}
			return fitDecimal(*t, types.Dec{Unscaled: fromTwosComplement(b), Scale: d.Scale()}, "AVRO "+path)
		}
		switch t.Kind {
		case types.String:
			if !utf8.Valid(b) {
				return nil, fmt.Errorf("%sinvalid UTF-8", pathPrefix(path))
			}
			return string(b), nil
		case types.Bytes:
			return append([]byte{}, b...), nil
		}
		return nil, mismatch()
	case avro.Array:
		items := s.(*avro.ArraySchema).Items()
		var et *types.Type
		if t != nil {
			if t.Kind != types.Array {
				return nil, mismatch()
			}
			et = t.Elem
		}
		out := []types.Value{}
		err := r.blocks(func() error {
			v, err := r.read(items, et, fmt.Sprintf("%s[%d]", path, len(out)))
			out = append(out, v)
			return err
		})
		if err != nil || t == nil {
			return nil, err
		}
		return out, nil
	case avro.Map:
		values := s.(*avro.MapSchema).Values()
		var et *types.Type
		if t != nil {
			if t.Kind != types.Map {
				return nil, mismatch()
			}
			et = t.Elem
		}
		out := map[string]types.Value{}
		err := r.blocks(func() error {
			k, err := r.bytes()
			if err != nil {
				return err
			}
			v, err := r.read(values, et, fmt.Sprintf("%s[%q]", path, k))
			out[string(k)] = v
			return err
		})
		if err != nil || t == nil {
			return nil, err
		}
		return out, nil
	case avro.Record:
		if t != nil && t.Kind != types.Struct {
			return nil, mismatch()
		}
		var out types.StructVal
		if t != nil {
			out = make(types.StructVal, len(t.Fields))
			for i, f := range t.Fields {
				out[i].Name = f.Name
			}
		}
		for _, wf := range s.(*avro.RecordSchema).Fields() {
			var ft *types.Type
			idx := -1
			if t != nil {
				var f types.Field
				if f, idx = t.Field(wf.Name()); idx >= 0 {
					ft = &f.Type
				}
			}
			v, err := r.read(wf.Type(), ft, path+"."+wf.Name())
			if err != nil {
				return nil, err
			}
			if idx >= 0 {
				out[idx].Value = v
			}
		}
		if t == nil {
			return nil, nil
		}
		return out, nil
	}
	return nil, fmt.Errorf("%sunsupported Avro type %s", pathPrefix(path), s.Type())
}

// blocks reads Avro array or map blocks, calling item for each entry.
func (r *avroReader) blocks(item func() error) error {
	for {
		n, err := r.long()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 { // a negative count is followed by the block's size in bytes
			n = -n
			if _, err := r.long(); err != nil {
				return err
			}
		}
		if n > int64(len(r.b)-r.pos) {
			return errShort
		}
		for range n {
			if err := item(); err != nil {
				return err
			}
		}
	}
}

func convertAvroInt(n int64, s avro.Schema, t *types.Type, mismatch func() error) (types.Value, error) {
	var lt avro.LogicalType
	if l := logicalOf(s); l != nil {
		lt = l.Type()
	}
	switch {
	case lt == avro.Date && t.Kind == types.Date:
		return types.DateVal(n), nil
	case lt == avro.TimeMillis && t.Kind == types.Time:
		return types.TimeVal(n), nil
	case lt == avro.TimeMicros && t.Kind == types.Time:
		return types.TimeVal(n / 1000), nil
	case (lt == avro.TimestampMillis || lt == avro.LocalTimestampMillis) && t.Kind == types.Timestamp:
		return types.TimestampVal(n), nil
	case (lt == avro.TimestampMicros || lt == avro.LocalTimestampMicros) && t.Kind == types.Timestamp:
		return types.TimestampVal(floorDiv(n, 1000)), nil
	case t.Kind == types.Int && s.Type() == avro.Int:
		return int32(n), nil
	case t.Kind == types.Bigint:
		return n, nil
	case t.Kind == types.Double:
		return float64(n), nil
	}
	return nil, mismatch()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func pathPrefix(path string) string {
	if path == "" {
		return ""
	}
	return strings.TrimPrefix(path, ".") + ": "
}

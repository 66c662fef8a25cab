package converters

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// appendAvro encodes a Connect value with an Avro schema (ours or the
// subject's latest): records take struct fields by name.
func appendAvro(b []byte, s avro.Schema, v any, path string) ([]byte, error) {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		return appendUnion(b, u, v, path)
	}
	if v == nil {
		return nil, fmt.Errorf("%snull for non-nullable Avro %s", where(path), s.Type())
	}
	if l := logicalOf(s); l != nil {
		switch l.Type() {
		case avro.Decimal:
			d, err := decOf(v, l.(*avro.DecimalLogicalSchema).Scale())
			if err != nil {
				return nil, fmt.Errorf("%s%w", where(path), err)
			}
			raw := twosComplement(d.Unscaled)
			if f, ok := s.(*avro.FixedSchema); ok {
				if len(raw) > f.Size() {
					return nil, fmt.Errorf("%sdecimal %s does not fit fixed(%d)", where(path), d, f.Size())
				}
				pad := byte(0)
				if d.Unscaled.Sign() < 0 {
					pad = 0xff
				}
				for len(raw) < f.Size() {
					raw = append([]byte{pad}, raw...)
				}
				return append(b, raw...), nil
			}
			b = binary.AppendVarint(b, int64(len(raw)))
			return append(b, raw...), nil
		case avro.Date, avro.TimeMillis, avro.TimestampMillis, avro.TimeMicros, avro.TimestampMicros:
			if t, ok := v.(time.Time); ok {
				var n int64
				switch l.Type() {
				case avro.Date:
					n = floorDiv(t.UnixMilli(), epochDay)
				case avro.TimeMillis:
					n = t.UnixMilli() - floorDiv(t.UnixMilli(), epochDay)*epochDay
				case avro.TimestampMillis:
					n = t.UnixMilli()
				case avro.TimeMicros:
					n = t.UnixMicro() - floorDiv(t.UnixMicro(), epochDay*1000)*epochDay*1000
				default:
					n = t.UnixMicro()
				}
				return binary.AppendVarint(b, n), nil
			}
		}
	}
	bad := func() error { return fmt.Errorf("%sAvro %s cannot hold %T", where(path), s.Type(), v) }
	switch x := s.(type) {
	case *avro.PrimitiveSchema:
		switch x.Type() {
		case avro.Int, avro.Long:
			n, ok := connect.AsInt64(v)
			if !ok {
				return nil, bad()
			}
			if x.Type() == avro.Int && (n < math.MinInt32 || n > math.MaxInt32) {
				return nil, fmt.Errorf("%svalue %d out of range for Avro int", where(path), n)
			}
			return binary.AppendVarint(b, n), nil
		case avro.Float:
			f, ok := asFloat64(v)
			if !ok {
				return nil, bad()
			}
			return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f))), nil
		case avro.Double:
			f, ok := asFloat64(v)
			if !ok {
				return nil, bad()
			}
			return binary.LittleEndian.AppendUint64(b, math.Float64bits(f)), nil
		case avro.Boolean:
			t, ok := v.(bool)
			if !ok {
				return nil, bad()
			}
			if t {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		case avro.String:
			str, ok := v.(string)
			if !ok {
				return nil, bad()
			}
			b = binary.AppendVarint(b, int64(len(str)))
			return append(b, str...), nil
		case avro.Bytes:
			raw, ok := v.([]byte)
			if !ok {
				return nil, bad()
			}
			b = binary.AppendVarint(b, int64(len(raw)))
			return append(b, raw...), nil
		}
	case *avro.EnumSchema:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		for i, sym := range x.Symbols() {
			if sym == str {
				return binary.AppendVarint(b, int64(i)), nil
			}
		}
		return nil, fmt.Errorf("%s%q is not a symbol of enum %s", where(path), str, x.FullName())
	case *avro.FixedSchema:
		raw, ok := v.([]byte)
		if !ok || len(raw) != x.Size() {
			return nil, fmt.Errorf("%sAvro fixed(%d) needs %d bytes, got %T", where(path), x.Size(), x.Size(), v)
		}
		return append(b, raw...), nil
	case *avro.ArraySchema:
		if m, ok := v.(map[any]any); ok {
			return appendMapEntries(b, x, m, path)
		}
		xs, ok := v.([]any)
		if !ok {
			return nil, bad()
		}
		var err error
		if len(xs) > 0 {
			b = binary.AppendVarint(b, int64(len(xs)))
			for i, e := range xs {
				if b, err = appendAvro(b, x.Items(), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return nil, err
				}
			}
		}
		return append(b, 0), nil
	case *avro.MapSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, bad()
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var err error
		if len(keys) > 0 {
			b = binary.AppendVarint(b, int64(len(keys)))
			for _, k := range keys {
				b = binary.AppendVarint(b, int64(len(k)))
				b = append(b, k...)
				if b, err = appendAvro(b, x.Values(), m[k], joinPath(path, k)); err != nil {
					return nil, err
				}
			}
		}
		return append(b, 0), nil
	case *avro.RecordSchema:
		sv, ok := v.(*connect.StructValue)
		if !ok {
			return nil, bad()
		}
		var err error
		for _, f := range x.Fields() {
			var fv any
			_, i, ok := sv.Schema.Field(f.Name())
			if !ok { // the Avro name may be the sanitized Connect name ("a.b" -> "a_b")
				for j, cf := range sv.Schema.Fields {
					if avroName(cf.Name) == f.Name() {
						i, ok = j, true
						break
					}
				}
			}
			if ok {
				fv = sv.Values[i]
				if fv == nil {
					fv = sv.Schema.Fields[i].Schema.Default
				}
			} else if f.HasDefault() {
				fv = f.Default()
			}
			if b, err = appendAvro(b, f.Type(), fv, joinPath(path, f.Name())); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, bad()
}

func appendUnion(b []byte, u *avro.UnionSchema, v any, path string) ([]byte, error) {
	branches := u.Types()
	if v == nil {
		for i, t := range branches {
			if t.Type() == avro.Null {
				return binary.AppendVarint(b, int64(i)), nil
			}
		}
		return nil, fmt.Errorf("%snull for a union without null", where(path))
	}
	// A Union struct (read from a general union) names its branch.
	if sv, ok := v.(*connect.StructValue); ok && sv.Schema.Name == unionRecord {
		for i, f := range sv.Schema.Fields {
			if sv.Values[i] == nil {
				continue
			}
			for j, t := range branches {
				if unionBranchName(t) == f.Name {
					return appendAvro(binary.AppendVarint(b, int64(j)), t, sv.Values[i], path)
				}
			}
		}
	}
	var firstErr error
	for i, t := range branches {
		if t.Type() == avro.Null {
			continue
		}
		out, err := appendAvro(binary.AppendVarint(b, int64(i)), t, v, path)
		if err == nil {
			return out, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func appendMapEntries(b []byte, a *avro.ArraySchema, m map[any]any, path string) ([]byte, error) {
	rec, ok := deref(a.Items()).(*avro.RecordSchema)
	if !ok || !isMapEntry(rec) {
		return nil, fmt.Errorf("%sa map with non-string keys needs an array of MapEntry records", where(path))
	}
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	var err error
	if len(keys) > 0 {
		b = binary.AppendVarint(b, int64(len(keys)))
		for _, k := range keys {
			if b, err = appendAvro(b, rec.Fields()[0].Type(), k, path+"<key>"); err != nil {
				return nil, err
			}
			if b, err = appendAvro(b, rec.Fields()[1].Type(), m[k], fmt.Sprintf("%s[%v]", path, k)); err != nil {
				return nil, err
			}
		}
	}
	return append(b, 0), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// avroReader decodes Avro binary into Connect values.
type avroReader struct{ b []byte }

var errTruncated = errors.New("truncated Avro data")

func (r *avroReader) long() (int64, error) {
	n, k := binary.Varint(r.b)
	if k <= 0 {
		return 0, errTruncated
	}
	r.b = r.b[k:]
	return n, nil
}

func (r *avroReader) fixed(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(r.b)) {
		return nil, errTruncated
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out, nil
}

func (r *avroReader) bytes() ([]byte, error) {
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	return r.fixed(n)
}

// blocks reads array or map blocks, calling item for each element.
func (r *avroReader) blocks(item func() error) error {
	for {
		n, err := r.long()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			n = -n
			if _, err := r.long(); err != nil { // block size in bytes
				return err
			}
		}
		for ; n > 0; n-- {
			if err := item(); err != nil {
				return err
			}
		}
	}
}

// read decodes a value of Avro schema s whose Connect schema is cs.
func (r *avroReader) read(s avro.Schema, cs *connect.Schema, path string) (any, error) {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(u.Types()) {
			return nil, fmt.Errorf("%sunion branch %d out of range", where(path), i)
		}
		t := u.Types()[i]
		if t.Type() == avro.Null {
			return nil, nil
		}
		if cs.Name == unionRecord {
			sv := connect.NewStruct(cs)
			_, fi, _ := cs.Field(unionBranchName(t))
			v, err := r.read(t, cs.Fields[fi].Schema, path)
			if err != nil {
				return nil, err
			}
			sv.Values[fi] = v
			return sv, nil
		}
		return r.read(t, cs, path)
	}
	if l := logicalOf(s); l != nil {
		switch l.Type() {
		case avro.Decimal:
			var raw []byte
			var err error
			if f, ok := s.(*avro.FixedSchema); ok {
				raw, err = r.fixed(int64(f.Size()))
			} else {
				raw, err = r.bytes()
			}
			if err != nil {
				return nil, err
			}
			return types.Dec{Unscaled: fromTwosComplement(raw), Scale: l.(*avro.DecimalLogicalSchema).Scale()}, nil
		case avro.Date, avro.TimeMillis, avro.TimestampMillis:
			n, err := r.long()
			if err != nil {
				return nil, err
			}
			switch l.Type() {
			case avro.Date:
				return intToLogical(connect.DateName, n), nil
			case avro.TimeMillis:
				return intToLogical(connect.TimeName, n), nil
			}
			return intToLogical(connect.TimestampName, n), nil
		}
	}
	switch x := s.(type) {
	case *avro.PrimitiveSchema:
		switch x.Type() {
		case avro.Int, avro.Long:
			n, err := r.long()
			if err != nil {
				return nil, err
			}
			return typedInt(cs.Type, n), nil
		case avro.Float:
			raw, err := r.fixed(4)
			if err != nil {
				return nil, err
			}
			return math.Float32frombits(binary.LittleEndian.Uint32(raw)), nil
		case avro.Double:
			raw, err := r.fixed(8)
			if err != nil {
				return nil, err
			}
			return math.Float64frombits(binary.LittleEndian.Uint64(raw)), nil
		case avro.Boolean:
			raw, err := r.fixed(1)
			if err != nil {
				return nil, err
			}
			return raw[0] != 0, nil
		case avro.String:
			raw, err := r.bytes()
			if err != nil {
				return nil, err
			}
			return string(raw), nil
		case avro.Bytes:
			raw, err := r.bytes()
			if err != nil {
				return nil, err
			}
			return append([]byte{}, raw...), nil
		case avro.Null:
			return nil, nil
		}
	case *avro.EnumSchema:
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(x.Symbols()) {
			return nil, fmt.Errorf("%senum index %d out of range", where(path), i)
		}
		return x.Symbols()[i], nil
	case *avro.FixedSchema:
		raw, err := r.fixed(int64(x.Size()))
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), raw...), nil
	case *avro.ArraySchema:
		if cs.Type == connect.Map {
			rec := deref(x.Items()).(*avro.RecordSchema)
			out := map[any]any{}
			err := r.blocks(func() error {
				k, err := r.read(rec.Fields()[0].Type(), cs.Key, path+"<key>")
				if err != nil {
					return err
				}
				v, err := r.read(rec.Fields()[1].Type(), cs.Value, fmt.Sprintf("%s[%v]", path, k))
				if err != nil {
					return err
				}
				if !comparable(k) {
					return fmt.Errorf("%smap key of type %T cannot be a Go map key", where(path), k)
				}
				out[k] = v
				return nil
			})
			return out, err
		}
		out := []any{}
		err := r.blocks(func() error {
			v, err := r.read(x.Items(), cs.Value, fmt.Sprintf("%s[%d]", path, len(out)))
			out = append(out, v)
			return err
		})
		return out, err
	case *avro.MapSchema:
		out := map[string]any{}
		err := r.blocks(func() error {
			k, err := r.bytes()
			if err != nil {
				return err
			}
			v, err := r.read(x.Values(), cs.Value, joinPath(path, string(k)))
			out[string(k)] = v
			return err
		})
		return out, err
	case *avro.RecordSchema:
		sv := connect.NewStruct(cs)
		for i, f := range x.Fields() {
			v, err := r.read(f.Type(), cs.Fields[i].Schema, joinPath(path, f.Name()))
			if err != nil {
				return nil, err
			}
			sv.Values[i] = v
		}
		return sv, nil
	}
	return nil, fmt.Errorf("%sunsupported Avro type %s", where(path), s.Type())
}

package funcs

// The state codec writes an aggregate's state, a value of its State type,
// to bytes for the changelog topic and reads it back. The format is
//
//	version byte (1), then the value:
//	  every value: 0 for NULL, or 1 and its body
//	  BOOLEAN 1 byte; INT, BIGINT, DATE, TIME, TIMESTAMP zig-zag varint;
//	  DOUBLE 8 bytes big-endian IEEE 754; STRING, BYTES uvarint length and
//	  bytes; DECIMAL varint scale, then the unscaled value as a sign byte
//	  (0 zero, 1 positive, 2 negative) and length-prefixed big-endian
//	  magnitude; ARRAY uvarint count and elements; MAP uvarint count and
//	  (key, value) pairs sorted by key; STRUCT its fields in type order.
//
// The type is not written: the reader knows it from the query. The same
// state gives the same bytes (map keys are sorted), so changelog
// compaction and tests can compare states as bytes. A later format gets a
// new version byte and the reader keeps reading version 1.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"sort"

	"github.com/sluicedata/sluice/sql/types"
)

// StateFormatVersion is the version byte written by MarshalState.
const StateFormatVersion = 1

// MarshalState serializes a state of a.
func (a *Aggregate) MarshalState(s types.Value) ([]byte, error) {
	out, err := appendValue([]byte{StateFormatVersion}, a.State, s)
	if err != nil {
		return nil, fmt.Errorf("function %s: state: %w", a.Function.Name, err)
	}
	return out, nil
}

// UnmarshalState reads a state written by MarshalState.
func (a *Aggregate) UnmarshalState(b []byte) (types.Value, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("function %s: state: empty", a.Function.Name)
	}
	if b[0] != StateFormatVersion {
		return nil, fmt.Errorf("function %s: state: unknown format version %d", a.Function.Name, b[0])
	}
	d := &decoder{b: b[1:]}
	v, err := d.value(a.State)
	if err == nil && len(d.b) > 0 {
		err = fmt.Errorf("%d bytes left after the value", len(d.b))
	}
	if err != nil {
		return nil, fmt.Errorf("function %s: state: %w", a.Function.Name, err)
	}
	return v, nil
}

func appendValue(b []byte, t types.Type, v types.Value) ([]byte, error) {
	if v == nil {
		return append(b, 0), nil
	}
	b = append(b, 1)
	bad := func() ([]byte, error) { return nil, fmt.Errorf("%T is not a %s value", v, t) }
	switch t.Kind {
	case types.Boolean:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		if x {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case types.Int:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		return binary.AppendVarint(b, int64(x)), nil
	case types.Bigint:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		return binary.AppendVarint(b, x), nil
	case types.Date:
		x, ok := v.(types.DateVal)
		if !ok {
			return bad()
		}
		return binary.AppendVarint(b, int64(x)), nil
	case types.Time:
		x, ok := v.(types.TimeVal)
		if !ok {
			return bad()
		}
		return binary.AppendVarint(b, int64(x)), nil
	case types.Timestamp:
		x, ok := v.(types.TimestampVal)
		if !ok {
			return bad()
		}
		return binary.AppendVarint(b, int64(x)), nil
	case types.Double:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		return binary.BigEndian.AppendUint64(b, math.Float64bits(x)), nil
	case types.String:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		return append(binary.AppendUvarint(b, uint64(len(x))), x...), nil
	case types.Bytes:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		return append(binary.AppendUvarint(b, uint64(len(x))), x...), nil
	case types.Decimal:
		x, ok := v.(types.Dec)
		if !ok || x.Unscaled == nil {
			return bad()
		}
		b = binary.AppendVarint(b, int64(x.Scale))
		switch x.Unscaled.Sign() {
		case 0:
			return append(b, 0), nil
		case 1:
			b = append(b, 1)
		default:
			b = append(b, 2)
		}
		mag := new(big.Int).Abs(x.Unscaled).Bytes()
		return append(binary.AppendUvarint(b, uint64(len(mag))), mag...), nil
	case types.Array:
		x, ok := v.([]types.Value)
		if !ok {
			return bad()
		}
		b = binary.AppendUvarint(b, uint64(len(x)))
		var err error
		for _, e := range x {
			if b, err = appendValue(b, *t.Elem, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	case types.Map:
		x, ok := v.(map[string]types.Value)
		if !ok {
			return bad()
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = binary.AppendUvarint(b, uint64(len(keys)))
		var err error
		for _, k := range keys {
			b = append(binary.AppendUvarint(b, uint64(len(k))), k...)
			if b, err = appendValue(b, *t.Elem, x[k]); err != nil {
				return nil, err
			}
		}
		return b, nil
	case types.Struct:
		x, ok := v.(types.StructVal)
		if !ok || len(x) != len(t.Fields) {
			return bad()
		}
		var err error
		for i, f := range t.Fields {
			if b, err = appendValue(b, f.Type, x[i].Value); err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("no encoding for type %s", t)
}

type decoder struct {
	b []byte
	// shared, when set (ValueDecoder), cuts strings from one copy of the
	// whole buffer read.
	shared types.TextCopy
}

var errShort = fmt.Errorf("truncated state")

func (d *decoder) byte() (byte, error) {
	if len(d.b) == 0 {
		return 0, errShort
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c, nil
}

func (d *decoder) varint() (int64, error) {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		return 0, errShort
	}
	d.b = d.b[n:]
	return x, nil
}

// length reads a count or size, bounded by the bytes left so a corrupt
// state cannot make the reader allocate without limit.
func (d *decoder) length() (int, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errShort
	}
	d.b = d.b[n:]
	if x > uint64(len(d.b)) {
		return 0, fmt.Errorf("length %d exceeds the %d bytes left", x, len(d.b))
	}
	return int(x), nil
}

func (d *decoder) bytes() ([]byte, error) {
	x, err := d.raw()
	if err != nil {
		return nil, err
	}
	return append([]byte{}, x...), nil
}

// raw reads length-prefixed bytes and returns them in place.
func (d *decoder) raw() ([]byte, error) {
	n, err := d.length()
	if err != nil {
		return nil, err
	}
	x := d.b[:n]
	d.b = d.b[n:]
	return x, nil
}

// str reads a string: a substring of the shared copy when there is one,
// else a copy of its own.
func (d *decoder) str() (string, error) {
	x, err := d.raw()
	if err != nil {
		return "", err
	}
	if s, ok := d.shared.String(x); ok {
		return s, nil
	}
	return string(x), nil
}

func (d *decoder) value(t types.Type) (types.Value, error) {
	present, err := d.byte()
	if err != nil || present == 0 {
		return nil, err
	}
	if present != 1 {
		return nil, fmt.Errorf("bad NULL marker %d", present)
	}
	switch t.Kind {
	case types.Boolean:
		c, err := d.byte()
		return c == 1, err
	case types.Int, types.Bigint, types.Date, types.Time, types.Timestamp:
		x, err := d.varint()
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case types.Int:
			if x != int64(int32(x)) {
				return nil, fmt.Errorf("INT out of range: %d", x)
			}
			return int32(x), nil
		case types.Date:
			return types.DateVal(x), nil
		case types.Time:
			if x < 0 || x >= types.MillisPerDay {
				return nil, fmt.Errorf("TIME out of range: %d", x)
			}
			return types.TimeVal(x), nil
		case types.Timestamp:
			return types.TimestampVal(x), nil
		}
		return x, nil
	case types.Double:
		if len(d.b) < 8 {
			return nil, errShort
		}
		x := math.Float64frombits(binary.BigEndian.Uint64(d.b))
		d.b = d.b[8:]
		return x, nil
	case types.String:
		return d.str()
	case types.Bytes:
		return d.bytes()
	case types.Decimal:
		scale, err := d.varint()
		if err != nil {
			return nil, err
		}
		sign, err := d.byte()
		if err != nil {
			return nil, err
		}
		u := new(big.Int)
		if sign != 0 {
			mag, err := d.bytes()
			if err != nil {
				return nil, err
			}
			u.SetBytes(mag)
			if sign == 2 {
				u.Neg(u)
			}
		}
		d := types.Dec{Unscaled: u, Scale: int(scale)}
		// A DECIMAL(p, s) value has scale s exactly; checking that first
		// keeps a corrupt scale from costing a huge rescale.
		if scale != int64(t.Scale) {
			return nil, fmt.Errorf("%s value with scale %d", t, scale)
		}
		if err := types.Check(t, d); err != nil {
			return nil, err
		}
		return d, nil
	case types.Array:
		n, err := d.length()
		if err != nil {
			return nil, err
		}
		out := make([]types.Value, n)
		for i := range out {
			if out[i], err = d.value(*t.Elem); err != nil {
				return nil, err
			}
		}
		return out, nil
	case types.Map:
		n, err := d.length()
		if err != nil {
			return nil, err
		}
		out := make(map[string]types.Value, n)
		for range n {
			k, err := d.bytes()
			if err != nil {
				return nil, err
			}
			if out[string(k)], err = d.value(*t.Elem); err != nil {
				return nil, err
			}
		}
		return out, nil
	case types.Struct:
		out := make(types.StructVal, len(t.Fields))
		for i, f := range t.Fields {
			v, err := d.value(f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			out[i] = types.FieldValue{Name: f.Name, Value: v}
		}
		return out, nil
	}
	return nil, fmt.Errorf("no encoding for type %s", t)
}

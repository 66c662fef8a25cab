package converters

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// Helpers shared by the converters: reading Go values of a Connect schema
// leniently (any Go integer type for an integer schema, as transforms and
// connectors may hand over int) and the logical-type encodings Kafka uses.

// epochDay is the length of a day in milliseconds.
const epochDay = 24 * 60 * 60 * 1000

// asFloat64 reads any Go number as a float64.
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

// intOf checks that v is an integer fitting schema type t and returns it.
func intOf(t connect.SchemaType, v any) (int64, error) {
	n, ok := connect.AsInt64(v)
	if !ok {
		return 0, fmt.Errorf("expected %s, got %T", t, v)
	}
	var lo, hi int64
	switch t {
	case connect.Int8:
		lo, hi = math.MinInt8, math.MaxInt8
	case connect.Int16:
		lo, hi = math.MinInt16, math.MaxInt16
	case connect.Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	default:
		lo, hi = math.MinInt64, math.MaxInt64
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("value %d out of range for %s", n, t)
	}
	return n, nil
}

// typedInt returns n as the Go type of schema type t.
func typedInt(t connect.SchemaType, n int64) any {
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

// decimalScale is the scale parameter of a Decimal schema.
func decimalScale(s *connect.Schema) (int, error) {
	p, ok := s.Parameters["scale"]
	if !ok {
		return 0, fmt.Errorf("decimal schema %q has no scale parameter", s.Name)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return 0, fmt.Errorf("decimal schema scale %q is not an integer", p)
	}
	return n, nil
}

// decOf reads a decimal value and rescales it to the schema's scale, as
// Kafka's Decimal.fromLogical refuses a BigDecimal of another scale.
func decOf(v any, scale int) (types.Dec, error) {
	var d types.Dec
	switch x := v.(type) {
	case types.Dec:
		d = x
	case *types.Dec:
		d = *x
	case string:
		var err error
		if d, err = types.ParseDec(x); err != nil {
			return d, err
		}
	default:
		if n, ok := connect.AsInt64(v); ok {
			d = types.NewDec(n, 0)
		} else {
			return d, fmt.Errorf("expected a decimal (types.Dec), got %T", v)
		}
	}
	if d.Unscaled == nil {
		return d, fmt.Errorf("decimal without unscaled value")
	}
	if d.Scale != scale {
		r, ok := d.Rescale(scale)
		if !ok {
			return d, fmt.Errorf("decimal %s does not fit scale %d", d, scale)
		}
		d = r
	}
	return d, nil
}

// twosComplement is x as big-endian two's complement in the fewest bytes, as
// Java's BigInteger.toByteArray writes it.
func twosComplement(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -x-1 has the complemented bits of x.
	n := new(big.Int).Neg(x)
	n.Sub(n, big.NewInt(1))
	b := n.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

// fromTwosComplement reads big-endian two's complement bytes.
func fromTwosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	return x
}

// timeOf reads a Date/Time/Timestamp value.
func timeOf(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case *time.Time:
		return *x, nil
	}
	return time.Time{}, fmt.Errorf("expected a time.Time, got %T", v)
}

// logicalToInt turns a Date, Time or Timestamp into the integer Kafka
// stores: days since the epoch, milliseconds of the day, milliseconds since
// the epoch.
func logicalToInt(name string, v any) (int64, error) {
	t, err := timeOf(v)
	if err != nil {
		return 0, err
	}
	ms := t.UnixMilli()
	switch name {
	case connect.DateName:
		if ms%epochDay != 0 {
			return 0, fmt.Errorf("Date %s has a time component; a Connect Date must be midnight UTC", t.UTC().Format(time.RFC3339Nano))
		}
		return ms / epochDay, nil
	case connect.TimeName:
		if ms < 0 || ms >= epochDay {
			return 0, fmt.Errorf("Time %s must be on 1970-01-01 (milliseconds of the day)", t.UTC().Format(time.RFC3339Nano))
		}
		return ms, nil
	}
	return ms, nil
}

// intToLogical is the inverse of logicalToInt.
func intToLogical(name string, n int64) time.Time {
	if name == connect.DateName {
		return time.UnixMilli(n * epochDay).UTC()
	}
	return time.UnixMilli(n).UTC()
}

// logicalName returns the Kafka logical type of s ("" if none) whose
// physical type matches, so a Decimal name on an int64 is not misread.
func logicalName(s *connect.Schema) string {
	switch {
	case s.Name == connect.DecimalName && s.Type == connect.Bytes,
		s.Name == connect.DateName && s.Type == connect.Int32,
		s.Name == connect.TimeName && s.Type == connect.Int32,
		s.Name == connect.TimestampName && s.Type == connect.Int64:
		return s.Name
	}
	return ""
}

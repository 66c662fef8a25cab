package types

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// Value is a SQL value. Each type has one Go representation:
//
//	BOOLEAN      bool
//	INT          int32
//	BIGINT       int64
//	DOUBLE       float64
//	DECIMAL      Dec (unscaled big.Int and scale)
//	STRING       string
//	BYTES        []byte
//	DATE         DateVal (days since 1970-01-01)
//	TIME         TimeVal (milliseconds since midnight)
//	TIMESTAMP    TimestampVal (milliseconds since the Unix epoch, UTC)
//	ARRAY<T>     []Value
//	MAP<STRING,T> map[string]Value
//	STRUCT<...>  StructVal (fields in declared order)
//
// NULL is nil, at any level. Check tells whether a value fits a type.
type Value = any

// DateVal is a DATE: days since 1970-01-01 (negative before).
type DateVal int32

// TimeVal is a TIME: milliseconds since midnight, 0 to 86399999. ksqlDB's TIME
// has millisecond precision.
type TimeVal int32

// TimestampVal is a TIMESTAMP: milliseconds since 1970-01-01T00:00:00Z.
type TimestampVal int64

// MillisPerDay bounds TimeVal.
const MillisPerDay = 24 * 60 * 60 * 1000

// Time returns the date as midnight UTC.
func (d DateVal) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

func (d DateVal) String() string { return d.Time().Format("2006-01-02") }

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) DateVal {
	y, m, d := t.Date()
	return DateVal(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Duration returns the time of day as a duration since midnight.
func (t TimeVal) Duration() time.Duration { return time.Duration(t) * time.Millisecond }

func (t TimeVal) String() string {
	return time.UnixMilli(int64(t)).UTC().Format("15:04:05.000")
}

// Time returns the timestamp in UTC.
func (t TimestampVal) Time() time.Time { return time.UnixMilli(int64(t)).UTC() }

func (t TimestampVal) String() string { return t.Time().Format("2006-01-02T15:04:05.000") }

// TimestampOf truncates t to milliseconds.
func TimestampOf(t time.Time) TimestampVal { return TimestampVal(t.UnixMilli()) }

// Dec is a DECIMAL value: Unscaled × 10^-Scale. The scale is part of the
// value (1.10 and 1.1 differ), as in Java's BigDecimal, so formats that carry
// it keep it.
type Dec struct {
	Unscaled *big.Int
	Scale    int
}

// NewDec is unscaled × 10^-scale.
func NewDec(unscaled int64, scale int) Dec { return Dec{Unscaled: big.NewInt(unscaled), Scale: scale} }

// ParseDec reads a plain decimal number such as "-12.340" or "7"; the scale
// is the number of digits after the point. Exponents ("1e3") are accepted and
// give a scale of max(0, digits - exponent).
func ParseDec(s string) (Dec, error) {
	orig := s
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		var err error
		if _, err = fmt.Sscanf(s[i+1:], "%d", &exp); err != nil {
			return Dec{}, fmt.Errorf("invalid decimal %q", orig)
		}
		s = s[:i]
	}
	scale := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		scale = len(s) - i - 1
		s = s[:i] + s[i+1:]
	}
	if s == "" || s == "-" || s == "+" || strings.ContainsAny(s, " _") {
		return Dec{}, fmt.Errorf("invalid decimal %q", orig)
	}
	u, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return Dec{}, fmt.Errorf("invalid decimal %q", orig)
	}
	scale -= exp
	if scale < 0 {
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
		scale = 0
	}
	return Dec{Unscaled: u, Scale: scale}, nil
}

// MustDec is ParseDec for tests; it panics on error.
func MustDec(s string) Dec {
	d, err := ParseDec(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String prints d without exponent, keeping its scale ("1.10").
func (d Dec) String() string {
	if d.Unscaled == nil {
		return "<nil>"
	}
	s := new(big.Int).Abs(d.Unscaled).String()
	if d.Scale > 0 {
		if len(s) <= d.Scale {
			s = strings.Repeat("0", d.Scale-len(s)+1) + s
		}
		s = s[:len(s)-d.Scale] + "." + s[len(s)-d.Scale:]
	} else if d.Scale < 0 {
		s += strings.Repeat("0", -d.Scale)
	}
	if d.Unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// Rescale returns d with the given scale. ok is false when that would drop
// non-zero digits.
func (d Dec) Rescale(scale int) (Dec, bool) {
	if scale == d.Scale {
		return d, true
	}
	u := new(big.Int).Set(d.Unscaled)
	if scale > d.Scale {
		u.Mul(u, pow10(scale-d.Scale))
		return Dec{u, scale}, true
	}
	q, r := new(big.Int).QuoRem(u, pow10(d.Scale-scale), new(big.Int))
	return Dec{q, scale}, r.Sign() == 0
}

// Precision is the number of digits of the unscaled value (1 for zero).
func (d Dec) Precision() int {
	if d.Unscaled.IsInt64() {
		// Most decimals fit an int64: count digits without formatting.
		n := d.Unscaled.Int64()
		if n < 0 {
			if n == math.MinInt64 {
				return 19
			}
			n = -n
		}
		p := 1
		for n >= 10 {
			n /= 10
			p++
		}
		return p
	}
	s := new(big.Int).Abs(d.Unscaled).String()
	return len(s)
}

// Rat returns d as a rational number.
func (d Dec) Rat() *big.Rat {
	r := new(big.Rat).SetInt(d.Unscaled)
	if d.Scale > 0 {
		return r.Quo(r, new(big.Rat).SetInt(pow10(d.Scale)))
	}
	return r.Mul(r, new(big.Rat).SetInt(pow10(-d.Scale)))
}

// Float64 is the nearest float64 to d.
func (d Dec) Float64() float64 { f, _ := d.Rat().Float64(); return f }

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// StructVal is a STRUCT value: field values in the order of the type's fields.
type StructVal []FieldValue

// FieldValue is one field of a Struct.
type FieldValue struct {
	Name  string
	Value Value
}

// Get returns the value of the field named name (exact match) and whether it
// exists.
func (s StructVal) Get(name string) (Value, bool) {
	for _, f := range s {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// Check reports whether v is a valid value of type t: the Go representation
// matches, DECIMALs fit precision and scale exactly, TIME is within a day,
// STRUCT values have the type's fields in order. nil (NULL) fits every type.
func Check(t Type, v Value) error {
	if v == nil {
		return nil
	}
	bad := func() error { return fmt.Errorf("%T is not a %s value", v, t) }
	switch t.Kind {
	case Boolean:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case Int:
		if _, ok := v.(int32); !ok {
			return bad()
		}
	case Bigint:
		if _, ok := v.(int64); !ok {
			return bad()
		}
	case Double:
		if _, ok := v.(float64); !ok {
			return bad()
		}
	case Decimal:
		d, ok := v.(Dec)
		if !ok || d.Unscaled == nil {
			return bad()
		}
		if d.Scale != t.Scale {
			return fmt.Errorf("decimal %s has scale %d, want %s", d, d.Scale, t)
		}
		if d.Precision() > t.Precision {
			return fmt.Errorf("decimal %s does not fit %s", d, t)
		}
	case String:
		if _, ok := v.(string); !ok {
			return bad()
		}
	case Bytes:
		if _, ok := v.([]byte); !ok {
			return bad()
		}
	case Date:
		if _, ok := v.(DateVal); !ok {
			return bad()
		}
	case Time:
		tv, ok := v.(TimeVal)
		if !ok {
			return bad()
		}
		if tv < 0 || tv >= MillisPerDay {
			return fmt.Errorf("time %d ms is outside a day", int32(tv))
		}
	case Timestamp:
		if _, ok := v.(TimestampVal); !ok {
			return bad()
		}
	case Array:
		a, ok := v.([]Value)
		if !ok {
			return bad()
		}
		for i, e := range a {
			if err := Check(*t.Elem, e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case Map:
		m, ok := v.(map[string]Value)
		if !ok {
			return bad()
		}
		for k, e := range m {
			if err := Check(*t.Elem, e); err != nil {
				return fmt.Errorf("[%q]: %w", k, err)
			}
		}
	case Struct:
		s, ok := v.(StructVal)
		if !ok {
			return bad()
		}
		if len(s) != len(t.Fields) {
			return fmt.Errorf("struct has %d fields, want %d for %s", len(s), len(t.Fields), t)
		}
		for i, f := range t.Fields {
			if s[i].Name != f.Name {
				return fmt.Errorf("struct field %d is %q, want %q", i, s[i].Name, f.Name)
			}
			if err := Check(f.Type, s[i].Value); err != nil {
				return fmt.Errorf("%s: %w", QuoteIdent(f.Name), err)
			}
		}
	default:
		return fmt.Errorf("invalid type %s", t)
	}
	return nil
}

// Equal reports whether a and b are the same value: decimals by unscaled
// value and scale, doubles bit for bit (so NaN equals NaN), structs field by
// field in order, NULL equal to NULL only.
func Equal(a, b Value) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch x := a.(type) {
	case Dec:
		y, ok := b.(Dec)
		return ok && x.Scale == y.Scale && x.Unscaled.Cmp(y.Unscaled) == 0
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []Value:
		y, ok := b.([]Value)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]Value:
		y, ok := b.(map[string]Value)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case StructVal:
		y, ok := b.(StructVal)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Name != y[i].Name || !Equal(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	}
	return a == b
}

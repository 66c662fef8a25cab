package funcs

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/types"
)

// ComparisonType is the type both sides of a comparison (=, <>, <, <=, >,
// >=, BETWEEN, IN) are converted to before comparing, as ksqlDB allows: the
// CommonType of numbers and of equal types; a STRING compared with a DATE,
// TIME or TIMESTAMP is read as that type (ISO text), and a DATE compared
// with a TIMESTAMP becomes midnight of that day. ok is false when the two
// cannot be compared.
func ComparisonType(a, b types.Type) (types.Type, bool) {
	if t, ok := CommonType(a, b); ok {
		return t, true
	}
	temporal := func(k types.Kind) bool { return k == types.Date || k == types.Time || k == types.Timestamp }
	switch {
	case a.Kind == types.String && temporal(b.Kind):
		return b, true
	case b.Kind == types.String && temporal(a.Kind):
		return a, true
	case a.Kind == types.Date && b.Kind == types.Timestamp, a.Kind == types.Timestamp && b.Kind == types.Date:
		return types.TimestampType, true
	}
	return types.Type{}, false
}

// Orderable reports whether values of t can be ordered (<, >, ARRAY_SORT,
// GREATEST): primitives only. ARRAYs, MAPs and STRUCTs support only
// equality.
func Orderable(t types.Type) bool { return t.Kind.Primitive() }

// Compare orders two non-NULL values of the same primitive type t: -1, 0
// or 1. Numbers compare by value (NaN above every other DOUBLE, as Java's
// Double.compare), strings by code point, bytes as unsigned bytes, false
// before true. It fails for complex types, which are only equal or not (see
// types.Equal), and for values that do not match t.
func Compare(a, b types.Value, t types.Type) (int, error) {
	if a == nil || b == nil {
		return 0, fmt.Errorf("compare: NULL has no order")
	}
	if !Orderable(t) {
		return 0, fmt.Errorf("compare: %s values cannot be ordered", t)
	}
	if err := types.Check(t, a); err != nil {
		return 0, fmt.Errorf("compare: %w", err)
	}
	if err := types.Check(t, b); err != nil {
		return 0, fmt.Errorf("compare: %w", err)
	}
	return compareValues(a, b), nil
}

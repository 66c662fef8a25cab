package funcs

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/sql/types"
)

// CommonType is the type two values are converted to when they meet (in
// arithmetic, comparisons, COALESCE, ARRAY[...] elements): numbers widen
// INT -> BIGINT -> DECIMAL -> DOUBLE, DECIMALs to the precision and scale
// that hold both, complex types element-wise; NULL takes the other type.
// ok is false when ksqlDB has no implicit conversion between them.
func CommonType(a, b types.Type) (types.Type, bool) {
	switch {
	case isNull(a):
		return b, true
	case isNull(b):
		return a, true
	case a.Equal(b):
		return a, true
	}
	na, nb := numeric(a.Kind), numeric(b.Kind)
	if na && nb {
		switch {
		case a.Kind == types.Double || b.Kind == types.Double:
			return types.DoubleType, true
		case a.Kind == types.Decimal || b.Kind == types.Decimal:
			da, db := asDecimal(a), asDecimal(b)
			scale := max(da.Scale, db.Scale)
			whole := max(da.Precision-da.Scale, db.Precision-db.Scale)
			return types.DecimalOf(min(whole+scale, types.MaxDecimalPrecision), scale), true
		default:
			return types.BigintType, true
		}
	}
	if a.Kind != b.Kind {
		return types.Type{}, false
	}
	switch a.Kind {
	case types.Array, types.Map:
		e, ok := CommonType(*a.Elem, *b.Elem)
		if !ok {
			return types.Type{}, false
		}
		if a.Kind == types.Array {
			return types.ArrayOf(e), true
		}
		return types.MapOf(e), true
	case types.Struct:
		if len(a.Fields) != len(b.Fields) {
			return types.Type{}, false
		}
		out := types.Type{Kind: types.Struct}
		for i := range a.Fields {
			if a.Fields[i].Name != b.Fields[i].Name {
				return types.Type{}, false
			}
			e, ok := CommonType(a.Fields[i].Type, b.Fields[i].Type)
			if !ok {
				return types.Type{}, false
			}
			out.Fields = append(out.Fields, types.F(a.Fields[i].Name, e))
		}
		return out, true
	}
	return types.Type{}, false
}

func numeric(k types.Kind) bool {
	return k == types.Int || k == types.Bigint || k == types.Decimal || k == types.Double
}

// DecimalArithType is the DECIMAL type of a op b for op one of + - * / %,
// with INT and BIGINT operands taken as DECIMAL(10, 0) and DECIMAL(19, 0).
// The rules are ksqlDB's (those of SQL Server):
//
//   - -  scale max(s1, s2), precision scale + max(p1-s1, p2-s2) + 1
//   - scale s1 + s2,      precision p1 + p2 + 1
//     /    scale max(6, s1 + p2 + 1), precision p1 - s1 + s2 + scale
//     %    scale max(s1, s2), precision min(p1-s1, p2-s2) + scale
func DecimalArithType(op byte, a, b types.Type) (types.Type, error) {
	a, b = asDecimal(a), asDecimal(b)
	if a.Kind != types.Decimal || b.Kind != types.Decimal {
		return types.Type{}, fmt.Errorf("decimal arithmetic on %s and %s", a, b)
	}
	p1, s1, p2, s2 := a.Precision, a.Scale, b.Precision, b.Scale
	var p, s int
	switch op {
	case '+', '-':
		s = max(s1, s2)
		p = s + max(p1-s1, p2-s2) + 1
	case '*':
		s = s1 + s2
		p = p1 + p2 + 1
	case '/':
		s = max(6, s1+p2+1)
		p = p1 - s1 + s2 + s
	case '%':
		s = max(s1, s2)
		p = min(p1-s1, p2-s2) + s
	default:
		return types.Type{}, fmt.Errorf("unknown arithmetic operator %q", op)
	}
	if p > types.MaxDecimalPrecision {
		return types.Type{}, fmt.Errorf("%s %c %s needs DECIMAL precision %d, more than the maximum %d", a, op, b, p, types.MaxDecimalPrecision)
	}
	return types.DecimalOf(max(p, 1), s), nil
}

// ArithType is the result type of a op b on numbers: DOUBLE if either is
// DOUBLE, DECIMAL (DecimalArithType) if either is DECIMAL, BIGINT if either
// is BIGINT, INT otherwise.
func ArithType(op byte, a, b types.Type) (types.Type, error) {
	if !numeric(a.Kind) && !isNull(a) || !numeric(b.Kind) && !isNull(b) {
		return types.Type{}, fmt.Errorf("operator %c is not defined for %s and %s", op, a, b)
	}
	if isNull(a) {
		a = b
	}
	if isNull(b) {
		b = a
	}
	switch {
	case a.Kind == types.Double || b.Kind == types.Double:
		return types.DoubleType, nil
	case a.Kind == types.Decimal || b.Kind == types.Decimal:
		return DecimalArithType(op, a, b)
	case a.Kind == types.Bigint || b.Kind == types.Bigint:
		return types.BigintType, nil
	}
	return types.IntType, nil
}

// Arith evaluates x op y of types tx and ty; the result has type
// ArithType(op, tx, ty). NULL operands give NULL. Integer arithmetic wraps
// around as Java's does; integer division or modulo by zero is an error,
// DOUBLE division by zero gives an infinity or NaN.
func Arith(op byte, x, y types.Value, tx, ty types.Type) (types.Value, error) {
	out, err := ArithType(op, tx, ty)
	if err != nil || x == nil || y == nil {
		return nil, err
	}
	if x, err = Cast(x, tx, out); err != nil {
		return nil, err
	}
	if out.Kind == types.Decimal {
		return decArith(op, x, y, tx, ty, out)
	}
	if y, err = Cast(y, ty, out); err != nil {
		return nil, err
	}
	switch a := x.(type) {
	case int32:
		b := y.(int32)
		switch op {
		case '+':
			return a + b, nil
		case '-':
			return a - b, nil
		case '*':
			return a * b, nil
		}
		if b == 0 {
			return nil, fmt.Errorf("/ by zero")
		}
		if op == '/' {
			return a / b, nil
		}
		return a % b, nil
	case int64:
		b := y.(int64)
		switch op {
		case '+':
			return a + b, nil
		case '-':
			return a - b, nil
		case '*':
			return a * b, nil
		}
		if b == 0 {
			return nil, fmt.Errorf("/ by zero")
		}
		if op == '/' {
			return a / b, nil
		}
		return a % b, nil
	case float64:
		b := y.(float64)
		switch op {
		case '+':
			return a + b, nil
		case '-':
			return a - b, nil
		case '*':
			return a * b, nil
		case '/':
			return a / b, nil
		}
		return math.Mod(a, b), nil
	}
	return nil, fmt.Errorf("operator %c on %T", op, x)
}

func decArith(op byte, x, y types.Value, tx, ty, out types.Type) (types.Value, error) {
	a, err := Cast(x, out, out)
	if err != nil {
		return nil, err
	}
	yd, err := Cast(y, ty, asDecimal(ty))
	if err != nil {
		return nil, err
	}
	ra, rb := a.(types.Dec).Rat(), yd.(types.Dec).Rat()
	r := new(big.Rat)
	switch op {
	case '+':
		r.Add(ra, rb)
	case '-':
		r.Sub(ra, rb)
	case '*':
		r.Mul(ra, rb)
	case '/', '%':
		if rb.Sign() == 0 {
			return nil, fmt.Errorf("division by zero")
		}
		r.Quo(ra, rb)
		if op == '%' {
			// a - b * trunc(a / b)
			q := new(big.Int).Quo(r.Num(), r.Denom())
			r.Sub(ra, new(big.Rat).Mul(rb, new(big.Rat).SetInt(q)))
		}
	}
	d := ratToDec(r, out.Scale, roundHalfUp)
	if d.Precision() > out.Precision {
		return nil, fmt.Errorf("numeric field overflow: %s does not fit %s", d, out)
	}
	return d, nil
}

// rounding modes of java.math.RoundingMode that ksqlDB uses.
type roundMode int

const (
	roundHalfUp roundMode = iota
	roundHalfDown
	roundDown
	roundCeiling
	roundFloor
)

// ratToDec rounds r to scale digits after the point.
func ratToDec(r *big.Rat, scale int, mode roundMode) types.Dec {
	num := new(big.Int).Set(r.Num())
	den := new(big.Int).Set(r.Denom())
	if scale >= 0 {
		num.Mul(num, pow10(scale))
	} else {
		den.Mul(den, pow10(-scale))
	}
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Sign() != 0 {
		neg := r.Sign() < 0
		twice := new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2))
		cmp := twice.Cmp(den) // against one half
		away := false
		switch mode {
		case roundHalfUp:
			away = cmp >= 0
		case roundHalfDown:
			away = cmp > 0
		case roundCeiling:
			away = !neg
		case roundFloor:
			away = neg
		}
		if away {
			if neg {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	if scale < 0 {
		q.Mul(q, pow10(-scale))
		return types.Dec{Unscaled: q, Scale: 0}
	}
	return types.Dec{Unscaled: q, Scale: scale}
}

// setScale is BigDecimal.setScale(scale, mode).
func setScale(d types.Dec, scale int, mode roundMode) types.Dec {
	if scale >= d.Scale {
		out, _ := d.Rescale(scale)
		return out
	}
	return ratToDec(d.Rat(), scale, mode)
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// fitDecimal rounds d HALF_UP to t's scale and checks its precision.
func fitDecimal(d types.Dec, t types.Type) (types.Dec, error) {
	out := setScale(d, t.Scale, roundHalfUp)
	if out.Precision() > t.Precision && out.Unscaled.Sign() != 0 {
		return types.Dec{}, fmt.Errorf("numeric field overflow: %s does not fit %s", d, t)
	}
	return out, nil
}

// Cast converts v of type from to type to with the semantics of ksqlDB's
// CAST: numbers convert between each other (to DECIMAL rounding HALF_UP, to
// INT and BIGINT truncating), everything but BYTES converts to STRING,
// STRING parses to numbers, BOOLEAN, DATE (yyyy-MM-dd), TIME (HH:mm:ss) and
// TIMESTAMP (ISO-8601), TIMESTAMP converts to DATE and TIME and DATE to
// TIMESTAMP, and ARRAYs, MAPs and STRUCTs convert element-wise (STRUCT
// fields by name; missing ones become NULL). NULL casts to NULL.
func Cast(v types.Value, from, to types.Type) (types.Value, error) {
	if v == nil {
		return nil, nil
	}
	if from.Equal(to) {
		return v, nil
	}
	fail := func(err error) (types.Value, error) {
		if err != nil {
			return nil, fmt.Errorf("cannot cast %s to %s: %w", describeValue(v), to, err)
		}
		return nil, fmt.Errorf("cannot cast %s to %s", from, to)
	}
	switch to.Kind {
	case types.String:
		if from.Kind == types.Bytes {
			return fail(nil)
		}
		return castString(v), nil
	case types.Boolean:
		if s, ok := v.(string); ok {
			return strings.EqualFold(strings.TrimSpace(s), "true"), nil
		}
		return fail(nil)
	case types.Int, types.Bigint, types.Double, types.Decimal:
		return castNumber(v, to, fail)
	case types.Date:
		switch x := v.(type) {
		case string:
			d, err := parseISODate(strings.TrimSpace(x))
			if err != nil {
				return fail(err)
			}
			return d, nil
		case types.TimestampVal:
			return types.DateOf(x.Time()), nil
		}
	case types.Time:
		switch x := v.(type) {
		case string:
			t, err := parseISOTime(strings.TrimSpace(x))
			if err != nil {
				return fail(err)
			}
			return t, nil
		case types.TimestampVal:
			return types.TimeVal(((int64(x) % types.MillisPerDay) + types.MillisPerDay) % types.MillisPerDay), nil
		}
	case types.Timestamp:
		switch x := v.(type) {
		case string:
			t, err := parseISOTimestamp(strings.TrimSpace(x))
			if err != nil {
				return fail(err)
			}
			return t, nil
		case types.DateVal:
			return types.TimestampVal(int64(x) * types.MillisPerDay), nil
		}
	case types.Bytes:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
	case types.Array:
		a, ok := v.([]types.Value)
		if !ok || from.Kind != types.Array {
			return fail(nil)
		}
		out := make([]types.Value, len(a))
		for i, e := range a {
			c, err := Cast(e, *from.Elem, *to.Elem)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case types.Map:
		m, ok := v.(map[string]types.Value)
		if !ok || from.Kind != types.Map {
			return fail(nil)
		}
		out := make(map[string]types.Value, len(m))
		for k, e := range m {
			c, err := Cast(e, *from.Elem, *to.Elem)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case types.Struct:
		s, ok := v.(types.StructVal)
		if !ok || from.Kind != types.Struct {
			return fail(nil)
		}
		out := make(types.StructVal, len(to.Fields))
		for i, f := range to.Fields {
			out[i].Name = f.Name
			ff, j := from.Field(f.Name)
			if j < 0 || ff.Name != f.Name {
				continue
			}
			c, err := Cast(s[j].Value, ff.Type, f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", types.QuoteIdent(f.Name), err)
			}
			out[i].Value = c
		}
		return out, nil
	}
	return fail(nil)
}

func describeValue(v types.Value) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return castString(v)
}

func castNumber(v types.Value, to types.Type, fail func(error) (types.Value, error)) (types.Value, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		switch to.Kind {
		case types.Int:
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return fail(fmt.Errorf("not an INT"))
			}
			return int32(n), nil
		case types.Bigint:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fail(fmt.Errorf("not a BIGINT"))
			}
			return n, nil
		case types.Double:
			f, err := parseJavaDouble(s)
			if err != nil {
				return fail(fmt.Errorf("not a DOUBLE"))
			}
			return f, nil
		default:
			d, err := types.ParseDec(s)
			if err != nil {
				return fail(fmt.Errorf("not a DECIMAL"))
			}
			out, err := fitDecimal(d, to)
			if err != nil {
				return fail(err)
			}
			return out, nil
		}
	}
	switch to.Kind {
	case types.Int:
		switch x := v.(type) {
		case int64:
			return int32(x), nil
		case float64:
			return int32(javaD2L(x, math.MinInt32, math.MaxInt32)), nil
		case types.Dec:
			return int32(decToInt64(x)), nil
		}
	case types.Bigint:
		switch x := v.(type) {
		case int32:
			return int64(x), nil
		case float64:
			return javaD2L(x, math.MinInt64, math.MaxInt64), nil
		case types.Dec:
			return decToInt64(x), nil
		}
	case types.Double:
		switch x := v.(type) {
		case int32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case types.Dec:
			return x.Float64(), nil
		}
	case types.Decimal:
		var d types.Dec
		switch x := v.(type) {
		case int32:
			d = types.NewDec(int64(x), 0)
		case int64:
			d = types.NewDec(x, 0)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fail(fmt.Errorf("%v has no DECIMAL value", x))
			}
			// BigDecimal.valueOf(double): the shortest decimal that reads back.
			var err error
			if d, err = types.ParseDec(strconv.FormatFloat(x, 'g', -1, 64)); err != nil {
				return fail(err)
			}
		case types.Dec:
			d = x
		default:
			return fail(nil)
		}
		out, err := fitDecimal(d, to)
		if err != nil {
			return fail(err)
		}
		return out, nil
	}
	return fail(nil)
}

// javaD2L converts a double to an integer as Java's (long)/(int) casts do:
// truncation, NaN to 0, saturation at the bounds.
func javaD2L(f float64, lo, hi int64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= float64(hi):
		return hi
	case f <= float64(lo):
		return lo
	}
	return int64(f)
}

// decToInt64 is BigDecimal.longValue(): truncated, low 64 bits.
func decToInt64(d types.Dec) int64 {
	q := new(big.Int).Quo(d.Rat().Num(), d.Rat().Denom())
	if q.IsInt64() {
		return q.Int64()
	}
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
	return int64(new(big.Int).And(q, mask).Uint64())
}

func parseJavaDouble(s string) (float64, error) {
	t := strings.TrimRight(s, "dDfF")
	if t == "" || strings.ContainsAny(t, "_xXpP") {
		return 0, fmt.Errorf("invalid double %q", s)
	}
	switch t {
	case "NaN", "+NaN", "-NaN":
		return math.NaN(), nil
	case "Infinity", "+Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	if strings.ContainsAny(strings.ToLower(t), "in") {
		return 0, fmt.Errorf("invalid double %q", s)
	}
	return strconv.ParseFloat(t, 64)
}

// castString is a value's text as ksqlDB's CAST(x AS STRING) gives it.
func castString(v types.Value) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return javaDouble(x)
	case types.Dec:
		return x.String()
	case types.DateVal:
		return formatISODate(x)
	case types.TimeVal:
		return formatISOTime(x)
	case types.TimestampVal:
		return formatISOTimestamp(x)
	case []byte:
		return string(x)
	case []types.Value:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = castString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]types.Value:
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + castString(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case types.StructVal:
		var parts []string
		for _, f := range x {
			if f.Value != nil {
				parts = append(parts, f.Name+"="+castString(f.Value))
			}
		}
		return "Struct{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]types.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// javaDouble formats f as Java's Double.toString: at least one digit after
// the point, scientific notation (1.0E7) outside [1e-3, 1e7).
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.2345E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

func formatISODate(d types.DateVal) string { return d.Time().Format("2006-01-02") }

// formatISOTime prints a TIME as java.time.LocalTime.toString: HH:mm, then
// :ss and the milliseconds only when non-zero.
func formatISOTime(t types.TimeVal) string {
	ms := int64(t)
	h, m, s, milli := ms/3600000, ms/60000%60, ms/1000%60, ms%1000
	out := fmt.Sprintf("%02d:%02d", h, m)
	if s != 0 || milli != 0 {
		out += fmt.Sprintf(":%02d", s)
		if milli != 0 {
			out += fmt.Sprintf(".%03d", milli)
		}
	}
	return out
}

func formatISOTimestamp(t types.TimestampVal) string {
	return t.Time().Format("2006-01-02T15:04:05.000")
}

func parseISODate(s string) (types.DateVal, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date in yyyy-MM-dd format", s)
	}
	return types.DateOf(t), nil
}

func parseISOTime(s string) (types.TimeVal, error) {
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return types.TimeVal(t.Hour()*3600000 + t.Minute()*60000 + t.Second()*1000 + t.Nanosecond()/1e6), nil
		}
	}
	return 0, fmt.Errorf("%q is not a time in HH:mm:ss format", s)
}

// parseISOTimestamp reads ISO-8601 timestamps as ksqlDB does, accepting
// partial ones: 2020, 2020-05, 2020-05-17, 2020-05-17T10, ...T10:30,
// ...T10:30:15.123, each optionally followed by Z or an offset (+01:00,
// +0100, +01). Without an offset the time is UTC.
func parseISOTimestamp(s string) (types.TimestampVal, error) {
	bad := fmt.Errorf("%q is not an ISO-8601 timestamp (yyyy-MM-ddTHH:mm:ss.SSS)", s)
	datePart, timePart, hasT := strings.Cut(s, "T")
	if !hasT {
		datePart, timePart, hasT = strings.Cut(s, " ")
	}
	loc := time.UTC
	if hasT {
		// Zone suffix.
		if strings.HasSuffix(timePart, "Z") {
			timePart = timePart[:len(timePart)-1]
		} else if i := strings.LastIndexAny(timePart, "+-"); i > 0 {
			off, err := parseOffset(timePart[i:])
			if err != nil {
				return 0, bad
			}
			loc = time.FixedZone("", off)
			timePart = timePart[:i]
		}
	}
	var y, mo, d = 0, 1, 1
	dp := strings.Split(datePart, "-")
	if len(dp) > 3 || len(dp[0]) != 4 {
		return 0, bad
	}
	vals := []*int{&y, &mo, &d}
	for i, p := range dp {
		n, err := strconv.Atoi(p)
		if err != nil || (i > 0 && len(p) != 2) {
			return 0, bad
		}
		*vals[i] = n
	}
	var h, mi, sec, nanos int
	if hasT {
		tp := timePart
		if i := strings.IndexByte(tp, '.'); i >= 0 {
			frac := tp[i+1:]
			tp = tp[:i]
			if frac == "" || len(frac) > 9 {
				return 0, bad
			}
			n, err := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
			if err != nil {
				return 0, bad
			}
			nanos = n
		}
		parts := strings.Split(tp, ":")
		if len(parts) > 3 {
			return 0, bad
		}
		tv := []*int{&h, &mi, &sec}
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || len(p) != 2 {
				return 0, bad
			}
			*tv[i] = n
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return 0, bad
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nanos, loc)
	if t.Day() != d {
		return 0, bad
	}
	return types.TimestampOf(t), nil
}

func parseOffset(s string) (int, error) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = strings.ReplaceAll(s[1:], ":", "")
	var h, m int
	var err error
	switch len(s) {
	case 2:
		h, err = strconv.Atoi(s)
	case 4:
		h, err = strconv.Atoi(s[:2])
		if err == nil {
			m, err = strconv.Atoi(s[2:])
		}
	default:
		return 0, fmt.Errorf("bad offset")
	}
	if err != nil || h > 18 || m > 59 {
		return 0, fmt.Errorf("bad offset")
	}
	return sign * (h*3600 + m*60), nil
}

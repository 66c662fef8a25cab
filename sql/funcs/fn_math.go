package funcs

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"

	"github.com/sluicedata/sluice/sql/types"
)

func doubleFn(name, desc string, f func(float64) float64) Function {
	return fn(name, CatMath, desc, V(PDouble, strict(func(a []types.Value) (types.Value, error) {
		return f(a[0].(float64)), nil
	}), P("value", PDouble)))
}

func mathFunctions() []Function {
	return []Function{
		fn("ABS", CatMath, "Returns the absolute value of its argument.",
			V(PInt, strict(func(a []types.Value) (types.Value, error) {
				x := a[0].(int32)
				if x < 0 {
					x = -x
				}
				return x, nil
			}), P("value", PInt)),
			V(PBigint, strict(func(a []types.Value) (types.Value, error) {
				x := a[0].(int64)
				if x < 0 {
					x = -x
				}
				return x, nil
			}), P("value", PBigint)),
			V(PDouble, strict(func(a []types.Value) (types.Value, error) { return math.Abs(a[0].(float64)), nil }), P("value", PDouble)),
			V(AnyDecimal, strict(func(a []types.Value) (types.Value, error) {
				d := a[0].(types.Dec)
				return types.Dec{Unscaled: new(big.Int).Abs(d.Unscaled), Scale: d.Scale}, nil
			}), P("value", AnyDecimal)).returning("DECIMAL(p, s) of the argument", sameAsArg(0)),
		),
		doubleFn("ACOS", "Returns the inverse (arc) cosine of a value, in radians; NaN outside [-1, 1].", math.Acos),
		doubleFn("ASIN", "Returns the inverse (arc) sine of a value, in radians; NaN outside [-1, 1].", math.Asin),
		doubleFn("ATAN", "Returns the inverse (arc) tangent of a value, in radians.", math.Atan),
		fn("ATAN2", CatMath, "Returns the inverse (arc) tangent of y / x, in radians.",
			V(PDouble, strict(func(a []types.Value) (types.Value, error) {
				return math.Atan2(a[0].(float64), a[1].(float64)), nil
			}), P("y", PDouble), P("x", PDouble))),
		doubleFn("CBRT", "Returns the cube root of a value.", math.Cbrt),
		fn("CEIL", CatMath, "Returns the smallest integer value greater than or equal to a value.",
			V(PInt, strict(identity), P("value", PInt)),
			V(PBigint, strict(identity), P("value", PBigint)),
			V(PDouble, strict(func(a []types.Value) (types.Value, error) { return math.Ceil(a[0].(float64)), nil }), P("value", PDouble)),
			V(AnyDecimal, strict(func(a []types.Value) (types.Value, error) {
				d := a[0].(types.Dec)
				return setScale(setScale(d, 0, roundCeiling), d.Scale, roundDown), nil
			}), P("value", AnyDecimal)).returning("DECIMAL(p + 1, s)", carryDigit),
		),
		doubleFn("COS", "Returns the cosine of a value in radians.", math.Cos),
		doubleFn("COSH", "Returns the hyperbolic cosine of a value.", math.Cosh),
		doubleFn("COT", "Returns the cotangent of a value in radians.", func(x float64) float64 { return 1 / math.Tan(x) }),
		doubleFn("DEGREES", "Converts a value in radians to degrees.", func(x float64) float64 { return x * 180 / math.Pi }),
		doubleFn("EXP", "Returns e raised to the power of a value.", math.Exp),
		fn("FLOOR", CatMath, "Returns the largest integer value less than or equal to a value.",
			V(PInt, strict(identity), P("value", PInt)),
			V(PBigint, strict(identity), P("value", PBigint)),
			V(PDouble, strict(func(a []types.Value) (types.Value, error) { return math.Floor(a[0].(float64)), nil }), P("value", PDouble)),
			V(AnyDecimal, strict(func(a []types.Value) (types.Value, error) {
				d := a[0].(types.Dec)
				return setScale(setScale(d, 0, roundFloor), d.Scale, roundDown), nil
			}), P("value", AnyDecimal)).returning("DECIMAL(p + 1, s)", carryDigit),
		),
		fn("GREATEST", CatMath, "Returns the largest non-NULL value of its arguments, which must be of one comparable type.", extremeVariants(1)...),
		fn("LEAST", CatMath, "Returns the smallest non-NULL value of its arguments, which must be of one comparable type.", extremeVariants(-1)...),
		doubleFn("LN", "Returns the natural logarithm of a value.", math.Log),
		fn("LOG", CatMath, "Returns the logarithm of a value, in base 10 or the given base.",
			V(PDouble, strict(func(a []types.Value) (types.Value, error) { return math.Log10(a[0].(float64)), nil }), P("value", PDouble)),
			V(PDouble, strict(func(a []types.Value) (types.Value, error) {
				base, x := a[0].(float64), a[1].(float64)
				if base <= 0 || base == 1 {
					return math.NaN(), nil
				}
				if x == 0 {
					return math.Inf(-1), nil
				}
				return math.Log(x) / math.Log(base), nil
			}), P("base", PDouble), P("value", PDouble)),
		),
		fn("PI", CatMath, "Returns an approximate value of pi.",
			V(PDouble, lenient(func([]types.Value) (types.Value, error) { return math.Pi, nil }))),
		fn("POWER", CatMath, "Returns base raised to the power of exponent.",
			V(PDouble, strict(func(a []types.Value) (types.Value, error) {
				return math.Pow(a[0].(float64), a[1].(float64)), nil
			}), P("base", PDouble), P("exponent", PDouble))),
		doubleFn("RADIANS", "Converts a value in degrees to radians.", func(x float64) float64 { return x * math.Pi / 180 }),
		fn("RANDOM", CatMath, "Returns a random DOUBLE value between 0.0 and 1.0.",
			V(PDouble, lenient(func([]types.Value) (types.Value, error) { return rand.Float64(), nil }))),
		fn("ROUND", CatMath, "Rounds a value to the number of decimal places given by scale (default 0); halves round up, in the positive direction. A negative scale rounds to the left of the decimal point.",
			roundVariants(false)...),
		fn("SIGN", CatMath, "Returns the sign of a value as an INT: -1, 0 or 1.",
			V(PInt, strict(func(a []types.Value) (types.Value, error) { return int32(sign64(int64(a[0].(int32)))), nil }), P("value", PInt)),
			V(PInt, strict(func(a []types.Value) (types.Value, error) { return int32(sign64(a[0].(int64))), nil }), P("value", PBigint)),
			V(PInt, strict(func(a []types.Value) (types.Value, error) {
				x := a[0].(float64)
				switch {
				case x > 0:
					return int32(1), nil
				case x < 0:
					return int32(-1), nil
				}
				return int32(0), nil
			}), P("value", PDouble)),
			V(PInt, strict(func(a []types.Value) (types.Value, error) { return int32(a[0].(types.Dec).Unscaled.Sign()), nil }), P("value", AnyDecimal)),
		),
		doubleFn("SIN", "Returns the sine of a value in radians.", math.Sin),
		doubleFn("SINH", "Returns the hyperbolic sine of a value.", math.Sinh),
		doubleFn("SQRT", "Returns the square root of a value.", math.Sqrt),
		doubleFn("TAN", "Returns the tangent of a value in radians.", math.Tan),
		doubleFn("TANH", "Returns the hyperbolic tangent of a value.", math.Tanh),
		fn("TRUNC", CatMath, "Truncates a value to the number of decimal places given by scale (default 0), toward zero.",
			roundVariants(true)...),
	}
}

// carryDigit is the type of CEIL, FLOOR and ROUND on DECIMAL(p, s): ksqlDB
// declares DECIMAL(p, s), which cannot hold CEIL(99.99) = 100.00; one more
// digit can.
func carryDigit(in []types.Type) (types.Type, error) {
	return types.DecimalOf(min(in[0].Precision+1, types.MaxDecimalPrecision), in[0].Scale), nil
}

func identity(a []types.Value) (types.Value, error) { return a[0], nil }

func sign64(x int64) int64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// roundVariants are ROUND's (or TRUNC's) variants.
func roundVariants(trunc bool) []Variant {
	mode := func(d types.Dec) roundMode {
		switch {
		case trunc:
			return roundDown
		case d.Unscaled.Sign() > 0:
			return roundHalfUp
		}
		return roundHalfDown // halves of negative numbers round toward +inf
	}
	roundDouble := func(x float64, places int32) float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return x
		}
		d, _ := types.ParseDec(javaDoubleDigits(x))
		// A double has no digits beyond 10^±330: larger scales change
		// nothing and cost a huge multiplication.
		return setScale(d, int(max(min(places, 400), -400)), mode(d)).Float64()
	}
	toLong := func(x float64) int64 {
		if trunc {
			return javaD2L(x, math.MinInt64, math.MaxInt64)
		}
		return javaD2L(math.Floor(x+0.5), math.MinInt64, math.MaxInt64)
	}
	placesDoc, placesRule := "DECIMAL(p + 1, s)", carryDigit
	if trunc {
		placesDoc, placesRule = "DECIMAL(p, s) of the argument", sameAsArg(0)
	}
	return []Variant{
		V(PBigint, strict(func(a []types.Value) (types.Value, error) { return int64(a[0].(int32)), nil }), P("value", PInt)),
		V(PBigint, strict(identity), P("value", PBigint)),
		V(PBigint, strict(func(a []types.Value) (types.Value, error) { return toLong(a[0].(float64)), nil }), P("value", PDouble)),
		V(PDouble, strict(func(a []types.Value) (types.Value, error) {
			return roundDouble(a[0].(float64), a[1].(int32)), nil
		}), P("value", PDouble), P("scale", PInt)),
		V(AnyDecimal, func(in []types.Type, out types.Type) EvalFunc {
			return strict(func(a []types.Value) (types.Value, error) {
				d := a[0].(types.Dec)
				return setScale(d, 0, mode(d)), nil
			})(in, out)
		}, P("value", AnyDecimal)).returning("DECIMAL(p - s + 1, 0)", func(in []types.Type) (types.Type, error) {
			// ksqlDB declares p - s; one more digit holds a carry (9.5 -> 10).
			p := in[0].Precision - in[0].Scale + 1
			if trunc {
				p--
			}
			return types.DecimalOf(max(p, 1), 0), nil
		}),
		V(AnyDecimal, strict(func(a []types.Value) (types.Value, error) {
			d := a[0].(types.Dec)
			// The result keeps the argument's type, so its scale too; scales
			// outside [-precision-1, scale] change nothing more.
			places := max(min(int(a[1].(int32)), d.Scale), -d.Precision()-1)
			r := setScale(d, places, mode(d))
			return setScale(r, d.Scale, roundDown), nil
		}), P("value", AnyDecimal), P("scale", PInt)).returning(placesDoc, placesRule),
	}
}

// javaDoubleDigits is the decimal text BigDecimal.valueOf(double) reads.
func javaDoubleDigits(x float64) string {
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// extremeVariants are GREATEST (dir 1) and LEAST (dir -1).
func extremeVariants(dir int) []Variant {
	pick := func(a []types.Value) (types.Value, error) {
		var best types.Value
		for _, v := range a {
			if v == nil {
				continue
			}
			if best == nil || compareValues(v, best)*dir > 0 {
				best = v
			}
		}
		return best, nil
	}
	var vs []Variant
	for _, t := range []Pattern{PInt, PBigint, PDouble, PString, PBytes, PDate, PTime, PTimestamp} {
		vs = append(vs, VV(t, lenient(pick), P("value", t), P("values", t)))
	}
	vs = append(vs, VV(AnyDecimal, func(in []types.Type, out types.Type) EvalFunc {
		return func(a []types.Value) (types.Value, error) {
			best := -1
			for i, v := range a {
				if v != nil && (best < 0 || v.(types.Dec).Rat().Cmp(a[best].(types.Dec).Rat())*dir > 0) {
					best = i
				}
			}
			if best < 0 {
				return nil, nil
			}
			return Cast(a[best], in[best], out)
		}
	}, P("value", AnyDecimal), P("values", AnyDecimal)).returning("DECIMAL holding every argument", func(in []types.Type) (types.Type, error) {
		t := in[0]
		for _, u := range in[1:] {
			t, _ = CommonType(t, u)
		}
		return t, nil
	}))
	return vs
}

package funcs

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"

	"github.com/sluicedata/sluice/sql/types"
)

// The aggregate functions. States are values of the State type; see
// aggregate.go for the contract and aggstate.go for their bytes.

func aggFn(name, desc string, vs ...Variant) Function {
	return Function{Name: name, Kind: AggregateFunction, Category: CatAggregate, Description: desc, Variants: vs}
}

// AV is an aggregate variant returning ret.
func AV(ret Pattern, impl AggImpl, params ...Param) Variant {
	return Variant{Params: params, Returns: ret, Agg: impl}
}

// constArg marks a parameter whose argument must be a constant.
func constArg(p Param) Param { p.Literal = true; return p }

func aggregateFunctions() []Function {
	t := Var("T")
	numeric := []Pattern{PInt, PBigint, PDouble}
	orderable := []Pattern{PInt, PBigint, PDouble, AnyDecimal, PString, PBytes, PDate, PTime, PTimestamp}
	perType := func(ps []Pattern, mk func(p Pattern) Variant) []Variant {
		out := make([]Variant, len(ps))
		for i, p := range ps {
			out[i] = mk(p)
			if p.anyDec {
				out[i] = out[i].returning("DECIMAL with the precision and scale of the argument", sameAsArg(0))
			}
		}
		return out
	}
	stddev := func(variance bool) []Variant {
		return perType(numeric, func(p Pattern) Variant {
			return AV(PDouble, func(c AggContext) (*Aggregator, error) { return stddevAgg(c, variance) }, P("col1", p))
		})
	}
	byOffset := func(latest bool) []Variant {
		what := "earliest"
		if latest {
			what = "latest"
		}
		impl := func(c AggContext) (*Aggregator, error) { return byOffsetAgg(c, latest) }
		return []Variant{
			AV(t, impl, P("col1", t)).doc(fmt.Sprintf("The %s non-NULL value of col1 by offset.", what)),
			AV(t, impl, P("col1", t), constArg(P("ignoreNulls", PBoolean, "whether NULL values are skipped (default true)"))),
			AV(ArrayP(t), impl, P("col1", t), constArg(P(what+"N", PInt, "number of values to return"))).
				doc(fmt.Sprintf("The %s N non-NULL values of col1, in offset order.", what)),
			AV(ArrayP(t), impl, P("col1", t), constArg(P(what+"N", PInt, "number of values to return")),
				constArg(P("ignoreNulls", PBoolean, "whether NULL values are skipped"))),
		}
	}
	return []Function{
		aggFn("ATTR", "Returns the single value of col1 when every non-NULL value in the group is the same, NULL otherwise.",
			AV(t, attrAgg, P("col1", t))),
		aggFn("AVG", "Returns the average value of col1 (NULLs are skipped).",
			perType(numeric, func(p Pattern) Variant { return AV(PDouble, avgAgg, P("col1", p)) })...),
		aggFn("COLLECT_LIST", "Returns an array of the values of col1 in the group, in arrival order, up to ksql.functions.collect_list.limit entries.",
			AV(ArrayP(t), collectListAgg, P("col1", t))),
		aggFn("COLLECT_SET", "Returns an array of the distinct values of col1 in the group, in order of first arrival, up to ksql.functions.collect_set.limit entries.",
			AV(ArrayP(t), collectSetAgg, P("col1", t))),
		aggFn("CORRELATION", "Returns the Pearson correlation coefficient of the pairs (x, y); rows where either is NULL are skipped.",
			AV(PDouble, correlationAgg, P("x", PDouble), P("y", PDouble))),
		aggFn("COUNT", "Counts the rows of the group (COUNT(*)), or the rows where col1 is not NULL.",
			AV(PBigint, countAgg).doc("COUNT(*): the number of rows."),
			AV(PBigint, countAgg, P("col1", t)).doc("The number of rows where col1 is not NULL.")),
		aggFn("COUNT_DISTINCT", "Returns the approximate number of distinct non-NULL values of col1 (HyperLogLog, about 1.6% standard error; exact for small counts).",
			AV(PBigint, countDistinctAgg, P("col1", t))),
		aggFn("EARLIEST_BY_OFFSET", "Returns the earliest value of col1 by record offset, or an array of the earliest N.",
			byOffset(false)...),
		aggFn("HISTOGRAM", "Returns a map from each distinct non-NULL value of col1 to the number of times it occurs, up to 1000 distinct values.",
			AV(MapP(PBigint), histogramAgg, P("col1", PString))),
		aggFn("LATEST_BY_OFFSET", "Returns the latest value of col1 by record offset, or an array of the latest N.",
			byOffset(true)...),
		aggFn("MAX", "Returns the largest non-NULL value of col1.",
			perType(orderable, func(p Pattern) Variant { return AV(p, extremeAgg(1), P("col1", p)) })...),
		aggFn("MIN", "Returns the smallest non-NULL value of col1.",
			perType(orderable, func(p Pattern) Variant { return AV(p, extremeAgg(-1), P("col1", p)) })...),
		// ksqlDB's STDDEV_SAMP returns the variance, as its reference says;
		// STDDEV_SAMPLE (since 0.25) is the standard deviation.
		aggFn("STDDEV_SAMP", "Returns the sample variance of col1, the square of the sample standard deviation, as ksqlDB does (0.0 for fewer than two values); use STDDEV_SAMPLE for the standard deviation.", stddev(true)...),
		aggFn("STDDEV_SAMPLE", "Returns the sample standard deviation of col1 (0.0 for fewer than two values).", stddev(false)...),
		aggFn("SUM", "Returns the sum of col1 (NULLs are skipped; 0 for an empty group).",
			perType(append(slices.Clone(numeric), AnyDecimal), func(p Pattern) Variant { return AV(p, sumAgg, P("col1", p)) })...),
		aggFn("SUM_LIST", "Returns the sum of the elements of every col1 array in the group (NULL arrays and elements are skipped).",
			perType([]Pattern{PInt, PBigint, PDouble}, func(p Pattern) Variant { return AV(p, sumListAgg, P("col1", ArrayP(p))) })...),
		aggFn("TOPK", "Returns the K largest non-NULL values of col1, largest first.",
			perType(orderable, func(p Pattern) Variant {
				return AV(ArrayP(p), topKAgg(false), P("col1", p), constArg(P("k", PInt, "number of values to return")))
			})...),
		aggFn("TOPKDISTINCT", "Returns the K largest distinct non-NULL values of col1, largest first.",
			perType(orderable, func(p Pattern) Variant {
				return AV(ArrayP(p), topKAgg(true), P("col1", p), constArg(P("k", PInt, "number of values to return")))
			})...),
	}
}

// --- numbers -----------------------------------------------------------

// adder adds and subtracts values of one numeric type. INT and BIGINT wrap
// around on overflow as Java's int and long do; DECIMAL fails when the sum
// no longer fits the type, as ksqlDB does.
type adder struct {
	zero     types.Value
	add, sub func(a, b types.Value) (types.Value, error)
}

func adderFor(t types.Type) adder {
	switch t.Kind {
	case types.Int:
		return adder{int32(0),
			func(a, b types.Value) (types.Value, error) { return a.(int32) + b.(int32), nil },
			func(a, b types.Value) (types.Value, error) { return a.(int32) - b.(int32), nil }}
	case types.Bigint:
		return adder{int64(0),
			func(a, b types.Value) (types.Value, error) { return a.(int64) + b.(int64), nil },
			func(a, b types.Value) (types.Value, error) { return a.(int64) - b.(int64), nil }}
	case types.Double:
		return adder{0.0,
			func(a, b types.Value) (types.Value, error) { return a.(float64) + b.(float64), nil },
			func(a, b types.Value) (types.Value, error) { return a.(float64) - b.(float64), nil }}
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Precision)), nil)
	dec := func(neg bool) func(a, b types.Value) (types.Value, error) {
		return func(a, b types.Value) (types.Value, error) {
			x, y := a.(types.Dec), b.(types.Dec)
			y, _ = y.Rescale(t.Scale)
			u := new(big.Int)
			if neg {
				u.Sub(x.Unscaled, y.Unscaled)
			} else {
				u.Add(x.Unscaled, y.Unscaled)
			}
			if new(big.Int).Abs(u).Cmp(limit) >= 0 {
				r := types.Dec{Unscaled: u, Scale: t.Scale}
				return nil, fmt.Errorf("numeric field overflow: a field with precision %d and scale %d must round to an absolute value less than 10^%d, got %s",
					t.Precision, t.Scale, t.Precision-t.Scale, r)
			}
			return types.Dec{Unscaled: u, Scale: t.Scale}, nil
		}
	}
	return adder{types.NewDec(0, t.Scale), dec(false), dec(true)}
}

func sumAgg(c AggContext) (*Aggregator, error) {
	n := adderFor(c.In[0])
	step := func(op func(a, b types.Value) (types.Value, error)) func(s types.Value, in []types.Value) (types.Value, error) {
		return func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil {
				return s, nil
			}
			return op(s, in[0])
		}
	}
	return &Aggregator{
		State:   c.Out,
		Init:    func() types.Value { return n.zero },
		Add:     step(n.add),
		Retract: step(n.sub),
		Merge:   n.add,
		Result:  func(s types.Value) (types.Value, error) { return s, nil },
	}, nil
}

func sumListAgg(c AggContext) (*Aggregator, error) {
	n := adderFor(c.Out)
	step := func(op func(a, b types.Value) (types.Value, error)) func(s types.Value, in []types.Value) (types.Value, error) {
		return func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil {
				return s, nil
			}
			var err error
			for _, e := range in[0].([]types.Value) {
				if e != nil {
					if s, err = op(s, e); err != nil {
						return nil, err
					}
				}
			}
			return s, nil
		}
	}
	return &Aggregator{
		State:   c.Out,
		Init:    func() types.Value { return n.zero },
		Add:     step(n.add),
		Retract: step(n.sub),
		Merge:   n.add,
		Result:  func(s types.Value) (types.Value, error) { return s, nil },
	}, nil
}

func countAgg(c AggContext) (*Aggregator, error) {
	star := len(c.In) == 0
	step := func(d int64) func(s types.Value, in []types.Value) (types.Value, error) {
		return func(s types.Value, in []types.Value) (types.Value, error) {
			if !star && in[0] == nil {
				return s, nil
			}
			return s.(int64) + d, nil
		}
	}
	return &Aggregator{
		State:   types.BigintType,
		Init:    func() types.Value { return int64(0) },
		Add:     step(1),
		Retract: step(-1),
		Merge:   func(a, b types.Value) (types.Value, error) { return a.(int64) + b.(int64), nil },
		Result:  func(s types.Value) (types.Value, error) { return s, nil },
	}, nil
}

// avgState is STRUCT<SUM, COUNT>: SUM is BIGINT for INT and BIGINT input
// (an INT sum would overflow long before the count does), DOUBLE otherwise.
func avgAgg(c AggContext) (*Aggregator, error) {
	sumT := types.BigintType
	if c.In[0].Kind == types.Double {
		sumT = types.DoubleType
	}
	n := adderFor(sumT)
	st := types.StructOf(types.F("SUM", sumT), types.F("COUNT", types.BigintType))
	widen := func(v types.Value) types.Value {
		if x, ok := v.(int32); ok {
			return int64(x)
		}
		return v
	}
	step := func(op func(a, b types.Value) (types.Value, error), d int64) func(s types.Value, in []types.Value) (types.Value, error) {
		return func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil {
				return s, nil
			}
			x := s.(types.StructVal) // the caller hands the state over: update it in place
			x[0].Value, _ = op(x[0].Value, widen(in[0]))
			x[1].Value = x[1].Value.(int64) + d
			return x, nil
		}
	}
	return &Aggregator{
		State: st,
		Init: func() types.Value {
			return types.StructVal{{Name: "SUM", Value: n.zero}, {Name: "COUNT", Value: int64(0)}}
		},
		Add:     step(n.add, 1),
		Retract: step(n.sub, -1),
		Merge: func(a, b types.Value) (types.Value, error) {
			x, y := a.(types.StructVal), b.(types.StructVal)
			sum, _ := n.add(x[0].Value, y[0].Value)
			return types.StructVal{{Name: "SUM", Value: sum}, {Name: "COUNT", Value: x[1].Value.(int64) + y[1].Value.(int64)}}, nil
		},
		Result: func(s types.Value) (types.Value, error) {
			x := s.(types.StructVal)
			count := x[1].Value.(int64)
			if count == 0 {
				return 0.0, nil // ksqlDB: the average of no values is 0.0
			}
			var sum float64
			switch v := x[0].Value.(type) {
			case int64:
				sum = float64(v)
			case float64:
				sum = v
			}
			return sum / float64(count), nil
		},
	}, nil
}

func toFloat(v types.Value) float64 {
	switch x := v.(type) {
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	}
	return v.(float64)
}

// stddevAgg keeps Welford's running mean and sum of squared deviations,
// which can also be undone and merged (Chan et al.).
func stddevAgg(c AggContext, variance bool) (*Aggregator, error) {
	st := types.StructOf(types.F("COUNT", types.BigintType), types.F("MEAN", types.DoubleType), types.F("M2", types.DoubleType))
	mk := func(n int64, mean, m2 float64) types.Value {
		if n == 0 {
			mean, m2 = 0, 0
		}
		return types.StructVal{{Name: "COUNT", Value: n}, {Name: "MEAN", Value: mean}, {Name: "M2", Value: m2}}
	}
	get := func(s types.Value) (int64, float64, float64) {
		x := s.(types.StructVal)
		return x[0].Value.(int64), x[1].Value.(float64), x[2].Value.(float64)
	}
	return &Aggregator{
		State: st,
		Init:  func() types.Value { return mk(0, 0, 0) },
		Add: func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil {
				return s, nil
			}
			n, mean, m2 := get(s)
			v := toFloat(in[0])
			n++
			d := v - mean
			mean += d / float64(n)
			m2 += d * (v - mean)
			return mk(n, mean, m2), nil
		},
		Retract: func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil {
				return s, nil
			}
			n, mean, m2 := get(s)
			if n <= 1 {
				return mk(0, 0, 0), nil
			}
			v := toFloat(in[0])
			prev := (mean*float64(n) - v) / float64(n-1)
			m2 -= (v - prev) * (v - mean)
			return mk(n-1, prev, max(m2, 0)), nil
		},
		Merge: func(a, b types.Value) (types.Value, error) {
			na, ma, qa := get(a)
			nb, mb, qb := get(b)
			n := na + nb
			if n == 0 {
				return mk(0, 0, 0), nil
			}
			d := mb - ma
			mean := ma + d*float64(nb)/float64(n)
			return mk(n, mean, qa+qb+d*d*float64(na)*float64(nb)/float64(n)), nil
		},
		Result: func(s types.Value) (types.Value, error) {
			n, _, m2 := get(s)
			if n < 2 {
				return 0.0, nil
			}
			if variance {
				return m2 / float64(n-1), nil
			}
			return math.Sqrt(m2 / float64(n-1)), nil
		},
	}, nil
}

// correlationAgg keeps the sums of x, y, x², y² and xy, which undo and
// merge exactly.
func correlationAgg(c AggContext) (*Aggregator, error) {
	names := []string{"COUNT", "X_SUM", "Y_SUM", "XX_SUM", "YY_SUM", "XY_SUM"}
	fields := []types.Field{types.F("COUNT", types.BigintType)}
	for _, n := range names[1:] {
		fields = append(fields, types.F(n, types.DoubleType))
	}
	type sums struct {
		n                int64
		x, y, xx, yy, xy float64
	}
	get := func(s types.Value) sums {
		v := s.(types.StructVal)
		f := func(i int) float64 { return v[i].Value.(float64) }
		return sums{v[0].Value.(int64), f(1), f(2), f(3), f(4), f(5)}
	}
	put := func(s sums) types.Value {
		if s.n == 0 {
			s = sums{}
		}
		vals := []types.Value{s.n, s.x, s.y, s.xx, s.yy, s.xy}
		out := make(types.StructVal, len(vals))
		for i, v := range vals {
			out[i] = types.FieldValue{Name: names[i], Value: v}
		}
		return out
	}
	step := func(sign float64) func(s types.Value, in []types.Value) (types.Value, error) {
		return func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil || in[1] == nil {
				return s, nil
			}
			x, y := in[0].(float64), in[1].(float64)
			a := get(s)
			a.n += int64(sign)
			a.x += sign * x
			a.y += sign * y
			a.xx += sign * x * x
			a.yy += sign * y * y
			a.xy += sign * x * y
			return put(a), nil
		}
	}
	return &Aggregator{
		State:   types.StructOf(fields...),
		Init:    func() types.Value { return put(sums{}) },
		Add:     step(1),
		Retract: step(-1),
		Merge: func(a, b types.Value) (types.Value, error) {
			x, y := get(a), get(b)
			return put(sums{x.n + y.n, x.x + y.x, x.y + y.y, x.xx + y.xx, x.yy + y.yy, x.xy + y.xy}), nil
		},
		Result: func(s types.Value) (types.Value, error) {
			a := get(s)
			if a.n < 2 {
				return math.NaN(), nil
			}
			n := float64(a.n)
			cov := a.xy - a.x*a.y/n
			vx := a.xx - a.x*a.x/n
			vy := a.yy - a.y*a.y/n
			return cov / math.Sqrt(vx*vy), nil
		},
	}, nil
}

// --- order -------------------------------------------------------------

func extremeAgg(dir int) AggImpl {
	return func(c AggContext) (*Aggregator, error) {
		better := func(a, b types.Value) types.Value {
			switch {
			case a == nil:
				return b
			case b == nil:
				return a
			case compareValues(b, a)*dir > 0:
				return b
			}
			return a
		}
		return &Aggregator{
			State:  c.Out,
			Init:   func() types.Value { return nil },
			Add:    func(s types.Value, in []types.Value) (types.Value, error) { return better(s, in[0]), nil },
			Merge:  func(a, b types.Value) (types.Value, error) { return better(a, b), nil },
			Result: func(s types.Value) (types.Value, error) { return s, nil },
		}, nil
	}
}

func topKAgg(distinct bool) AggImpl {
	return func(c AggContext) (*Aggregator, error) {
		k := int(c.Literals[0].(int32))
		if k < 1 {
			return nil, fmt.Errorf("k must be a positive integer, got %d", k)
		}
		// insert keeps s sorted, largest first, at most k long.
		insert := func(s []types.Value, v types.Value) []types.Value {
			i := sort.Search(len(s), func(i int) bool { return compareValues(s[i], v) < 0 })
			if distinct && (i > 0 && compareValues(s[i-1], v) == 0) {
				return s
			}
			if i >= k {
				return s
			}
			s = slices.Insert(s, i, v)
			if len(s) > k {
				s = s[:k]
			}
			return s
		}
		return &Aggregator{
			State: types.ArrayOf(c.In[0]),
			Init:  func() types.Value { return []types.Value{} },
			Add: func(s types.Value, in []types.Value) (types.Value, error) {
				if in[0] == nil {
					return s, nil
				}
				return insert(s.([]types.Value), in[0]), nil
			},
			Merge: func(a, b types.Value) (types.Value, error) {
				s := a.([]types.Value)
				for _, v := range b.([]types.Value) {
					s = insert(s, v)
				}
				return s, nil
			},
			Result: func(s types.Value) (types.Value, error) { return slices.Clone(s.([]types.Value)), nil },
		}, nil
	}
}

// --- collections -------------------------------------------------------

func collectListAgg(c AggContext) (*Aggregator, error) {
	limit := c.Config.CollectListLimit
	return &Aggregator{
		State: types.ArrayOf(c.In[0]),
		Init:  func() types.Value { return []types.Value{} },
		Add: func(s types.Value, in []types.Value) (types.Value, error) {
			l := s.([]types.Value)
			if len(l) >= limit {
				return l, nil
			}
			return append(l, in[0]), nil
		},
		// Undo removes the last occurrence of the value, as ksqlDB does.
		Retract: func(s types.Value, in []types.Value) (types.Value, error) {
			l := s.([]types.Value)
			for i := len(l) - 1; i >= 0; i-- {
				if nullSafeEqual(l[i], in[0]) {
					return slices.Delete(l, i, i+1), nil
				}
			}
			return l, nil
		},
		Merge: func(a, b types.Value) (types.Value, error) {
			l := a.([]types.Value)
			rest := b.([]types.Value)
			return append(l, rest[:min(len(rest), max(0, limit-len(l)))]...), nil
		},
		Result: func(s types.Value) (types.Value, error) { return slices.Clone(s.([]types.Value)), nil },
	}, nil
}

func nullSafeEqual(a, b types.Value) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return valueEqual(a, b)
}

func collectSetAgg(c AggContext) (*Aggregator, error) {
	limit := c.Config.CollectSetLimit
	add := func(l []types.Value, v types.Value) []types.Value {
		if len(l) >= limit || slices.ContainsFunc(l, func(e types.Value) bool { return nullSafeEqual(e, v) }) {
			return l
		}
		return append(l, v)
	}
	return &Aggregator{
		State: types.ArrayOf(c.In[0]),
		Init:  func() types.Value { return []types.Value{} },
		Add: func(s types.Value, in []types.Value) (types.Value, error) {
			return add(s.([]types.Value), in[0]), nil
		},
		Merge: func(a, b types.Value) (types.Value, error) {
			l := a.([]types.Value)
			for _, v := range b.([]types.Value) {
				l = add(l, v)
			}
			return l, nil
		},
		Result: func(s types.Value) (types.Value, error) { return slices.Clone(s.([]types.Value)), nil },
	}, nil
}

// histogramLimit is ksqlDB's fixed bound on HISTOGRAM's distinct values.
const histogramLimit = 1000

func histogramAgg(c AggContext) (*Aggregator, error) {
	add := func(m map[string]types.Value, k string, n int64) {
		old, ok := m[k]
		if !ok {
			if n <= 0 || len(m) >= histogramLimit {
				return
			}
			m[k] = n
			return
		}
		if v := old.(int64) + n; v > 0 {
			m[k] = v
		} else {
			delete(m, k) // a value retracted away leaves the map
		}
	}
	step := func(n int64) func(s types.Value, in []types.Value) (types.Value, error) {
		return func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] != nil {
				add(s.(map[string]types.Value), in[0].(string), n)
			}
			return s, nil
		}
	}
	return &Aggregator{
		State:   types.MapOf(types.BigintType),
		Init:    func() types.Value { return map[string]types.Value{} },
		Add:     step(1),
		Retract: step(-1),
		Merge: func(a, b types.Value) (types.Value, error) {
			m := a.(map[string]types.Value)
			y := b.(map[string]types.Value)
			keys := make([]string, 0, len(y))
			for k := range y {
				keys = append(keys, k)
			}
			sort.Strings(keys) // which keys fit under the limit must not depend on map order
			for _, k := range keys {
				add(m, k, y[k].(int64))
			}
			return m, nil
		},
		Result: func(s types.Value) (types.Value, error) {
			out := make(map[string]types.Value, len(s.(map[string]types.Value)))
			for k, v := range s.(map[string]types.Value) {
				out[k] = v
			}
			return out, nil
		},
	}, nil
}

// attrAgg keeps each distinct non-NULL value with its count, so that a
// retraction can bring the group back to a single value.
func attrAgg(c AggContext) (*Aggregator, error) {
	entry := types.StructOf(types.F("VAL", c.In[0]), types.F("COUNT", types.BigintType))
	add := func(l []types.Value, v types.Value, n int64) []types.Value {
		for i, e := range l {
			ev := e.(types.StructVal)
			if valueEqual(ev[0].Value, v) {
				if cnt := ev[1].Value.(int64) + n; cnt > 0 {
					l[i] = types.StructVal{ev[0], {Name: "COUNT", Value: cnt}}
					return l
				}
				return slices.Delete(l, i, i+1)
			}
		}
		if n <= 0 {
			return l
		}
		return append(l, types.StructVal{{Name: "VAL", Value: v}, {Name: "COUNT", Value: n}})
	}
	step := func(n int64) func(s types.Value, in []types.Value) (types.Value, error) {
		return func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil {
				return s, nil
			}
			return add(s.([]types.Value), in[0], n), nil
		}
	}
	return &Aggregator{
		State:   types.ArrayOf(entry),
		Init:    func() types.Value { return []types.Value{} },
		Add:     step(1),
		Retract: step(-1),
		Merge: func(a, b types.Value) (types.Value, error) {
			l := a.([]types.Value)
			for _, e := range b.([]types.Value) {
				ev := e.(types.StructVal)
				l = add(l, ev[0].Value, ev[1].Value.(int64))
			}
			return l, nil
		},
		Result: func(s types.Value) (types.Value, error) {
			if l := s.([]types.Value); len(l) == 1 {
				return l[0].(types.StructVal)[0].Value, nil
			}
			return nil, nil
		},
	}, nil
}

// --- by offset ---------------------------------------------------------

// byOffsetAgg implements EARLIEST_BY_OFFSET and LATEST_BY_OFFSET. The
// state is STRUCT<SEQ BIGINT, VAL T> (NULL before the first value), or an
// array of them in SEQ order for the N forms; SEQ is the hidden sequence
// input.
func byOffsetAgg(c AggContext, latest bool) (*Aggregator, error) {
	n, ignoreNulls, many := 1, true, false
	for _, l := range c.Literals {
		switch v := l.(type) {
		case int32:
			n, many = int(v), true
		case bool:
			ignoreNulls = v
		}
	}
	if n < 1 {
		return nil, fmt.Errorf("the number of values must be positive, got %d", n)
	}
	entry := types.StructOf(types.F("SEQ", types.BigintType), types.F("VAL", c.In[0]))
	seqOf := func(e types.Value) int64 { return e.(types.StructVal)[0].Value.(int64) }
	// keep merges an entry into the SEQ-ordered list and trims it to n.
	keep := func(l []types.Value, e types.Value) []types.Value {
		i := sort.Search(len(l), func(i int) bool { return seqOf(l[i]) > seqOf(e) })
		l = slices.Insert(l, i, e)
		if len(l) > n {
			if latest {
				l = slices.Delete(l, 0, len(l)-n)
			} else {
				l = l[:n]
			}
		}
		return l
	}
	agg := &Aggregator{Sequence: true}
	if many {
		agg.State = types.ArrayOf(entry)
		agg.Init = func() types.Value { return []types.Value{} }
		agg.Add = func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil && ignoreNulls {
				return s, nil
			}
			return keep(s.([]types.Value), types.StructVal{{Name: "SEQ", Value: in[1]}, {Name: "VAL", Value: in[0]}}), nil
		}
		agg.Merge = func(a, b types.Value) (types.Value, error) {
			l := a.([]types.Value)
			for _, e := range b.([]types.Value) {
				l = keep(l, e)
			}
			return l, nil
		}
		agg.Result = func(s types.Value) (types.Value, error) {
			l := s.([]types.Value)
			out := make([]types.Value, len(l))
			for i, e := range l {
				out[i] = e.(types.StructVal)[1].Value
			}
			return out, nil
		}
		return agg, nil
	}
	pick := func(a, b types.Value) types.Value {
		switch {
		case a == nil:
			return b
		case b == nil:
			return a
		case latest == (seqOf(b) >= seqOf(a)):
			return b
		}
		return a
	}
	agg.State = entry
	agg.Init = func() types.Value { return nil }
	agg.Add = func(s types.Value, in []types.Value) (types.Value, error) {
		if in[0] == nil && ignoreNulls {
			return s, nil
		}
		return pick(s, types.StructVal{{Name: "SEQ", Value: in[1]}, {Name: "VAL", Value: in[0]}}), nil
	}
	agg.Merge = func(a, b types.Value) (types.Value, error) { return pick(a, b), nil }
	agg.Result = func(s types.Value) (types.Value, error) {
		if s == nil {
			return nil, nil
		}
		return s.(types.StructVal)[1].Value, nil
	}
	return agg, nil
}

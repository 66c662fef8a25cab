package funcs

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

// compareValues orders two non-NULL values of one primitive type: numbers
// by value, strings by code point, false before true, bytes by unsigned
// bytes, dates and times chronologically.
func compareValues(a, b types.Value) int {
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int32:
		return cmp3(x, b.(int32))
	case int64:
		return cmp3(x, b.(int64))
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		case x == y:
			return 0
		case x != x && y != y:
			return 0
		case x != x:
			return 1 // NaN sorts last, as Double.compare does
		}
		return -1
	case types.Dec:
		return x.Rat().Cmp(b.(types.Dec).Rat())
	case string:
		return strings.Compare(x, b.(string))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case types.DateVal:
		return cmp3(x, b.(types.DateVal))
	case types.TimeVal:
		return cmp3(x, b.(types.TimeVal))
	case types.TimestampVal:
		return cmp3(x, b.(types.TimestampVal))
	}
	return 0
}

func cmp3[T ~int32 | ~int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// primitiveElems is a return type rule (the element type) that rejects
// arrays of complex types at bind time, as ksqlDB does for ARRAY_MAX,
// ARRAY_MIN, ARRAY_SORT and ARRAY_JOIN.
func primitiveElems(name string) func(in []types.Type) (types.Type, error) {
	return func(in []types.Type) (types.Type, error) {
		e := in[0].Elem
		if e == nil || !e.Kind.Primitive() {
			return types.Type{}, fmt.Errorf("%s supports arrays of primitive types only, not %s", name, in[0])
		}
		return *e, nil
	}
}

// distinct appends the values of in not yet in out (by value).
func distinct(out []types.Value, in []types.Value, skip func(types.Value) bool) []types.Value {
	for _, v := range in {
		if skip != nil && skip(v) {
			continue
		}
		if !containsValue(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func containsValue(a []types.Value, v types.Value) bool {
	for _, x := range a {
		if valueEqual(x, v) {
			return true
		}
	}
	return false
}

// valueEqual is SQL-level equality used by the collection functions:
// decimals by numeric value, NULL equal to NULL.
func valueEqual(a, b types.Value) bool {
	if x, ok := a.(types.Dec); ok {
		y, ok := b.(types.Dec)
		return ok && x.Rat().Cmp(y.Rat()) == 0
	}
	return types.Equal(a, b)
}

// maxSeries bounds GENERATE_SERIES: a typo must not take the server's memory.
const maxSeries = 10_000_000

func arrayFunctions() []Function {
	arrT := ArrayP(Var("T"))
	arr := func(v types.Value) []types.Value { return v.([]types.Value) }
	extreme := func(dir int) Impl {
		return strict(func(a []types.Value) (types.Value, error) {
			var best types.Value
			for _, v := range arr(a[0]) {
				if v != nil && (best == nil || compareValues(v, best)*dir > 0) {
					best = v
				}
			}
			return best, nil
		})
	}
	sortImpl := func(a []types.Value) (types.Value, error) {
		dir := 1
		if len(a) == 2 {
			switch strings.ToUpper(a[1].(string)) {
			case "ASC":
			case "DESC":
				dir = -1
			default:
				return nil, nil
			}
		}
		out := append([]types.Value{}, arr(a[0])...)
		sort.SliceStable(out, func(i, j int) bool {
			x, y := out[i], out[j]
			switch {
			case x == nil:
				return false
			case y == nil:
				return true
			}
			return compareValues(x, y)*dir < 0
		})
		return out, nil
	}
	series := func(a []types.Value) (types.Value, error) {
		var start, end, step int64
		intElems := false
		switch x := a[0].(type) {
		case int32:
			start, end, intElems = int64(x), int64(a[1].(int32)), true
		case int64:
			start, end = x, a[1].(int64)
		}
		if len(a) == 3 {
			step = int64(a[2].(int32))
		} else if end-start > 0 {
			step = 1
		} else {
			step = -1
		}
		if step == 0 {
			return nil, fmt.Errorf("GENERATE_SERIES step cannot be zero")
		}
		// Size the series in floating point first: end - start may overflow.
		fdiff := float64(end) - float64(start)
		if fdiff > 0 && step < 0 || fdiff < 0 && step > 0 {
			return nil, fmt.Errorf("GENERATE_SERIES step has wrong sign")
		}
		if fdiff/float64(step) >= maxSeries {
			return nil, fmt.Errorf("GENERATE_SERIES would return more than %d elements", int(maxSeries))
		}
		n := 1 + (end-start)/step
		out := make([]types.Value, 0, n)
		for i, v := int64(0), start; i < n; i, v = i+1, v+step {
			if intElems {
				out = append(out, int32(v))
			} else {
				out = append(out, v)
			}
		}
		return out, nil
	}
	join := func(a []types.Value) (types.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		sep := ","
		if len(a) == 2 {
			sep = ""
			if a[1] != nil {
				sep = a[1].(string)
			}
		}
		parts := make([]string, len(arr(a[0])))
		for i, v := range arr(a[0]) {
			parts[i] = castString(v)
		}
		return strings.Join(parts, sep), nil
	}
	primitiveArrayString := func(in []types.Type) (types.Type, error) {
		if _, err := primitiveElems("ARRAY_JOIN")(in); err != nil {
			return types.Type{}, err
		}
		if in[0].Elem.Kind == types.Bytes {
			return types.Type{}, fmt.Errorf("ARRAY_JOIN does not support arrays of BYTES")
		}
		return types.StringType, nil
	}
	return []Function{
		fn("ARRAY_CONCAT", CatArray, "Concatenates two arrays; NULL when both are NULL, the other one when one is.",
			V(arrT, lenient(func(a []types.Value) (types.Value, error) {
				switch {
				case a[0] == nil:
					return a[1], nil
				case a[1] == nil:
					return a[0], nil
				}
				return append(append([]types.Value{}, arr(a[0])...), arr(a[1])...), nil
			}), P("array1", arrT), P("array2", arrT))),
		fn("ARRAY_CONTAINS", CatArray, "Returns whether an array contains a value; false for a NULL array.",
			V(PBoolean, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return false, nil
				}
				return containsValue(arr(a[0]), a[1]), nil
			}), P("array", arrT), P("value", Var("T")))),
		fn("ARRAY_DISTINCT", CatArray, "Returns the distinct values of an array (NULL included) in order of first occurrence.",
			V(arrT, strict(func(a []types.Value) (types.Value, error) {
				return distinct([]types.Value{}, arr(a[0]), nil), nil
			}), P("array", arrT))),
		fn("ARRAY_EXCEPT", CatArray, "Returns the distinct values of array1 that are not in array2, in order.",
			V(arrT, strict(func(a []types.Value) (types.Value, error) {
				other := arr(a[1])
				return distinct([]types.Value{}, arr(a[0]), func(v types.Value) bool { return containsValue(other, v) }), nil
			}), P("array1", arrT), P("array2", arrT))),
		fn("ARRAY_INTERSECT", CatArray, "Returns the distinct values in both arrays, in the order of array1.",
			V(arrT, strict(func(a []types.Value) (types.Value, error) {
				other := arr(a[1])
				return distinct([]types.Value{}, arr(a[0]), func(v types.Value) bool { return !containsValue(other, v) }), nil
			}), P("array1", arrT), P("array2", arrT))),
		fn("ARRAY_JOIN", CatArray, "Joins the elements of an array of primitives into a string with a delimiter (default ',').",
			V(PString, lenient(join), P("array", arrT)).returning("STRING", primitiveArrayString),
			V(PString, lenient(join), P("array", arrT), P("delimiter", PString)).returning("STRING", primitiveArrayString),
		),
		fn("ARRAY_LENGTH", CatArray, "Returns the number of elements of an array.",
			V(PInt, strict(func(a []types.Value) (types.Value, error) { return int32(len(arr(a[0]))), nil }), P("array", arrT))),
		fn("ARRAY_MAX", CatArray, "Returns the largest non-NULL element of an array of primitives.",
			V(Var("T"), extreme(1), P("array", arrT)).returning("T", primitiveElems("ARRAY_MAX"))),
		fn("ARRAY_MIN", CatArray, "Returns the smallest non-NULL element of an array of primitives.",
			V(Var("T"), extreme(-1), P("array", arrT)).returning("T", primitiveElems("ARRAY_MIN"))),
		fn("ARRAY_REMOVE", CatArray, "Removes every element equal to a value (NULL removes NULLs).",
			V(arrT, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				out := []types.Value{}
				for _, v := range arr(a[0]) {
					if !valueEqual(v, a[1]) {
						out = append(out, v)
					}
				}
				return out, nil
			}), P("array", arrT), P("element", Var("T")))),
		fn("ARRAY_SORT", CatArray, "Sorts an array of primitives in natural order, ASC (default) or DESC, NULLs last; NULL for another direction.",
			V(arrT, strict(sortImpl), P("array", arrT)).returning("ARRAY<T>", func(in []types.Type) (types.Type, error) {
				_, err := primitiveElems("ARRAY_SORT")(in)
				return in[0], err
			}),
			V(arrT, strict(sortImpl), P("array", arrT), P("direction", PString)).returning("ARRAY<T>", func(in []types.Type) (types.Type, error) {
				_, err := primitiveElems("ARRAY_SORT")(in)
				return in[0], err
			}),
		),
		fn("ARRAY_UNION", CatArray, "Returns the distinct values of both arrays in order of appearance.",
			V(arrT, strict(func(a []types.Value) (types.Value, error) {
				return distinct(distinct([]types.Value{}, arr(a[0]), nil), arr(a[1]), nil), nil
			}), P("array1", arrT), P("array2", arrT))),
		fn("GENERATE_SERIES", CatArray, "Returns the values from start to end inclusive, by step (default 1 or -1).",
			V(ArrayP(PInt), strict(series), P("start", PInt), P("end", PInt)),
			V(ArrayP(PInt), strict(series), P("start", PInt), P("end", PInt), P("step", PInt)),
			V(ArrayP(PBigint), strict(series), P("start", PBigint), P("end", PBigint)),
			V(ArrayP(PBigint), strict(series), P("start", PBigint), P("end", PBigint), P("step", PInt)),
		),
		fn("SLICE", CatArray, "Returns the elements from index from to index to, 1-based and inclusive; NULL bounds mean the ends; NULL when out of range.",
			V(arrT, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				in := arr(a[0])
				start, end := 0, len(in)
				if a[1] != nil {
					start = int(a[1].(int32)) - 1
				}
				if a[2] != nil {
					end = int(a[2].(int32))
				}
				if start < 0 || end > len(in) || start > end {
					return nil, nil
				}
				return append([]types.Value{}, in[start:end]...), nil
			}), P("array", arrT), P("from", PInt), P("to", PInt))),
	}
}

func mapFunctions() []Function {
	mapT := MapP(Var("T"))
	mp := func(v types.Value) map[string]types.Value { return v.(map[string]types.Value) }
	return []Function{
		fn("AS_MAP", CatMap, "Builds a map from an array of keys and an array of values, paired by position.",
			V(mapT, strict(func(a []types.Value) (types.Value, error) {
				keys, vals := a[0].([]types.Value), a[1].([]types.Value)
				out := make(map[string]types.Value, len(keys))
				for i, k := range keys {
					if k == nil {
						continue
					}
					var v types.Value
					if i < len(vals) {
						v = vals[i]
					}
					out[k.(string)] = v
				}
				return out, nil
			}), P("keys", ArrayP(PString)), P("values", ArrayP(Var("T"))))),
		fn("ENTRIES", CatMap, "Returns a map's entries as an array of STRUCT<K, V>, sorted by key.",
			V(ArrayP(StructP("K", PString, "V", Var("T"))), strict(func(a []types.Value) (types.Value, error) {
				m := mp(a[0])
				out := make([]types.Value, 0, len(m))
				for _, k := range sortedKeys(m) {
					out = append(out, types.StructVal{{Name: "K", Value: k}, {Name: "V", Value: m[k]}})
				}
				return out, nil
			}), P("map", mapT), P("sorted", PBoolean))),
		fn("MAP_KEYS", CatMap, "Returns the keys of a map, sorted.",
			V(ArrayP(PString), strict(func(a []types.Value) (types.Value, error) {
				keys := sortedKeys(mp(a[0]))
				out := make([]types.Value, len(keys))
				for i, k := range keys {
					out[i] = k
				}
				return out, nil
			}), P("map", mapT))),
		fn("MAP_UNION", CatMap, "Returns the union of two maps; values of map2 win. NULL when both are NULL.",
			V(mapT, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil && a[1] == nil {
					return nil, nil
				}
				out := map[string]types.Value{}
				for _, m := range a {
					if m != nil {
						for k, v := range mp(m) {
							out[k] = v
						}
					}
				}
				return out, nil
			}), P("map1", mapT), P("map2", mapT))),
		fn("MAP_VALUES", CatMap, "Returns the values of a map, in the order of their sorted keys.",
			V(ArrayP(Var("T")), strict(func(a []types.Value) (types.Value, error) {
				m := mp(a[0])
				out := make([]types.Value, 0, len(m))
				for _, k := range sortedKeys(m) {
					out = append(out, m[k])
				}
				return out, nil
			}), P("map", mapT))),
	}
}

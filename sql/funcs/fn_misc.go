package funcs

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

func nullFunctions() []Function {
	t := Var("T")
	return []Function{
		fn("COALESCE", CatConditional, "Returns the first non-NULL argument.",
			VV(t, lenient(func(a []types.Value) (types.Value, error) {
				for _, v := range a {
					if v != nil {
						return v, nil
					}
				}
				return nil, nil
			}), P("first", t), P("others", t))),
		fn("IFNULL", CatConditional, "Returns altValue when expression is NULL, expression otherwise.",
			V(t, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return a[1], nil
				}
				return a[0], nil
			}), P("expression", t), P("altValue", t))),
		fn("NULLIF", CatConditional, "Returns NULL when expression1 equals expression2, expression1 otherwise.",
			V(t, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] != nil && a[1] != nil && valueEqual(a[0], a[1]) {
					return nil, nil
				}
				return a[0], nil
			}), P("expression1", t), P("expression2", t))),
	}
}

func byteOrder(v types.Value) (binary.ByteOrder, error) {
	switch strings.ToUpper(v.(string)) {
	case "BIG_ENDIAN":
		return binary.BigEndian, nil
	case "LITTLE_ENDIAN":
		return binary.LittleEndian, nil
	}
	return nil, fmt.Errorf("byte order must be BIG_ENDIAN or LITTLE_ENDIAN, not %q", v)
}

func fromBytes(name string, ret Pattern, size int, conv func(binary.ByteOrder, []byte) types.Value) Function {
	impl := strict(func(a []types.Value) (types.Value, error) {
		order := binary.ByteOrder(binary.BigEndian)
		if len(a) == 2 {
			var err error
			if order, err = byteOrder(a[1]); err != nil {
				return nil, err
			}
		}
		b := a[0].([]byte)
		if len(b) != size {
			return nil, fmt.Errorf("number of bytes must be equal to %d, but found %d", size, len(b))
		}
		return conv(order, b), nil
	})
	return fn(name, CatConversions, fmt.Sprintf("Converts %d BYTES to %s in BIG_ENDIAN (default) or LITTLE_ENDIAN order.", size, ret),
		V(ret, impl, P("bytes", PBytes)),
		V(ret, impl, P("bytes", PBytes), P("byteOrder", PString)))
}

func bytesFunctions() []Function {
	return []Function{
		fromBytes("BIGINT_FROM_BYTES", PBigint, 8, func(o binary.ByteOrder, b []byte) types.Value { return int64(o.Uint64(b)) }),
		fromBytes("DOUBLE_FROM_BYTES", PDouble, 8, func(o binary.ByteOrder, b []byte) types.Value { return math.Float64frombits(o.Uint64(b)) }),
		fromBytes("INT_FROM_BYTES", PInt, 4, func(o binary.ByteOrder, b []byte) types.Value { return int32(o.Uint32(b)) }),
	}
}

func lambdaFunctions() []Function {
	t, u, s := Var("T"), Var("U"), Var("S")
	call := func(f types.Value, args ...types.Value) (types.Value, error) {
		return f.(LambdaFunc)(args...)
	}
	return []Function{
		fn("TRANSFORM", CatLambda, "Applies a lambda to each element of an array, or to each key and value of a map.",
			V(ArrayP(u), lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				in := a[0].([]types.Value)
				out := make([]types.Value, len(in))
				for i, e := range in {
					v, err := call(a[1], e)
					if err != nil {
						return nil, err
					}
					out[i] = v
				}
				return out, nil
			}), P("array", ArrayP(t)), P("function", Lambda(u, t))),
			V(MapP(u), lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				in := a[0].(map[string]types.Value)
				out := make(map[string]types.Value, len(in))
				for _, k := range sortedKeys(in) {
					nk, err := call(a[1], k, in[k])
					if err != nil {
						return nil, err
					}
					if nk == nil {
						return nil, fmt.Errorf("the key lambda returned NULL for key %q", k)
					}
					nv, err := call(a[2], k, in[k])
					if err != nil {
						return nil, err
					}
					out[nk.(string)] = nv
				}
				return out, nil
			}), P("map", MapP(t)), P("keyFunction", Lambda(PString, PString, t)), P("valueFunction", Lambda(u, PString, t))),
		),
		fn("FILTER", CatLambda, "Keeps the elements of an array, or the entries of a map, for which a lambda returns true.",
			V(ArrayP(t), lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				out := []types.Value{}
				for _, e := range a[0].([]types.Value) {
					keep, err := call(a[1], e)
					if err != nil {
						return nil, err
					}
					if keep == true {
						out = append(out, e)
					}
				}
				return out, nil
			}), P("array", ArrayP(t)), P("function", Lambda(PBoolean, t))),
			V(MapP(t), lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				in := a[0].(map[string]types.Value)
				out := map[string]types.Value{}
				for _, k := range sortedKeys(in) {
					keep, err := call(a[1], k, in[k])
					if err != nil {
						return nil, err
					}
					if keep == true {
						out[k] = in[k]
					}
				}
				return out, nil
			}), P("map", MapP(t)), P("function", Lambda(PBoolean, PString, t))),
		),
		fn("REDUCE", CatLambda, "Folds an array or a map into a state, starting from an initial state; NULL when the state is NULL, the initial state when the collection is NULL.",
			V(s, lenient(func(a []types.Value) (types.Value, error) {
				if a[1] == nil || a[0] == nil {
					return a[1], nil // NULL state gives NULL, a NULL array the state
				}
				state := a[1]
				for _, e := range a[0].([]types.Value) {
					var err error
					if state, err = call(a[2], state, e); err != nil {
						return nil, err
					}
				}
				return state, nil
			}), P("array", ArrayP(t)), P("initialState", s), P("function", Lambda(s, s, t))),
			V(s, lenient(func(a []types.Value) (types.Value, error) {
				if a[1] == nil || a[0] == nil {
					return a[1], nil
				}
				state := a[1]
				m := a[0].(map[string]types.Value)
				for _, k := range sortedKeys(m) {
					var err error
					if state, err = call(a[2], state, k, m[k]); err != nil {
						return nil, err
					}
				}
				return state, nil
			}), P("map", MapP(t)), P("initialState", s), P("function", Lambda(s, s, PString, t))),
		),
	}
}

// earth radius in the units GEO_DISTANCE accepts.
var earthRadius = map[string]float64{
	"KM": 6371, "KILOMETER": 6371, "KILOMETERS": 6371, "KILOMETRE": 6371, "KILOMETRES": 6371,
	"MI": 3959, "MILE": 3959, "MILES": 3959,
}

func otherFunctions() []Function {
	geo := func(a []types.Value) (types.Value, error) {
		for _, v := range a[:4] {
			if v == nil {
				return nil, nil
			}
		}
		lat1, lon1, lat2, lon2 := a[0].(float64), a[1].(float64), a[2].(float64), a[3].(float64)
		unit := "KM" // also for a NULL or blank unit
		if len(a) == 5 && a[4] != nil && strings.TrimSpace(a[4].(string)) != "" {
			unit = strings.ToUpper(strings.TrimSpace(a[4].(string)))
		}
		r, ok := earthRadius[unit]
		if !ok {
			return nil, fmt.Errorf("GEO_DISTANCE unit must be KM or MILES, not %q", a[4])
		}
		for _, lat := range []float64{lat1, lat2} {
			if lat < -90 || lat > 90 {
				return nil, fmt.Errorf("valid latitude values for GEO_DISTANCE are in the range -90 to 90, not %v", lat)
			}
		}
		for _, lon := range []float64{lon1, lon2} {
			if lon < -180 || lon > 180 {
				return nil, fmt.Errorf("valid longitude values for GEO_DISTANCE are in the range -180 to 180, not %v", lon)
			}
		}
		rad := math.Pi / 180
		dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
		h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Pow(math.Sin(dLon/2), 2)
		return 2 * r * math.Asin(math.Sqrt(h)), nil
	}
	coords := []Param{P("lat1", PDouble), P("lon1", PDouble), P("lat2", PDouble), P("lon2", PDouble)}
	return []Function{
		fn("AS_VALUE", CatOther, "Copies a key column into the value (returns its argument).",
			V(Var("T"), lenient(identity), P("keyColumn", Var("T")))),
		fn("GEO_DISTANCE", CatOther, "Returns the great-circle (haversine) distance between two points given in decimal degrees, in KM (default, also for a NULL unit) or MILES.",
			V(PDouble, lenient(geo), coords...),
			V(PDouble, lenient(geo), append(append([]Param{}, coords...), P("unit", PString))...),
		),
	}
}

func tableFunctions() []Function {
	t := Var("T")
	return []Function{
		{Name: "EXPLODE", Kind: TableFunction, Category: CatTable,
			Description: "Emits one row per element of an array (none for a NULL or empty array).",
			Variants: []Variant{V(t, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return []types.Value{}, nil
				}
				return append([]types.Value{}, a[0].([]types.Value)...), nil
			}), P("array", ArrayP(t)))}},
		{Name: "CUBE_EXPLODE", Kind: TableFunction, Category: CatTable,
			Description: "Emits every combination of an array's elements with some replaced by NULL (2^n rows; combinations that repeat because an element is NULL are emitted once).",
			Variants: []Variant{V(ArrayP(t), lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return []types.Value{}, nil
				}
				return cube(a[0].([]types.Value))
			}), P("array", ArrayP(t)))}},
	}
}

// maxCube bounds CUBE_EXPLODE's input: 2^n rows.
const maxCube = 20

// cube emits the combinations in ksqlDB's order: bit n-1-i of a counter
// keeps element i, the counter running from 0 (all NULL) up.
func cube(cols []types.Value) (types.Value, error) {
	n := len(cols)
	if n > maxCube {
		return nil, fmt.Errorf("CUBE_EXPLODE input has %d elements, more than the maximum of %d (it emits 2^n rows)", n, maxCube)
	}
	present := 0
	for i, c := range cols {
		if c != nil {
			present |= 1 << (n - 1 - i)
		}
	}
	var out []types.Value
	for mask := 0; mask < 1<<n; mask++ {
		if mask&present != mask {
			continue
		}
		row := make([]types.Value, n)
		for i := range cols {
			if mask&(1<<(n-1-i)) != 0 {
				row[i] = cols[i]
			}
		}
		out = append(out, row)
	}
	return out, nil
}

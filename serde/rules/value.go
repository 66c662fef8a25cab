package rules

// SQL values as CEL sees them, and back. A STRUCT is a map from field name
// to value, ARRAY a list, MAP a map; INT and BIGINT are CEL ints, DOUBLE and
// DECIMAL doubles, DATE, TIME and TIMESTAMP ints (days, milliseconds since
// midnight, milliseconds since the epoch: their Avro encodings), NULL null.

import (
	"fmt"
	"math"
	"math/big"
	"path"
	"strconv"
	"strings"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	sqltypes "github.com/sluicedata/sluice/sql/types"
)

func toCEL(v sqltypes.Value) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case sqltypes.Dec:
		f, _ := new(big.Rat).SetFrac(x.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil)).Float64()
		return f
	case sqltypes.DateVal:
		return int64(x)
	case sqltypes.TimeVal:
		return int64(x)
	case sqltypes.TimestampVal:
		return int64(x)
	case []sqltypes.Value:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toCEL(e)
		}
		return out
	case map[string]sqltypes.Value:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toCEL(e)
		}
		return out
	case sqltypes.StructVal:
		out := make(map[string]any, len(x))
		for _, f := range x {
			out[f.Name] = toCEL(f.Value)
		}
		return out
	}
	return v // nil, bool, int64, float64, string, []byte
}

// fromCEL converts a CEL result to a value of t; where names the value in
// errors.
func fromCEL(t sqltypes.Type, v ref.Val, where string) (sqltypes.Value, error) {
	if v == nil || v.Type() == types.NullType {
		return nil, nil
	}
	bad := func() (sqltypes.Value, error) {
		return nil, fmt.Errorf("%s: a transform returned %s where %s is expected", where, v.Type().TypeName(), t)
	}
	switch t.Kind {
	case sqltypes.Boolean:
		if b, ok := v.(types.Bool); ok {
			return bool(b), nil
		}
	case sqltypes.Int, sqltypes.Date, sqltypes.Time:
		n, ok := celInt(v)
		if !ok {
			return bad()
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, fmt.Errorf("%s: %d is out of range for %s", where, n, t)
		}
		switch t.Kind {
		case sqltypes.Date:
			return sqltypes.DateVal(n), nil
		case sqltypes.Time:
			if n < 0 || n >= sqltypes.MillisPerDay {
				return nil, fmt.Errorf("%s: %d is not a time of day in milliseconds", where, n)
			}
			return sqltypes.TimeVal(n), nil
		}
		return int32(n), nil
	case sqltypes.Bigint, sqltypes.Timestamp:
		if ts, ok := v.(types.Timestamp); ok && t.Kind == sqltypes.Timestamp {
			return sqltypes.TimestampOf(ts.Time), nil
		}
		n, ok := celInt(v)
		if !ok {
			return bad()
		}
		if t.Kind == sqltypes.Timestamp {
			return sqltypes.TimestampVal(n), nil
		}
		return n, nil
	case sqltypes.Double:
		switch x := v.(type) {
		case types.Double:
			return float64(x), nil
		case types.Int:
			return float64(x), nil
		case types.Uint:
			return float64(x), nil
		}
	case sqltypes.Decimal:
		var text string
		switch x := v.(type) {
		case types.Double:
			text = strconv.FormatFloat(float64(x), 'f', -1, 64)
		case types.Int:
			text = strconv.FormatInt(int64(x), 10)
		case types.String:
			text = string(x)
		default:
			return bad()
		}
		d, err := sqltypes.ParseDec(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return rescale(d, t, where)
	case sqltypes.String:
		if s, ok := v.(types.String); ok {
			return string(s), nil
		}
	case sqltypes.Bytes:
		switch x := v.(type) {
		case types.Bytes:
			return []byte(x), nil
		case types.String:
			return []byte(x), nil
		}
	case sqltypes.Array:
		l, ok := v.(traits.Lister)
		if !ok {
			return bad()
		}
		var out []sqltypes.Value
		for it := l.Iterator(); it.HasNext() == types.True; {
			e, err := fromCEL(*t.Elem, it.Next(), where+"[]")
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case sqltypes.Map, sqltypes.Struct:
		m, ok := v.(traits.Mapper)
		if !ok {
			return bad()
		}
		if t.Kind == sqltypes.Struct {
			out := make(sqltypes.StructVal, len(t.Fields))
			for i, f := range t.Fields {
				out[i].Name = f.Name
				if fv, found := m.Find(types.String(f.Name)); found {
					nv, err := fromCEL(f.Type, fv, where+"."+f.Name)
					if err != nil {
						return nil, err
					}
					out[i].Value = nv
				}
			}
			return out, nil
		}
		out := map[string]sqltypes.Value{}
		for it := m.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("%s: map key %v is not a string", where, k)
			}
			nv, err := fromCEL(*t.Elem, m.Get(k), where+"."+string(ks))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = nv
		}
		return out, nil
	}
	return bad()
}

func celInt(v ref.Val) (int64, bool) {
	switch x := v.(type) {
	case types.Int:
		return int64(x), true
	case types.Uint:
		if uint64(x) > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// rescale brings d to the scale of t (rounding half away from zero) and
// checks its precision.
func rescale(d sqltypes.Dec, t sqltypes.Type, where string) (sqltypes.Dec, error) {
	u := new(big.Int).Set(d.Unscaled)
	switch {
	case d.Scale < t.Scale:
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale-d.Scale)), nil))
	case d.Scale > t.Scale:
		div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-t.Scale)), nil)
		q, r := new(big.Int).QuoRem(u, div, new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(div) >= 0 {
			q.Add(q, big.NewInt(int64(u.Sign())))
		}
		u = q
	}
	if len(new(big.Int).Abs(u).String()) > t.Precision {
		return sqltypes.Dec{}, fmt.Errorf("%s: %s does not fit %s", where, d, t)
	}
	return sqltypes.Dec{Unscaled: u, Scale: t.Scale}, nil
}

// fieldInfo is what a CEL_FIELD rule sees of a field besides its value.
type fieldInfo struct {
	name, fullName, typeName string
	tags                     []string
	t                        sqltypes.Type
}

// typeName is Confluent's field type name for a SQL type (the Avro view).
func typeName(t sqltypes.Type) string {
	switch t.Kind {
	case sqltypes.Boolean:
		return "BOOLEAN"
	case sqltypes.Int, sqltypes.Date, sqltypes.Time:
		return "INT"
	case sqltypes.Bigint, sqltypes.Timestamp:
		return "LONG"
	case sqltypes.Double:
		return "DOUBLE"
	case sqltypes.String:
		return "STRING"
	case sqltypes.Bytes, sqltypes.Decimal:
		return "BYTES"
	case sqltypes.Array:
		return "ARRAY"
	case sqltypes.Map:
		return "MAP"
	case sqltypes.Struct:
		return "RECORD"
	}
	return "NULL"
}

// walk calls visit for every primitive field of v (elements of arrays and
// map values of primitives included, nested structs entered) and returns v
// with the values visit returned.
func (e *Executor) walk(tg Target, v sqltypes.Value, visit func(fieldInfo, sqltypes.Value) (sqltypes.Value, error)) (sqltypes.Value, error) {
	root := tg.RootName
	if root == "" {
		root = "root"
	}
	tags := func(fullName string) []string { return e.fieldTags(tg.Metadata, fullName) }
	var rec func(t sqltypes.Type, v sqltypes.Value, f fieldInfo) (sqltypes.Value, error)
	rec = func(t sqltypes.Type, v sqltypes.Value, f fieldInfo) (sqltypes.Value, error) {
		switch t.Kind {
		case sqltypes.Struct:
			sv, ok := v.(sqltypes.StructVal)
			if !ok || sv == nil {
				return v, nil
			}
			out := make(sqltypes.StructVal, len(sv))
			for i, fv := range sv {
				ft := t.Fields[i].Type
				full := f.fullName + "." + fv.Name
				sub := fieldInfo{name: fv.Name, fullName: full, typeName: typeName(ft), tags: tags(full), t: ft}
				nv, err := rec(ft, fv.Value, sub)
				if err != nil {
					return nil, err
				}
				out[i] = sqltypes.FieldValue{Name: fv.Name, Value: nv}
			}
			return out, nil
		case sqltypes.Array:
			av, ok := v.([]sqltypes.Value)
			if !ok || av == nil {
				return v, nil
			}
			out := make([]sqltypes.Value, len(av))
			ef := f
			ef.t, ef.typeName = *t.Elem, typeName(*t.Elem)
			for i, e := range av {
				nv, err := rec(*t.Elem, e, ef)
				if err != nil {
					return nil, err
				}
				out[i] = nv
			}
			return out, nil
		case sqltypes.Map:
			mv, ok := v.(map[string]sqltypes.Value)
			if !ok || mv == nil {
				return v, nil
			}
			out := make(map[string]sqltypes.Value, len(mv))
			ef := f
			ef.t, ef.typeName = *t.Elem, typeName(*t.Elem)
			for k, e := range mv {
				nv, err := rec(*t.Elem, e, ef)
				if err != nil {
					return nil, err
				}
				out[k] = nv
			}
			return out, nil
		}
		if f.fullName == root { // a bare primitive key or value
			f.name, f.typeName, f.t = root, typeName(t), t
		}
		if v == nil { // as Confluent's clients see a null union branch
			f.typeName = "NULL"
		}
		return visit(f, v)
	}
	return rec(tg.Type, v, fieldInfo{name: root, fullName: root, t: tg.Type, tags: tags(root)})
}

type tagKey struct {
	md       *Metadata
	fullName string
}

// fieldTags returns the tags md gives the field fullName, cached: the
// metadata of a schema is parsed once and its fields recur in every record.
func (e *Executor) fieldTags(md *Metadata, fullName string) []string {
	if md == nil || len(md.Tags) == 0 {
		return []string{}
	}
	k := tagKey{md, fullName}
	if t, ok := e.tags.Load(k); ok {
		return t.([]string)
	}
	t := fieldTags(md.Tags, fullName)
	if e.tagCount.Add(1) > maxTagEntries {
		e.tags.Clear()
		e.tagCount.Store(0)
	}
	e.tags.Store(k, t)
	return t
}

// fieldTags collects the tags of the metadata patterns matching fullName.
// In a pattern "*" matches within one name and "**" across dots.
func fieldTags(tags map[string][]string, fullName string) []string {
	out := []string{}
	for pat, ts := range tags {
		if globMatch(pat, fullName) {
			for _, t := range ts {
				if !anyTag([]string{t}, out) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

func globMatch(pat, name string) bool {
	if !strings.Contains(pat, "**") {
		ok, err := path.Match(strings.ReplaceAll(pat, ".", "/"), strings.ReplaceAll(name, ".", "/"))
		return err == nil && ok
	}
	i := strings.Index(pat, "**")
	prefix, rest := pat[:i], pat[i+2:]
	if !strings.HasPrefix(name, prefix) {
		return false
	}
	tail := name[len(prefix):]
	for j := 0; j <= len(tail); j++ {
		if globMatch(rest, tail[j:]) {
			return true
		}
	}
	return false
}

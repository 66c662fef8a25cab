package funcs

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/sql/types"
)

// The scanners read user data; they must not panic on any input.

func FuzzExtractJSONField(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"x"}]}`, `[1, 2`, `"s\"`, `{"a" 1}`, ``, `nul`, `{"a":{"b":[[]]}}`} {
		f.Add(s, "$.a[1].b")
	}
	f.Fuzz(func(t *testing.T, doc, path string) {
		p, err := parseJSONPath(path)
		if err != nil {
			return
		}
		p.extract(doc)
	})
}

func FuzzJavaFormat(f *testing.F) {
	for _, s := range []string{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "[yyyy]MMM d, h:mm a z", "''", "yyyyMMddHHmmss"} {
		f.Add(s, "2021-06-30T12:00:00.123+02:00")
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		jf, err := compileJavaFormat(pattern)
		if err != nil {
			return
		}
		jf.format(time.Unix(1625054400, 0).UTC())
		_, _ = jf.parse(text, time.UTC)
	})
}

// A changelog record read back after a crash or a bad write must give an
// error, never a panic or an unbounded allocation.
func FuzzUnmarshalState(f *testing.F) {
	reg := New()
	var aggs []*Aggregate
	for _, c := range []struct {
		name string
		args []types.Type
		lits []types.Value
	}{
		{"AVG", []types.Type{types.IntType}, nil},
		{"SUM", []types.Type{types.DecimalOf(10, 2)}, nil},
		{"HISTOGRAM", []types.Type{types.StringType}, nil},
		{"LATEST_BY_OFFSET", []types.Type{types.StringType, types.IntType}, []types.Value{nil, int32(3)}},
		{"COUNT_DISTINCT", []types.Type{types.IntType}, nil},
	} {
		a, err := reg.ResolveAggregate(c.name, c.args, c.lits)
		if err != nil {
			f.Fatal(err)
		}
		aggs = append(aggs, a)
		b, _ := a.MarshalState(a.Init())
		f.Add(b)
	}
	f.Add([]byte{1, 1, 2, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, a := range aggs {
			s, err := a.UnmarshalState(b)
			if err != nil {
				continue
			}
			if err := types.Check(a.State, s); err != nil {
				t.Fatalf("%s: decoded state does not fit %s: %v", a.Function.Name, a.State, err)
			}
			// Using a decoded state may fail but must not panic.
			in := make([]types.Value, len(a.Inputs))
			if a.Sequence {
				in = append(in, int64(1))
			}
			s2, _ := a.UnmarshalState(b)
			if m, err := a.Merge(s, s2); err == nil {
				_, _ = a.Value(m)
			}
			if s, err = a.Add(s, in...); err == nil {
				_, _ = a.Value(s)
			}
		}
	})
}

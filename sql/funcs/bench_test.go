package funcs

import (
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

func benchEval(b *testing.B, name string, argTypes []types.Type, args []types.Value) {
	bound, err := New().Resolve(name, argTypes)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := bound.Eval(args); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bound.Eval(args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSubstring(b *testing.B) {
	s, i := types.StringType, types.IntType
	b.Run("ascii", func(b *testing.B) {
		benchEval(b, "SUBSTRING", []types.Type{s, i, i}, []types.Value{"the quick brown fox jumps over the lazy dog", int32(5), int32(10)})
	})
	b.Run("unicode", func(b *testing.B) {
		benchEval(b, "SUBSTRING", []types.Type{s, i, i}, []types.Value{"ünïcödé strïng wïth äccents", int32(5), int32(10)})
	})
}

func BenchmarkExtractJSONField(b *testing.B) {
	doc := `{"id":42,"user":{"name":"ada","tags":["a","b"],"address":{"city":"London","zip":"N1"}},"ts":1609459200000,"items":[{"sku":"x1","qty":2},{"sku":"y2","qty":1}]}`
	s := types.StringType
	b.Run("nested", func(b *testing.B) {
		benchEval(b, "EXTRACTJSONFIELD", []types.Type{s, s}, []types.Value{doc, "$.user.address.city"})
	})
	b.Run("array", func(b *testing.B) {
		benchEval(b, "EXTRACTJSONFIELD", []types.Type{s, s}, []types.Value{doc, "$.items[1].sku"})
	})
}

func BenchmarkTimestampToString(b *testing.B) {
	bi, s := types.BigintType, types.StringType
	b.Run("utc", func(b *testing.B) {
		benchEval(b, "TIMESTAMPTOSTRING", []types.Type{bi, s}, []types.Value{int64(1609459200123), "yyyy-MM-dd HH:mm:ss.SSS"})
	})
	b.Run("zone", func(b *testing.B) {
		benchEval(b, "TIMESTAMPTOSTRING", []types.Type{bi, s, s}, []types.Value{int64(1609459200123), "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "America/Los_Angeles"})
	})
}

func benchAgg(b *testing.B, name string, t types.Type, v types.Value) {
	a, err := New().ResolveAggregate(name, []types.Type{t}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := a.Init()
	b.ReportAllocs()
	for b.Loop() {
		if s, err = a.Add(s, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAggregateAdd(b *testing.B) {
	b.Run("COUNT", func(b *testing.B) { benchAgg(b, "COUNT", types.BigintType, int64(7)) })
	b.Run("SUM_BIGINT", func(b *testing.B) { benchAgg(b, "SUM", types.BigintType, int64(7)) })
	b.Run("SUM_DOUBLE", func(b *testing.B) { benchAgg(b, "SUM", types.DoubleType, 1.5) })
	b.Run("SUM_DECIMAL", func(b *testing.B) { benchAgg(b, "SUM", types.DecimalOf(10, 2), types.MustDec("1.25")) })
	b.Run("AVG_INT", func(b *testing.B) { benchAgg(b, "AVG", types.IntType, int32(7)) })
}

func BenchmarkAggregateState(b *testing.B) {
	reg := New()
	for _, c := range []struct {
		name string
		t    types.Type
		vals []types.Value
	}{
		{"AVG", types.BigintType, []types.Value{int64(1), int64(2)}},
		{"COLLECT_LIST", types.StringType, []types.Value{"alpha", "beta", "gamma", "delta"}},
		{"HISTOGRAM", types.StringType, []types.Value{"alpha", "beta", "gamma", "alpha"}},
	} {
		a, err := reg.ResolveAggregate(c.name, []types.Type{c.t}, nil)
		if err != nil {
			b.Fatal(err)
		}
		s := a.Init()
		for _, v := range c.vals {
			if s, err = a.Add(s, v); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(c.name+"/marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.MarshalState(s); err != nil {
					b.Fatal(err)
				}
			}
		})
		data, _ := a.MarshalState(s)
		b.Run(c.name+"/unmarshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.UnmarshalState(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

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

package runtime

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
)

// latestOffsets keeps the last offset per source partition, in first-seen
// order, whether records share a partition map or carry equal copies.
func TestLatestOffsets(t *testing.T) {
	a, b := map[string]any{"file": "a"}, map[string]any{"file": "b"}
	aCopy := map[string]any{"file": "a"}
	off := func(n int) map[string]any { return map[string]any{"n": n} }
	recs := []*connect.Record{
		{SourcePartition: a, SourceOffset: off(1)},
		{SourcePartition: a, SourceOffset: off(2)},
		{SourcePartition: b, SourceOffset: off(3)},
		{SourcePartition: a}, // no offset: skipped
		{SourcePartition: aCopy, SourceOffset: off(4)},
		{SourcePartition: aCopy, SourceOffset: off(5)},
		{SourcePartition: b, SourceOffset: off(6)},
		{SourcePartition: a, SourceOffset: off(7)},
	}
	got := latestOffsets(recs)
	if len(got) != 2 {
		t.Fatalf("%d partitions, want 2: %v", len(got), got)
	}
	if !reflect.DeepEqual(got[0].Partition, a) || got[0].Offset["n"] != 7 {
		t.Errorf("first %v %v, want file a at 7", got[0].Partition, got[0].Offset)
	}
	if !reflect.DeepEqual(got[1].Partition, b) || got[1].Offset["n"] != 6 {
		t.Errorf("second %v %v, want file b at 6", got[1].Partition, got[1].Offset)
	}
}

// The source partitioner takes a partition the connector chose, hashes
// keys otherwise (the same key, the same partition) and spreads keyless
// records; the produce context's "no partition" marker chooses nothing.
func TestSourcePartitioner(t *testing.T) {
	p := sourcePartitioner{}.ForTopic("t")
	none := context.WithValue(context.WithoutCancel(context.Background()), manualPartition{}, int32(-1))
	manual := context.WithValue(context.Background(), manualPartition{}, int32(6))
	if got := p.Partition(&kgo.Record{Context: manual, Key: []byte("k")}, 4); got != 2 {
		t.Errorf("manual partition 6 of 4: got %d, want 2", got)
	}
	a := p.Partition(&kgo.Record{Context: none, Key: []byte("k")}, 4)
	if b := p.Partition(&kgo.Record{Context: none, Key: []byte("k")}, 4); a != b {
		t.Errorf("same key: partitions %d and %d", a, b)
	}
	seen := map[int]bool{}
	for range 8 {
		seen[p.Partition(&kgo.Record{Context: none}, 4)] = true
	}
	if len(seen) != 4 {
		t.Errorf("keyless records went to %d of 4 partitions", len(seen))
	}
}

// Headers that repeat the last record's (same key, schema and value) share
// its bytes; any change converts again, and the Kafka headers are those
// each record's own conversion gives.
func TestSourceRepeatedHeaders(t *testing.T) {
	s := stringSourceRun(t)
	i64 := &connect.Schema{Type: connect.Int64}
	str := &connect.Schema{Type: connect.String}
	h := func(k string, sc *connect.Schema, v any) connect.Header {
		return connect.Header{Key: k, Schema: sc, Value: v}
	}
	recs := [][]connect.Header{
		{h("gen", i64, int64(1)), h("iter", i64, int64(0)), h("s", str, "a")},
		{h("gen", i64, int64(1)), h("iter", i64, int64(1)), h("s", str, "a")},
		{h("gen", i64, int64(2)), h("iter", i64, int64(2)), h("s", str, "b")},
		{h("gen", nil, int64(2)), h("other", i64, int64(2)), h("s", str, true)},
		{h("gen", nil, int64(2)), h("other", i64, int64(2)), h("s", str, nil)},
		{h("gen", nil, int64(2))},
		{h("gen", nil, int64(2)), h("iter", i64, int32(2)), h("s", str, "b")},
	}
	want := []string{"gen=1 iter=0 s=a", "gen=1 iter=1 s=a", "gen=2 iter=2 s=b", "gen=2 other=2 s=true",
		"gen=2 other=2 s=<nil>", "gen=2", "gen=2 iter=2 s=b"}
	var shared []byte
	for i, hs := range recs {
		var kr kgo.Record
		r := &connect.Record{Topic: "t", Value: "v", Headers: hs}
		got, f := s.convertOne(context.Background(), r, &kr, &headerSlab{}, &arena{})
		if f != nil {
			t.Fatalf("record %d: %v", i, f.err)
		}
		var parts []string
		for _, x := range got.Headers {
			v := "<nil>"
			if x.Value != nil {
				v = string(x.Value)
			}
			parts = append(parts, x.Key+"="+v)
		}
		if g := strings.Join(parts, " "); g != want[i] {
			t.Errorf("record %d: headers %q, want %q", i, g, want[i])
		}
		if i == 1 && &got.Headers[0].Value[0] != &shared[0] {
			t.Errorf("record 1: the repeated header gen=1 was converted again")
		}
		if i == 0 {
			shared = got.Headers[0].Value
		}
	}
}

// A counter header (one more than the last record's) is the text strconv
// gives, across every carry, and other integers are converted anew.
func TestSourceCounterHeader(t *testing.T) {
	s := stringSourceRun(t)
	i64 := &connect.Schema{Type: connect.Int64}
	var seq []int64
	for _, r := range [][2]int64{{0, 12}, {97, 103}, {998, 1001}, {9_999_998, 10_000_001}, {-3, 2}, {7, 7}, {41, 41}, {1<<62 - 2, 1<<62 + 1}} {
		for v := r[0]; v <= r[1]; v++ {
			seq = append(seq, v)
		}
	}
	hs := &headerSlab{}
	for _, v := range seq {
		var kr kgo.Record
		r := &connect.Record{Topic: "t", Value: "v", Headers: []connect.Header{{Key: "iter", Schema: i64, Value: v}}}
		got, f := s.convertOne(context.Background(), r, &kr, hs, &arena{})
		if f != nil {
			t.Fatalf("%d: %v", v, f.err)
		}
		if g, w := string(got.Headers[0].Value), strconv.FormatInt(v, 10); g != w {
			t.Errorf("header %q, want %q", g, w)
		}
	}
}

// stringSourceRun is a source run with String key and value converters and
// no header.converter.
func stringSourceRun(t *testing.T) *sourceRun {
	t.Helper()
	cs, err := buildConverters(connect.Config{}, connect.Config{
		"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	return &sourceRun{cc: &connectorConfig{}, conv: cs}
}

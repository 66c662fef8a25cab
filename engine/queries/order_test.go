package queries

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fetches builds a poll's result: parts maps "topic/partition" to the
// timestamps of its records, in offset order; names are in fetch order.
func fetches(names []string, parts map[string][]int64) kgo.Fetches {
	var f kgo.Fetch
	for _, name := range names {
		var topic string
		var p int32
		fmt.Sscanf(strings.Replace(name, "/", " ", 1), "%s %d", &topic, &p)
		var recs []*kgo.Record
		for off, ts := range parts[name] {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Offset: int64(off), Timestamp: time.UnixMilli(ts)})
		}
		i := len(f.Topics) - 1
		if i < 0 || f.Topics[i].Topic != topic {
			f.Topics = append(f.Topics, kgo.FetchTopic{Topic: topic})
			i++
		}
		f.Topics[i].Partitions = append(f.Topics[i].Partitions, kgo.FetchPartition{Partition: p, Records: recs})
	}
	return kgo.Fetches{f}
}

func drain(m *Merger, fs kgo.Fetches) []string {
	m.Reset(fs)
	var out []string
	for r := m.Next(); r != nil; r = m.Next() {
		out = append(out, fmt.Sprintf("%s/%d@%d:%d", r.Topic, r.Partition, r.Offset, r.Timestamp.UnixMilli()))
	}
	return out
}

func TestMergerOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		parts map[string][]int64
		want  string
	}{
		{
			name:  "empty",
			names: []string{"a/0"},
			parts: map[string][]int64{},
			want:  "",
		},
		{
			name:  "one partition keeps its order, timestamps going back included",
			names: []string{"a/0"},
			parts: map[string][]int64{"a/0": {5, 3, 9, 1}},
			want:  "a/0@0:5 a/0@1:3 a/0@2:9 a/0@3:1",
		},
		{
			name:  "two topics interleave by timestamp",
			names: []string{"left/0", "right/0"},
			parts: map[string][]int64{"left/0": {10, 30, 50}, "right/0": {20, 40, 60}},
			want:  "left/0@0:10 right/0@0:20 left/0@1:30 right/0@1:40 left/0@2:50 right/0@2:60",
		},
		{
			// The head decides: right's 15 waits behind its 40, as in
			// Kafka Streams, and never overtakes it.
			name:  "stable within a partition",
			names: []string{"left/0", "right/0"},
			parts: map[string][]int64{"left/0": {10, 20, 30}, "right/0": {40, 15, 50}},
			want:  "left/0@0:10 left/0@1:20 left/0@2:30 right/0@0:40 right/0@1:15 right/0@2:50",
		},
		{
			name:  "ties go to the partition fetched first",
			names: []string{"b/1", "a/0", "b/0"},
			parts: map[string][]int64{"a/0": {7, 7}, "b/0": {7}, "b/1": {7, 8}},
			want:  "b/1@0:7 a/0@0:7 a/0@1:7 b/0@0:7 b/1@1:8",
		},
		{
			name:  "empty partitions are skipped, several partitions of a topic",
			names: []string{"a/0", "a/1", "a/2", "b/0"},
			parts: map[string][]int64{"a/0": {4, 6}, "a/2": {1, 5}, "b/0": {2, 3, 9}},
			want:  "a/2@0:1 b/0@0:2 b/0@1:3 a/0@0:4 a/2@1:5 a/0@1:6 b/0@2:9",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Merger
			got := strings.Join(drain(&m, fetches(tc.names, tc.parts)), " ")
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			if len(m.heap) != 0 {
				t.Fatalf("heap not drained: %d cursors", len(m.heap))
			}
		})
	}
}

// TestMergerMatchesDefinition checks the merge on many partitions, with
// many equal timestamps, against the definition computed the slow way:
// take the lowest head, the partition fetched first on ties.
func TestMergerMatchesDefinition(t *testing.T) {
	var names []string
	parts := map[string][]int64{}
	type rec struct {
		name string
		ts   int64
	}
	var all []rec
	for p := range 13 {
		name := fmt.Sprintf("t%d/%d", p%3, p)
		names = append(names, name)
		ts := int64(p * 7 % 5)
		for i := range 20 + p {
			ts += int64((i*31 + p*17) % 4)
			parts[name] = append(parts[name], ts)
		}
	}
	// Expected: repeatedly take the lowest head, first-fetched on ties.
	heads := make([]int, len(names))
	for {
		best := -1
		for i, name := range names {
			if heads[i] < len(parts[name]) && (best < 0 || parts[name][heads[i]] < parts[names[best]][heads[best]]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		all = append(all, rec{names[best], parts[names[best]][heads[best]]})
		heads[best]++
	}
	var m Merger
	for round := range 2 { // a reused Merger gives the same order
		got := drain(&m, fetches(names, parts))
		if len(got) != len(all) {
			t.Fatalf("round %d: %d records, want %d", round, len(got), len(all))
		}
		for i, r := range all {
			if !strings.HasPrefix(got[i], r.name+"@") || !strings.HasSuffix(got[i], fmt.Sprintf(":%d", r.ts)) {
				t.Fatalf("round %d: record %d is %s, want %s at %d", round, i, got[i], r.name, r.ts)
			}
		}
	}
}

func TestMergerAllocatesNothingOnceGrown(t *testing.T) {
	fs := fetches([]string{"a/0", "a/1", "b/0"}, map[string][]int64{"a/0": {1, 4, 7}, "a/1": {2, 5}, "b/0": {3, 6, 8, 9}})
	var m Merger
	drain(&m, fs)
	allocs := testing.AllocsPerRun(100, func() {
		m.Reset(fs)
		for r := m.Next(); r != nil; r = m.Next() {
		}
		m.Clear()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per batch", allocs)
	}
}

// BenchmarkMerger: the merge's cost per record for a batch of 5000
// records over 1, 2 and 16 partitions with interleaved timestamps.
func BenchmarkMerger(b *testing.B) {
	for _, parts := range []int{1, 2, 16} {
		b.Run(fmt.Sprintf("partitions=%d", parts), func(b *testing.B) {
			var names []string
			ts := map[string][]int64{}
			for p := range parts {
				name := fmt.Sprintf("t/%d", p)
				names = append(names, name)
				for i := range 5000 / parts {
					ts[name] = append(ts[name], int64(i*parts+(p*7)%parts))
				}
			}
			fs := fetches(names, ts)
			var m Merger
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				m.Reset(fs)
				for r := m.Next(); r != nil; r = m.Next() {
				}
				m.Clear()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*5000), "ns/record")
		})
	}
}

package runtime

import (
	"context"
	"reflect"
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

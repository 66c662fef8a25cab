package runtime

import (
	"reflect"
	"testing"

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

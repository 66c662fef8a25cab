package runtime

import (
	"reflect"
	"testing"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/storage"
)

// latestOffsets keeps each partition's last offset in first-seen order,
// whether records share one partition map or carry equal copies.
func TestLatestOffsetsPerPartition(t *testing.T) {
	a := map[string]any{"server": "a"}
	b := map[string]any{"server": "b"}
	aCopy := map[string]any{"server": "a"}
	rec := func(p map[string]any, off int) *connect.Record {
		return &connect.Record{SourcePartition: p, SourceOffset: map[string]any{"n": off}}
	}
	recs := []*connect.Record{rec(a, 1), rec(a, 2), rec(b, 3), {}, rec(aCopy, 4), rec(b, 5), rec(b, 6), rec(a, 7), rec(nil, 8), rec(nil, 9)}
	got := latestOffsets(recs)
	want := []storage.SourceOffset{
		{Partition: a, Offset: map[string]any{"n": 7}},
		{Partition: b, Offset: map[string]any{"n": 6}},
		{Partition: nil, Offset: map[string]any{"n": 9}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

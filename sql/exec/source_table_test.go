package exec

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/state"
)

// A source table's query keeps the latest value per key of each partition,
// deletes on tombstones, drops keyless records and writes nothing; Lookup
// and Scan read what was committed.
func TestSourceTableMaterializesTopic(t *testing.T) {
	st, err := state.NewStores(state.Options{Local: true, QueryID: "CST_T_0", Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := NewSourceTable("CST_T_0", "t", false)
	if !q.Stateful() || q.SinkTopic() != "" {
		t.Fatalf("stateful %v, sink %q", q.Stateful(), q.SinkTopic())
	}
	q.UseState(st)
	ctx := context.Background()
	for _, r := range []Record{
		{Topic: "t", Partition: 0, Key: []byte("a"), Value: []byte("1"), Timestamp: 10},
		{Topic: "t", Partition: 1, Key: []byte("b"), Value: []byte("2"), Timestamp: 11},
		{Topic: "t", Partition: 0, Key: []byte("c"), Value: []byte("3"), Timestamp: 12},
		{Topic: "t", Partition: 0, Key: []byte("a"), Value: []byte("4"), Timestamp: 13}, // update
		{Topic: "t", Partition: 0, Key: []byte("c"), Timestamp: 14},                     // tombstone
		{Topic: "t", Partition: 1, Value: []byte("keyless"), Timestamp: 15},
	} {
		out, err := q.Process(ctx, r)
		if err != nil || len(out) != 0 {
			t.Fatalf("Process(%s): out %v, err %v", r.Key, out, err)
		}
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	m := q.Materialization()
	var got []string
	collect := func(r *Record) bool {
		got = append(got, string(r.Key)+"="+string(r.Value))
		return true
	}
	if err := m.Lookup([]byte("a"), collect); err != nil {
		t.Fatal(err)
	}
	if err := m.Lookup([]byte("c"), collect); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "a=4" {
		t.Errorf("lookups a, c: %v, want [a=4]", got)
	}
	got = nil
	if err := m.Scan(collect); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != "a=4 b=2" {
		t.Errorf("scan: %v, want [a=4 b=2]", got)
	}
}

// Without stores the query says so instead of panicking.
func TestSourceTableWithoutState(t *testing.T) {
	q := NewSourceTable("CST_T_0", "t", false)
	if _, err := q.Process(context.Background(), Record{Topic: "t", Key: []byte("a"), Value: []byte("1")}); err == nil {
		t.Error("Process without UseState succeeded")
	}
}

package exec

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/types"
)

// TestRepartitionRoundTrip writes rows through a join repartition and reads
// them back: same columns (NULLs, untyped NULL columns, nested values),
// window, timestamp and headers; the partition and offset become the
// repartition record's.
func TestRepartitionRoundTrip(t *testing.T) {
	layout := []types.Type{types.IntType, types.StringType, {}, types.ArrayOf(types.BigintType), types.BigintType}
	side := JoinSide{Columns: layout, Key: func(r *Row) (types.Value, error) { return r.Cols[1], nil }}
	got := &collectRows{}
	pair := NewJoinRepartition("Join-left", side, got)
	if err := pair.Bind("rp", serde.Kafka{}, []types.Column{{Name: "K", Type: types.StringType}}); err != nil {
		t.Fatal(err)
	}
	log := &MemoryLog{}
	c := &Context{Ctx: context.Background(), Log: log, Source: &Record{}}
	in := []*Row{
		{Cols: []types.Value{int32(1), "a", nil, []types.Value{int64(1), nil}, int64(9)}, Timestamp: 7, Partition: 3, Offset: 40,
			Headers: []Header{{Key: "h", Value: []byte("v")}}},
		{Cols: []types.Value{nil, "b", nil, nil, nil}, Timestamp: 8, Win: &Window{Start: 100, End: 200, Session: true}},
		{Cols: []types.Value{int32(2), nil, nil, nil, nil}, Timestamp: 9},    // NULL key: dropped
		{Cols: []types.Value{int32(3), "c", nil, nil, nil}, Tombstone: true}, // null value: dropped
	}
	for _, r := range in {
		if err := pair.Op.Push(c, r); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.out) != 2 || c.out[0].Topic != "rp" || string(c.out[0].Key) != "a" || string(c.out[1].Key) != "b" {
		t.Fatalf("records: %+v", c.out)
	}
	if e := log.Entries(); len(e) != 0 {
		t.Fatalf("a NULL join key is not an error: %+v", e)
	}
	dec := pair.Input().Decoder
	for i, rec := range c.out {
		rec.Partition, rec.Offset = 1, int64(i)
		row, err := dec.Decode(c, &rec)
		if err != nil {
			t.Fatal(err)
		}
		want := in[i]
		if !reflect.DeepEqual(row.Cols, want.Cols) || row.Timestamp != want.Timestamp || !reflect.DeepEqual(row.Win, want.Win) ||
			!reflect.DeepEqual(row.Headers, want.Headers) || row.Partition != 1 || row.Offset != int64(i) {
			t.Fatalf("row %d: got %+v, want %+v", i, row, want)
		}
	}
	bad := Record{Topic: "rp", Value: []byte(`{"V":1}`)}
	if _, err := dec.Decode(c, &bad); err == nil || !strings.Contains(err.Error(), "topic rp") {
		t.Fatalf("foreign record: %v", err)
	}
}

// TestRepartitionWriteOnly: the columns left out are written as NULL and
// read back as NULL, the others unchanged; a record written with every
// column (before WriteOnly, or by an earlier version) reads back whole.
func TestRepartitionWriteOnly(t *testing.T) {
	layout := []types.Type{types.BigintType, types.StringType, types.ArrayOf(types.StringType), types.BigintType}
	side := JoinSide{Columns: layout, Key: func(r *Row) (types.Value, error) { return r.Cols[0], nil }}
	got := &collectRows{}
	pair := NewJoinRepartition("Join-left", side, got)
	if err := pair.Bind("rp", serde.Kafka{}, []types.Column{{Name: "K", Type: types.BigintType}}); err != nil {
		t.Fatal(err)
	}
	c := &Context{Ctx: context.Background(), Log: &MemoryLog{}, Source: &Record{}}
	row := &Row{Cols: []types.Value{int64(1), "wide", []types.Value{"x"}, int64(5)}, Timestamp: 3}
	if err := pair.Op.Push(c, row); err != nil {
		t.Fatal(err)
	}
	pair.Op.WriteOnly([]bool{true, false, false, true})
	if err := pair.Op.Push(c, row); err != nil {
		t.Fatal(err)
	}
	if len(c.out) != 2 || len(c.out[1].Value) >= len(c.out[0].Value) {
		t.Fatalf("records: %+v", c.out)
	}
	want := [][]types.Value{row.Cols, {int64(1), nil, nil, int64(5)}}
	for i, rec := range c.out {
		r, err := pair.Input().Decoder.Decode(c, &rec)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Cols, want[i]) {
			t.Fatalf("record %d: got %v, want %v", i, r.Cols, want[i])
		}
	}
}

// TestGroupByRepartitionLogsNullKey: a NULL grouping key is reported as
// the aggregate reports it, and the row goes nowhere.
func TestGroupByRepartitionLogsNullKey(t *testing.T) {
	g := &Grouping{Keys: []Eval{func(r *Row) (types.Value, error) { return r.Cols[0], nil }},
		KeyTypes: []types.Type{types.StringType}, KeyNames: []string{"V"}}
	g.Init()
	pair := NewGroupByRepartition(g, []types.Type{types.StringType}, &collectRows{})
	if err := pair.Op.Push(&Context{Ctx: context.Background(), Source: &Record{}}, &Row{Cols: []types.Value{"x"}}); err == nil {
		t.Fatal("an unbound repartition must refuse rows")
	}
	if err := pair.Bind("rp", serde.Kafka{}, []types.Column{{Name: "V", Type: types.StringType}}); err != nil {
		t.Fatal(err)
	}
	log := &MemoryLog{}
	c := &Context{Ctx: context.Background(), Log: log, Source: &Record{}}
	if err := pair.Op.Push(c, &Row{Cols: []types.Value{nil}}); err != nil {
		t.Fatal(err)
	}
	if len(c.out) != 0 {
		t.Fatalf("records: %+v", c.out)
	}
	if e := log.Entries(); len(e) != 1 || !strings.Contains(e[0].Message, "resolved to null") {
		t.Fatalf("log: %+v", e)
	}
}

package exec

import (
	"context"
	"reflect"
	"testing"

	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// collectRows is a sink keeping the rows pushed to it.
type collectRows struct{ rows []*Row }

func (c *collectRows) Push(_ *Context, r *Row) error {
	c.rows = append(c.rows, r)
	return nil
}

func TestRowListKeepsEveryRowInOrder(t *testing.T) {
	cols := []types.Type{types.IntType, types.StringType, types.BigintType}
	var list []byte
	want := [][]types.Value{{int32(1), "a", int64(10)}, {nil, "b", nil}, {int32(3), nil, int64(-7)}}
	for _, row := range want {
		b, err := encodeRow(nil, cols, row)
		if err != nil {
			t.Fatal(err)
		}
		list = appendRowList(list, b)
	}
	got, err := readRowList(list, cols)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := readRowList(list[:len(list)-2], cols); err == nil {
		t.Fatal("a truncated list was read without error")
	}
}

// joinHarness feeds rows to a join as records of one partition would.
type joinHarness struct {
	t      *testing.T
	stores *state.Stores
	out    *collectRows
}

func newJoinHarness(t *testing.T, opts state.Options) *joinHarness {
	t.Helper()
	opts.Local, opts.QueryID, opts.Partitions = true, "CSAS_OUT_0", 4
	s, err := state.NewStores(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &joinHarness{t: t, stores: s, out: &collectRows{}}
}

func (h *joinHarness) push(op Operator, partition int32, ts int64, cols ...types.Value) {
	h.t.Helper()
	c := &Context{Ctx: context.Background(), State: h.stores, Source: &Record{Partition: partition, Timestamp: ts}}
	if err := op.Push(c, &Row{Cols: cols, Timestamp: ts, Partition: partition}); err != nil {
		h.t.Fatal(err)
	}
}

func keyColumn(i int) Eval { return func(r *Row) (types.Value, error) { return r.Cols[i], nil } }

func streamJoinSpec(typ JoinType, next Operator) JoinSpec {
	side := JoinSide{Key: keyColumn(0), Columns: []types.Type{types.IntType, types.StringType}}
	return JoinSpec{Name: "Join-1", Type: typ, Left: side, Right: side, KeyType: types.IntType, Next: next}
}

// The buffered rows, times and outer results of a stream-stream join are
// in its stores: a new operator over the same committed stores carries on,
// and an aborted batch leaves no trace.
func TestStreamStreamJoinStateIsInStores(t *testing.T) {
	h := newJoinHarness(t, state.Options{})
	first := NewStreamStreamJoin(streamJoinSpec(LeftJoin, h.out), 10_000, 10_000, 0, false)
	h.push(first.LeftInput(), 0, 0, int32(1), "a1")
	h.push(first.LeftInput(), 0, 0, int32(2), "a2")
	if err := h.stores.Commit(); err != nil {
		t.Fatal(err)
	}
	second := NewStreamStreamJoin(streamJoinSpec(LeftJoin, h.out), 10_000, 10_000, 0, false)
	h.push(second.RightInput(), 0, 5000, int32(1), "b1")
	if len(h.out.rows) != 1 || h.out.rows[0].Cols[1] != "a1" || h.out.rows[0].Cols[3] != "b1" {
		t.Fatalf("match after restart: %v", h.out.rows)
	}
	h.stores.Abort() // the match above is forgotten: a1 waits again
	h.out.rows = nil
	h.push(second.LeftInput(), 0, 20_001, int32(9), "late")
	var emitted []types.Value
	for _, r := range h.out.rows {
		emitted = append(emitted, r.Cols[1])
	}
	if !reflect.DeepEqual(emitted, []types.Value{"a1", "a2"}) {
		t.Fatalf("closed windows emitted %v, want a1 and a2 with NULL right sides", emitted)
	}
}

// Each input partition has its own stores: rows of different partitions
// never join.
func TestJoinStatePerPartition(t *testing.T) {
	h := newJoinHarness(t, state.Options{})
	j := NewStreamTableJoin(streamJoinSpec(InnerJoin, h.out))
	h.push(j.RightInput(), 1, 0, int32(1), "table-p1")
	h.push(j.LeftInput(), 2, 10, int32(1), "stream-p2")
	if len(h.out.rows) != 0 {
		t.Fatalf("rows of different partitions joined: %v", h.out.rows)
	}
	h.push(j.LeftInput(), 1, 10, int32(1), "stream-p1")
	if len(h.out.rows) != 1 || h.out.rows[0].Cols[3] != "table-p1" {
		t.Fatalf("got %v", h.out.rows)
	}
}

// Table-table join state written to disk is there after the stores are
// closed and opened again.
func TestTableJoinStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	h := newJoinHarness(t, state.Options{Dir: dir})
	j := NewTableTableJoin(streamJoinSpec(InnerJoin, h.out), nil)
	h.push(j.LeftInput(), 0, 0, int32(1), "left")
	if err := h.stores.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := h.stores.Close(); err != nil {
		t.Fatal(err)
	}
	h2 := newJoinHarness(t, state.Options{Dir: dir})
	j2 := NewTableTableJoin(streamJoinSpec(InnerJoin, h2.out), nil)
	h2.push(j2.RightInput(), 0, 5, int32(1), "right")
	if len(h2.out.rows) != 1 || h2.out.rows[0].Cols[1] != "left" || h2.out.rows[0].Timestamp != 5 {
		t.Fatalf("after reopen: %v", h2.out.rows)
	}
}

// The WHERE of a table join sees the previous result: a failing result is
// a delete only when the previous one passed.
func TestTableJoinWhereUsesOldValues(t *testing.T) {
	h := newJoinHarness(t, state.Options{})
	pass := func(r *Row) (types.Value, error) { return r.Cols[1] != "hide", nil }
	j := NewTableTableJoin(streamJoinSpec(InnerJoin, h.out), pass)
	h.push(j.RightInput(), 0, 0, int32(1), "r")
	h.push(j.LeftInput(), 0, 1, int32(1), "hide") // fails, nothing before: nothing
	h.push(j.LeftInput(), 0, 2, int32(1), "show") // passes
	h.push(j.LeftInput(), 0, 3, int32(1), "hide") // fails after a pass: delete
	h.push(j.LeftInput(), 0, 4, int32(1), "hide") // fails again: nothing
	var got []string
	for _, r := range h.out.rows {
		if r.Tombstone {
			got = append(got, "delete")
		} else {
			got = append(got, r.Cols[1].(string))
		}
	}
	if !reflect.DeepEqual(got, []string{"show", "delete"}) {
		t.Fatalf("got %v", got)
	}
}

// A join store row written before its side gained the window bound
// columns reads them as NULL; a row cut inside its columns is an error
// for the strict decoder.
func TestDecodeStoredRowPadsNewColumns(t *testing.T) {
	old := []types.Type{types.StringType, types.BigintType}
	now := append(append([]types.Type{}, old...), types.BigintType, types.BigintType)
	b, err := encodeRow(nil, old, []types.Value{"k", int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	row, err := decodeStoredRow(b, now)
	if err != nil || !reflect.DeepEqual(row, []types.Value{"k", int64(7), nil, nil}) {
		t.Fatalf("decodeStoredRow = %v, %v", row, err)
	}
	if _, _, err := decodeRow(b, now); err == nil {
		t.Errorf("decodeRow of a short row: no error")
	}
	full, err := encodeRow(nil, now, []types.Value{"k", int64(7), int64(10), int64(20)})
	if err != nil {
		t.Fatal(err)
	}
	if row, err := decodeStoredRow(full, now); err != nil || !reflect.DeepEqual(row, []types.Value{"k", int64(7), int64(10), int64(20)}) {
		t.Errorf("decodeStoredRow of a full row = %v, %v", row, err)
	}
}

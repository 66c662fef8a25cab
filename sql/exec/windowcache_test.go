package exec

import (
	"slices"
	"testing"

	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// TestWindowCacheFollowsTheStore: counts of a hot group come from the
// cache and stay what the store holds across a commit and an abort (the
// abort forgets the cached states of the rolled-back batch), and a new
// operator over the same stores carries on from them.
func TestWindowCacheFollowsTheStore(t *testing.T) {
	h := newJoinHarness(t, state.Options{})
	count, err := funcs.New().ResolveAggregate("COUNT", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	newOp := func() *WindowAggregate {
		g := &Grouping{Keys: []Eval{keyColumn(0)}, KeyTypes: []types.Type{types.StringType}, KeyNames: []string{"K"},
			Calls: []AggCall{{Agg: count}}}
		g.Init()
		return &WindowAggregate{G: g, Size: 10, Advance: 10, Grace: 1000, Retention: 2000, Store: "Aggregate-Window", Next: h.out}
	}
	counts := func() []int64 {
		var out []int64
		for _, r := range h.out.rows {
			out = append(out, r.Cols[1].(int64))
		}
		h.out.rows = nil
		return out
	}
	op := newOp()
	h.push(op, 0, 1, "a")
	h.push(op, 0, 2, "a")
	if op.recent == nil || len(op.recent[0].m) != 1 {
		t.Fatalf("COUNT's states are not cached: %+v", op.recent)
	}
	if err := h.stores.Commit(); err != nil {
		t.Fatal(err)
	}
	h.push(op, 0, 3, "a")
	h.stores.Abort() // the third row is forgotten
	h.push(op, 0, 4, "a")
	h.push(op, 0, 12, "a") // the next window
	h.push(op, 0, 5, "a")
	if got := counts(); !slices.Equal(got, []int64{1, 2, 3, 3, 1, 4}) {
		t.Fatalf("counts: %v", got)
	}
	if err := h.stores.Commit(); err != nil {
		t.Fatal(err)
	}
	// A new operator (a restart) reads the committed counts from the store.
	other := newOp()
	h.push(other, 0, 6, "a")
	if got := counts(); !slices.Equal(got, []int64{5}) {
		t.Fatalf("counts after a restart: %v", got)
	}
}

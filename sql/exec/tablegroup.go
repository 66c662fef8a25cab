package exec

import (
	"github.com/sluicedata/sluice/sql/types"
)

// A table aggregation that re-keys runs in two stages around the GroupBy
// repartition topic, as Kafka Streams' KTable groupBy does:
//
//	table rows -> TableChange -> Repartition ==> TableGroupAggregate
//
// Stage one (the source's partition) keeps the table's rows and turns each
// change into up to two rows: the key's previous row as a retraction, then
// the new row as an addition. Both carry one more column, TRUE for a
// retraction, so the flag crosses the topic with the row. Stage two (the
// group's partition) applies them to the groups. The previous row is sent
// first, so a change that stays in one group is emitted twice, as with
// TableAggregate.

// TableChange is stage one: it reads and updates Rows and pushes flagged
// rows.
type TableChange struct {
	Rows *TableRows
	G    *Grouping
	Next Operator
}

func flagged(cols []types.Value, retract bool) []types.Value {
	out := make([]types.Value, len(cols)+1)
	copy(out, cols)
	out[len(cols)] = retract
	return out
}

// Push implements Operator.
func (t *TableChange) Push(c *Context, r *Row) error {
	kb, err := t.Rows.Key(r)
	if err != nil {
		return err
	}
	old, err := t.Rows.Get(c, kb)
	if err != nil {
		return err
	}
	if err := t.Rows.Put(c, kb, r); err != nil {
		return err
	}
	if old != nil {
		// A previous row without a group was never added: nothing to
		// retract (and nothing to log again).
		if _, ok := t.G.keyOf(old); ok {
			ret := r.with(flagged(old.Cols, true))
			ret.Tombstone = false
			if err := t.Next.Push(c, ret); err != nil {
				return err
			}
		}
	}
	if r.Tombstone {
		return nil
	}
	return t.Next.Push(c, r.with(flagged(r.Cols[:len(t.Rows.Columns)], false)))
}

// TableGroupAggregate is stage two: Width is the source row's width, the
// flag's position.
type TableGroupAggregate struct {
	G     *Grouping
	Width int
	Store string
	Next  Operator
}

// Push implements Operator.
func (a *TableGroupAggregate) Push(c *Context, r *Row) error {
	if r.Tombstone || len(r.Cols) <= a.Width {
		return nil
	}
	retract, _ := r.Cols[a.Width].(bool)
	keys, ok := a.G.keyOf(r)
	if !ok {
		return nil
	}
	kv, err := kvStore(c, a.Store)
	if err != nil {
		return err
	}
	kb, err := a.G.encodeKey(keys)
	if err != nil {
		return err
	}
	states, ts, err := loadStates(a.G, kv, kb, r.Timestamp)
	if err != nil {
		return err
	}
	in := a.G.inputs(c, r)
	if retract {
		a.G.retract(c, states, in)
	} else {
		a.G.add(c, states, in, r.Offset)
	}
	if err := storeStates(a.G, kv, kb, states, ts); err != nil {
		return err
	}
	return a.Next.Push(c, a.G.Row(c, keys, states, ts, nil, r.Headers))
}

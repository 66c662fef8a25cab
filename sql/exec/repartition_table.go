package exec

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/types"
)

// A table grouped by other columns than its key is repartitioned as Kafka
// Streams' KTable.groupBy does: the task reading a source key knows the
// key's previous row (kept in the SourceTableStore store of the source
// partition), so for each change it writes the previous row as a
// subtractor keyed by its old group, then the new row as an adder keyed by
// its new group. The task owning a group's repartition partition retracts
// subtractors and adds adders (TableGroupAggregate). A change that stays in
// one group emits the group after the retraction, then after the addition,
// as TableAggregate does in process.

// tableSplit is the source side: it keeps each source key's row in the
// materialized source table (TableRows, as TableAggregate does) and writes
// subtractor and adder records.
type tableSplit struct {
	rp   *Repartition
	g    *Grouping
	rows *TableRows
}

// NewTableGroupByRepartition splits a table GROUP BY: rows is the source
// table's materialization, layout the row at the split point, next the
// aggregation (a TableGroupAggregate of the same Grouping).
func NewTableGroupByRepartition(g *Grouping, rows *TableRows, layout []types.Type, next Operator) *RepartitionPair {
	pair := newRepartitionPair("Aggregate-GroupBy", g.key, layout, next)
	pair.Op.table = &tableSplit{rp: pair.Op, g: g, rows: rows}
	return pair
}

// push handles one change of the source table, in TableAggregate's order:
// the old row leaves its group, then the new row joins its own.
func (s *tableSplit) push(c *Context, r *Row) error {
	skb, err := s.rows.Key(r)
	if err != nil {
		return fmt.Errorf("repartition %s: source key: %w", s.rp.Name, err)
	}
	old, err := s.rows.Get(c, skb)
	if err != nil {
		return err
	}
	if old != nil {
		if keys, ok := s.g.keyOf(old); ok {
			// The subtractor carries the change's time and headers.
			old.Timestamp, old.Headers = r.Timestamp, r.Headers
			s.rp.emit(c, old, keys, true)
		}
	}
	if err := s.rows.Put(c, skb, r); err != nil {
		return err
	}
	if r.Tombstone {
		return nil
	}
	keys, ok := s.g.key(c, r)
	if !ok {
		return nil
	}
	s.rp.emit(c, r, keys, false)
	return nil
}

// TableGroupAggregate is the aggregating side of a repartitioned table
// GROUP BY: a subtractor row (Tombstone, all columns set) retracts its
// inputs from its group, an adder adds them; each emits the group's new
// row.
type TableGroupAggregate struct {
	G     *Grouping
	Store string
	Next  Operator
}

// Push implements Operator.
func (a *TableGroupAggregate) Push(c *Context, r *Row) error {
	var keys []types.Value
	var ok bool
	if r.Tombstone {
		keys, ok = a.G.keyOf(r) // had a key when it was added
	} else {
		keys, ok = a.G.key(c, r)
	}
	if !ok {
		return nil
	}
	kv, err := kvStore(c, a.Store)
	if err != nil {
		return err
	}
	kb, err := a.G.encodeKey(keys)
	if err != nil {
		return fmt.Errorf("aggregate: group key: %w", err)
	}
	states, ts, err := loadStates(a.G, kv, kb, r.Timestamp)
	if err != nil {
		return err
	}
	in := a.G.inputs(c, r)
	if r.Tombstone {
		a.G.retract(c, states, in)
	} else {
		a.G.add(c, states, in, r.Offset)
	}
	if err := storeStates(a.G, kv, kb, states, ts); err != nil {
		return err
	}
	return a.Next.Push(c, a.G.Row(c, keys, states, ts, nil, r.Headers))
}

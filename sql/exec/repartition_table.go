package exec

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/funcs"
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

// tableSplit is the source side: it remembers each source key's row and
// writes subtractor and adder records.
type tableSplit struct {
	rp            *Repartition
	g             *Grouping
	sourceKeys    []Eval
	sourceKeyType types.Type
	store         string
}

// NewTableGroupByRepartition splits a table GROUP BY: sourceKeys read the
// source table's primary key columns (of types sourceKeyTypes), layout is
// the row at the split point, next the aggregation (a TableGroupAggregate
// of the same Grouping).
func NewTableGroupByRepartition(g *Grouping, sourceKeys []Eval, sourceKeyTypes []types.Type, layout []types.Type, next Operator) *RepartitionPair {
	pair := newRepartitionPair("Aggregate-GroupBy", g.key, layout, next)
	var fs []types.Field
	for i, t := range sourceKeyTypes {
		fs = append(fs, types.F(fmt.Sprintf("K%d", i), t))
	}
	split := &tableSplit{rp: pair.Op, g: g, sourceKeys: sourceKeys, sourceKeyType: types.StructOf(fs...), store: SourceTableStore}
	pair.Op.table = split
	return pair
}

// push handles one change of the source table.
func (s *tableSplit) push(c *Context, r *Row) error {
	sk := make([]types.Value, len(s.sourceKeys))
	for i, e := range s.sourceKeys {
		v, err := e(r)
		if err != nil {
			return nil
		}
		sk[i] = v
	}
	skb, err := funcs.EncodeValue(nil, s.sourceKeyType, structOf(s.sourceKeyType, sk))
	if err != nil {
		return fmt.Errorf("repartition %s: source key: %w", s.rp.Name, err)
	}
	kv, err := kvStore(c, s.store)
	if err != nil {
		return err
	}
	raw, found, err := kv.Get(skb)
	if err != nil {
		return err
	}
	if found {
		cols, _, err := decodeRow(raw, s.rp.layout)
		if err != nil {
			return fmt.Errorf("store %s: %w", kv.Name(), err)
		}
		old := &Row{Cols: cols, Timestamp: r.Timestamp, Headers: r.Headers, Partition: r.Partition, Offset: r.Offset}
		// The old row had a key when it was stored.
		if keys, ok := s.g.key(c, old); ok {
			s.rp.emit(c, old, keys, true)
		}
	}
	var keys []types.Value
	ok := !r.Tombstone
	if ok {
		keys, ok = s.g.key(c, r)
	}
	if !ok {
		// A delete, or a row without a group: nothing to retract later.
		if found {
			return kv.Delete(skb, r.Timestamp)
		}
		return nil
	}
	b, err := encodeRow(nil, s.rp.layout, r.Cols)
	if err != nil {
		return fmt.Errorf("store %s: %w", kv.Name(), err)
	}
	if err := kv.Put(skb, b, r.Timestamp); err != nil {
		return err
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
	keys, ok := a.G.key(c, r)
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

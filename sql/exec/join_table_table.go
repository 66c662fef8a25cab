package exec

import "github.com/sluicedata/sluice/sql/types"

// TableTableJoin joins two tables on their primary keys. Both sides are
// materialized; a change on one side is joined with the other side's current
// row, following Kafka Streams' KTable-KTable joins:
//
//   - INNER: nothing while the other side is missing; a delete becomes a
//     delete of the result.
//   - LEFT (RIGHT mirrored): a change of the preserved side emits with or
//     without the other side; a change of the other side emits only when
//     the preserved side has a row (its delete gives the preserved row with
//     NULLs, not a delete).
//   - FULL: emits while either side has a row; deleting the last one
//     deletes the result.
//
// Every change is joined, as Kafka Streams' table sources forward every
// record (emit-on-change is off since KAFKA-12508): a repeated row emits
// again, and a delete of a key that has no row still joins with the other
// side's row (INNER: a delete of the result; LEFT, from the right side: the
// left row with NULLs; FULL: the other row alone); only a delete of a key
// neither side has emits nothing. Results carry the larger of the two rows'
// times.
//
// Where is the query's WHERE over result rows. It is applied here, with the
// previous result of the key at hand (Kafka Streams' old values): a result
// that fails it is a delete only if the previous result passed, otherwise
// nothing is emitted.
type TableTableJoin struct {
	JoinSpec
	Where       Eval
	left, right tableState
}

// NewTableTableJoin returns the join; its inputs are LeftInput() and RightInput().
func NewTableTableJoin(spec JoinSpec, where Eval) *TableTableJoin {
	return &TableTableJoin{JoinSpec: spec, Where: where,
		left:  tableState{name: spec.Name + "-left", cols: spec.Left.Columns},
		right: tableState{name: spec.Name + "-right", cols: spec.Right.Columns}}
}

// Left is the left table's input.
func (j *TableTableJoin) LeftInput() Operator {
	return joinInput(func(c *Context, r *Row) error { return j.push(c, r, true) })
}

// Right is the right table's input.
func (j *TableTableJoin) RightInput() Operator {
	return joinInput(func(c *Context, r *Row) error { return j.push(c, r, false) })
}

func (j *TableTableJoin) push(c *Context, r *Row, isLeft bool) error {
	side, this, other := &j.Right, &j.right, &j.left
	if isLeft {
		side, this, other = &j.Left, &j.left, &j.right
	}
	k := evalKey(c, side, r)
	if k == nil {
		return nil
	}
	key, err := j.encodeKey(k)
	if err != nil {
		return err
	}
	old, _, err := this.get(c, key)
	if err != nil {
		return err
	}
	var cur []types.Value
	if !r.Tombstone {
		cur = r.Cols
	}
	if err := this.put(c, key, cur, r.Timestamp); err != nil {
		return err
	}
	otherRow, otherTS, err := other.get(c, key)
	if err != nil {
		return err
	}
	if cur == nil && old == nil && otherRow == nil {
		return nil // a delete of a key neither side has
	}
	// preserved: whether this side's rows appear without the other's.
	thisOuter, otherOuter := j.Type.leftOuter(), j.Type.rightOuter()
	if !isLeft {
		thisOuter, otherOuter = otherOuter, thisOuter
	}
	if otherRow == nil && !thisOuter {
		return nil
	}
	ts := max(r.Timestamp, otherTS)
	result := func(row []types.Value) *Row {
		if row == nil && (otherRow == nil || !otherOuter) {
			return nil
		}
		if isLeft {
			return j.joined(row, otherRow, k, r, ts)
		}
		return j.joined(otherRow, row, k, r, ts)
	}
	return j.emit(c, result(cur), result(old), k, r, ts)
}

// emit forwards a result change: newRow nil is a delete.
func (j *TableTableJoin) emit(c *Context, newRow, oldRow *Row, k types.Value, meta *Row, ts int64) error {
	if j.Where != nil {
		if newRow != nil && !passes(c, j.Where, newRow) {
			newRow = nil
		}
		if newRow == nil && (oldRow == nil || !passes(c, j.Where, oldRow)) {
			return nil
		}
	}
	if newRow == nil {
		return j.Next.Push(c, j.tombstone(k, meta, ts))
	}
	return j.Next.Push(c, newRow)
}

// passes evaluates a WHERE predicate; NULL and errors fail it.
func passes(c *Context, pred Eval, r *Row) bool {
	v, err := pred(r)
	if err != nil {
		c.logError(RecordProcessingError, err)
		return false
	}
	b, ok := v.(bool)
	return ok && b
}

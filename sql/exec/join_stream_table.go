package exec

// StreamTableJoin joins each stream row (left) with the table's row of the
// same key (right) at the time the stream row is processed: the table side
// only updates the materialized table, the stream side emits. INNER drops
// stream rows without a table row, LEFT emits them with NULL table columns.
// Stream rows with a NULL join key or a null value are dropped, as Kafka
// Streams' stream-table join does. Results carry the stream row's time.
//
// The lookup is against the latest table row (not a versioned, as-of-time
// lookup): with the test runner's in-order processing, that is what ksqlDB
// produces.
type StreamTableJoin struct {
	JoinSpec
	table tableState
}

// NewStreamTableJoin returns the join; its inputs are LeftInput() and RightInput().
func NewStreamTableJoin(spec JoinSpec) *StreamTableJoin {
	return &StreamTableJoin{JoinSpec: spec, table: tableState{name: spec.Name + "-table", cols: spec.Right.Columns}}
}

// Left is the stream input.
func (j *StreamTableJoin) LeftInput() Operator { return joinInput(j.pushStream) }

// Right is the table input.
func (j *StreamTableJoin) RightInput() Operator { return joinInput(j.pushTable) }

func (j *StreamTableJoin) pushTable(c *Context, r *Row) error {
	k := evalKey(c, &j.Right, r)
	if k == nil {
		return nil
	}
	key, err := j.encodeKey(k)
	if err != nil {
		return err
	}
	if r.Tombstone {
		return j.table.put(c, key, nil, r.Timestamp)
	}
	return j.table.put(c, key, r.Cols, r.Timestamp)
}

func (j *StreamTableJoin) pushStream(c *Context, r *Row) error {
	if r.Tombstone {
		return nil
	}
	k := evalKey(c, &j.Left, r)
	if k == nil {
		return nil
	}
	key, err := j.encodeKey(k)
	if err != nil {
		return err
	}
	right, _, err := j.table.get(c, key)
	if err != nil {
		return err
	}
	if right == nil && j.Type != LeftJoin {
		return nil
	}
	return j.Next.Push(c, j.joined(r.Cols, right, k, r, r.Timestamp))
}

package exec

import (
	"time"

	"github.com/sluicedata/sluice/sql/types"
)

// StreamTableJoin joins each stream row (left) with the table's row of the
// same key (right) at the time the stream row is processed: the table side
// only updates the materialized table, the stream side emits. INNER drops
// stream rows without a table row, LEFT emits them with NULL table columns.
// Stream rows with a NULL join key or a null value are dropped, as Kafka
// Streams' stream-table join does. Results carry the stream row's time.
//
// The lookup is temporal, as against a Kafka Streams versioned table: a
// stream row at time t joins the table row valid at t (the newest version
// with timestamp <= t), table records arriving out of order go into the
// history, and a tombstone ends a row from its time on. When table records
// arrive in time order this is the latest row ksqlDB joins against.
//
// With Latest set the lookup is ksqlDB 0.29's instead (a plain KTable): the
// table's latest row when the stream row is processed, whatever its time.
type StreamTableJoin struct {
	JoinSpec
	useLatest bool
	table     versionedTableState
	latest    tableState
}

// Configure picks the lookup before the first row: latest for ksqlDB 0.29's
// latest-row lookup, else temporal with replaced table versions kept for
// history (sql/state's default if 0).
func (j *StreamTableJoin) Configure(latest bool, history time.Duration) {
	j.useLatest, j.table.retention = latest, history
}

// NewStreamTableJoin returns the join; its inputs are LeftInput() and RightInput().
func NewStreamTableJoin(spec JoinSpec) *StreamTableJoin {
	name := spec.Name + "-table"
	return &StreamTableJoin{JoinSpec: spec,
		table:  versionedTableState{name: name, cols: spec.Right.Columns},
		latest: tableState{name: name, cols: spec.Right.Columns}}
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
	var row []types.Value
	if !r.Tombstone {
		row = r.Cols
	}
	if j.useLatest {
		return j.latest.put(c, key, row, r.Timestamp)
	}
	_, err = j.table.put(c, key, row, r.Timestamp)
	return err
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
	var right []types.Value
	if j.useLatest {
		right, _, err = j.latest.get(c, key)
	} else {
		right, err = j.table.getAsOf(c, key, r.Timestamp)
	}
	if err != nil {
		return err
	}
	if right == nil && j.Type != LeftJoin {
		return nil
	}
	return j.Next.Push(c, j.joined(r.Cols, right, k, r, r.Timestamp))
}

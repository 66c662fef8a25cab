package exec

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// TableRows keeps the latest row of each key of a table source: Kafka
// Streams' materialized source table (ksqlDB's KsqlTopic-Reduce store).
// Operators that need a table's previous or current rows use it: a table
// aggregation retracts the previous row of a key, and joins and pull
// queries can look rows up by key. Rows are stored with the aggregate state
// codec under their encoded key columns; the row's timestamp is kept.
type TableRows struct {
	Store string
	// Columns are the source's columns in row order; Keys the positions of
	// its primary key columns.
	Columns []types.Column
	Keys    []int

	keyType, rowType types.Type
}

func (t *TableRows) init() {
	if t.rowType.Kind != 0 {
		return
	}
	var kf, rf []types.Field
	for i, c := range t.Columns {
		rf = append(rf, types.F(fmt.Sprintf("C%d", i), c.Type))
	}
	for i, k := range t.Keys {
		kf = append(kf, types.F(fmt.Sprintf("K%d", i), t.Columns[k].Type))
	}
	t.keyType, t.rowType = types.StructOf(kf...), types.StructOf(rf...)
}

// Key encodes the primary key of r.
func (t *TableRows) Key(r *Row) ([]byte, error) {
	t.init()
	vals := make([]types.Value, len(t.Keys))
	for i, k := range t.Keys {
		vals[i] = r.Cols[k]
	}
	return funcs.EncodeValue(nil, t.keyType, structOf(t.keyType, vals))
}

// Get returns the stored row of key, or nil.
func (t *TableRows) Get(c *Context, key []byte) (*Row, error) {
	t.init()
	kv, err := kvStore(c, t.Store)
	if err != nil {
		return nil, err
	}
	raw, ts, ok, err := kv.GetWithTimestamp(key)
	if err != nil || !ok {
		return nil, err
	}
	v, _, err := funcs.DecodeValue(raw, t.rowType)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", t.Store, err)
	}
	return &Row{Cols: fieldValues(v), Timestamp: ts, Partition: c.Source.Partition}, nil
}

// Put stores r as the row of key; a tombstone deletes the key.
func (t *TableRows) Put(c *Context, key []byte, r *Row) error {
	t.init()
	kv, err := kvStore(c, t.Store)
	if err != nil {
		return err
	}
	if r.Tombstone {
		return kv.Delete(key, r.Timestamp)
	}
	b, err := funcs.EncodeValue(nil, t.rowType, structOf(t.rowType, r.Cols[:len(t.Columns)]))
	if err != nil {
		return fmt.Errorf("store %s: %w", t.Store, err)
	}
	return kv.Put(key, b, r.Timestamp)
}

package exec

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// kvStore opens a key-value store of the join for the record's partition.
func kvStore(c *Context, name string) (*state.KeyValueStore, error) {
	if c.State == nil {
		return nil, fmt.Errorf("join: no state stores")
	}
	return c.State.KeyValue(c.Ctx, name, c.Source.Partition)
}

// tableState is the materialized latest row per key of one side of a join
// with a table: updates replace, tombstones delete, the value keeps its
// record's timestamp.
type tableState struct {
	name string
	cols []types.Type
}

// get returns the row of key and its timestamp (nil if absent).
func (t *tableState) get(c *Context, key []byte) ([]types.Value, int64, error) {
	kv, err := kvStore(c, t.name)
	if err != nil {
		return nil, 0, err
	}
	b, ts, ok, err := kv.GetWithTimestamp(key)
	if err != nil || !ok {
		return nil, 0, err
	}
	row, _, err := decodeRow(b, t.cols)
	return row, ts, err
}

// put stores the row of key (nil deletes it).
func (t *tableState) put(c *Context, key []byte, row []types.Value, ts int64) error {
	kv, err := kvStore(c, t.name)
	if err != nil {
		return err
	}
	if row == nil {
		return kv.Delete(key, ts)
	}
	b, err := encodeRow(nil, t.cols, row)
	if err != nil {
		return err
	}
	return kv.Put(key, b, ts)
}

package exec

import (
	"github.com/sluicedata/sluice/sql/types"
)

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
	row, err := decodeStoredRow(b, t.cols)
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

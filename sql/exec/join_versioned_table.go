package exec

import (
	"time"

	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// versionedTableState is the table side of a temporal stream-table join:
// per key, the table's rows with the times they became valid, for a history
// retention (sql/state.VersionedStore). A stream row at time t sees the row
// valid at t.
type versionedTableState struct {
	name      string
	cols      []types.Type
	retention time.Duration
	// views keeps one VersionedStore per open key-value store (one per
	// input partition), so each keeps its stream time in memory.
	views map[*state.KeyValueStore]*state.VersionedStore
}

func (t *versionedTableState) store(c *Context) (*state.VersionedStore, error) {
	kv, err := kvStore(c, t.name)
	if err != nil {
		return nil, err
	}
	v, ok := t.views[kv]
	if !ok {
		if t.views == nil {
			t.views = make(map[*state.KeyValueStore]*state.VersionedStore)
		}
		v = state.NewVersionedStore(kv, t.retention)
		t.views[kv] = v
	}
	return v, nil
}

// getAsOf returns the row of key valid at ts (nil if none).
func (t *versionedTableState) getAsOf(c *Context, key []byte, ts int64) ([]types.Value, error) {
	v, err := t.store(c)
	if err != nil {
		return nil, err
	}
	b, _, ok, err := v.GetAsOf(key, ts)
	if err != nil || !ok {
		return nil, err
	}
	row, err := decodeStoredRow(b, t.cols)
	return row, err
}

// put records row as key's version from ts on (nil: a delete). It reports
// false when ts is older than the history and the write was dropped.
func (t *versionedTableState) put(c *Context, key []byte, row []types.Value, ts int64) (bool, error) {
	v, err := t.store(c)
	if err != nil {
		return false, err
	}
	var b []byte
	if row != nil {
		if b, err = encodeRow(nil, t.cols, row); err != nil {
			return false, err
		}
		if b == nil {
			b = []byte{}
		}
	}
	return v.Put(key, b, ts)
}

package state

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// KeyValueStore maps keys to values, for tables and aggregates. Each value
// keeps the timestamp of the record that wrote it. Not safe for concurrent
// use: one query task owns it.
type KeyValueStore struct {
	s   *store
	buf []byte
	val []byte
}

// Put sets key to value written by a record of timestamp ts (milliseconds)
// and logs it to the changelog. A nil value deletes the key.
func (kv *KeyValueStore) Put(key, value []byte, ts int64) error {
	if key == nil {
		return errors.New("state: KeyValueStore.Put: nil key")
	}
	if value == nil {
		return kv.Delete(key, ts)
	}
	kv.buf = dataKey(kv.buf, key)
	kv.val = withTimestamp(kv.val, ts, value)
	if err := kv.s.set(kv.buf, kv.val); err != nil {
		return fmt.Errorf("%s: put: %w", kv.s, err)
	}
	kv.s.logChange(key, value, ts)
	return nil
}

// Delete removes key and logs a tombstone.
func (kv *KeyValueStore) Delete(key []byte, ts int64) error {
	kv.buf = dataKey(kv.buf, key)
	if err := kv.s.del(kv.buf); err != nil {
		return fmt.Errorf("%s: delete: %w", kv.s, err)
	}
	kv.s.logChange(key, nil, ts)
	return nil
}

// Get returns the value of key (a copy) and whether it exists.
func (kv *KeyValueStore) Get(key []byte) ([]byte, bool, error) {
	v, _, ok, err := kv.GetWithTimestamp(key)
	return v, ok, err
}

// GetWithTimestamp also returns the timestamp of the record that wrote the
// value.
func (kv *KeyValueStore) GetWithTimestamp(key []byte) ([]byte, int64, bool, error) {
	kv.buf = dataKey(kv.buf, key)
	raw, ok, err := kv.s.get(kv.buf)
	if !ok || err != nil {
		return nil, 0, ok, err
	}
	ts, v := splitTimestamp(raw)
	return v, ts, true, nil
}

// Range calls fn for each key in [from, to) in byte order, pending writes
// included; a nil bound is open. fn's slices are valid only during the call;
// fn returns false to stop.
func (kv *KeyValueStore) Range(from, to []byte, fn func(key, value []byte, ts int64) bool) error {
	lo := dataKey(nil, from)
	hi := dataEnd
	if to != nil {
		hi = dataKey(nil, to)
	}
	return kv.s.iterate(lo, hi, func(k, v []byte) (bool, error) {
		ts, val := splitTimestamp(v)
		return fn(k[1:], val, ts), nil
	})
}

// Prefix calls fn for each key starting with prefix, in byte order.
func (kv *KeyValueStore) Prefix(prefix []byte, fn func(key, value []byte, ts int64) bool) error {
	lo := dataKey(nil, prefix)
	hi := prefixEnd(lo)
	return kv.s.iterate(lo, hi, func(k, v []byte) (bool, error) {
		ts, val := splitTimestamp(v)
		return fn(k[1:], val, ts), nil
	})
}

// Name is the store's name.
func (kv *KeyValueStore) Name() string { return kv.s.name }

// Partition is the input partition the store belongs to.
func (kv *KeyValueStore) Partition() int32 { return kv.s.partition }

// restoreRecord applies one changelog record during restore.
func (kv *KeyValueStore) restoreRecord(b *pebble.Batch, key, value []byte, ts int64) error {
	kv.buf = dataKey(kv.buf, key)
	if value == nil {
		return b.Delete(kv.buf, nil)
	}
	kv.val = withTimestamp(kv.val, ts, value)
	return b.Set(kv.buf, kv.val, nil)
}

// prefixEnd is the smallest key greater than every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return dataEnd
}

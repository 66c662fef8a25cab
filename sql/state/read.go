package state

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Reads for pull queries. They see the committed data of a store (what its
// last Commit applied), never the pending batch of the batch being
// processed, and run on other goroutines than the query's: pebble serves
// concurrent reads, and Stores.readMu keeps a store open while a read holds
// it (ClosePartition and Close wait for readers).

// KeyValueReader reads the committed data of one key-value store.
type KeyValueReader struct{ s *store }

// Partition is the input partition of the store.
func (r KeyValueReader) Partition() int32 { return r.s.partition }

// Get returns the committed value of key (a copy) and the timestamp of the
// record that wrote it.
func (r KeyValueReader) Get(key []byte) ([]byte, int64, bool, error) {
	k := dataKey(make([]byte, 0, len(key)+1), key)
	v, closer, err := r.s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("%s: get: %w", r.s, err)
	}
	ts, val := splitTimestamp(v)
	out := append([]byte(nil), val...)
	_ = closer.Close()
	return out, ts, true, nil
}

// View calls fn with the committed value of key and the timestamp of the
// record that wrote it, if there is one: Get without the copy, for a
// caller done with the value when fn returns (value is valid only during
// the call).
func (r KeyValueReader) View(key []byte, fn func(value []byte, ts int64)) (bool, error) {
	k := dataKey(make([]byte, 0, len(key)+1), key)
	v, closer, err := r.s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: get: %w", r.s, err)
	}
	defer closer.Close()
	ts, val := splitTimestamp(v)
	if len(val) == 0 {
		val = nil // as Get's copy
	}
	fn(val, ts)
	return true, nil
}

// Prefix calls fn for each committed key starting with prefix, in byte
// order; fn's slices are valid only during the call; false stops.
func (r KeyValueReader) Prefix(prefix []byte, fn func(key, value []byte, ts int64) bool) error {
	lo := dataKey(nil, prefix)
	return r.scan(lo, prefixEnd(lo), fn)
}

// Range calls fn for each committed key in [from, to) (nil: open).
func (r KeyValueReader) Range(from, to []byte, fn func(key, value []byte, ts int64) bool) error {
	hi := dataEnd
	if to != nil {
		hi = dataKey(nil, to)
	}
	return r.scan(dataKey(nil, from), hi, fn)
}

func (r KeyValueReader) scan(lo, hi []byte, fn func(key, value []byte, ts int64) bool) error {
	it, err := r.s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("%s: iterator: %w", r.s, err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("%s: read: %w", r.s, err)
		}
		ts, val := splitTimestamp(v)
		if !fn(it.Key()[1:], val, ts) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("%s: iterate: %w", r.s, err)
	}
	return nil
}

// ReadKeyValue calls fn for the open key-value store called name of each
// partition (partitions whose store is not open on this node are not
// visited). Safe to call concurrently with the query's processing.
func (s *Stores) ReadKeyValue(name string, fn func(KeyValueReader) error) error {
	s.readMu.RLock()
	defer s.readMu.RUnlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("state: store %s: Stores closed", name)
	}
	var readers []KeyValueReader
	for id, e := range s.open {
		if id.name == name && e.kind == kindKV {
			readers = append(readers, KeyValueReader{e.s})
		}
	}
	s.mu.Unlock()
	for _, r := range readers {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

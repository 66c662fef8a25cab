package state

// Invariants of one store (one pebble DB per query, store and partition):
//   - Keys starting with metaPrefix hold the store's bookkeeping; keys
//     starting with dataPrefix hold the data. Restore and wipe touch only the
//     data range and the checkpoint.
//   - The checkpoint is the changelog offset the local data reflects (the
//     next offset to replay). It is written in the same pebble batch as the
//     data it covers, so a crash leaves both old or both new.
//   - Changelog writes are acknowledged before Commit applies the batch, and
//     under exactly_once_v2 Commit runs only after the transaction committed:
//     the local store is never ahead of what read_committed readers of the
//     changelog see.
//   - A batch's changelog writes are produced once per changelog key, with
//     the key's latest value and timestamp, when the batch's caller calls
//     Stores.FlushChangelogs (Kafka Streams' caching store flushes the same
//     way on commit). Commit refuses while writes are left unproduced.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	metaPrefix = 0x00
	dataPrefix = 0x01
)

var (
	checkpointKey = []byte{metaPrefix, 'c', 'k', 'p', 't'}
	streamTimeKey = []byte{metaPrefix, 's', 't', 'i', 'm', 'e'}
	dataStart     = []byte{dataPrefix}
	dataEnd       = []byte{dataPrefix + 1}
)

// Producer sends changelog records. *kgo.Client and *kgo.GroupTransactSession
// satisfy it. The promise must be called once per record.
type Producer interface {
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
}

var (
	_ Producer = (*kgo.Client)(nil)
	_ Producer = (*kgo.GroupTransactSession)(nil)
)

// store is what every store kind shares: the pebble DB, the pending batch and
// the changelog bookkeeping.
type store struct {
	query, name string
	topic       string
	partition   int32
	dir         string
	db          *pebble.DB
	batch       *pebble.Batch // indexed: scans see pending writes
	// pending holds the point writes since the last commit (nil: deleted),
	// so that Get does not build a merged batch+DB iterator per call.
	pending map[string][]byte
	// dirty are the keys of pending not yet copied into batch. Writes reach
	// the batch only when something needs it (a scan, a segment drop,
	// commit), so a key rewritten many times in one batch (an aggregate's
	// hot group) costs one batch and one memtable insert, not one per write.
	dirty map[string]struct{}
	prod  Producer
	log   *slog.Logger

	// changes are the changelog writes of the batch not yet produced, one
	// per changelog key in first-write order, holding its latest value;
	// changeAt indexes them by key. Entries past len(changes) keep their
	// buffers for reuse.
	changes  []change
	changeAt map[string]int

	checkpoint int64 // committed: next changelog offset to replay

	// Changelog acknowledgements of the current batch. epoch drops late
	// promises of an aborted batch.
	mu       sync.Mutex
	epoch    uint64
	maxAcked int64
	prodErr  error
	inflight int64
}

func (s *store) String() string {
	return fmt.Sprintf("state store %s/%s partition %d", s.query, s.name, s.partition)
}

// dataKey prefixes k as a data key into buf.
func dataKey(buf, k []byte) []byte {
	buf = append(buf[:0], dataPrefix)
	return append(buf, k...)
}

// change is one changelog key's latest write in the current batch.
type change struct {
	key, value []byte
	tombstone  bool
	ts         int64
}

// logChange records a changelog write (value nil: tombstone) for the next
// flushChanges; a later write of the same key replaces it. Key and value
// are copied.
func (s *store) logChange(key, value []byte, ts int64) {
	if s.prod == nil {
		return // Options.Local: no changelog
	}
	i, ok := s.changeAt[string(key)]
	if !ok {
		i = len(s.changes)
		if i < cap(s.changes) {
			s.changes = s.changes[:i+1]
		} else {
			s.changes = append(s.changes, change{})
		}
		s.changes[i].key = append(s.changes[i].key[:0], key...)
		s.changeAt[string(key)] = i
	}
	c := &s.changes[i]
	c.value, c.tombstone, c.ts = append(c.value[:0], value...), value == nil, ts
}

// flushChanges produces the batch's changelog writes, one record per key.
// The records share one new buffer: the producer holds them until they are
// acknowledged, while the entries are reused.
func (s *store) flushChanges() {
	if len(s.changes) == 0 {
		return
	}
	n := 0
	for i := range s.changes {
		n += len(s.changes[i].key) + len(s.changes[i].value)
	}
	buf := make([]byte, 0, n)
	s.mu.Lock()
	epoch := s.epoch
	s.inflight += int64(len(s.changes))
	s.mu.Unlock()
	promise := func(r *kgo.Record, err error) {
		s.mu.Lock()
		if s.epoch == epoch {
			s.inflight--
			switch {
			case err != nil:
				s.prodErr = errors.Join(s.prodErr, fmt.Errorf("changelog %s[%d]: %w", s.topic, s.partition, err))
			case r.Partition != s.partition:
				s.prodErr = fmt.Errorf("changelog %s: record written to partition %d instead of %d: wrap the producer's partitioner with state.Partitioner",
					s.topic, r.Partition, s.partition)
			case r.Offset > s.maxAcked:
				s.maxAcked = r.Offset
			}
		}
		s.mu.Unlock()
	}
	for i := range s.changes {
		c := &s.changes[i]
		at := len(buf)
		buf = append(buf, c.key...)
		key := buf[at:len(buf):len(buf)]
		var value []byte
		if !c.tombstone {
			at = len(buf)
			buf = append(buf, c.value...)
			value = buf[at:len(buf):len(buf)]
		}
		r := &kgo.Record{Topic: s.topic, Partition: s.partition, Key: key, Value: value, Timestamp: millis(c.ts)}
		s.prod.Produce(context.Background(), r, promise)
	}
	s.changes = s.changes[:0]
	clear(s.changeAt)
}

// commit applies the pending batch with the new checkpoint. extra adds
// store-kind bookkeeping to the batch.
func (s *store) commit(extra func(*pebble.Batch) error) error {
	if len(s.changes) > 0 {
		return fmt.Errorf("%s: %d changelog writes not produced yet: call FlushChangelogs and flush the producer (or end the transaction) before Commit",
			s, len(s.changes))
	}
	s.mu.Lock()
	err, acked, n := s.prodErr, s.maxAcked, s.inflight
	s.mu.Unlock()
	if n > 0 {
		return fmt.Errorf("%s: %d changelog writes not acknowledged yet: flush the producer (or end the transaction) before Commit", s, n)
	}
	if err != nil {
		s.abort()
		return fmt.Errorf("%s: changelog write failed, batch dropped: %w", s, err)
	}
	next := s.checkpoint
	if acked+1 > next {
		next = acked + 1
		if err := s.batch.Set(checkpointKey, encodeInt64(nil, next), nil); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if err := s.flush(); err != nil {
		return fmt.Errorf("%s: %w", s, err)
	}
	if extra != nil {
		if err := extra(s.batch); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if !s.batch.Empty() {
		if err := s.db.Apply(s.batch, pebble.NoSync); err != nil {
			return fmt.Errorf("%s: write batch: %w", s, err)
		}
	}
	s.checkpoint = next
	s.newBatch()
	return nil
}

// abort drops the pending batch: the store is back at its last commit.
func (s *store) abort() {
	s.newBatch()
}

func (s *store) newBatch() {
	if s.batch != nil {
		_ = s.batch.Close()
	}
	s.batch = s.db.NewIndexedBatch()
	clear(s.pending)
	clear(s.dirty)
	if s.pending == nil {
		s.pending, s.dirty = map[string][]byte{}, map[string]struct{}{}
	}
	s.changes = s.changes[:0]
	clear(s.changeAt)
	if s.changeAt == nil {
		s.changeAt = map[string]int{}
	}
	s.mu.Lock()
	s.epoch++
	s.maxAcked = s.checkpoint - 1
	s.prodErr = nil
	s.inflight = 0 // promises of the old epoch no longer count
	s.mu.Unlock()
}

func (s *store) close() error {
	if s.batch != nil {
		_ = s.batch.Close()
		s.batch = nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("%s: close: %w", s, err)
	}
	return nil
}

// set and del write a local key into pending; flush copies it into the
// batch later.
func (s *store) set(k, v []byte) error {
	ks := string(k)
	s.pending[ks] = append(s.pending[ks][:0], v...) // get hands out copies: the buffer is ours
	s.dirty[ks] = struct{}{}
	return nil
}

func (s *store) del(k []byte) error {
	ks := string(k)
	s.pending[ks] = nil
	s.dirty[ks] = struct{}{}
	return nil
}

// flush copies the dirty writes of pending into the batch: before a scan
// reads the batch, before a range deletion (which must come after the
// writes it covers, as it did when they were made), and on commit.
func (s *store) flush() error {
	for ks := range s.dirty {
		v := s.pending[ks]
		var err error
		if v == nil {
			err = s.batch.Delete([]byte(ks), nil)
		} else {
			err = s.batch.Set([]byte(ks), v, nil)
		}
		if err != nil {
			return err
		}
	}
	clear(s.dirty)
	return nil
}

// flushFor flushes when b is the live batch, ahead of a range deletion in b.
func (s *store) flushFor(b *pebble.Batch) error {
	if s == nil || b != s.batch {
		return nil
	}
	return s.flush()
}

// write sets (v nil: deletes) k in b, keeping pending in step when b is
// the live batch (restore writes to its own batch).
func (s *store) write(b *pebble.Batch, k, v []byte) error {
	if b != s.batch {
		if v == nil {
			return b.Delete(k, nil)
		}
		return b.Set(k, v, nil)
	}
	if v == nil {
		return s.del(k)
	}
	return s.set(k, v)
}

// get reads a key, pending writes first; the result is a copy.
func (s *store) get(k []byte) ([]byte, bool, error) {
	if v, ok := s.pending[string(k)]; ok {
		if v == nil {
			return nil, false, nil
		}
		return append([]byte(nil), v...), true, nil
	}
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: get: %w", s, err)
	}
	out := append([]byte(nil), v...)
	_ = closer.Close()
	return out, true, nil
}

// getPending reads a key among the writes since the last commit only; the
// result is a copy.
func (s *store) getPending(k []byte) ([]byte, bool) {
	v, ok := s.pending[string(k)]
	if !ok || v == nil {
		return nil, false
	}
	return append([]byte(nil), v...), true
}

// readInt64 reads a committed meta value.
func readInt64(db *pebble.DB, k []byte) (int64, bool, error) {
	v, closer, err := db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, false, fmt.Errorf("meta key %q: %d bytes, want 8", k, len(v))
	}
	return decodeInt64(v), true, nil
}

// iterate calls fn for each key in [lo, hi) through the pending batch. fn's
// slices are valid only during the call.
func (s *store) iterate(lo, hi []byte, fn func(k, v []byte) (bool, error)) error {
	if err := s.flush(); err != nil {
		return fmt.Errorf("%s: %w", s, err)
	}
	it, err := s.batch.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("%s: iterator: %w", s, err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("%s: read: %w", s, err)
		}
		more, err := fn(it.Key(), v)
		if err != nil || !more {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("%s: iterate: %w", s, err)
	}
	return nil
}

// sizeBytes is the store's disk usage.
func (s *store) sizeBytes() uint64 { return s.db.Metrics().DiskSpaceUsage() }

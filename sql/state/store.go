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
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	// pending holds the point writes since the last commit by local key,
	// so that Get does not build a merged batch+DB iterator per call. One
	// map lookup per write finds the key's value, whether it still has to
	// reach the batch and its changelog entry.
	pending map[string]*pendingWrite
	// dirty are the writes of pending not yet copied into batch. Writes
	// reach the batch only when something needs it (a scan, a segment
	// drop, commit), so a key rewritten many times in one batch (an
	// aggregate's hot group) costs one batch and one memtable insert, not
	// one per write.
	dirty []*pendingWrite
	// last is the write just made, whose changelog write logChange records.
	last *pendingWrite
	prod Producer
	log  *slog.Logger

	// changes are the changelog writes of the batch not yet produced, one
	// per changelog key in first-write order, holding its latest value.
	// Entries past len(changes) keep their buffers for reuse.
	changes []change

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

// pendingWrite is a local key's latest write since the last commit.
type pendingWrite struct {
	key     []byte // the local key
	value   []byte
	deleted bool
	dirty   bool // not yet copied into the batch
	change  int  // 1 + its entry in changes; 0: none yet
}

// change is one changelog key's latest write in the current batch.
type change struct {
	key, value []byte
	tombstone  bool
	ts         int64
}

// logChange records the changelog write (value nil: tombstone) of the
// local write just made (set or del) for the next flushChanges: each local
// key has one changelog key, so a later write of the same key replaces it.
// Key and value are copied.
func (s *store) logChange(key, value []byte, ts int64) {
	if s.prod == nil {
		return // Options.Local: no changelog
	}
	p := s.last
	s.last = nil
	if p == nil || p.change == 0 {
		i := len(s.changes)
		if i < cap(s.changes) {
			s.changes = s.changes[:i+1]
		} else {
			s.changes = append(s.changes, change{})
		}
		s.changes[i].key = append(s.changes[i].key[:0], key...)
		if p != nil {
			p.change = i + 1
		}
		p = &pendingWrite{change: i + 1}
	}
	c := &s.changes[p.change-1]
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
	for _, p := range s.pending {
		p.change = 0
	}
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
	if s.pending == nil {
		s.pending = map[string]*pendingWrite{}
	}
	clear(s.dirty)
	s.dirty, s.last = s.dirty[:0], nil
	s.changes = s.changes[:0]
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
	p := s.pendingFor(k)
	p.value, p.deleted = append(p.value[:0], v...), false // get hands out copies: the buffer is ours
	return nil
}

func (s *store) del(k []byte) error {
	p := s.pendingFor(k)
	p.value, p.deleted = p.value[:0], true
	return nil
}

// pendingFor returns k's pending write, marked dirty and last.
func (s *store) pendingFor(k []byte) *pendingWrite {
	p := s.pending[string(k)]
	if p == nil {
		p = &pendingWrite{key: append([]byte(nil), k...)}
		s.pending[string(p.key)] = p
	}
	if !p.dirty {
		p.dirty = true
		s.dirty = append(s.dirty, p)
	}
	s.last = p
	return p
}

// flush copies the dirty writes of pending into the batch: before a scan
// reads the batch, before a range deletion (which must come after the
// writes it covers, as it did when they were made), and on commit.
func (s *store) flush() error {
	// In key order: pebble inserts a batch into its memtable in batch
	// order, and its skiplist inserter starts each search from where the
	// previous key went, which is close by when keys ascend.
	slices.SortFunc(s.dirty, func(a, b *pendingWrite) int { return bytes.Compare(a.key, b.key) })
	for i, p := range s.dirty {
		var err error
		if p.deleted {
			err = s.batch.Delete(p.key, nil)
		} else {
			err = s.batch.Set(p.key, p.value, nil)
		}
		if err != nil {
			s.dirty = s.dirty[i:]
			return err
		}
		p.dirty = false
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
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
	if p, ok := s.pending[string(k)]; ok {
		if p.deleted {
			return nil, false, nil
		}
		return append([]byte(nil), p.value...), true, nil
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
	p, ok := s.pending[string(k)]
	if !ok || p.deleted {
		return nil, false
	}
	return append([]byte(nil), p.value...), true
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

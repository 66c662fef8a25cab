package state

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// restoreBatchBytes bounds one pebble batch during restore; each such batch
// carries its checkpoint, so an interrupted restore resumes where it was.
// Well below half the memtable, so pebble copies it into the memtable and the
// batch's buffer is reused (larger batches become flushable batches whose
// buffer pebble keeps, so each would grow again from nothing).
const restoreBatchBytes = 1 << 20

type restoreStats struct {
	records, bytes int64
	from, to       int64
	wiped          bool
	took           time.Duration
}

// restore replays the changelog from the store's checkpoint to the last
// stable offset. apply writes one changelog record into b.
func (s *store) restore(ctx context.Context, cl *kgo.Client, clientOpts []kgo.Opt,
	apply func(b *pebble.Batch, key, value []byte, ts int64) error, extra func(*pebble.Batch) error, wipeExtra func()) (restoreStats, error) {
	began := time.Now()
	st := restoreStats{from: s.checkpoint}
	// read_committed end: the last stable offset.
	offs, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, s.topic)
	if err != nil {
		return st, fmt.Errorf("%s: list changelog end offset: %w", s, err)
	}
	lo, ok := offs.Lookup(s.topic, s.partition)
	if !ok {
		return st, fmt.Errorf("%s: changelog %q has no partition %d", s, s.topic, s.partition)
	}
	if lo.Err != nil {
		return st, fmt.Errorf("%s: changelog end offset: %w", s, lo.Err)
	}
	end := lo.Offset
	st.to = end
	if s.checkpoint > end {
		// The changelog is shorter than what the store reflects: it was
		// deleted and recreated. The changelog is the truth.
		s.log.Warn("state store checkpoint beyond changelog end, wiping local state",
			"store", s.name, "partition", s.partition, "checkpoint", s.checkpoint, "end", end)
		b := s.db.NewBatch()
		_ = b.DeleteRange(dataStart, dataEnd, nil)
		_ = b.Delete(streamTimeKey, nil)
		_ = b.Set(checkpointKey, encodeInt64(nil, 0), nil)
		if err := s.db.Apply(b, pebble.NoSync); err != nil {
			return st, fmt.Errorf("%s: wipe: %w", s, err)
		}
		_ = b.Close()
		s.checkpoint, st.wiped, st.from = 0, true, 0
		if wipeExtra != nil {
			wipeExtra()
		}
	}
	if s.checkpoint >= end {
		st.took = time.Since(began)
		return st, nil
	}
	opts := append(append([]kgo.Opt(nil), clientOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: {s.partition: kgo.NewOffset().At(s.checkpoint)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Control records tell where a transaction ends, so the last
		// offset before the end is always seen, aborted data or not.
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(32<<20),
	)
	rc, err := kgo.NewClient(opts...)
	if err != nil {
		return st, fmt.Errorf("%s: restore client: %w", s, err)
	}
	defer rc.Close()
	b := s.db.NewBatchWithSize(restoreBatchBytes + restoreBatchBytes/4)
	defer func() { _ = b.Close() }()
	flush := func(next int64) error {
		if err := b.Set(checkpointKey, encodeInt64(nil, next), nil); err != nil {
			return err
		}
		if extra != nil {
			if err := extra(b); err != nil {
				return err
			}
		}
		if err := s.db.Apply(b, pebble.NoSync); err != nil {
			return fmt.Errorf("%s: restore write: %w", s, err)
		}
		b.Reset()
		s.checkpoint = next
		return nil
	}
	next := s.checkpoint
	for next < end {
		fs := rc.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("%s: restore interrupted at offset %d of %d: %w", s, next, end, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("%s: fetch changelog %s[%d]: %w", s, t, p, err) })
		if ferr != nil {
			return st, ferr
		}
		var aerr error
		fs.EachRecord(func(r *kgo.Record) {
			if aerr != nil || r.Offset >= end {
				return
			}
			next = r.Offset + 1
			if r.Attrs.IsControl() {
				return
			}
			if r.Key == nil {
				aerr = fmt.Errorf("%s: changelog record at offset %d has a null key", s, r.Offset)
				return
			}
			if err := apply(b, r.Key, r.Value, r.Timestamp.UnixMilli()); err != nil {
				aerr = fmt.Errorf("%s: restore offset %d: %w", s, r.Offset, err)
				return
			}
			st.records++
			st.bytes += int64(len(r.Key) + len(r.Value))
		})
		if aerr != nil {
			return st, aerr
		}
		if b.Len() >= restoreBatchBytes {
			if err := flush(next); err != nil {
				return st, err
			}
		}
	}
	if err := flush(end); err != nil {
		return st, err
	}
	st.took = time.Since(began)
	return st, nil
}

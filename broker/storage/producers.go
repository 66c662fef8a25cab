package storage

// Idempotent producer state per partition: for each producer id, its epoch
// and the sequence ranges and offsets of its last few batches, so that a
// retried batch is acknowledged with its original offset instead of being
// written twice. Kafka keeps the same state and snapshots it in .snapshot
// files; so do we, at every segment roll and at clean shutdown, and replay
// the batch headers after the newest snapshot on open.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// maxCachedBatches is how many recent batches per producer are kept for
// duplicate detection; clients keep at most 5 requests in flight.
const maxCachedBatches = 5

var (
	ErrOutOfOrderSequence   = errors.New("out of order sequence number")
	ErrInvalidProducerEpoch = errors.New("producer epoch is older than the current one")
)

type cachedBatch struct {
	FirstSeq    int32 `json:"fs"`
	LastSeq     int32 `json:"ls"`
	FirstOffset int64 `json:"fo"`
	LastOffset  int64 `json:"lo"`
}

type producerEntry struct {
	Epoch   int16         `json:"e"`
	Batches []cachedBatch `json:"b"` // oldest first
	// InTxn is set from the producer's first transactional batch until its
	// commit or abort marker; TxnFirst is that batch's base offset.
	InTxn    bool  `json:"x,omitempty"`
	TxnFirst int64 `json:"t,omitempty"`
}

type producerStates map[int64]*producerEntry

// check decides what to do with a batch from an idempotent producer. It
// returns the cached batch when h is a retry of one already written.
func (p producerStates) check(h *BatchHeader) (*cachedBatch, error) {
	e := p[h.ProducerID]
	if e == nil {
		return nil, nil // unknown producer (new, or its state expired): accept any sequence, as Kafka does
	}
	if h.ProducerEpoch < e.Epoch {
		return nil, fmt.Errorf("%w: producer %d epoch %d < %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.Epoch)
	}
	if h.BaseSequence < 0 {
		return nil, nil // no sequence (broker-written transactional batches): the epoch check is all
	}
	if h.ProducerEpoch > e.Epoch {
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d new epoch %d must start at sequence 0, got %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	}
	for i := range e.Batches {
		b := &e.Batches[i]
		if b.FirstSeq == h.BaseSequence && b.LastSeq == h.LastSequence() {
			return b, nil
		}
	}
	if n := len(e.Batches); n > 0 {
		last := e.Batches[n-1].LastSeq
		want := last + 1
		if last == 1<<31-1 {
			want = 0
		}
		if h.BaseSequence != want {
			return nil, fmt.Errorf("%w: producer %d expected sequence %d, got %d", ErrOutOfOrderSequence, h.ProducerID, want, h.BaseSequence)
		}
	}
	return nil, nil
}

// update records a batch that was written (or found in the log on replay).
func (p producerStates) update(h *BatchHeader) {
	if h.ProducerID < 0 {
		return
	}
	e := p[h.ProducerID]
	if e == nil || h.ProducerEpoch > e.Epoch {
		e = &producerEntry{Epoch: h.ProducerEpoch}
		p[h.ProducerID] = e
	}
	if h.IsTransactional() && !h.IsControl() && !e.InTxn {
		e.InTxn, e.TxnFirst = true, h.BaseOffset
	}
	if h.BaseSequence < 0 || h.IsControl() {
		return
	}
	e.Batches = append(e.Batches, cachedBatch{h.BaseSequence, h.LastSequence(), h.BaseOffset, h.LastOffset()})
	if len(e.Batches) > maxCachedBatches {
		e.Batches = append(e.Batches[:0], e.Batches[1:]...)
	}
}

func snapshotPath(dir string, offset int64) string {
	return segmentName(dir, offset, ".snapshot")
}

// snapshotFile is what a .snapshot file holds.
type snapshotFile struct {
	Producers producerStates `json:"producers"`
	Aborted   []abortedTxn   `json:"aborted,omitempty"`
}

// writeSnapshot stores the producer state and the aborted transactions as
// of offset, atomically.
func (p producerStates) writeSnapshot(dir string, offset int64, aborted []abortedTxn) error {
	b, err := json.Marshal(snapshotFile{Producers: p, Aborted: aborted})
	if err != nil {
		return err
	}
	tmp := snapshotPath(dir, offset) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, snapshotPath(dir, offset))
}

// snapshotOffsets lists the offsets of the snapshot files in dir, ascending.
func snapshotOffsets(dir string) []int64 {
	names, _ := filepath.Glob(filepath.Join(dir, "*.snapshot"))
	var out []int64
	for _, n := range names {
		if off, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(n), ".snapshot"), 10, 64); err == nil {
			out = append(out, off)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// loadSnapshot reads the newest readable snapshot at or below maxOffset and
// returns it with its offset; with none it returns empty state at offset -1.
func loadSnapshot(dir string, maxOffset int64) (producerStates, []abortedTxn, int64) {
	offs := snapshotOffsets(dir)
	for i := len(offs) - 1; i >= 0; i-- {
		if offs[i] > maxOffset {
			continue
		}
		b, err := os.ReadFile(snapshotPath(dir, offs[i]))
		if err != nil {
			continue
		}
		var f snapshotFile
		if json.Unmarshal(b, &f) == nil && f.Producers != nil {
			return f.Producers, f.Aborted, offs[i]
		}
	}
	return producerStates{}, nil, -1
}

// pruneSnapshots deletes snapshots other than the newest keep ones.
func pruneSnapshots(dir string, keep int) {
	offs := snapshotOffsets(dir)
	for i := 0; i < len(offs)-keep; i++ {
		os.Remove(snapshotPath(dir, offs[i]))
	}
}

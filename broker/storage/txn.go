package storage

// Transactions at the partition level: which producers have a transaction
// open here (from their first transactional batch to their marker), the
// last stable offset that read_committed consumers stop at, commit and
// abort markers (control batches), and the list of aborted transactions
// that Fetch hands to read_committed consumers so they can drop aborted
// records (KIP-98; Kafka's .txnindex).
//
// Invariants (under Log.mu):
//   - a producer has InTxn set exactly while its last transactional data
//     batch in this log is not followed by a marker of its own;
//   - aborted is sorted by Last and holds the transactions aborted here
//     whose markers are at or above the log start offset;
//   - the state is persisted in producer snapshots and replayed from the
//     batch headers (and marker records) after the newest snapshot.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"time"
)

// abortedTxn is one aborted transaction: the producer, the offset of its
// first batch here and the offset of its abort marker.
type abortedTxn struct {
	ProducerID int64 `json:"p"`
	First      int64 `json:"f"`
	Last       int64 `json:"l"`
}

// AbortedTxn is an aborted transaction as Fetch reports it.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// ErrNoOpenTransaction is returned for a marker without an open transaction
// when strictness is asked for; markers are otherwise idempotent.
var ErrNoOpenTransaction = errors.New("producer has no open transaction on this partition")

// endTxn applies a marker batch h (commit or abort) to the transaction
// state. Called with mu held, before producers.update(h).
func (l *Log) endTxn(h *BatchHeader, commit bool) {
	e := l.producers[h.ProducerID]
	if e == nil || !e.InTxn {
		return
	}
	if !commit {
		l.aborted = append(l.aborted, abortedTxn{ProducerID: h.ProducerID, First: e.TxnFirst, Last: h.BaseOffset})
	}
	e.InTxn, e.TxnFirst = false, 0
}

// AppendMarker writes a transaction marker (a control batch with one
// record) for producer pid at epoch, ending its transaction on this
// partition. A marker for a producer with no open transaction here is
// still written (the coordinator may retry after a crash), as in Kafka.
func (l *Log) AppendMarker(pid int64, epoch int16, commit bool, coordinatorEpoch int32) (AppendResult, error) {
	batch := encodeMarker(pid, epoch, commit, coordinatorEpoch, time.Now().UnixMilli())
	h, _ := ParseHeader(batch)
	res := AppendResult{LogAppendTime: -1}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return res, ErrClosed
	}
	if l.syncErr != nil {
		return res, fmt.Errorf("log %s is read-only after a failed fsync: %w", l.dir, l.syncErr)
	}
	if e := l.producers[pid]; e != nil && epoch < e.Epoch {
		return res, fmt.Errorf("%w: marker for producer %d epoch %d < %d", ErrInvalidProducerEpoch, pid, epoch, e.Epoch)
	}
	// Nobody waits on a marker, so its sync is deferred: the next
	// transaction's syncs usually cover it (decision 0054). Unless fetches
	// are waiting on this log: they are woken when the high watermark
	// passes the marker, and then read the records it ends and the marker
	// in one go. (Waking them at once, before the marker is durable, made
	// each of them fetch twice per transaction: the records, then the
	// marker alone.)
	w := wakeLater
	if len(l.watchers) > 0 {
		w = wakeNow
	}
	off, err := l.appendLocked(batch, &h, -1, w)
	if err != nil {
		return res, err
	}
	l.endTxn(&h, commit)
	l.producers.update(&h)
	res.BaseOffset, res.LastOffset, res.Records, res.LogStartOffset = off, off, 1, l.logStart
	return res, nil
}

// encodeMarker builds a control batch: key (version 0, type 0 abort / 1
// commit), value (version 0, coordinator epoch).
func encodeMarker(pid int64, epoch int16, commit bool, coordinatorEpoch int32, ts int64) []byte {
	var key [4]byte
	if commit {
		key[3] = 1
	}
	var val [6]byte
	binary.BigEndian.PutUint32(val[2:], uint32(coordinatorEpoch))
	var rec []byte
	rec = append(rec, 0)              // attributes
	rec = binary.AppendVarint(rec, 0) // timestamp delta
	rec = binary.AppendVarint(rec, 0) // offset delta
	rec = binary.AppendVarint(rec, int64(len(key)))
	rec = append(rec, key[:]...)
	rec = binary.AppendVarint(rec, int64(len(val)))
	rec = append(rec, val[:]...)
	rec = binary.AppendVarint(rec, 0) // headers
	records := binary.AppendVarint(nil, int64(len(rec)))
	records = append(records, rec...)

	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(records))
	be := binary.BigEndian
	be.PutUint32(b[offBatchLength:], uint32(BatchHeaderSize-logOverhead+len(records)))
	b[offMagic] = 2
	be.PutUint16(b[offAttributes:], attrTransactional|attrControl)
	be.PutUint64(b[offBaseTimestamp:], uint64(ts))
	be.PutUint64(b[offMaxTimestamp:], uint64(ts))
	be.PutUint64(b[offProducerID:], uint64(pid))
	be.PutUint16(b[offProducerEpoch:], uint16(epoch))
	be.PutUint32(b[offBaseSequence:], 0xffffffff)
	be.PutUint32(b[offRecordsCount:], 1)
	b = append(b, records...)
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b
}

// readMarker reads whether the control batch at pos commits (true) or
// aborts.
func (s *segment) readMarker(pos int64) (bool, error) {
	h, err := s.readHeader(pos)
	if err != nil {
		return false, err
	}
	buf := make([]byte, h.Size())
	if _, err := s.log.ReadAt(buf, pos); err != nil {
		return false, err
	}
	var commit, found bool
	err = ForEachRecord(buf, func(r Record, _ int64) {
		if !found && len(r.Key) >= 4 {
			commit, found = binary.BigEndian.Uint16(r.Key[2:]) == 1, true
		}
	})
	if err == nil && !found {
		err = fmt.Errorf("%w: control batch at %d has no marker key", ErrCorruptBatch, pos)
	}
	return commit, err
}

// LastStableOffset is the first offset of the oldest transaction still open
// on this partition, or the high watermark when none is: read_committed
// consumers read only below it.
func (l *Log) LastStableOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lsoLocked()
}

func (l *Log) lsoLocked() int64 {
	lso := l.hw.Load()
	for _, e := range l.producers {
		if e.InTxn && e.TxnFirst < lso {
			lso = e.TxnFirst
		}
	}
	return lso
}

// AbortedTxns lists the aborted transactions that may have records in
// [from, to): those whose marker is at or after from and whose first batch
// is before to.
func (l *Log) AbortedTxns(from, to int64) []AbortedTxn {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := sort.Search(len(l.aborted), func(i int) bool { return l.aborted[i].Last >= from })
	var out []AbortedTxn
	for _, a := range l.aborted[i:] {
		if a.First < to {
			out = append(out, AbortedTxn{ProducerID: a.ProducerID, FirstOffset: a.First})
		}
	}
	return out
}

// pruneAborted drops aborted transactions whose markers fell below the log
// start offset. Called with mu held.
func (l *Log) pruneAborted() {
	i := sort.Search(len(l.aborted), func(i int) bool { return l.aborted[i].Last >= l.logStart })
	if i > 0 {
		l.aborted = append(l.aborted[:0], l.aborted[i:]...)
	}
}

// ReadCommitted is ReadSlice for read_committed consumers: it stops at the
// last stable offset, and reports it as res.LastStable.
func (l *Log) ReadCommitted(offset int64, maxBytes int, minOne bool) (ReadResult, int64, error) {
	lso := l.LastStableOffset()
	res, err := l.ReadSlice(offset, maxBytes, minOne)
	if err != nil || res.Slice.Len == 0 {
		return res, lso, err
	}
	if offset >= lso {
		res.Slice.Len = 0
		return res, lso, nil
	}
	if lso >= res.HighWatermark {
		return res, lso, nil
	}
	// Cut the slice before the first batch at or past the LSO.
	var hb [BatchHeaderSize]byte
	for pos, end := res.Slice.Pos, res.Slice.Pos+int64(res.Slice.Len); pos+BatchHeaderSize <= end; {
		if _, err := res.Slice.File.ReadAt(hb[:], pos); err != nil {
			return res, lso, fmt.Errorf("read %s at %d: %w", res.Slice.File.Name(), pos, err)
		}
		h, _ := ParseHeader(hb[:])
		if h.BaseOffset >= lso {
			res.Slice.Len = int(pos - res.Slice.Pos)
			break
		}
		pos += h.Size()
	}
	return res, lso, nil
}

// OpenTxn is a transaction open on a partition.
type OpenTxn struct {
	ProducerID  int64
	Epoch       int16
	FirstOffset int64
}

// OpenTransactions lists the transactions open on this partition.
func (l *Log) OpenTransactions() []OpenTxn {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []OpenTxn
	for pid, e := range l.producers {
		if e.InTxn {
			out = append(out, OpenTxn{ProducerID: pid, Epoch: e.Epoch, FirstOffset: e.TxnFirst})
		}
	}
	return out
}

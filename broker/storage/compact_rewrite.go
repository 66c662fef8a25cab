package storage

// Rewriting batches and segments for compaction.
//
// Invariants of a rewritten batch:
//   - baseOffset, partitionLeaderEpoch, lastOffsetDelta, maxTimestamp,
//     producerId, producerEpoch and baseSequence are the original's, so the
//     batch covers the same offsets and replays the same producer state;
//     lastOffsetDelta may now exceed recordsCount-1;
//   - kept records are copied byte for byte (their offsetDelta is relative to
//     the unchanged base offset), except that the timestampDelta is rebased
//     when the batch gets a delete horizon (KIP-534: baseTimestamp then holds
//     the horizon and every record timestamp stays what it was);
//   - records are recompressed with the batch's codec (kgo's compressor);
//     an empty batch is uncompressed; the CRC is computed afresh;
//   - a batch nothing changes in is copied verbatim, CRC and all.
//
// A cleaned segment is written to <base>.log.cleaned with its indexes built
// by the same indexBatch code appends use, and fsynced before the swap.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// cleaner holds what a pass needs to decide the fate of each batch.
type cleaner struct {
	keys        map[keyHash]int64
	keep        map[int64]struct{} // base offsets of batches to keep at least empty
	now         int64              // ms
	retention   int64              // delete.retention.ms
	nextHorizon int64              // earliest horizon of a kept tombstone, 0 when none
	stats       *CompactionStats
	recs, tmp   []byte
}

// cleanBatch returns b unchanged, a rewritten batch, or nil to drop b.
// keepEmpty asks for an empty batch rather than none when no record
// survives. changed reports anything but b itself.
func (c *cleaner) cleanBatch(b []byte, h *BatchHeader, keepEmpty bool) (out []byte, changed bool, err error) {
	if h.IsControl() || h.IsTransactional() {
		// TODO(transactions): remove aborted transactional data, and then the
		// markers whose data is gone, consistently (a marker may go only after
		// all its data), as Kafka's cleaner does with the .txnindex.
		return b, false, nil
	}
	if h.NumRecords == 0 {
		if keepEmpty {
			return b, false, nil
		}
		return nil, true, nil
	}
	raw, err := batchRecords(b, h)
	if err != nil {
		return nil, false, err
	}
	var horizon int64
	if h.Attributes&attrDeleteHorizon != 0 {
		horizon = h.BaseTimestamp
	}
	var kept []Record
	keptTombstone, removed := false, 0
	err = walkRecords(raw, int(h.NumRecords), func(r Record) {
		off := h.BaseOffset + int64(r.OffsetDelta)
		if !r.KeyNull {
			// A key absent from the map was last written below the checkpoint:
			// this record is its latest.
			if latest, ok := c.keys[hashKey(r.Key)]; ok && latest > off {
				removed++
				return
			}
			if r.ValueNull {
				if horizon > 0 && c.now >= horizon {
					removed++
					c.stats.TombstonesRemoved++
					return
				}
				keptTombstone = true
			}
		}
		kept = append(kept, r)
	})
	if err != nil {
		return nil, false, err
	}
	c.stats.RecordsRemoved += int64(removed)
	setHorizon := keptTombstone && horizon == 0
	if setHorizon {
		horizon = c.now + c.retention
	}
	if keptTombstone && (c.nextHorizon == 0 || horizon < c.nextHorizon) {
		c.nextHorizon = horizon
	}
	if removed == 0 && !setHorizon {
		return b, false, nil
	}
	if len(kept) == 0 && !keepEmpty {
		return nil, true, nil
	}
	out, err = c.rewrite(b, h, kept, setHorizon, horizon)
	return out, true, err
}

// rewrite builds a batch with b's header fields and the kept records.
func (c *cleaner) rewrite(b []byte, h *BatchHeader, kept []Record, setHorizon bool, horizon int64) ([]byte, error) {
	baseTS, attrs := h.BaseTimestamp, h.Attributes
	if setHorizon {
		baseTS, attrs = horizon, attrs|attrDeleteHorizon
	}
	recs := c.recs[:0]
	for _, r := range kept {
		body := r.raw
		if setHorizon {
			// attributes (1 byte), then the timestamp delta varint
			_, k := binary.Varint(body[1:])
			c.tmp = append(c.tmp[:0], body[0])
			c.tmp = binary.AppendVarint(c.tmp, h.BaseTimestamp+r.TimestampDelta-baseTS)
			c.tmp = append(c.tmp, body[1+k:]...)
			body = c.tmp
		}
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	c.recs = recs
	codec := h.Compression()
	if len(kept) == 0 {
		codec = 0
	}
	payload := recs
	if codec != 0 {
		comp, err := compressorFor(codec)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		p, used := comp.Compress(&buf, recs)
		if int(used) != codec {
			return nil, fmt.Errorf("recompressing batch %d with codec %d failed", h.BaseOffset, codec)
		}
		payload = p
	}
	attrs = attrs&^attrCompressionMask | int16(codec)
	out := make([]byte, BatchHeaderSize+len(payload))
	copy(out, b[:BatchHeaderSize])
	copy(out[BatchHeaderSize:], payload)
	be := binary.BigEndian
	be.PutUint32(out[offBatchLength:], uint32(len(out)-logOverhead))
	be.PutUint16(out[offAttributes:], uint16(attrs))
	be.PutUint64(out[offBaseTimestamp:], uint64(baseTS))
	be.PutUint32(out[offRecordsCount:], uint32(len(kept)))
	be.PutUint32(out[offCRC:], crc32.Checksum(out[offAttributes:], castagnoli))
	return out, nil
}

var compressors sync.Map // codec number -> kgo.Compressor

func compressorFor(codec int) (kgo.Compressor, error) {
	if c, ok := compressors.Load(codec); ok {
		return c.(kgo.Compressor), nil
	}
	var cc kgo.CompressionCodec
	switch codec {
	case 1:
		cc = kgo.GzipCompression()
	case 2:
		cc = kgo.SnappyCompression()
	case 3:
		cc = kgo.Lz4Compression()
	case 4:
		cc = kgo.ZstdCompression()
	default:
		return nil, fmt.Errorf("%w: unknown compression codec %d", ErrInvalidRecord, codec)
	}
	comp, err := kgo.DefaultCompressor(cc)
	if err != nil {
		return nil, err
	}
	c, _ := compressors.LoadOrStore(codec, comp)
	return c.(kgo.Compressor), nil
}

// Suffixes of the files of a segment being swapped in.
const (
	cleanedSuffix = ".cleaned"
	swapSuffix    = ".swap"
)

var segmentExts = []string{".log", ".index", ".timeindex"}

// cleanGroup writes the cleaned form of the segments g as a new segment
// <base>.log.cleaned (with indexes), fsynced and still open. It returns nil
// when the group is one segment that cleaning would not change.
func (l *Log) cleanGroup(c *cleaner, g []segSpan) (*segment, error) {
	ns, err := createCleanedSegment(l.dir, g[0].s.base)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(ns.log, 256<<10)
	changed := len(g) > 1
	last := g[len(g)-1]
	for _, sp := range g {
		br := newBatchReader(sp.s, 0, sp.limit)
		for {
			b, h, pos, err := br.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				discardCleaned(l.dir, ns)
				return nil, err
			}
			_, keep := c.keep[h.BaseOffset]
			keepEmpty := keep || sp.s == last.s && pos+h.Size() == sp.limit
			out, ch, err := c.cleanBatch(b, &h, keepEmpty)
			if err != nil {
				discardCleaned(l.dir, ns)
				return nil, fmt.Errorf("%s batch %d: %w", sp.s.logPath, h.BaseOffset, err)
			}
			changed = changed || ch
			if out == nil {
				continue
			}
			oh, _ := ParseHeader(out)
			if _, err := w.Write(out); err != nil {
				discardCleaned(l.dir, ns)
				return nil, err
			}
			pos = ns.size
			ns.size += int64(len(out))
			ns.indexBatch(&oh, pos, true)
		}
	}
	if !changed {
		discardCleaned(l.dir, ns)
		return nil, nil
	}
	err = w.Flush()
	if err == nil {
		err = ns.syncAll()
	}
	if err != nil {
		discardCleaned(l.dir, ns)
		return nil, err
	}
	ns.created = time.Now()
	return ns, nil
}

// createCleanedSegment creates the empty files of a cleaned segment,
// replacing leftovers of an earlier pass that failed.
func createCleanedSegment(dir string, base int64) (*segment, error) {
	for _, ext := range segmentExts {
		if err := os.Remove(segmentName(dir, base, ext+cleanedSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	s := &segment{base: base, next: base, maxTS: -1, logPath: segmentName(dir, base, ".log"+cleanedSuffix)}
	f, err := os.OpenFile(s.logPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	s.log = f
	if s.idxFile, err = openIndexFile(segmentName(dir, base, ".index"+cleanedSuffix)); err != nil {
		f.Close()
		return nil, err
	}
	if s.tidxFile, err = openIndexFile(segmentName(dir, base, ".timeindex"+cleanedSuffix)); err != nil {
		s.idxFile.close()
		f.Close()
		return nil, err
	}
	return s, nil
}

// discardCleaned closes a cleaned segment that will not be swapped in and
// deletes its files, under either suffix.
func discardCleaned(dir string, s *segment) {
	s.close()
	for _, ext := range segmentExts {
		os.Remove(segmentName(dir, s.base, ext+cleanedSuffix))
		os.Remove(segmentName(dir, s.base, ext+swapSuffix))
	}
}

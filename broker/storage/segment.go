package storage

// A segment is one file of consecutive record batches plus its two sparse
// indexes. Segments are named by their base offset, 20 digits zero-padded,
// as Kafka names them.
//
// Invariants (under Log.mu):
//   - the log file holds whole batches from position 0 to size; batch base
//     offsets are increasing and >= base;
//   - next is the offset after the last batch (base when empty);
//   - only the active (last) segment of a log is appended to.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

const indexIntervalBytes = 4096

type segment struct {
	base    int64
	logPath string
	log     *os.File
	size    int64
	next    int64

	maxTS    int64 // largest batch max timestamp in the segment, -1 when empty
	maxTSRel int32 // relative offset of the batch holding maxTS
	idx      []offsetEntry
	tidx     []timeEntry
	idxFile  *indexFile
	tidxFile *indexFile

	bytesSinceIndex int64
	created         time.Time // for segment.ms: time of the first append (or first batch timestamp after a restart)
}

func segmentName(dir string, base int64, ext string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, ext))
}

func createSegment(dir string, base int64) (*segment, error) {
	s := &segment{base: base, next: base, maxTS: -1, logPath: segmentName(dir, base, ".log")}
	f, err := os.OpenFile(s.logPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	s.log = f
	if err := s.openIndexFiles(dir, true); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *segment) openIndexFiles(dir string, truncate bool) error {
	var err error
	ip, tp := segmentName(dir, s.base, ".index"), segmentName(dir, s.base, ".timeindex")
	if truncate {
		os.Remove(ip)
		os.Remove(tp)
	}
	if s.idxFile, err = openIndexFile(ip); err != nil {
		return err
	}
	if s.tidxFile, err = openIndexFile(tp); err != nil {
		s.idxFile.close()
		return err
	}
	return nil
}

// openSegment opens an existing segment. When validate is set (the active
// segment after a restart) every batch is read and checked, the file is
// truncated after the last valid batch, and both indexes are rebuilt.
// Otherwise the index files are trusted when consistent with the log, and
// rebuilt from batch headers when not.
func openSegment(dir string, base int64, validate bool) (*segment, error) {
	s := &segment{base: base, next: base, maxTS: -1, logPath: segmentName(dir, base, ".log")}
	f, err := os.OpenFile(s.logPath, os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	s.log = f
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s.size = st.Size()
	if err := s.openIndexFiles(dir, false); err != nil {
		f.Close()
		return nil, err
	}
	if validate {
		err = s.rebuild(true)
	} else if err = s.loadIndexes(dir); err != nil {
		err = s.rebuild(false)
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("segment %s: %w", s.logPath, err)
	}
	return s, nil
}

// loadIndexes trusts the index files of a closed segment once they agree
// with the log: the last indexed batch must be a real batch, and the batches
// after it are read to find next and maxTS.
func (s *segment) loadIndexes(dir string) error {
	idx, err := loadOffsetIndex(segmentName(dir, s.base, ".index"), s.size)
	if err != nil {
		return err
	}
	var pos int64
	if len(idx) > 0 {
		pos = int64(idx[len(idx)-1].pos)
	}
	// Walk the headers from the last indexed batch to the end.
	var last BatchHeader
	seen := false
	tailMaxTS, tailMaxRel := int64(-1), int32(0)
	for pos < s.size {
		h, err := s.readHeader(pos)
		if err != nil {
			return err
		}
		if pos+h.Size() > s.size {
			return fmt.Errorf("batch at %d runs past the end of the log", pos)
		}
		if !seen && len(idx) > 0 && h.BaseOffset != s.base+int64(idx[len(idx)-1].rel) {
			return errors.New("offset index disagrees with the log")
		}
		last, seen = h, true
		if h.MaxTimestamp > tailMaxTS {
			tailMaxTS, tailMaxRel = h.MaxTimestamp, int32(h.LastOffset()-s.base)
		}
		s.bytesSinceIndex += h.Size()
		pos += h.Size()
	}
	if s.size > 0 && !seen {
		return errors.New("no batch after the last index entry")
	}
	tidx, err := loadTimeIndex(segmentName(dir, s.base, ".timeindex"), int32(last.LastOffset()-s.base))
	if err != nil {
		return err
	}
	s.idx, s.tidx = idx, tidx
	if seen {
		s.next = last.NextOffset()
	}
	if len(tidx) > 0 {
		s.maxTS, s.maxTSRel = tidx[len(tidx)-1].ts, tidx[len(tidx)-1].rel
	}
	if tailMaxTS > s.maxTS {
		s.maxTS, s.maxTSRel = tailMaxTS, tailMaxRel
	}
	s.created = time.Now()
	return nil
}

// rebuild scans the whole segment, rebuilding both indexes. With full set,
// every batch's CRC is checked and a torn or corrupt tail is cut off.
func (s *segment) rebuild(full bool) error {
	s.idx, s.tidx, s.maxTS, s.next, s.bytesSinceIndex = nil, nil, -1, s.base, 0
	var (
		pos   int64
		buf   []byte
		first = true
	)
	for pos < s.size {
		h, err := s.readHeader(pos)
		valid := err == nil && h.Magic == 2 && h.Length >= BatchHeaderSize-logOverhead &&
			pos+h.Size() <= s.size && h.BaseOffset >= s.next && h.LastOffsetDelta >= 0
		if valid && full {
			if int64(cap(buf)) < h.Size() {
				buf = make([]byte, h.Size())
			}
			buf = buf[:h.Size()]
			if _, err := s.log.ReadAt(buf, pos); err != nil {
				valid = false
			} else if _, err := ValidateBatch(buf); err != nil {
				valid = false
			}
		}
		if !valid {
			if !full {
				return fmt.Errorf("invalid batch at position %d", pos)
			}
			break // torn or corrupt tail: cut here
		}
		if first {
			ts := h.BaseTimestamp
			if h.MaxTimestamp > ts {
				ts = h.MaxTimestamp
			}
			s.created = time.UnixMilli(ts)
			first = false
		}
		s.indexBatch(&h, pos, false)
		pos += h.Size()
	}
	if first {
		s.created = time.Now()
	}
	if pos < s.size {
		if err := s.log.Truncate(pos); err != nil {
			return err
		}
		if err := s.log.Sync(); err != nil {
			return err
		}
		s.size = pos
	}
	// Rewrite the index files from memory.
	ib := make([]byte, 0, len(s.idx)*offsetEntrySize)
	for _, e := range s.idx {
		ib = append(ib, encodeOffsetEntry(e)...)
	}
	tb := make([]byte, 0, len(s.tidx)*timeEntrySize)
	for _, e := range s.tidx {
		tb = append(tb, encodeTimeEntry(e)...)
	}
	if err := s.idxFile.rewrite(ib); err != nil {
		return err
	}
	return s.tidxFile.rewrite(tb)
}

// indexBatch records a batch written at pos in the in-memory indexes and,
// when persist is set, in the index files. As in Kafka, both indexes get an
// entry at most once per indexIntervalBytes of log: the offset index the
// batch's position, the time index the largest timestamp seen so far.
func (s *segment) indexBatch(h *BatchHeader, pos int64, persist bool) {
	rel := int32(h.BaseOffset - s.base)
	if h.MaxTimestamp > s.maxTS {
		s.maxTS = h.MaxTimestamp
		s.maxTSRel = int32(h.LastOffset() - s.base)
	}
	if pos == 0 || s.bytesSinceIndex >= indexIntervalBytes {
		e := offsetEntry{rel: rel, pos: int32(pos)}
		s.idx = append(s.idx, e)
		if persist {
			s.idxFile.append(encodeOffsetEntry(e))
		}
		s.bytesSinceIndex = 0
		if n := len(s.tidx); s.maxTS >= 0 && (n == 0 || s.tidx[n-1].ts < s.maxTS) {
			te := timeEntry{ts: s.maxTS, rel: s.maxTSRel}
			s.tidx = append(s.tidx, te)
			if persist {
				s.tidxFile.append(encodeTimeEntry(te))
			}
		}
	}
	s.bytesSinceIndex += h.Size()
	s.next = h.NextOffset()
}

// append writes an already validated batch whose base offset is set; with
// hint, it starts the write-back of the pages written.
func (s *segment) append(b []byte, h *BatchHeader, hint bool) error {
	if s.size == 0 {
		s.created = time.Now()
	}
	n, err := s.log.WriteAt(b, s.size)
	if err != nil {
		// A partial write leaves garbage past size; the next write overwrites it
		// and recovery cuts it, so size stays at the last whole batch.
		return err
	}
	pos := s.size
	s.size += int64(n)
	// Start write-back of the whole pages just written, so the next sync
	// finds little left to do: smoother I/O and shorter sync tails
	// (docs/decisions/0002). Only a hint; errors surface at the sync.
	start := pos &^ 4095
	if end := s.size &^ 4095; hint && end > start {
		startWriteBack(s.log, start, end-start)
	}
	s.indexBatch(h, pos, true)
	return nil
}

func (s *segment) readHeader(pos int64) (BatchHeader, error) {
	var hb [BatchHeaderSize]byte
	if _, err := s.log.ReadAt(hb[:], pos); err != nil {
		if errors.Is(err, io.EOF) {
			return BatchHeader{}, io.ErrUnexpectedEOF
		}
		return BatchHeader{}, err
	}
	return ParseHeader(hb[:])
}

// findBatch returns the position and header of the first batch at or after
// position start (limited to limit bytes) whose last offset is >= offset.
// ok is false when no such batch lies below limit.
func (s *segment) findBatch(offset, start, limit int64) (int64, BatchHeader, bool, error) {
	for pos := start; pos < limit; {
		h, err := s.readHeader(pos)
		if err != nil {
			return 0, h, false, err
		}
		if h.LastOffset() >= offset {
			return pos, h, true, nil
		}
		pos += h.Size()
	}
	return 0, BatchHeader{}, false, nil
}

func (s *segment) syncAll() error {
	if err := s.idxFile.sync(); err != nil {
		return err
	}
	if err := s.tidxFile.sync(); err != nil {
		return err
	}
	return fdatasync(s.log)
}

func (s *segment) close() error {
	err := s.idxFile.close()
	if e := s.tidxFile.close(); err == nil {
		err = e
	}
	if e := s.log.Close(); err == nil {
		err = e
	}
	return err
}

// remove deletes the segment's files. Open descriptors stay valid (unlinked
// files remain readable), so fetches in flight finish; the descriptors are
// closed a little later.
func (s *segment) remove(dir string) error {
	for _, ext := range []string{".log", ".index", ".timeindex"} {
		if err := os.Remove(segmentName(dir, s.base, ext)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	time.AfterFunc(time.Minute, func() { s.close() })
	return nil
}

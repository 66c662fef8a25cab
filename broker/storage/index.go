package storage

// Sparse indexes of one segment, kept in memory and appended to files.
//
// Invariants:
//   - offset index entries are (relative offset, file position) of the start
//     of a batch, strictly increasing in both fields;
//   - time index entries are (max timestamp so far, relative offset of the
//     batch that raised it), strictly increasing in timestamp;
//   - the files are a cache: they are appended without fsync while the
//     segment is active and rebuilt from the log when they disagree with it.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
)

const (
	offsetEntrySize = 8  // int32 relative offset, int32 position
	timeEntrySize   = 12 // int64 timestamp, int32 relative offset
)

type offsetEntry struct {
	rel int32
	pos int32
}

type timeEntry struct {
	ts  int64
	rel int32
}

// indexFile appends fixed-size entries to a file through a buffer.
type indexFile struct {
	f *os.File
	w *bufio.Writer
}

func openIndexFile(path string) (*indexFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &indexFile{f: f, w: bufio.NewWriterSize(f, 4096)}, nil
}

func (x *indexFile) append(b []byte) error {
	_, err := x.w.Write(b)
	return err
}

// sync writes buffered entries and fsyncs the file.
func (x *indexFile) sync() error {
	if err := x.w.Flush(); err != nil {
		return err
	}
	return x.f.Sync()
}

// rewrite replaces the file's content (used after a rebuild or truncation).
func (x *indexFile) rewrite(b []byte) error {
	x.w.Reset(x.f)
	if err := x.f.Truncate(0); err != nil {
		return err
	}
	_, err := x.f.Write(b) // O_APPEND: lands at 0 in the emptied file
	return err
}

func (x *indexFile) close() error {
	err := x.w.Flush()
	if cerr := x.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func encodeOffsetEntry(e offsetEntry) []byte {
	var b [offsetEntrySize]byte
	binary.BigEndian.PutUint32(b[0:], uint32(e.rel))
	binary.BigEndian.PutUint32(b[4:], uint32(e.pos))
	return b[:]
}

func encodeTimeEntry(e timeEntry) []byte {
	var b [timeEntrySize]byte
	binary.BigEndian.PutUint64(b[0:], uint64(e.ts))
	binary.BigEndian.PutUint32(b[8:], uint32(e.rel))
	return b[:]
}

// loadOffsetIndex reads an offset index file and checks its invariants
// against a log of logSize bytes. A missing or inconsistent file is an error;
// the caller then rebuilds the index from the log.
func loadOffsetIndex(path string, logSize int64) ([]offsetEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%offsetEntrySize != 0 {
		return nil, fmt.Errorf("offset index %s: size %d is not a multiple of %d", path, len(b), offsetEntrySize)
	}
	out := make([]offsetEntry, 0, len(b)/offsetEntrySize)
	for i := 0; i < len(b); i += offsetEntrySize {
		e := offsetEntry{int32(binary.BigEndian.Uint32(b[i:])), int32(binary.BigEndian.Uint32(b[i+4:]))}
		if e.pos < 0 || int64(e.pos) >= logSize || e.rel < 0 {
			return nil, fmt.Errorf("offset index %s: entry %d points outside the log", path, i/offsetEntrySize)
		}
		if n := len(out); n > 0 && (e.rel <= out[n-1].rel || e.pos <= out[n-1].pos) {
			return nil, fmt.Errorf("offset index %s: entry %d is not increasing", path, i/offsetEntrySize)
		}
		out = append(out, e)
	}
	return out, nil
}

func loadTimeIndex(path string, maxRel int32) ([]timeEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%timeEntrySize != 0 {
		return nil, fmt.Errorf("time index %s: size %d is not a multiple of %d", path, len(b), timeEntrySize)
	}
	out := make([]timeEntry, 0, len(b)/timeEntrySize)
	for i := 0; i < len(b); i += timeEntrySize {
		e := timeEntry{int64(binary.BigEndian.Uint64(b[i:])), int32(binary.BigEndian.Uint32(b[i+8:]))}
		if e.rel < 0 || e.rel > maxRel {
			return nil, fmt.Errorf("time index %s: entry %d points outside the log", path, i/timeEntrySize)
		}
		if n := len(out); n > 0 && (e.ts <= out[n-1].ts || e.rel < out[n-1].rel) {
			return nil, fmt.Errorf("time index %s: entry %d is not increasing", path, i/timeEntrySize)
		}
		out = append(out, e)
	}
	return out, nil
}

// floorOffset returns the file position of the last indexed batch starting at
// or before rel (0 when none).
func floorOffset(idx []offsetEntry, rel int32) int64 {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].rel > rel })
	if i == 0 {
		return 0
	}
	return int64(idx[i-1].pos)
}

// ceilTime returns the relative offset of the first batch whose max timestamp
// reaches ts, and false when no entry does.
func ceilTime(idx []timeEntry, ts int64) (int32, bool) {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].ts >= ts })
	if i == len(idx) {
		return 0, false
	}
	return idx[i].rel, true
}

package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kgo"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func openTest(t *testing.T, dir string, cfg Config) *Log {
	t.Helper()
	l, err := Open(dir, cfg, discard, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func appendDurable(t *testing.T, l *Log, b []byte) AppendResult {
	t.Helper()
	res, err := l.Append(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitDurable(res.LastOffset+1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	return res
}

func readAll(t *testing.T, l *Log, from int64) []string {
	t.Helper()
	var out []string
	for off := from; off < l.HighWatermark(); {
		res, err := l.Read(off, 1<<20, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Data) == 0 {
			break
		}
		for d := res.Data; len(d) >= BatchHeaderSize; {
			h, _ := ParseHeader(d)
			if int64(len(d)) < h.Size() {
				break
			}
			// Offsets come from the records: compaction leaves gaps.
			err := ForEachRecord(d[:h.Size()], func(r Record, _ int64) {
				if h.BaseOffset+int64(r.OffsetDelta) >= off {
					out = append(out, string(r.Value))
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			off = h.NextOffset()
			d = d[h.Size():]
		}
	}
	return out
}

func TestAppendAssignsOffsetsAndReads(t *testing.T) {
	l := openTest(t, t.TempDir(), DefaultConfig())
	defer l.Close()
	r1 := appendDurable(t, l, testBatch{values: []string{"a", "b", "c"}}.encode())
	r2 := appendDurable(t, l, testBatch{values: []string{"d"}}.encode())
	if r1.BaseOffset != 0 || r1.LastOffset != 2 || r2.BaseOffset != 3 {
		t.Fatalf("offsets: %+v %+v", r1, r2)
	}
	if got := readAll(t, l, 0); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("read %v", got)
	}
	// Fetching from the middle of a batch returns the whole batch.
	res, err := l.Read(1, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseHeader(res.Data); h.BaseOffset != 0 {
		t.Fatalf("read from 1 starts at batch %d", h.BaseOffset)
	}
	if _, err := l.Read(5, 100, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past hw: %v", err)
	}
	if res, err := l.Read(4, 100, true); err != nil || len(res.Data) != 0 {
		t.Fatalf("read at hw: %v %d", err, len(res.Data))
	}
}

func TestRejectsBadBatches(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxMessageBytes = 200
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	good := testBatch{values: []string{"x"}}.encode()
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff
	if _, err := l.Append(bad); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("bad crc: %v", err)
	}
	if _, err := l.Append(good[:40]); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("short: %v", err)
	}
	two := append(append([]byte(nil), good...), good...)
	if _, err := l.Append(two); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("two batches: %v", err)
	}
	big := testBatch{values: []string{string(make([]byte, 300))}}.encode()
	if _, err := l.Append(big); !errors.Is(err, ErrBatchTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if l.LogEndOffset() != 0 {
		t.Fatalf("bad batches were written: end %d", l.LogEndOffset())
	}
}

func TestCompactedTopicRefusesNullKeys(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Compact = true
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	if _, err := l.Append(testBatch{values: []string{"x"}, nullKeys: true}.encode()); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("null key on compacted topic: %v", err)
	}
}

func TestIdempotentProducer(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, DefaultConfig())
	b0 := testBatch{values: []string{"a", "b"}, pid: 7, epoch: 0, seq: 0}.encode()
	r0 := appendDurable(t, l, b0)
	dup, err := l.Append(testBatch{values: []string{"a", "b"}, pid: 7, epoch: 0, seq: 0}.encode())
	if err != nil || !dup.Duplicate || dup.BaseOffset != r0.BaseOffset {
		t.Fatalf("duplicate: %+v %v", dup, err)
	}
	if _, err := l.Append(testBatch{values: []string{"z"}, pid: 7, epoch: 0, seq: 5}.encode()); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
	appendDurable(t, l, testBatch{values: []string{"c"}, pid: 7, epoch: 0, seq: 2}.encode())
	l.Close()

	// The state survives a restart, clean (snapshot) or not (replay).
	for _, clean := range []bool{true, false} {
		if !clean {
			os.Remove(filepath.Join(dir, cleanShutdownFile))
			for _, s := range snapshotOffsets(dir) {
				os.Remove(snapshotPath(dir, s))
			}
		}
		l = openTest(t, dir, DefaultConfig())
		dup, err = l.Append(testBatch{values: []string{"c"}, pid: 7, epoch: 0, seq: 2}.encode())
		if err != nil || !dup.Duplicate || dup.BaseOffset != 2 {
			t.Fatalf("clean=%v: duplicate after restart: %+v %v", clean, dup, err)
		}
		if _, err := l.Append(testBatch{values: []string{"z"}, pid: 7, epoch: 0, seq: 9}.encode()); !errors.Is(err, ErrOutOfOrderSequence) {
			t.Fatalf("clean=%v: gap after restart: %v", clean, err)
		}
		l.Close()
	}
	l = openTest(t, dir, DefaultConfig())
	defer l.Close()
	if r := appendDurable(t, l, testBatch{values: []string{"d"}, pid: 7, epoch: 0, seq: 3}.encode()); r.BaseOffset != 3 {
		t.Fatalf("next in sequence went to %d", r.BaseOffset)
	}
}

func TestFencedEpoch(t *testing.T) {
	l := openTest(t, t.TempDir(), DefaultConfig())
	defer l.Close()
	appendDurable(t, l, testBatch{values: []string{"a"}, pid: 3, epoch: 2, seq: 0}.encode())
	if _, err := l.Append(testBatch{values: []string{"b"}, pid: 3, epoch: 1, seq: 1}.encode()); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("old epoch: %v", err)
	}
	if _, err := l.Append(testBatch{values: []string{"b"}, pid: 3, epoch: 3, seq: 4}.encode()); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("new epoch must restart at 0: %v", err)
	}
	appendDurable(t, l, testBatch{values: []string{"b"}, pid: 3, epoch: 3, seq: 0}.encode())
}

func TestSegmentRollAndRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.SegmentBytes = 300
	l := openTest(t, dir, cfg)
	var want []string
	for i := 0; i < 50; i++ {
		v := fmt.Sprintf("value-%02d", i)
		want = append(want, v)
		appendDurable(t, l, testBatch{values: []string{v}, ts: int64(1000 + i)}.encode())
	}
	if n := len(l.segs); n < 5 {
		t.Fatalf("expected several segments, got %d", n)
	}
	l.Close()
	for _, clean := range []bool{true, false} {
		if !clean {
			os.Remove(filepath.Join(dir, cleanShutdownFile))
			// Lose every index file: they must be rebuilt.
			idx, _ := filepath.Glob(filepath.Join(dir, "*index"))
			for _, f := range idx {
				os.Remove(f)
			}
		}
		l = openTest(t, dir, cfg)
		if got := readAll(t, l, 0); !reflect.DeepEqual(got, want) {
			t.Fatalf("clean=%v: after restart read %v", clean, got)
		}
		if got := readAll(t, l, 17); !reflect.DeepEqual(got, want[17:]) {
			t.Fatalf("clean=%v: read from 17: %v", clean, got)
		}
		off, ts, found, err := l.OffsetForTimestamp(1020)
		if err != nil || !found || off != 20 || ts != 1020 {
			t.Fatalf("clean=%v: offset for ts: %d %d %v %v", clean, off, ts, found, err)
		}
		if _, _, found, _ := l.OffsetForTimestamp(5000); found {
			t.Fatal("found a timestamp past every record")
		}
		l.Close()
	}
}

// TestRecoveryCutsAtEveryByte truncates the active segment at every byte
// offset of its last batch (as a crash mid-write would) and checks that
// recovery keeps exactly the whole batches before the cut and accepts new
// appends after it.
func TestRecoveryCutsAtEveryByte(t *testing.T) {
	src := t.TempDir()
	l := openTest(t, src, DefaultConfig())
	appendDurable(t, l, testBatch{values: []string{"one", "two"}}.encode())
	appendDurable(t, l, testBatch{values: []string{"three"}}.encode())
	before := l.active().size
	appendDurable(t, l, testBatch{values: []string{"four", "five"}}.encode())
	full := l.active().size
	l.Close()
	logFile := segmentName(src, 0, ".log")
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for cut := before; cut <= full; cut++ {
		dir := t.TempDir()
		if err := os.WriteFile(segmentName(dir, 0, ".log"), data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		// Stale index files from the full log must not mislead recovery.
		for _, ext := range []string{".index", ".timeindex"} {
			b, _ := os.ReadFile(segmentName(src, 0, ext))
			os.WriteFile(segmentName(dir, 0, ext), b, 0o644)
		}
		l := openTest(t, dir, DefaultConfig())
		want := []string{"one", "two", "three"}
		wantEnd := int64(3)
		if cut == full {
			want, wantEnd = append(want, "four", "five"), 5
		}
		if got := readAll(t, l, 0); !reflect.DeepEqual(got, want) {
			t.Fatalf("cut at %d: read %v", cut, got)
		}
		if l.LogEndOffset() != wantEnd || l.HighWatermark() != wantEnd {
			t.Fatalf("cut at %d: end %d hw %d", cut, l.LogEndOffset(), l.HighWatermark())
		}
		r := appendDurable(t, l, testBatch{values: []string{"after"}}.encode())
		if r.BaseOffset != wantEnd {
			t.Fatalf("cut at %d: next append at %d", cut, r.BaseOffset)
		}
		if got := readAll(t, l, 0); got[len(got)-1] != "after" || len(got) != len(want)+1 {
			t.Fatalf("cut at %d: after append read %v", cut, got)
		}
		l.Close()
	}
}

func TestCorruptMiddleOfTailIsCut(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, DefaultConfig())
	appendDurable(t, l, testBatch{values: []string{"a"}}.encode())
	pos := l.active().size
	appendDurable(t, l, testBatch{values: []string{"b"}}.encode())
	appendDurable(t, l, testBatch{values: []string{"c"}}.encode())
	l.Close()
	os.Remove(filepath.Join(dir, cleanShutdownFile))
	f, _ := os.OpenFile(segmentName(dir, 0, ".log"), os.O_RDWR, 0)
	f.WriteAt([]byte{0xde, 0xad}, pos+BatchHeaderSize+2) // flip record bytes of "b"
	f.Close()
	l = openTest(t, dir, DefaultConfig())
	defer l.Close()
	if got := readAll(t, l, 0); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("read %v", got)
	}
}

func TestRetention(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SegmentBytes = 200
	cfg.RetentionBytes = 400
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	for i := 0; i < 30; i++ {
		appendDurable(t, l, testBatch{values: []string{fmt.Sprintf("v%02d", i)}, ts: time.Now().UnixMilli()}.encode())
	}
	n, err := l.EnforceRetention(time.Now())
	if err != nil || n == 0 {
		t.Fatalf("retention deleted %d: %v", n, err)
	}
	start, hw, size := l.Offsets()
	if start == 0 || size > 400+200 || hw != 30 {
		t.Fatalf("after retention start=%d hw=%d size=%d", start, hw, size)
	}
	if _, err := l.Read(0, 100, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below log start: %v", err)
	}
	got := readAll(t, l, start)
	if got[len(got)-1] != "v29" {
		t.Fatalf("tail lost: %v", got)
	}
	// Age-based: everything old goes, the active segment stays.
	cfg.RetentionBytes = -1
	cfg.RetentionAge = time.Millisecond
	l.SetConfig(cfg)
	l.EnforceRetention(time.Now().Add(time.Hour))
	if len(l.segs) != 1 {
		t.Fatalf("segments left: %d", len(l.segs))
	}
}

func TestAppendChecksCompressedBatches(t *testing.T) {
	l := openTest(t, t.TempDir(), DefaultConfig())
	defer l.Close()
	good := testBatch{values: []string{"a", "b"}}.encode()
	for _, codec := range []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		if _, err := l.Append(compressBatch(good, codec)); err != nil {
			t.Fatalf("codec %v: %v", codec, err)
		}
	}
	garbage := compressBatch(good, kgo.GzipCompression())
	garbage[len(garbage)-10] ^= 0xff // damage the gzip stream, then make the CRC match
	fixFraming(garbage)
	wrongCount := compressBatch(good, kgo.Lz4Compression())
	binary.BigEndian.PutUint32(wrongCount[offRecordsCount:], 3)
	binary.BigEndian.PutUint32(wrongCount[offLastOffsetDelta:], 2)
	fixFraming(wrongCount)
	// A zstd bomb: far more zeros than maxDecompressedBatch, compressed tiny.
	enc, _ := zstd.NewWriter(nil)
	bomb := append(append([]byte(nil), good[:BatchHeaderSize]...), enc.EncodeAll(make([]byte, maxDecompressedBatch+1), nil)...)
	binary.BigEndian.PutUint16(bomb[offAttributes:], 4)
	fixFraming(bomb)
	for name, tc := range map[string]struct {
		batch []byte
		want  error
	}{
		"garbage gzip":       {garbage, ErrCorruptBatch},
		"wrong record count": {wrongCount, ErrInvalidRecord},
		"zstd bomb":          {bomb, ErrBatchTooLarge},
	} {
		if _, err := l.Append(tc.batch); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if got := l.LogEndOffset(); got != 8 {
		t.Fatalf("log end offset %d, want 8", got)
	}
}

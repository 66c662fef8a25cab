package storage

// Log is one partition's log: an ordered list of segments, the last of which
// is active. Appends are serialized by mu; syncs run on a Flusher (shared by
// all logs of a broker) so that every append made while one sync runs is
// covered by the next one (group commit). The high watermark is the end of
// the synced data: consumers never see a record that a crash could take
// back.
//
// Lock order: cleaner.mu (compaction passes, see compact.go), then mu, then
// Flusher.mu; the flusher takes mu briefly before and after each sync,
// never during it.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	ErrOffsetOutOfRange = errors.New("offset out of range")
	ErrClosed           = errors.New("log is closed")
)

// cleanShutdownFile marks a log that was closed cleanly: its indexes and
// producer snapshot are current, so the active segment needs no full scan.
const cleanShutdownFile = ".clean"

// Hooks are optional callbacks and shared helpers.
type Hooks struct {
	OnFsync func(time.Duration)
	// Flusher syncs this log together with others; nil gives the log a
	// flusher of its own.
	Flusher *Flusher
}

// Log is a partition log. All methods are safe for concurrent use.
type Log struct {
	dir    string
	cfg    atomic.Pointer[Config]
	hooks  Hooks
	logger *slog.Logger

	mu        sync.Mutex
	segs      []*segment
	logStart  int64
	producers producerStates
	aborted   []abortedTxn // aborted transactions, by last offset (txn.go)
	closed    bool
	sizeBytes int64 // sum of segment sizes

	hw       atomic.Int64 // high watermark: offsets below it are durable
	hwSeg    *segment     // segment holding hw's position (under mu)
	hwPos    int64        // file position matching hw in hwSeg (under mu)
	watchers map[chan struct{}]struct{}
	syncErr  error // sticky fsync error: the log refuses appends after one
	// syncingTo is the end of the furthest sync started (under mu): once
	// that sync is over, hw is at least there, or the log has failed.
	syncingTo int64

	flusher    *Flusher
	syncing    sync.WaitGroup // syncs in flight on this log's files
	syncNowMu  sync.Mutex     // one SyncNow at a time; callers queued behind it share its sync
	ownFlusher bool           // the log made its flusher and closes it
	durableCh  chan struct{}  // closed and replaced each time hw moves

	cleaner cleanerState // compaction (compact.go)
}

// Open opens or creates the log in dir, recovering it after a crash: the
// active segment is checked batch by batch and cut after the last valid
// batch, indexes are rebuilt where they disagree with the log, and producer
// state is replayed from the newest snapshot.
func Open(dir string, cfg Config, logger *slog.Logger, hooks Hooks) (*Log, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l := &Log{dir: dir, hooks: hooks, logger: logger, watchers: map[chan struct{}]struct{}{},
		flusher: hooks.Flusher, durableCh: make(chan struct{})}
	l.cfg.Store(&cfg)
	if err := l.load(); err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	if l.flusher == nil {
		fl, err := NewFlusher(dir, hooks.OnFsync)
		if err != nil {
			l.closeSegments()
			return nil, err
		}
		l.flusher, l.ownFlusher = fl, true
	}
	return l, nil
}

func (l *Log) load() error {
	if err := recoverCompaction(l.dir); err != nil {
		return err
	}
	bases, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	// Remove files of half-finished work (compaction output, snapshots).
	if tmps, _ := filepath.Glob(filepath.Join(l.dir, "*.tmp")); len(tmps) > 0 {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	clean := false
	if _, err := os.Stat(filepath.Join(l.dir, cleanShutdownFile)); err == nil {
		clean = true
		os.Remove(filepath.Join(l.dir, cleanShutdownFile))
	}
	for i, base := range bases {
		active := i == len(bases)-1
		s, err := openSegment(l.dir, base, active && !clean)
		if err != nil {
			for _, o := range l.segs {
				o.close()
			}
			return err
		}
		l.segs = append(l.segs, s)
		l.sizeBytes += s.size
	}
	if len(l.segs) == 0 {
		s, err := createSegment(l.dir, 0)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
		if err := syncDir(l.dir); err != nil {
			return err
		}
	}
	l.logStart = l.segs[0].base
	if b, err := os.ReadFile(filepath.Join(l.dir, logStartFile)); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > l.logStart && v <= l.active().next {
			l.logStart = v
		}
	}
	act := l.active()
	// What survived recovery becomes durable before anyone can read it: after
	// a process crash it may still sit only in the page cache.
	if !clean {
		if err := fdatasync(act.log); err != nil {
			return err
		}
	}
	l.hw.Store(act.next)
	l.hwSeg, l.hwPos = act, act.size
	l.cleaner.checkpoint = readCleanCheckpoint(l.dir, l.segs[0].base, act.next)
	return l.loadProducers()
}

// loadProducers restores idempotent-producer state: the newest snapshot,
// then the headers of every batch after it.
func (l *Log) loadProducers() error {
	end := l.active().next
	p, aborted, snapOff := loadSnapshot(l.dir, end)
	l.producers, l.aborted = p, aborted
	for _, s := range l.segs {
		if s.next <= snapOff {
			continue
		}
		start := floorOffset(s.idx, int32(max(snapOff-s.base, 0)))
		for pos := start; pos < s.size; {
			h, err := s.readHeader(pos)
			if err != nil {
				return err
			}
			if h.BaseOffset >= snapOff {
				if h.IsControl() {
					commit, err := s.readMarker(pos)
					if err != nil {
						return err
					}
					l.endTxn(&h, commit)
				}
				l.producers.update(&h)
			}
			pos += h.Size()
		}
	}
	return nil
}

func listSegments(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".log") {
			continue
		}
		base, err := strconv.ParseInt(strings.TrimSuffix(name, ".log"), 10, 64)
		if err != nil {
			continue
		}
		bases = append(bases, base)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

// Config returns the current configuration.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig replaces the configuration; it applies from the next decision.
func (l *Log) SetConfig(c Config) { l.cfg.Store(&c) }

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// AppendResult tells a producer where its batch went.
type AppendResult struct {
	BaseOffset     int64
	LastOffset     int64
	LogAppendTime  int64 // -1 unless the topic uses LogAppendTime
	LogStartOffset int64
	Records        int32
	Duplicate      bool // a retry of a batch already in the log: nothing was written
}

// Append validates a produced batch, assigns its offsets and writes it. The
// batch is modified in place (base offset, and timestamps for
// LogAppendTime). The data is durable once WaitDurable(res.LastOffset+1)
// returns.
func (l *Log) Append(batch []byte) (AppendResult, error) {
	return l.append(batch, wakeNow)
}

// AppendSyncing is Append for data its caller syncs right after, with
// SyncLogs or SyncNow (a transaction's data, a commit's decision): it does
// not wake the flusher, whose round would sync the same bytes once more
// (a journal commit and a device flush each, on ext4). The caller must
// start that sync, or the data stays unsynced until some other append
// wakes the flusher.
func (l *Log) AppendSyncing(batch []byte) (AppendResult, error) {
	return l.append(batch, wakeNone)
}

// AppendDeferred is Append for records nobody waits on, whose loss in a
// crash is repaired from other durable records (a transaction's state
// between its durable decisions): the flusher syncs them within
// DeferredSyncDelay unless a sync of the log covers them first, as the
// next transaction's commit usually does. That saves a journal commit and
// a device flush per record on ext4 (docs/decisions/0054).
func (l *Log) AppendDeferred(batch []byte) (AppendResult, error) {
	return l.append(batch, wakeLater)
}

// wake says when the flusher syncs an append.
type wake int8

const (
	wakeNow   wake = iota // in its next round, woken at once (Append)
	wakeLater             // within DeferredSyncDelay (AppendDeferred, markers no fetch waits for)
	wakeNone              // not for this append: its caller syncs (AppendSyncing)
)

// append is Append, waking the flusher as w says.
func (l *Log) append(batch []byte, w wake) (AppendResult, error) {
	res := AppendResult{LogAppendTime: -1}
	cfg := l.cfg.Load()
	if int64(len(batch)) > int64(cfg.MaxMessageBytes) {
		return res, fmt.Errorf("%w: %d bytes > %d", ErrBatchTooLarge, len(batch), cfg.MaxMessageBytes)
	}
	h, err := ValidateBatch(batch)
	if err != nil {
		return res, err
	}
	if h.IsControl() {
		return res, fmt.Errorf("%w: clients may not produce control batches", ErrInvalidRecord)
	}
	if h.IsTransactional() && h.ProducerID < 0 {
		return res, fmt.Errorf("%w: a transactional batch needs a producer id", ErrInvalidRecord)
	}
	if h.Compression() != 0 || cfg.Compact {
		if err := checkRecords(batch, &h, cfg.Compact); err != nil {
			return res, err
		}
	}
	var now int64
	if cfg.LogAppendTime {
		now = time.Now().UnixMilli()
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return res, ErrClosed
	}
	if l.syncErr != nil {
		return res, fmt.Errorf("log %s is read-only after a failed fsync: %w", l.dir, l.syncErr)
	}
	if h.ProducerID >= 0 {
		dup, err := l.producers.check(&h)
		if err != nil {
			return res, err
		}
		if dup != nil {
			res.BaseOffset, res.LastOffset, res.Duplicate = dup.FirstOffset, dup.LastOffset, true
			res.LogStartOffset = l.logStart
			return res, nil
		}
	}
	logAppendTime := int64(-1)
	if cfg.LogAppendTime {
		logAppendTime = now
	}
	next, err := l.appendLocked(batch, &h, logAppendTime, w)
	if err != nil {
		return res, err
	}
	l.producers.update(&h)
	res.BaseOffset, res.LastOffset, res.Records, res.LogAppendTime = next, h.LastOffset(), h.NumRecords, logAppendTime
	res.LogStartOffset = l.logStart
	return res, nil
}

// appendLocked rolls the active segment when needed, assigns the batch its
// base offset (and LogAppendTime when logAppendTime >= 0), writes it and
// marks the log dirty for the flusher as w says. Called with mu held.
func (l *Log) appendLocked(batch []byte, h *BatchHeader, logAppendTime int64, w wake) (int64, error) {
	cfg := l.cfg.Load()
	act := l.active()
	next := act.next
	if act.size > 0 && (act.size+int64(len(batch)) > cfg.SegmentBytes ||
		time.Since(act.created) >= cfg.SegmentAge ||
		next+int64(h.LastOffsetDelta)-act.base > 1<<31-1) {
		var err error
		if act, err = l.roll(); err != nil {
			return 0, err
		}
	}
	SetBaseOffset(batch, next)
	SetLeaderEpoch(batch, 0)
	h.BaseOffset = next
	if logAppendTime >= 0 {
		SetLogAppendTime(batch, logAppendTime)
		h.MaxTimestamp = logAppendTime
	}
	// Data its writer syncs right after (wakeNone) gets no write-back hint:
	// that sync starts its write-back anyway, and the hint's
	// sync_file_range stalls the append while the disk is busy.
	if err := act.append(batch, h, w != wakeNone); err != nil {
		return 0, fmt.Errorf("append to %s: %w", act.logPath, err)
	}
	l.sizeBytes += int64(len(batch))
	switch w {
	case wakeNow:
		l.flusher.markDirty(l)
	case wakeLater:
		l.flusher.markDeferred(l)
	}
	return next, nil
}

// roll closes the active segment (fsyncing it, so the high watermark can
// move to its end) and starts a new one at the log end. Called with mu held.
func (l *Log) roll() (*segment, error) {
	old := l.active()
	if err := old.syncAll(); err != nil {
		l.syncErr = err
		return nil, err
	}
	if old.next > l.hw.Load() {
		l.advanceHW(old, old.next, old.size)
	}
	s, err := createSegment(l.dir, old.next)
	if err != nil {
		return nil, err
	}
	if err := syncDir(l.dir); err != nil {
		s.close()
		return nil, err
	}
	l.segs = append(l.segs, s)
	if err := l.producers.writeSnapshot(l.dir, s.base, l.aborted); err != nil {
		l.logger.Warn("producer snapshot failed", "dir", l.dir, "err", err)
	}
	pruneSnapshots(l.dir, 2)
	return s, nil
}

// advanceHW moves the high watermark and wakes waiters. Called with mu held.
func (l *Log) advanceHW(seg *segment, end, pos int64) {
	l.hw.Store(end)
	l.hwSeg, l.hwPos = seg, pos
	close(l.durableCh)
	l.durableCh = make(chan struct{})
	for ch := range l.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// syncPoint is what a sync must cover now: the active segment up to the
// log end. ok is false when there is nothing new or the log is closed.
func (l *Log) syncPoint() (t syncTarget, ok bool) { return l.syncPointFor(0) }

// syncPointFor is syncPoint for a sync that must cover the offsets below
// upto: ok is also false when a sync already started covers them (the
// flusher's round, another commit's SyncNow), which the caller then waits
// for rather than starting one more.
func (l *Log) syncPointFor(upto int64) (t syncTarget, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.syncErr != nil {
		return t, false // after a failed sync nothing more becomes durable (synced)
	}
	act := l.active()
	if act.next <= l.hw.Load() || upto > 0 && l.syncingTo >= upto {
		return t, false
	}
	l.syncing.Add(1) // done in synced; Close waits for it
	l.syncingTo = max(l.syncingTo, act.next)
	return syncTarget{seg: act, end: act.next, pos: act.size}, true
}

// synced records the outcome of a sync of seg up to end (position pos).
func (l *Log) synced(seg *segment, end, pos int64, err error) {
	defer l.syncing.Done()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if l.syncErr != nil {
		// A sync failed before this one ended: the pages it could not
		// write may since have been marked clean, so this sync's success
		// proves nothing (PostgreSQL's fsyncgate). The high watermark
		// stays; waiters get the first error.
		return
	}
	if err != nil {
		// After a failed fsync the page cache state is unknown (see
		// PostgreSQL's fsyncgate): refuse further appends.
		l.syncErr = err
		l.logger.Error("fsync failed; partition is now read-only", "dir", l.dir, "err", err)
		close(l.durableCh)
		l.durableCh = make(chan struct{})
		return
	}
	if end > l.hw.Load() {
		l.advanceHW(seg, end, pos)
	}
}

// SyncNow makes every offset below upto durable with an fdatasync of this
// log alone, at once, instead of waiting for the flusher's next round. It
// is for records that a client waits on (a transaction's decision and
// data): the round may be busy syncing the whole file system for other
// logs' data and then takes one more. Concurrent callers share a sync, and
// a caller whose offsets a sync already under way covers (the flusher's
// round, which every append kicks, or another caller's) waits for that one
// instead of starting its own: it ends sooner, and saves a journal commit.
// Beyond the active segment it falls back to WaitDurable.
func (l *Log) SyncNow(upto int64, timeout time.Duration) error {
	if l.hw.Load() >= upto {
		return nil
	}
	l.syncNowMu.Lock()
	defer l.syncNowMu.Unlock()
	if l.hw.Load() >= upto {
		return nil
	}
	if t, ok := l.syncPointFor(upto); ok {
		start := time.Now()
		err := fdatasync(t.seg.log)
		if l.flusher.onFsync != nil {
			l.flusher.onFsync(time.Since(start))
		}
		l.synced(t.seg, t.end, t.pos, err)
		if err != nil {
			return err
		}
	}
	return l.WaitDurable(upto, timeout)
}

// WaitDurable blocks until every offset below upto is fsynced, the log
// fails, or timeout passes.
func (l *Log) WaitDurable(upto int64, timeout time.Duration) error {
	return l.WaitDurableOr(upto, timeout, nil)
}

// ErrStopped is WaitDurableOr's answer when its stop channel closed first.
var ErrStopped = errors.New("stopped waiting for fsync")

// WaitDurableOr is WaitDurable that also returns, with ErrStopped, once
// stop is closed (a nil stop never is).
func (l *Log) WaitDurableOr(upto int64, timeout time.Duration, stop <-chan struct{}) error {
	var timer <-chan time.Time
	for {
		l.mu.Lock()
		if l.hw.Load() >= upto {
			l.mu.Unlock()
			return nil
		}
		if l.syncErr != nil {
			l.mu.Unlock()
			return l.syncErr
		}
		if l.closed {
			l.mu.Unlock()
			return ErrClosed
		}
		ch := l.durableCh
		l.mu.Unlock()
		if timer == nil {
			timer = time.After(timeout)
		}
		select {
		case <-ch:
		case <-stop:
			return ErrStopped
		case <-timer:
			return fmt.Errorf("timed out waiting for fsync of %s", l.dir)
		}
	}
}

// Watch registers ch to receive a non-blocking send whenever the high
// watermark moves; the returned func unregisters it.
func (l *Log) Watch(ch chan struct{}) func() {
	l.mu.Lock()
	l.watchers[ch] = struct{}{}
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.watchers, ch)
		l.mu.Unlock()
	}
}

// HighWatermark is the offset after the last durable record.
func (l *Log) HighWatermark() int64 { return l.hw.Load() }

// LogStartOffset is the first readable offset.
func (l *Log) LogStartOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logStart
}

// LogEndOffset is the offset the next batch will get (written, maybe not yet durable).
func (l *Log) LogEndOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.active().next
}

// Size is the log's size on disk in bytes.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sizeBytes
}

// Offsets returns log start, high watermark and size together.
func (l *Log) Offsets() (logStart, hw, size int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logStart, l.hw.Load(), l.sizeBytes
}

// ReadResult is what Read returns: whole batches starting with the one that
// holds the requested offset; the last one may be cut short by maxBytes.
type ReadResult struct {
	Data           []byte // filled by Read; ReadSlice leaves it nil and sets Slice
	Slice          Slice
	HighWatermark  int64
	LogStartOffset int64
}

// Slice is a byte range of a segment file, so that callers can copy stored
// batches straight to where they go (a response buffer, a socket).
type Slice struct {
	File *os.File
	Pos  int64
	Len  int
}

// ReadAt copies the slice into dst, which must be Len bytes long.
func (s Slice) ReadAt(dst []byte) error {
	if _, err := s.File.ReadAt(dst, s.Pos); err != nil && !(errors.Is(err, io.EOF) && len(dst) == 0) {
		return fmt.Errorf("read %s at %d: %w", s.File.Name(), s.Pos, err)
	}
	return nil
}

// Read returns stored batches from the batch containing offset, up to
// maxBytes. With minOne it returns at least one whole batch even when that
// batch is larger than maxBytes (KIP-74); without, a first batch that does
// not fit returns no data. Reading at the
// high watermark returns no data. Offsets outside [logStart, hw] return
// ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int, minOne bool) (ReadResult, error) {
	res, err := l.ReadSlice(offset, maxBytes, minOne)
	if err != nil || res.Slice.Len == 0 {
		return res, err
	}
	res.Data = make([]byte, res.Slice.Len)
	return res, res.Slice.ReadAt(res.Data)
}

// ReadSlice is Read without the copy: it returns where the batches are.
// The file stays readable for at least a minute even if retention or
// compaction removes the segment meanwhile.
func (l *Log) ReadSlice(offset int64, maxBytes int, minOne bool) (ReadResult, error) {
	l.mu.Lock()
	res := ReadResult{HighWatermark: l.hw.Load(), LogStartOffset: l.logStart}
	if l.closed {
		l.mu.Unlock()
		return res, ErrClosed
	}
	if offset < l.logStart || offset > res.HighWatermark {
		l.mu.Unlock()
		return res, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, l.logStart, res.HighWatermark)
	}
	if offset == res.HighWatermark {
		l.mu.Unlock()
		return res, nil
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	if i < 0 {
		i = 0
	}
	type span struct {
		s            *segment
		start, limit int64
	}
	var spans []span
	for j := i; j < len(l.segs); j++ {
		s := l.segs[j]
		limit := s.size
		if s == l.hwSeg {
			limit = l.hwPos
		}
		start := int64(0)
		if j == i {
			start = floorOffset(s.idx, int32(max(offset-s.base, 0)))
		}
		spans = append(spans, span{s, start, limit})
		if s == l.hwSeg {
			break
		}
	}
	l.mu.Unlock()

	for _, sp := range spans {
		pos, h, ok, err := sp.s.findBatch(offset, sp.start, sp.limit)
		if err != nil {
			return res, fmt.Errorf("read %s at %d: %w", sp.s.logPath, sp.start, err)
		}
		if !ok {
			continue // the offset fell in a gap (compaction) at the end of this segment
		}
		n := sp.limit - pos
		if n > int64(maxBytes) {
			if h.Size() > int64(maxBytes) && !minOne {
				return res, nil
			}
			n = max(int64(maxBytes), h.Size())
		}
		res.Slice = Slice{File: sp.s.log, Pos: pos, Len: int(n)}
		return res, nil
	}
	return res, nil
}

// Close flushes and closes the log, leaving a clean-shutdown marker.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	// A sync in flight still uses the segment file: let it finish.
	l.syncing.Wait()
	if l.ownFlusher {
		l.flusher.Close()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	act := l.active()
	err := act.syncAll()
	if err == nil && l.syncErr == nil {
		if err = l.producers.writeSnapshot(l.dir, act.next, l.aborted); err == nil {
			pruneSnapshots(l.dir, 2)
			err = os.WriteFile(filepath.Join(l.dir, cleanShutdownFile), nil, 0o644)
		}
	}
	if e := l.closeSegments(); err == nil {
		err = e
	}
	close(l.durableCh)
	return err
}

func (l *Log) closeSegments() error {
	var err error
	for _, s := range l.segs {
		if e := s.close(); err == nil {
			err = e
		}
	}
	return err
}

// Remove closes the log and deletes its directory.
func (l *Log) Remove() error {
	l.Close()
	return os.RemoveAll(l.dir)
}

const logStartFile = "log-start-offset"

// maxCountedBatches bounds the header reads CountRecords makes.
const maxCountedBatches = 64

// CountRecords counts the records of the whole batches in the slice by
// reading their headers. Past maxCountedBatches batches it extrapolates by
// bytes: it feeds a metric, and must stay cheap next to sendfile.
func (s Slice) CountRecords() int {
	var hb [BatchHeaderSize]byte
	n, pos, end := 0, s.Pos, s.Pos+int64(s.Len)
	for i := 0; pos+BatchHeaderSize <= end; i++ {
		if i == maxCountedBatches {
			return int(float64(n) * float64(s.Len) / float64(pos-s.Pos))
		}
		if _, err := s.File.ReadAt(hb[:], pos); err != nil {
			break
		}
		h, _ := ParseHeader(hb[:])
		if h.Size() < BatchHeaderSize || pos+h.Size() > end {
			break
		}
		n += int(h.NumRecords)
		pos += h.Size()
	}
	return n
}

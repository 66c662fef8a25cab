package storage

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestGroupCommit appends concurrently to several logs sharing one flusher
// and checks that every append became durable with far fewer syncs than
// appends: concurrent producers share syncs.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	fl, syncs := countingFlusher(t, dir)
	const logs, writers, perWriter = 4, 8, 50
	ls := openLogs(t, dir, fl, logs)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			l := ls[w%logs]
			for i := 0; i < perWriter; i++ {
				res, err := l.Append(testBatch{values: []string{fmt.Sprintf("w%d-%d", w, i)}}.encode())
				if err != nil {
					t.Error(err)
					return
				}
				if err := l.WaitDurable(res.LastOffset+1, 10*time.Second); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	total := int64(0)
	for _, l := range ls {
		total += l.HighWatermark()
	}
	if total != writers*perWriter {
		t.Fatalf("durable records %d, want %d", total, writers*perWriter)
	}
	if n := syncs.Load(); n >= total {
		t.Fatalf("%d syncs for %d appends: no group commit", n, total)
	}
	t.Logf("%d appends made durable by %d syncs", total, syncs.Load())
}

func TestSegmentRollsByAge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SegmentAge = time.Minute
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	appendDurable(t, l, testBatch{values: []string{"a"}}.encode())
	appendDurable(t, l, testBatch{values: []string{"b"}}.encode())
	if n := len(l.segs); n != 1 {
		t.Fatalf("rolled too early: %d segments", n)
	}
	// Age the active segment instead of sleeping, so a slow machine cannot
	// roll it early or late.
	l.mu.Lock()
	l.segs[0].created = time.Now().Add(-2 * time.Minute)
	l.mu.Unlock()
	appendDurable(t, l, testBatch{values: []string{"c"}}.encode())
	if n := len(l.segs); n != 2 || l.segs[1].base != 2 {
		t.Fatalf("after segment.ms: %d segments", n)
	}
}

// TestSyncNowJoinsSyncInFlight: a SyncNow whose offsets a sync already
// under way covers (here the flusher's round, held after its fdatasync and
// before it moves the high watermark) waits for that sync instead of
// starting an fdatasync of its own, and returns once it is over.
func TestSyncNowJoinsSyncInFlight(t *testing.T) {
	dir := t.TempDir()
	var (
		syncs    atomic.Int64
		inRound  = make(chan struct{})
		release  = make(chan struct{})
		holdOnce sync.Once
	)
	fl, err := NewFlusher(dir, func(time.Duration) {
		syncs.Add(1)
		holdOnce.Do(func() { close(inRound); <-release }) // the first sync is the flusher's round
	})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	l, err := Open(dir+"/p0", DefaultConfig(), discard, Hooks{Flusher: fl})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	res, err := l.Append(testBatch{values: []string{"a", "b"}}.encode())
	if err != nil {
		t.Fatal(err)
	}
	<-inRound // the flusher has synced up to the end and not yet said so
	if hw := l.HighWatermark(); hw > res.LastOffset {
		t.Fatalf("high watermark %d moved before the round ended", hw)
	}
	done := make(chan error, 1)
	go func() { done <- l.SyncNow(res.LastOffset+1, 10*time.Second) }()
	// Give SyncNow time to decide (a broken one would fdatasync now, and
	// the count below would say so; a slow machine only hides that).
	select {
	case err := <-done:
		t.Fatalf("SyncNow returned (%v) before the sync in flight that covers it ended", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if hw := l.HighWatermark(); hw < res.LastOffset+1 {
		t.Fatalf("high watermark %d after SyncNow(%d)", hw, res.LastOffset+1)
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs, want 1: SyncNow synced on its own while a sync covering it was in flight", n)
	}

	// Offsets beyond what the sync in flight covers still get a sync of
	// their own.
	res, err = l.Append(testBatch{values: []string{"c"}}.encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SyncNow(res.LastOffset+1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if hw := l.HighWatermark(); hw < res.LastOffset+1 {
		t.Fatalf("high watermark %d after SyncNow(%d)", hw, res.LastOffset+1)
	}
}

// TestFailedSyncIsNotJoinedAsSuccess: a SyncNow that waits for a sync
// under way gets that sync's error when it fails, and after a failed sync
// nothing becomes durable any more, a later sync's success included (the
// pages the failed sync could not write may have been marked clean).
func TestFailedSyncIsNotJoinedAsSuccess(t *testing.T) {
	var (
		calls   atomic.Int64
		entered = make(chan struct{})
		release = make(chan struct{})
	)
	dir := t.TempDir()
	fl, err := NewFlusher(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	l, err := Open(dir+"/p0", DefaultConfig(), discard, Hooks{Flusher: fl})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Set after Open, which syncs what a new log's directory holds; the
	// append's kick orders it before the flusher's read.
	real := fdatasync
	fdatasync = func(f *os.File) error {
		if calls.Add(1) == 1 { // the flusher's round after the append
			close(entered)
			<-release
			return syscall.EIO
		}
		return real(f)
	}
	t.Cleanup(func() { fdatasync = real }) // after the log and flusher are closed
	res, err := l.Append(testBatch{values: []string{"a"}}.encode())
	if err != nil {
		t.Fatal(err)
	}
	end := res.LastOffset + 1
	<-entered // the round's sync is under way and will fail
	done := make(chan error, 1)
	go func() { done <- l.SyncNow(end, 10*time.Second) }()
	time.Sleep(50 * time.Millisecond) // let SyncNow find the round (either order must fail below)
	close(release)
	if err := <-done; err == nil {
		t.Fatal("SyncNow succeeded although the sync covering its offsets failed")
	}
	if hw := l.HighWatermark(); hw >= end {
		t.Fatalf("high watermark %d after a failed sync, want below %d", hw, end)
	}
	if err := l.SyncNow(end, 10*time.Second); err == nil {
		t.Fatal("SyncNow succeeded after a failed sync")
	}
	// A sync that was under way when the other failed, and succeeds, must
	// not move the high watermark either.
	l.mu.Lock()
	act := l.active()
	l.syncing.Add(1)
	l.mu.Unlock()
	l.synced(act, act.next, act.size, nil)
	if hw := l.HighWatermark(); hw >= end {
		t.Fatalf("high watermark %d after a successful sync that followed a failed one, want below %d", hw, end)
	}
	if err := l.WaitDurable(end, time.Second); err == nil {
		t.Fatal("WaitDurable succeeded after a failed sync")
	}
}

// TestSyncLogsOneSyncForAll: data appended with AppendSyncing does not
// wake the flusher, and SyncLogs makes several logs durable with a single
// sync.
func TestSyncLogsOneSyncForAll(t *testing.T) {
	dir := t.TempDir()
	fl, syncs := countingFlusher(t, dir)
	logs := openLogs(t, dir, fl, 3)
	var ends []int64
	for _, l := range logs {
		res, err := l.AppendSyncing(testBatch{values: []string{"a", "b"}}.encode())
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, res.LastOffset+1)
	}
	time.Sleep(50 * time.Millisecond) // a woken flusher would have synced by now
	if n := syncs.Load(); n != 0 {
		t.Fatalf("%d syncs after AppendSyncing, want none", n)
	}
	for i, err := range fl.SyncLogs(logs, ends, 10*time.Second) {
		if err != nil {
			t.Fatalf("log %d: %v", i, err)
		}
		if hw := logs[i].HighWatermark(); hw < ends[i] {
			t.Fatalf("log %d: high watermark %d after SyncLogs(%d)", i, hw, ends[i])
		}
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs for three logs, want 1", n)
	}
	// Already durable: nothing more to sync.
	fl.SyncLogs(logs, ends, 10*time.Second)
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs after a second SyncLogs of durable data, want 1", n)
	}
}

// TestSyncLogsFailure: when the one sync of SyncLogs fails, every log it
// covered reports the error and its high watermark stays.
func TestSyncLogsFailure(t *testing.T) {
	dir := t.TempDir()
	fl, _ := countingFlusher(t, dir)
	logs := openLogs(t, dir, fl, 2)
	var ends []int64
	real := syncfs
	syncfs = func(*os.File) error { return syscall.EIO }
	t.Cleanup(func() { syncfs = real })
	for _, l := range logs {
		res, err := l.AppendSyncing(testBatch{values: []string{"a"}}.encode())
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, res.LastOffset+1)
	}
	for i, err := range fl.SyncLogs(logs, ends, time.Second) {
		if err == nil {
			t.Fatalf("log %d: SyncLogs succeeded although its sync failed", i)
		}
		if hw := logs[i].HighWatermark(); hw >= ends[i] {
			t.Fatalf("log %d: high watermark %d after a failed sync", i, hw)
		}
	}
}

// countingFlusher is a flusher for dir that counts its syncs. It closes
// when the test ends, after the logs opened after it (openLogs).
func countingFlusher(t *testing.T, dir string) (*Flusher, *atomic.Int64) {
	t.Helper()
	syncs := new(atomic.Int64)
	fl, err := NewFlusher(dir, func(time.Duration) { syncs.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fl.Close() })
	return fl, syncs
}

// openLogs opens n logs under dir that share the flusher fl, closed when
// the test ends.
func openLogs(t *testing.T, dir string, fl *Flusher, n int) []*Log {
	t.Helper()
	logs := make([]*Log, n)
	for i := range logs {
		l, err := Open(fmt.Sprintf("%s/p%d", dir, i), DefaultConfig(), discard, Hooks{Flusher: fl})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		logs[i] = l
	}
	return logs
}

// TestDeferredAppendsWaitForACoveringSync: a deferred append does not wake
// the flusher; a sync of its log made for later data covers it, and the
// flusher syncs it on its own only when none did within
// DeferredSyncDelay.
func TestDeferredAppendsWaitForACoveringSync(t *testing.T) {
	dir := t.TempDir()
	fl, syncs := countingFlusher(t, dir)
	logs := openLogs(t, dir, fl, 2)
	deferred, err := logs[0].AppendDeferred(testBatch{values: []string{"state"}}.encode())
	if err != nil {
		t.Fatal(err)
	}
	data, err := logs[0].AppendSyncing(testBatch{values: []string{"data"}}.encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.SyncLogs(logs[:1], []int64{data.LastOffset + 1}, 10*time.Second)[0]; err != nil {
		t.Fatal(err)
	}
	if hw := logs[0].HighWatermark(); hw <= deferred.LastOffset {
		t.Fatalf("high watermark %d: the sync of later data did not cover the deferred record at %d", hw, deferred.LastOffset)
	}
	time.Sleep(2 * DeferredSyncDelay)
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs, want 1: the deferred record needed none of its own", n)
	}

	// Alone, a deferred record waits for the delay, then gets its sync.
	alone, err := logs[1].AppendDeferred(testBatch{values: []string{"state"}}.encode())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := logs[1].WaitDurable(alone.LastOffset+1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < DeferredSyncDelay/2 {
		t.Fatalf("deferred record durable after %v: the flusher was woken at once", waited)
	}
	if n := syncs.Load(); n != 2 {
		t.Fatalf("%d syncs, want 2", n)
	}
}

// TestWriteBackHintOnlyForFlusherAppends: an append the flusher syncs
// starts the write-back of its pages at once; one that its writer syncs
// right after (AppendSyncing) leaves that to the sync.
func TestWriteBackHintOnlyForFlusherAppends(t *testing.T) {
	var hints atomic.Int64
	real := startWriteBack
	startWriteBack = func(*os.File, int64, int64) { hints.Add(1) }
	t.Cleanup(func() { startWriteBack = real })
	dir := t.TempDir()
	fl, _ := countingFlusher(t, dir)
	l := openLogs(t, dir, fl, 1)[0]
	big := testBatch{values: []string{strings.Repeat("x", 3*4096)}}
	if _, err := l.AppendSyncing(big.encode()); err != nil {
		t.Fatal(err)
	}
	if n := hints.Load(); n != 0 {
		t.Fatalf("%d write-back hints for AppendSyncing, want none", n)
	}
	if _, err := l.Append(big.encode()); err != nil {
		t.Fatal(err)
	}
	if n := hints.Load(); n != 1 {
		t.Fatalf("%d write-back hints after Append, want 1", n)
	}
}

package storage

// Flusher makes appended data durable for many logs at once. Logs mark
// themselves dirty after an append; the flusher goroutine takes every dirty
// log's end position, makes them durable with as few syscalls as it can,
// then moves each log's high watermark. One dirty log gets one fdatasync;
// several get one syncfs on their file system, which costs about as much as
// a single fdatasync instead of one per partition (see
// docs/decisions/0002-group-commit.md). Appends made while a sync runs are
// covered by the next one: that is the group commit. Data that its writer
// syncs at once itself (Log.AppendSyncing, then SyncLogs or SyncNow: a
// transaction's data and its commit) does not wake the flusher, and
// records nobody waits on (Log.AppendDeferred, transaction markers) wake
// it only after DeferredSyncDelay, by when a sync of their log has
// usually covered them.
//
// Lock order: Log.mu before Flusher.mu (Append marks the log dirty while
// holding Log.mu); the flusher goroutine never holds Flusher.mu while it
// takes a Log.mu, and holds no lock during the sync itself.

import (
	"os"
	"sync"
	"time"
)

// Flusher syncs dirty logs. Share one between all the logs of a broker.
type Flusher struct {
	fsFile  *os.File // any file on the logs' file system, for syncfs
	onFsync func(time.Duration)

	mu    sync.Mutex
	dirty map[*Log]struct{}
	// deferredArmed is set while a timer is to wake the flusher for
	// deferred appends.
	deferredArmed bool
	kick          chan struct{}
	done          chan struct{}
	stop          chan struct{}
}

// NewFlusher starts a flusher for logs under dir. onFsync, when non-nil,
// observes each sync's duration.
func NewFlusher(dir string, onFsync func(time.Duration)) (*Flusher, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	fl := &Flusher{fsFile: f, onFsync: onFsync, dirty: map[*Log]struct{}{},
		kick: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{})}
	go fl.run()
	return fl, nil
}

// markDirty asks for l to be synced soon.
func (fl *Flusher) markDirty(l *Log) {
	fl.mu.Lock()
	fl.dirty[l] = struct{}{}
	fl.mu.Unlock()
	select {
	case fl.kick <- struct{}{}:
	default:
	}
}

// DeferredSyncDelay is how long a deferred append (Log.AppendDeferred, a
// transaction marker) may wait for a sync that covers it anyway before
// the flusher syncs it on its own. Nothing acknowledged waits on these
// records, and a caller that comes to wait on them syncs at once.
const DeferredSyncDelay = 100 * time.Millisecond

// deferredSyncDelay is DeferredSyncDelay, which tests lengthen.
var deferredSyncDelay = DeferredSyncDelay

// markDeferred asks for l to be synced within DeferredSyncDelay.
func (fl *Flusher) markDeferred(l *Log) {
	fl.mu.Lock()
	fl.dirty[l] = struct{}{}
	arm := !fl.deferredArmed
	fl.deferredArmed = true
	fl.mu.Unlock()
	if arm {
		time.AfterFunc(deferredSyncDelay, fl.wakeDeferred)
	}
}

// wakeDeferred starts the round that syncs the deferred appends no other
// sync has covered yet (its syncPoint skips the logs that are durable).
func (fl *Flusher) wakeDeferred() {
	fl.mu.Lock()
	fl.deferredArmed = false
	fl.mu.Unlock()
	select {
	case fl.kick <- struct{}{}:
	default:
	}
}

// Close stops the flusher after a last round. Close the logs first.
func (fl *Flusher) Close() error {
	close(fl.stop)
	<-fl.done
	return fl.fsFile.Close()
}

type syncTarget struct {
	l        *Log
	seg      *segment
	end, pos int64
}

func (fl *Flusher) run() {
	defer close(fl.done)
	var (
		logs    []*Log
		targets []syncTarget
	)
	for {
		select {
		case <-fl.kick:
		case <-fl.stop:
			return
		}
		fl.mu.Lock()
		logs = logs[:0]
		for l := range fl.dirty {
			logs = append(logs, l)
			delete(fl.dirty, l)
		}
		fl.mu.Unlock()
		targets = targets[:0]
		for _, l := range logs {
			if t, ok := l.syncPoint(); ok {
				targets = append(targets, syncTarget{l, t.seg, t.end, t.pos})
			}
		}
		fl.syncTargets(targets)
	}
}

// syncTargets syncs the targets' data, an fdatasync for one and a syncfs of
// their file system for several, and tells each log the outcome.
func (fl *Flusher) syncTargets(targets []syncTarget) {
	if len(targets) == 0 {
		return
	}
	start := time.Now()
	var err error
	if len(targets) == 1 {
		err = fdatasync(targets[0].seg.log)
	} else {
		err = syncfs(fl.fsFile)
	}
	if fl.onFsync != nil {
		fl.onFsync(time.Since(start))
	}
	for _, t := range targets {
		t.l.synced(t.seg, t.end, t.pos, err)
	}
}

// SyncLogs makes each logs[i] durable below upto[i] with one sync for them
// all, started at once: an fdatasync when a single log needs one, else one
// syncfs, which costs one journal commit and one device flush where a
// fdatasync per log costs one each (ext4, docs/decisions/0052). A log whose
// offsets a sync already under way covers (the flusher's round, a SyncNow,
// another SyncLogs) waits for that one instead, as SyncNow does. It
// returns each log's outcome, nil once durable. Every log must use this
// flusher, so that they share its file system.
func (fl *Flusher) SyncLogs(logs []*Log, upto []int64, timeout time.Duration) []error {
	fl.StartSync(logs, upto)
	errs := make([]error, len(logs))
	for i, l := range logs {
		errs[i] = l.WaitDurable(upto[i], timeout)
	}
	return errs
}

// StartSync is SyncLogs without the wait: it syncs, in one sync, what of
// logs[i] below upto[i] is neither durable nor covered by a sync under
// way, and returns when that sync has (the outcome reaches the logs' own
// waiters). For data whose waiter comes later (a transaction's commit).
func (fl *Flusher) StartSync(logs []*Log, upto []int64) {
	var targets []syncTarget
	for i, l := range logs {
		if l.hw.Load() >= upto[i] {
			continue
		}
		if t, ok := l.syncPointFor(upto[i]); ok {
			targets = append(targets, syncTarget{l, t.seg, t.end, t.pos})
		}
	}
	fl.syncTargets(targets)
}

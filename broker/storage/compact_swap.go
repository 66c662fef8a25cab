package storage

// Swapping a cleaned segment in place of the segments it replaces, and
// finishing or rolling back an interrupted swap on Open (as Kafka's
// LogCleaner and LogLoader do).
//
// The steps, for a cleaned segment with base B replacing old segments whose
// bases lie in [B, E):
//  1. B.log.cleaned, B.index.cleaned, B.timeindex.cleaned are written and
//     fsynced (cleanGroup);
//  2. under Log.mu: .cleaned -> .swap, the log first, then the directory is
//     fsynced. The durable B.log.swap is the commit point;
//  3. the old segments' files are deleted;
//  4. the index .swap files are renamed to their final names, then B.log.swap
//     last, and the directory is fsynced.
//
// Recovery on Open: every .cleaned file is deleted (step 1 or 2 not done);
// for every B.log.swap, E is read from the file itself (a cleaned segment
// ends where the group it replaces ended), every file of a segment with base
// in [B, E) is deleted, and steps 3 and 4 are completed. A missing index
// .swap is simply rebuilt from the log on open.
//
// Invariants: a .swap file exists only for a committed swap; an old segment
// file is deleted only once the .swap replacing it is durable.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// step calls the test hook, if any, after a step of the swap.
func (l *Log) step(name string) {
	if l.cleaner.hook != nil {
		l.cleaner.hook(name)
	}
}

// swapIn replaces the segments of g, if they are still in the log, by ns.
// It reports whether the swap happened; ns is discarded when it did not.
func (l *Log) swapIn(g []segSpan, ns *segment) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := -1
	for j, s := range l.segs {
		if s == g[0].s {
			i = j
			break
		}
	}
	same := !l.closed && i >= 0 && i+len(g) < len(l.segs) // never the active segment
	for k := 0; same && k < len(g); k++ {
		same = l.segs[i+k] == g[k].s
	}
	if !same {
		// Retention or DeleteRecords removed some of the group, or the log was
		// closed, while the pass ran.
		discardCleaned(l.dir, ns)
		if l.closed {
			return false, ErrClosed
		}
		return false, nil
	}
	l.step("cleaned")
	// Step 2: commit.
	for _, ext := range segmentExts {
		if err := os.Rename(segmentName(l.dir, ns.base, ext+cleanedSuffix), segmentName(l.dir, ns.base, ext+swapSuffix)); err != nil {
			discardCleaned(l.dir, ns)
			return false, err
		}
		l.step("rename-swap" + ext)
	}
	if err := syncDir(l.dir); err != nil {
		discardCleaned(l.dir, ns)
		return false, err
	}
	l.step("swap-durable")
	// Steps 3 and 4. From here on the new segment is the truth: it goes into
	// the log even when a step fails, and a failed step makes the log
	// read-only until a restart lets recovery finish the swap.
	err := l.finishSwap(g, ns)
	var oldSize int64
	for _, sp := range g {
		oldSize += sp.s.size
	}
	l.segs = append(l.segs[:i], append([]*segment{ns}, l.segs[i+len(g):]...)...)
	l.sizeBytes += ns.size - oldSize
	for _, sp := range g {
		if l.hwSeg == sp.s {
			l.hwSeg, l.hwPos = ns, ns.size // ns ends at the same offset
		}
	}
	if err != nil {
		l.syncErr = fmt.Errorf("compaction swap of segment %d did not finish (restart to complete it): %w", ns.base, err)
		l.logger.Error("compaction swap failed; partition is now read-only", "dir", l.dir, "err", err)
	}
	return true, err
}

func (l *Log) finishSwap(g []segSpan, ns *segment) error {
	for _, sp := range g {
		if err := sp.s.remove(l.dir); err != nil {
			return err
		}
		l.step("remove-old")
	}
	// Indexes first, the log last: a leftover B.log.swap means "not finished".
	for _, ext := range []string{".index", ".timeindex", ".log"} {
		if err := os.Rename(segmentName(l.dir, ns.base, ext+swapSuffix), segmentName(l.dir, ns.base, ext)); err != nil {
			return err
		}
		l.step("rename-final" + ext)
	}
	ns.logPath = segmentName(l.dir, ns.base, ".log")
	if err := syncDir(l.dir); err != nil {
		return err
	}
	l.step("done")
	return nil
}

// recoverCompaction finishes or rolls back swaps interrupted by a crash. It
// runs on Open before the segments are listed.
func recoverCompaction(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var swaps []int64
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, cleanedSuffix):
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		case strings.HasSuffix(name, ".log"+swapSuffix):
			base, err := strconv.ParseInt(strings.TrimSuffix(name, ".log"+swapSuffix), 10, 64)
			if err != nil {
				return fmt.Errorf("unexpected file %s", name)
			}
			swaps = append(swaps, base)
		}
	}
	for _, base := range swaps {
		if err := completeSwap(dir, base); err != nil {
			return fmt.Errorf("complete compaction swap of segment %d: %w", base, err)
		}
	}
	// Index .swap files without their log cannot come from the steps above;
	// drop them rather than guess.
	for _, ext := range []string{".index", ".timeindex"} {
		orphans, _ := filepath.Glob(filepath.Join(dir, "*"+ext+swapSuffix))
		for _, o := range orphans {
			os.Remove(o)
		}
	}
	return syncDir(dir)
}

func completeSwap(dir string, base int64) error {
	end, err := swapEnd(segmentName(dir, base, ".log"+swapSuffix), base)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		for _, ext := range segmentExts {
			b, err := strconv.ParseInt(strings.TrimSuffix(name, ext), 10, 64)
			if !strings.HasSuffix(name, ext) || err != nil || b < base || b >= end && b != base {
				continue
			}
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	for _, ext := range []string{".index", ".timeindex", ".log"} {
		err := os.Rename(segmentName(dir, base, ext+swapSuffix), segmentName(dir, base, ext))
		if err != nil && !(ext != ".log" && errors.Is(err, os.ErrNotExist)) {
			return err
		}
	}
	return nil
}

// swapEnd returns the offset after the last batch of a swap log file.
func swapEnd(path string, base int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := base
	var hb [BatchHeaderSize]byte
	for pos := int64(0); pos < st.Size(); {
		if _, err := f.ReadAt(hb[:], pos); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, err
		}
		h, _ := ParseHeader(hb[:])
		if h.Length < BatchHeaderSize-logOverhead || pos+h.Size() > st.Size() {
			break
		}
		end = h.NextOffset()
		pos += h.Size()
	}
	return end, nil
}

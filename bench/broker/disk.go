package broker

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// diskResult is the raw disk baseline at one write size.
type diskResult struct {
	Throughput
	ChunkSize int
	Sync      LatencySummary // of each fdatasync
	TimedOut  bool
}

// diskBaseline appends total bytes to a new file in dir in writes of
// chunk bytes, with an fdatasync after each write: one write is one group
// commit of chunk bytes. That is the most a broker that syncs before it
// acknowledges can do on this filesystem at that group size; it stops early
// at timeout. Records counts chunk/recordSize per write, the 1 KiB record
// equivalent.
func diskBaseline(ctx context.Context, dir string, chunk int, total int64, recordSize int, timeout time.Duration) (diskResult, error) {
	res := diskResult{ChunkSize: chunk}
	buf := make([]byte, chunk)
	if _, err := rand.Read(buf); err != nil {
		return res, err
	}
	f, err := os.CreateTemp(dir, "sluice-bench-disk-*")
	if err != nil {
		return res, fmt.Errorf("disk baseline: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	// The new file's directory entry is synced once, as a log does when it
	// rolls a segment; it is not part of any write group.
	if err := syncDir(filepath.Dir(f.Name())); err != nil {
		return res, err
	}

	lat := NewLatencies(int(total/int64(chunk)) + 1)
	deadline := time.Now().Add(timeout)
	fd := int(f.Fd())
	start := time.Now()
	for res.Bytes < total {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if time.Now().After(deadline) {
			res.TimedOut = true
			break
		}
		if _, err := f.Write(buf); err != nil {
			return res, fmt.Errorf("disk baseline: write %s: %w", f.Name(), err)
		}
		t := time.Now()
		if err := unix.Fdatasync(fd); err != nil {
			return res, fmt.Errorf("disk baseline: fdatasync %s: %w", f.Name(), err)
		}
		lat.Add(time.Since(t))
		res.Bytes += int64(chunk)
		res.Records += int64(chunk / recordSize)
	}
	res.Duration = time.Since(start)
	res.Sync = lat.Summary()
	return res, nil
}

// syncDir fsyncs a directory so that a newly created entry is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

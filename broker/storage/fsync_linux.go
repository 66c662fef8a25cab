package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

// fdatasync flushes file data (not metadata such as mtime) to stable
// storage: the cheapest call that makes appended bytes durable. A variable
// so that tests can make a sync fail.
var fdatasync = func(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// syncfs flushes every file of the file system f is on: one journal commit
// and device flush for many files. A variable so that tests can make it
// fail.
var syncfs = func(f *os.File) error { return unix.Syncfs(int(f.Fd())) }

// startWriteBack asks the kernel to start writing a file range back
// without waiting for it: a hint, whose errors surface at the next sync. A
// variable so that tests can count the calls.
var startWriteBack = func(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// syncDir makes a directory's entries (new or removed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

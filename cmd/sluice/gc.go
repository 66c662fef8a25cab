package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Garbage collector defaults for the sluice process. The Go default
// (GOGC=100) collects whenever the heap doubles; a connector pipeline makes
// short-lived garbage for every record (converted values, batches), so the
// collector ran often: 10-15% of the CPU of the issue-7 JSON pipeline.
// GOGC=200 gave that pipeline about 8% more records per CPU second (400:
// about 16%, at twice the heap headroom), see docs/benchmarks.md.
//
// The higher GOGC lets the heap grow further before a collection, so under
// a container memory limit (cgroup v2 memory.max) a soft limit of 3/4 of it
// is set: the collector then runs harder near the limit instead of the
// process being killed.
//
// The environment overrides both, as for any Go program: GOGC (a number or
// "off") and GOMEMLIMIT (e.g. "2GiB"), when set, are left to the runtime.
const (
	defaultGCPercent   = 200
	cgroupMemoryMax    = "/sys/fs/cgroup/memory.max"
	memoryLimitPercent = 75
)

// gcSettings says what to change: gcPercent < 0 and memLimit < 0 leave the
// runtime's setting. cgroupMax is the text of memory.max ("" if unreadable).
func gcSettings(getenv func(string) string, cgroupMax string) (gcPercent int, memLimit int64) {
	gcPercent, memLimit = -1, -1
	if getenv("GOGC") == "" {
		gcPercent = defaultGCPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(cgroupMax), 10, 64); err == nil && n > 0 {
			memLimit = n / 100 * memoryLimitPercent // "max" (no limit) does not parse
		}
	}
	return gcPercent, memLimit
}

// tuneGC applies gcSettings to this process.
func tuneGC() {
	cg, _ := os.ReadFile(cgroupMemoryMax)
	pct, limit := gcSettings(os.Getenv, string(cg))
	if pct >= 0 {
		debug.SetGCPercent(pct)
	}
	if limit >= 0 {
		debug.SetMemoryLimit(limit)
	}
}

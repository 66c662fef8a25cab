package broker

// The transactional comparison: transactions against idempotent produce,
// in the same run, on equal footing.
//
// A disk does not give every phase of a run the same speed: on this
// project's machines the idempotent run after the transactions was half
// as fast as the one before them (after a few GB written, the host's write
// cache stops hiding the disk), so a ratio against one side, or against
// the mean of both, says more about the order of the phases than about
// transactions. So the comparison runs in rounds. Before every phase the
// topic of the phase before is deleted (the file system discards its
// blocks) and the disk settles: sync, then until the kernel's dirty and
// write-back pages are low, then a short pause. The rounds alternate the
// order (idempotent first in odd rounds, transactions first in even ones),
// so that a drift across the run weighs on both modes alike, and the
// ratio reported is of the medians. Both modes use the same producer
// settings (producerOpts).

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// settleLimit bounds the wait for the kernel's dirty pages to drain.
const settleLimit = time.Minute

// settledBytes is how few dirty and write-back bytes count as settled.
const settledBytes = 32 << 20

// settlePause is the quiet time after the kernel's pages have drained, for
// whatever a virtual disk does below them.
const settlePause = 2 * time.Second

// settle syncs every file system and waits until the kernel's dirty and
// write-back pages are below settledBytes (or settleLimit passes), then
// pauses. It returns how long it took and the dirty bytes it ended at.
func settle(ctx context.Context) (time.Duration, int64) {
	start := time.Now()
	unix.Sync()
	var dirty int64
	for {
		d, err := dirtyBytes()
		dirty = d
		if err != nil || d < settledBytes || time.Since(start) > settleLimit {
			break
		}
		select {
		case <-ctx.Done():
			return time.Since(start), dirty
		case <-time.After(50 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
	case <-time.After(settlePause):
	}
	return time.Since(start), dirty
}

// dirtyBytes is Dirty plus Writeback of /proc/meminfo.
func dirtyBytes() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "Dirty" && name != "Writeback" {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/meminfo %s: %w", name, err)
		}
		total += kb << 10
	}
	return total, sc.Err()
}

// comparePhase is one timed phase of the comparison.
type comparePhase struct {
	round int
	size  int // records per transaction; 0 for idempotent produce
	res   produceResult
	usage string // brokerUsage.note
}

func (p comparePhase) rate() float64 {
	if p.res.Duration <= 0 {
		return 0
	}
	return float64(p.res.Records) / p.res.Duration.Seconds()
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// compareSummary is the row text of transactions of size against the
// idempotent phases: the ratio of the medians, and each round's own ratio.
func compareSummary(phases []comparePhase, size int) (txnMedian, idemMedian float64, note string) {
	var idem, txn []float64
	perRound := map[int][2]float64{}
	rounds := 0
	for _, p := range phases {
		rounds = max(rounds, p.round)
		r := perRound[p.round]
		switch p.size {
		case 0:
			idem = append(idem, p.rate())
			r[0] = p.rate()
		case size:
			txn = append(txn, p.rate())
			r[1] = p.rate()
		default:
			continue
		}
		perRound[p.round] = r
	}
	txnMedian, idemMedian = median(txn), median(idem)
	if txnMedian == 0 || idemMedian == 0 {
		return txnMedian, idemMedian, "no complete round"
	}
	var each []string
	for r := 1; r <= rounds; r++ {
		if v := perRound[r]; v[0] > 0 && v[1] > 0 {
			each = append(each, fmt.Sprintf("%.0f%%", 100*v[1]/v[0]))
		}
	}
	note = fmt.Sprintf("%.0f%% of idempotent produce: median of %d transactional runs against median of %d idempotent runs (%s records/s); each round's ratio %s",
		100*txnMedian/idemMedian, len(txn), len(idem), fmtInt(idemMedian), strings.Join(each, ", "))
	return txnMedian, idemMedian, note
}

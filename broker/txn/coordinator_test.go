package txn

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// recordingBackend records what the coordinator writes, in order. Marker
// syncs block until release is closed, to hold a transaction between its
// answer and the durability of its markers; data syncs do not block.
type recordingBackend struct {
	mu      sync.Mutex
	events  []string // "state <State> epoch <n> parts <n> durable=<b> unsettled=<b>", "markers <pid>/<epoch> commit=<b> parts <n>", "markers durable"
	release chan struct{}
}

func (b *recordingBackend) log(s string) {
	b.mu.Lock()
	b.events = append(b.events, s)
	b.mu.Unlock()
}

func (b *recordingBackend) Persist(t *Txn, durable bool) error {
	b.log(sprintf("state %s epoch %d parts %d durable=%v unsettled=%v", t.State, t.Epoch, len(t.Partitions), durable, t.Unsettled != nil))
	return nil
}

// markerEnd is the log end after every marker, and logEnd the end of
// every partition's data: WaitDurable tells markers from data by them.
const markerEnd, logEnd = 2, 1

func (b *recordingBackend) WriteMarkers(pid int64, epoch int16, commit bool, parts []TopicPartition) (map[TopicPartition]int64, error) {
	b.log(sprintf("markers %d/%d commit=%v parts %d", pid, epoch, commit, len(parts)))
	ends := map[TopicPartition]int64{}
	for _, tp := range parts {
		ends[tp] = markerEnd
	}
	return ends, nil
}

func (b *recordingBackend) LogEnds(parts []TopicPartition) map[TopicPartition]int64 {
	out := map[TopicPartition]int64{}
	for _, tp := range parts {
		out[tp] = logEnd
	}
	return out
}

func (b *recordingBackend) WaitDurable(ends map[TopicPartition]int64) error {
	for _, end := range ends {
		if end == markerEnd {
			<-b.release
			b.log("markers durable")
			return nil
		}
	}
	return nil
}

func (b *recordingBackend) AwaitDurable(ends map[TopicPartition]int64, _ <-chan struct{}) error {
	return b.WaitDurable(ends)
}

func (b *recordingBackend) EndGroupTxn(string, int64, bool) error { return nil }
func (b *recordingBackend) PartitionExists(TopicPartition) bool   { return true }
func (b *recordingBackend) OffsetsPartition(string) (TopicPartition, error) {
	return TopicPartition{"__consumer_offsets", 0}, nil
}

func (b *recordingBackend) snapshot() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.events...)
}

func newTestCoordinator(t *testing.T, b Backend) *Coordinator {
	t.Helper()
	pids, err := OpenProducerIDs(filepath.Join(t.TempDir(), "pids"))
	if err != nil {
		t.Fatal(err)
	}
	return NewCoordinator(pids, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestKIP890NextTransactionCarriesUnsettledMarkers: EndTxn v5 answers
// with the bumped epoch once the decision is durable and the markers
// appended; the next transaction begins at once (Produce v12's implicit
// add) and its decision is written, both records carrying the previous
// markers, but its own markers wait until the previous ones are durable:
// they replace them in the state.
func TestKIP890NextTransactionCarriesUnsettledMarkers(t *testing.T) {
	b := &recordingBackend{release: make(chan struct{})}
	c := newTestCoordinator(t, b)
	pid, e0, err := c.InitProducerID("app", time.Minute, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	p0 := TopicPartition{"out", 0}
	if err := c.AddOnProduce("app", pid, e0, []TopicPartition{p0}); err != nil {
		t.Fatal(err)
	}
	npid, e1, err := c.End("app", pid, e0, true, true)
	if err != nil || npid != pid || e1 != e0+1 {
		t.Fatalf("End: pid %d epoch %d err %v", npid, e1, err)
	}
	before := len(b.snapshot())
	if err := c.AddOnProduce("app", pid, e0, []TopicPartition{p0}); !errors.Is(err, kerr.ProducerFenced) {
		t.Fatalf("write at the ended epoch: %v, want PRODUCER_FENCED", err)
	}
	if err := c.AddOnProduce("app", pid, e1, []TopicPartition{p0, {"out", 1}}); err != nil {
		t.Fatalf("next transaction's implicit add: %v", err)
	}
	ended := make(chan error, 1)
	go func() {
		_, _, err := c.End("app", pid, e1, true, true)
		ended <- err
	}()
	select {
	case err := <-ended:
		t.Fatalf("the next transaction ended before the previous markers were durable (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	if err := <-ended; err != nil {
		t.Fatalf("next transaction's end: %v", err)
	}
	want := []string{
		"state Ongoing epoch 1 parts 2 durable=false unsettled=true",
		"state PrepareCommit epoch 2 parts 2 durable=true unsettled=true",
		"markers durable",
		sprintf("markers %d/%d commit=true parts 2", pid, e1),
	}
	got := b.snapshot()[before:]
	if len(got) < len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d: %q, want %q (all: %v)", i, got[i], want[i], got)
		}
	}
}

// hurryBackend leaves the markers unsynced until an operation waits for
// them: AwaitDurable returns only once hurry is closed.
type hurryBackend struct{ recordingBackend }

func (b *hurryBackend) AwaitDurable(ends map[TopicPartition]int64, hurry <-chan struct{}) error {
	<-hurry
	b.log("markers synced at once")
	return nil
}

// TestWaitingForMarkersSyncsThem: settle leaves an ended transaction's
// markers to the flusher or the next commit, but an operation that must
// wait for them (here a classic client's next AddPartitionsToTxn) has them
// synced at once instead of waiting for whoever syncs next.
func TestWaitingForMarkersSyncsThem(t *testing.T) {
	b := &hurryBackend{recordingBackend{release: make(chan struct{})}}
	c := newTestCoordinator(t, b)
	pid, e0, err := c.InitProducerID("app", time.Minute, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	parts := []TopicPartition{{"out", 0}}
	if _, err := c.AddPartitions("app", pid, e0, parts); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.End("app", pid, e0, true, false); err != nil {
		t.Fatal(err)
	}
	before := len(b.snapshot())
	added := make(chan error, 1)
	go func() {
		_, err := c.AddPartitions("app", pid, e0, parts)
		added <- err
	}()
	select {
	case err := <-added:
		if err != nil {
			t.Fatalf("next AddPartitions: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the next AddPartitions still waits for markers nobody syncs")
	}
	want := []string{
		"markers synced at once",
		"state CompleteCommit epoch 0 parts 0 durable=false unsettled=false",
		"state Ongoing epoch 0 parts 1 durable=false unsettled=false",
	}
	got := b.snapshot()[before:]
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d: %q, want %q (all: %v)", i, got[i], want[i], got)
		}
	}
}

// TestEndRetriesAndEmptyEnds: a retried end answers as the first did,
// an end with the other outcome is refused, and ending an empty
// transaction bumps the epoch only for KIP-890 clients.
func TestEndRetriesAndEmptyEnds(t *testing.T) {
	b := &recordingBackend{release: make(chan struct{})}
	close(b.release)
	c := newTestCoordinator(t, b)
	pid, e0, _ := c.InitProducerID("app", time.Minute, -1, -1)
	if _, e, err := c.End("app", pid, e0, true, false); err != nil || e != e0 {
		t.Fatalf("classic empty commit: epoch %d err %v, want %d", e, err, e0)
	}
	_, e1, err := c.End("app", pid, e0, false, true)
	if err != nil || e1 != e0+1 {
		t.Fatalf("KIP-890 empty abort: epoch %d err %v, want %d", e1, err, e0+1)
	}
	if _, e, err := c.End("app", pid, e0, false, true); err != nil || e != e1 {
		t.Fatalf("retried abort: epoch %d err %v, want %d", e, err, e1)
	}
	if _, _, err := c.End("app", pid, e0, true, true); !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("commit retry of an abort: %v, want INVALID_TXN_STATE", err)
	}
	if err := c.AddOnProduce("app", pid, e1, []TopicPartition{{"out", 0}}); err != nil {
		t.Fatal(err)
	}
	if _, e2, err := c.End("app", pid, e1, true, true); err != nil || e2 != e1+1 {
		t.Fatalf("commit: epoch %d err %v", e2, err)
	}
	if tx := c.Describe([]string{"app"})[0]; tx.State != CompleteCommit || tx.PrevEpoch != e1 {
		t.Fatalf("after commit: %+v", tx)
	}
}

func TestPrevEpochAfterBump(t *testing.T) {
	for _, tc := range []struct {
		prevPID, pid int64
		epoch, want  int16
	}{
		{7, 7, 5, 4},
		{7, 8, 0, lastEpoch},
	} {
		if got := PrevEpochAfterBump(tc.prevPID, tc.pid, tc.epoch); got != tc.want {
			t.Errorf("PrevEpochAfterBump(%d, %d, %d) = %d, want %d", tc.prevPID, tc.pid, tc.epoch, got, tc.want)
		}
	}
}

var sprintf = fmt.Sprintf

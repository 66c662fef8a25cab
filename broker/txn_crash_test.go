package broker

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/group"
	"github.com/sluicedata/sluice/broker/storage"
	"github.com/sluicedata/sluice/broker/txn"
)

// Transactional produce is answered before its data is synced, and a
// commit syncs its data and its PrepareCommit record in the same round
// (broker/txn/data_ends.go). These tests simulate a crash between the two
// syncs by cutting each log back to what would have reached the disk, and
// check that after the restart the transaction is whole or absent.

// TestPreparedCommitWithLostDataIsAborted: the PrepareCommit record is
// durable but one partition lost the transaction's data: the restart
// aborts the transaction, so read_committed consumers see none of it (not
// the part that survived on the other partition).
func TestPreparedCommitWithLostDataIsAborted(t *testing.T) {
	crashAfterPrepare(t, true)
}

// TestPreparedCommitWithDataIsCommitted: the PrepareCommit record and all
// the data are durable, the markers are lost: the restart commits the
// transaction whole.
func TestPreparedCommitWithDataIsCommitted(t *testing.T) {
	crashAfterPrepare(t, false)
}

func crashAfterPrepare(t *testing.T, loseData bool) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", AutoCreateTopics: true, Logger: quietLogger}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	addr := s.Addr().String()
	const topic, id = "crash-prepare", "tx-crash"
	createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), topic, 2, nil)

	p := newRawTxnProducer(t, addr, id)
	e0 := p.epoch
	for part, v := range []string{"t1-a", "t1-b"} {
		if err := p.produce(topic, int32(part), e0, 0, v); err != nil {
			t.Fatal(err)
		}
	}
	_, e1, err := p.end(e0, true)
	if err != nil {
		t.Fatal(err)
	}
	p0, p1 := s.topics.get(topic).Partition(0), s.topics.get(topic).Partition(1)
	for part, v := range []string{"t2-a", "t2-b"} {
		if err := p.produce(topic, int32(part), e1, 0, v); err != nil {
			t.Fatal(err)
		}
	}
	// The first transaction's markers come before the second's data (the
	// second's first write waits for them): these are where the second
	// transaction's data begin and end.
	t2First0, t2End1 := p0.LogEndOffset()-1, p1.LogEndOffset()
	if _, _, err := p.end(e1, true); err != nil {
		t.Fatal(err)
	}
	waitState(t, s, id, txn.CompleteCommit)
	prepare := lastPrepareCommit(t, s, id)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The simulated crash: the transaction log kept the PrepareCommit
	// record but not what followed; the partitions lost their markers,
	// and with loseData partition 0 lost the transaction's data too.
	logs := filepath.Join(dir, "logs")
	cutLog(t, filepath.Join(logs, topic+"-0"), map[bool]int64{true: t2First0, false: t2First0 + 1}[loseData])
	cutLog(t, filepath.Join(logs, topic+"-1"), t2End1)
	cutLog(t, filepath.Join(logs, fmt.Sprintf("%s-%d", txnStateTopic, group.PartitionFor(id, txnStatePartitions))), prepare+1)

	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	want, wantState := []string{"t1-a", "t1-b", "t2-a", "t2-b"}, txn.CompleteCommit
	if loseData {
		want, wantState = []string{"t1-a", "t1-b"}, txn.CompleteAbort
	}
	if got := readAllValues(t, s.Addr().String(), topic, true); !reflect.DeepEqual(got, want) {
		t.Fatalf("read_committed after the crash: %v, want %v", got, want)
	}
	if tx := s.txns.Describe([]string{id})[0]; tx == nil || tx.State != wantState {
		t.Fatalf("transaction after the crash: %+v, want %s", tx, wantState)
	}
}

// waitState waits until id's transaction reaches state (its markers are
// synced in the background after EndTxn answers).
func waitState(t *testing.T, s *Server, id string, state txn.State) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if tx := s.txns.Describe([]string{id})[0]; tx != nil && tx.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction %s never reached %s", id, state)
		}
	}
}

// waitSettled waits until id's last markers are durable and its state
// written without them, and returns that state.
func waitSettled(t *testing.T, s *Server, id string) *txn.Txn {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if tx := s.txns.Describe([]string{id})[0]; tx != nil && tx.Unsettled == nil {
			return tx
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction %s never settled", id)
		}
	}
}

// lastPrepareCommit returns the offset of id's last PrepareCommit record
// in the transaction log, and checks that it carries the data's ends.
func lastPrepareCommit(t *testing.T, s *Server, id string) int64 {
	t.Helper()
	l := s.topics.get(txnStateTopic).Partition(group.PartitionFor(id, txnStatePartitions))
	off := int64(-1)
	err := storage.Replay(l, func(h *storage.BatchHeader, r storage.Record) error {
		k, v := kmsg.NewTxnMetadataKey(), kmsg.NewTxnMetadataValue()
		if k.ReadFrom(r.Key) != nil || k.TransactionalID != id || v.ReadFrom(r.Value) != nil {
			return nil
		}
		if txn.State(v.State) == txn.PrepareCommit {
			ends, err := dataEnds(&v)
			if err != nil || len(ends) != 2 {
				t.Errorf("PrepareCommit data ends %v (%v), want two partitions", ends, err)
			}
			off = h.BaseOffset + int64(r.OffsetDelta)
		}
		return nil
	})
	if err != nil || off < 0 {
		t.Fatalf("no PrepareCommit for %s in the transaction log (%v)", id, err)
	}
	return off
}

// cutLog turns a cleanly closed partition log into one that crashed having
// made only the offsets below keep durable: the batches from keep on are
// cut from the last segment and the clean-shutdown marker is removed.
func cutLog(t *testing.T, dir string, keep int64) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(segs) == 0 {
		t.Fatalf("no segment in %s", dir)
	}
	sort.Strings(segs)
	path := segs[len(segs)-1]
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pos := 0
	for pos+storage.BatchHeaderSize <= len(b) {
		h, err := storage.ParseHeader(b[pos:])
		if err != nil {
			t.Fatal(err)
		}
		if h.BaseOffset >= keep {
			break
		}
		pos += int(h.Size())
	}
	if err := os.Truncate(path, int64(pos)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ".clean")); err != nil {
		t.Fatal(err)
	}
}

// TestLostMarkersOfEndedTransactionAreRedone: a KIP-890 producer's next
// transaction began before the previous one's markers were durable, so
// its state record carries them (unsettled); the crash took one of those
// markers back. The restart writes the lost marker again, so the ended
// transaction stays whole, and aborts the open one.
func TestLostMarkersOfEndedTransactionAreRedone(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", AutoCreateTopics: true, Logger: quietLogger}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	addr := s.Addr().String()
	const topic, id = "crash-markers", "tx-markers"
	createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), topic, 2, nil)

	p := newRawTxnProducer(t, addr, id)
	e0 := p.epoch
	for part, v := range []string{"t1-a", "t1-b"} {
		if err := p.produce(topic, int32(part), e0, 0, v); err != nil {
			t.Fatal(err)
		}
	}
	_, e1, err := p.end(e0, true)
	if err != nil {
		t.Fatal(err)
	}
	p0, p1 := s.topics.get(topic).Partition(0), s.topics.get(topic).Partition(1)
	marker0, markerEnd1 := p0.LogEndOffset()-1, p1.LogEndOffset()
	if err := p.produce(topic, 1, e1, 0, "t2-b"); err != nil {
		t.Fatal(err)
	}
	// The next transaction's state as AddOnProduce writes it when it runs
	// before the previous markers are synced (here they already are, so it
	// is written by hand, with the markers' real offsets).
	cur := waitSettled(t, s, id)
	if cur.State != txn.Ongoing {
		t.Fatalf("state %s, want Ongoing", cur.State)
	}
	cur.Unsettled = &txn.Markers{ProducerID: p.pid, Epoch: e0, Commit: true,
		Ends: map[txn.TopicPartition]int64{{Topic: topic, Partition: 0}: marker0 + 1, {Topic: topic, Partition: 1}: markerEnd1}}
	if err := (txnBackend{s}).Persist(cur, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The crash took back the marker on partition 0, nothing else.
	cutLog(t, filepath.Join(dir, "logs", topic+"-0"), marker0)

	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	if got, want := readAllValues(t, s.Addr().String(), topic, true), []string{"t1-a", "t1-b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("read_committed after the crash: %v, want %v", got, want)
	}
	if tx := s.txns.Describe([]string{id})[0]; tx == nil || tx.State != txn.CompleteAbort || tx.Unsettled != nil {
		t.Fatalf("transaction after the crash: %+v, want CompleteAbort, settled", tx)
	}
}

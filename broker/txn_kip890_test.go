package broker

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluicedata/sluice/broker/txn"
)

// requestLog records the requests a franz-go client writes, by key, with
// the highest version seen.
type requestLog struct {
	mu       sync.Mutex
	count    map[int16]int
	versions map[int16]int16
}

func (l *requestLog) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count, l.versions = map[int16]int{}, map[int16]int16{}
	}
	l.count[key]++
}

func (l *requestLog) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {}

func (l *requestLog) n(key int16) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[key]
}

// TestTransactionsKIP890 runs franz-go's transactional producer against
// both transaction protocols: KIP-890 part 2 (what franz-go picks from the
// advertised versions and transaction.version feature), where partitions
// join on produce and every end bumps the epoch, and the classic one (a
// client capped below EndTxn v5), where AddPartitionsToTxn names them and
// the epoch stays. Both give the same read_committed result.
func TestTransactionsKIP890(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []kgo.Opt
		kip890    bool
		wantBumps int16
	}{
		{name: "kip890", kip890: true, wantBumps: 4},
		{name: "classic", opts: []kgo.Opt{kgo.MaxVersions(capped(map[int16]int16{0: 11, 26: 4, 28: 3}))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, addr := startServer(t, Config{AutoCreateTopics: true, DefaultPartitions: 3})
			topic := "kip890-" + tc.name
			createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), topic, 3, nil)
			var log requestLog
			id := "tx-" + tc.name
			cl := mustClient(t, append(tc.opts, kgo.SeedBrokers(addr), kgo.TransactionalID(id), kgo.DefaultProduceTopic(topic), kgo.WithHooks(&log))...)
			transact(t, cl, topic, true, "c1", "c2", "c3", "c4", "c5", "c6")
			first := s.txns.Describe([]string{id})[0]
			transact(t, cl, topic, false, "a1", "a2")
			transact(t, cl, topic, true, "c7")
			transact(t, cl, topic, true, "c8", "c9")
			if got, want := readAllValues(t, addr, topic, true), []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}; !reflect.DeepEqual(got, want) {
				t.Fatalf("read_committed: %v, want %v", got, want)
			}
			last := s.txns.Describe([]string{id})[0]
			if last.State.String() != "CompleteCommit" || last.ProducerID != first.ProducerID {
				t.Fatalf("after the last commit: %+v", last)
			}
			if got := last.Epoch - first.Epoch; got != max(tc.wantBumps-1, 0) {
				t.Fatalf("epoch moved by %d over three more transactions (kip890=%v)", got, tc.kip890)
			}
			adds := log.n(int16(kmsg.AddPartitionsToTxn))
			if tc.kip890 && adds != 0 {
				t.Fatalf("%d AddPartitionsToTxn requests on the KIP-890 path", adds)
			}
			if !tc.kip890 && adds == 0 {
				t.Fatal("no AddPartitionsToTxn on the classic path")
			}
		})
	}
}

// capped is franz-go's stable version table with some keys' maxima
// lowered, for kgo.MaxVersions.
func capped(maxima map[int16]int16) *kversion.Versions {
	v := kversion.Stable()
	for key, max := range maxima {
		v.SetMaxKeyVersion(key, max)
	}
	return v
}

// rawTxnProducer drives a KIP-890 transactional producer by hand.
type rawTxnProducer struct {
	t     *testing.T
	c     *rawConn
	id    string
	pid   int64
	epoch int16
}

func newRawTxnProducer(t *testing.T, addr, id string) *rawTxnProducer {
	t.Helper()
	p := &rawTxnProducer{t: t, c: dialRaw(t, addr), id: id}
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 4
	req.TransactionalID, req.TransactionTimeoutMillis = &id, 60000
	resp := p.c.roundTrip(req).(*kmsg.InitProducerIDResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("InitProducerId: %v", err)
	}
	p.pid, p.epoch = resp.ProducerID, resp.ProducerEpoch
	return p
}

// produce sends one transactional batch at epoch (v12: no
// AddPartitionsToTxn before it) and returns the partition's error.
func (p *rawTxnProducer) produce(topic string, part int32, epoch int16, seq int32, value string) error {
	p.t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis, req.TransactionID = 12, -1, 5000, &p.id
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = part
	rp.Records = testBatch{values: []string{value}, idempotent: true, txn: true, pid: p.pid, epoch: epoch, seq: seq}.encode()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := p.c.roundTrip(req).(*kmsg.ProduceResponse)
	return kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
}

// end sends EndTxn v5 at epoch and returns the next producer id and epoch.
func (p *rawTxnProducer) end(epoch int16, commit bool) (int64, int16, error) {
	p.t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = 5, p.id, p.pid, epoch, commit
	resp := p.c.roundTrip(req).(*kmsg.EndTxnResponse)
	return resp.ProducerID, resp.ProducerEpoch, kerr.ErrorForCode(resp.ErrorCode)
}

// TestKIP890FencingRetryRestart: after an EndTxn v5 the old epoch is
// fenced (a late write of the ended transaction cannot reopen it), a
// retried EndTxn gets the same answer, an empty transaction's end still
// bumps the epoch, Produce v11 still needs AddPartitionsToTxn, and the
// state survives a restart.
func TestKIP890FencingRetryRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", AutoCreateTopics: true, Logger: quietLogger}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	addr := s.Addr().String()
	topic := "kip890-raw"
	createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), topic, 2, nil)

	p := newRawTxnProducer(t, addr, "tx-raw")
	e0 := p.epoch
	if err := p.produce(topic, 0, e0, 0, "t1-a"); err != nil {
		t.Fatalf("implicit add by Produce v12: %v", err)
	}
	if err := p.produce(topic, 1, e0, 0, "t1-b"); err != nil {
		t.Fatal(err)
	}
	pid, e1, err := p.end(e0, true)
	if err != nil || pid != p.pid || e1 != e0+1 {
		t.Fatalf("EndTxn v5: pid %d epoch %d err %v; want pid %d epoch %d", pid, e1, err, p.pid, e0+1)
	}
	if rpid, re, err := p.end(e0, true); err != nil || rpid != pid || re != e1 {
		t.Fatalf("retried EndTxn v5: pid %d epoch %d err %v; want the first answer", rpid, re, err)
	}
	if _, _, err := p.end(e0, false); !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("abort retry of a commit: %v, want INVALID_TXN_STATE", err)
	}
	if err := p.produce(topic, 0, e0, 1, "zombie"); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("late write at the ended epoch: %v, want INVALID_PRODUCER_EPOCH", err)
	}
	// The next transaction starts with the new epoch at sequence 0; then
	// an abort.
	if err := p.produce(topic, 0, e1, 0, "t2-a"); err != nil {
		t.Fatalf("first write of the next transaction: %v", err)
	}
	_, e2, err := p.end(e1, false)
	if err != nil || e2 != e1+1 {
		t.Fatalf("abort: epoch %d err %v", e2, err)
	}
	// An empty transaction's end moves the epoch too.
	_, e3, err := p.end(e2, false)
	if err != nil || e3 != e2+1 {
		t.Fatalf("empty abort: epoch %d err %v", e3, err)
	}

	// Below v12 a partition must be added first.
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis, req.TransactionID = 11, -1, 5000, &p.id
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = testBatch{values: []string{"v11"}, idempotent: true, txn: true, pid: p.pid, epoch: e3}.encode()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	if code := p.c.roundTrip(req).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.InvalidTxnState.Code {
		t.Fatalf("Produce v11 without AddPartitionsToTxn: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	if got, want := readAllValues(t, addr, topic, true), []string{"t1-a", "t1-b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("read_committed: %v, want %v", got, want)
	}
	s.Close()

	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	tx := s.txns.Describe([]string{"tx-raw"})[0]
	if tx == nil || tx.State.String() != "CompleteAbort" || tx.ProducerID != p.pid || tx.Epoch != e3 {
		t.Fatalf("after restart: %+v, want CompleteAbort at epoch %d", tx, e3)
	}
	p = &rawTxnProducer{t: t, c: dialRaw(t, s.Addr().String()), id: "tx-raw", pid: p.pid}
	if err := p.produce(topic, 1, e3, 0, "t4"); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
	if _, e4, err := p.end(e3, true); err != nil || e4 != e3+1 {
		t.Fatalf("commit after restart: epoch %d err %v", e4, err)
	}
	if got, want := readAllValues(t, s.Addr().String(), topic, true), []string{"t1-a", "t1-b", "t4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("read_committed after restart: %v, want %v", got, want)
	}
}

// TestRedoneMarkerSkipsLaterEpoch: a marker redone after a crash (Recover
// completing a prepared transaction) is not written to a partition where
// the producer already wrote at a later epoch: that is a later KIP-890
// transaction, which began after this marker, so the marker is there, and
// writing it again would end the later transaction.
func TestRedoneMarkerSkipsLaterEpoch(t *testing.T) {
	s, addr := startServer(t, Config{})
	createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), "redo", 1, nil)
	l := s.topics.get("redo").Partition(0)
	if _, err := l.Append(testBatch{values: []string{"later"}, idempotent: true, txn: true, pid: 42, epoch: 3}.encode()); err != nil {
		t.Fatal(err)
	}
	parts := []txn.TopicPartition{{Topic: "redo", Partition: 0}}
	b := txnBackend{s}
	ends, err := b.WriteMarkers(42, 2, true, parts)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WaitDurable(ends); err != nil {
		t.Fatal(err)
	}
	if end := l.LogEndOffset(); end != 1 {
		t.Fatalf("log end %d after a marker for an older epoch, want 1 (skipped)", end)
	}
	if open := l.OpenTransactions(); len(open) != 1 {
		t.Fatalf("open transactions %v: the later transaction must stay open", open)
	}
	if _, err := b.WriteMarkers(42, 3, true, parts); err != nil {
		t.Fatal(err)
	}
	if open := l.OpenTransactions(); len(open) != 0 {
		t.Fatalf("open transactions %v after its own marker", open)
	}
}

// TestTxnProduceManyPartitionsInOneRequest: in one transactional Produce
// request each partition's answer is its own: offsets follow each
// partition's log, a corrupt batch fails alone, and a partition named twice
// keeps its two batches in request order. After the commit, read_committed
// sees exactly the batches that were accepted.
func TestTxnProduceManyPartitionsInOneRequest(t *testing.T) {
	_, addr := startServer(t, Config{AutoCreateTopics: true})
	topic := "txn-many-parts"
	createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), topic, 6, nil)
	p := newRawTxnProducer(t, addr, "tx-many")

	type part struct {
		partition int32
		seq       int32
		values    []string
		corrupt   bool
	}
	send := func(parts []part) []kmsg.ProduceResponseTopicPartition {
		t.Helper()
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis, req.TransactionID = 12, -1, 5000, &p.id
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		for _, pt := range parts {
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition = pt.partition
			rp.Records = testBatch{values: pt.values, idempotent: true, txn: true, pid: p.pid, epoch: p.epoch, seq: pt.seq}.encode()
			if pt.corrupt {
				rp.Records[len(rp.Records)-1] ^= 0xff // the CRC no longer matches
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		resp := p.c.roundTrip(req).(*kmsg.ProduceResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != len(parts) {
			t.Fatalf("produce response has the wrong shape: %+v", resp)
		}
		return resp.Topics[0].Partitions
	}

	// Five partitions; partition 3's batch is corrupt.
	got := send([]part{
		{partition: 0, values: []string{"p0-a", "p0-b"}},
		{partition: 1, values: []string{"p1-a"}},
		{partition: 2, values: []string{"p2-a", "p2-b", "p2-c"}},
		{partition: 3, values: []string{"p3-bad"}, corrupt: true},
		{partition: 4, values: []string{"p4-a"}},
	})
	for i, want := range []struct {
		partition int32
		code      int16
		base      int64
	}{{0, 0, 0}, {1, 0, 0}, {2, 0, 0}, {3, kerr.CorruptMessage.Code, -1}, {4, 0, 0}} {
		if g := got[i]; g.Partition != want.partition || g.ErrorCode != want.code || g.BaseOffset != want.base {
			t.Errorf("answer %d: partition %d, %v, base offset %d; want partition %d, %v, base offset %d",
				i, g.Partition, kerr.ErrorForCode(g.ErrorCode), g.BaseOffset, want.partition, kerr.ErrorForCode(want.code), want.base)
		}
	}
	// Partition 0 named twice: its batches go in request order, each
	// after the one before (its log holds p0-a and p0-b at 0 and 1).
	got = send([]part{
		{partition: 0, seq: 2, values: []string{"p0-c"}},
		{partition: 5, values: []string{"p5-a"}},
		{partition: 0, seq: 3, values: []string{"p0-d", "p0-e"}},
	})
	for i, want := range []struct {
		partition int32
		base      int64
	}{{0, 2}, {5, 0}, {0, 3}} {
		if g := got[i]; g.Partition != want.partition || g.ErrorCode != 0 || g.BaseOffset != want.base {
			t.Errorf("answer %d: partition %d, %v, base offset %d; want partition %d, no error, base offset %d",
				i, g.Partition, kerr.ErrorForCode(g.ErrorCode), g.BaseOffset, want.partition, want.base)
		}
	}
	if _, _, err := p.end(p.epoch, true); err != nil {
		t.Fatalf("commit: %v", err)
	}
	want := []string{"p0-a", "p0-b", "p0-c", "p0-d", "p0-e", "p1-a", "p2-a", "p2-b", "p2-c", "p4-a", "p5-a"}
	if got := readAllValues(t, addr, topic, true); !reflect.DeepEqual(got, want) {
		t.Fatalf("read_committed: %v, want %v", got, want)
	}
}

package broker

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readAllValues reads topic from the start and returns the values, sorted.
// It waits up to firstWait for the first record (a loaded machine can be
// slow to the first fetch), then stops once 700 ms pass without one.
func readAllValues(t *testing.T, addr, topic string, committed bool) []string {
	return readValuesWithin(t, addr, topic, committed, 15*time.Second)
}

func readValuesWithin(t *testing.T, addr, topic string, committed bool, firstWait time.Duration) []string {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	deadline := time.Now().Add(firstWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)); n++ })
		if n == 0 && (len(out) > 0 || time.Now().After(deadline)) {
			sort.Strings(out)
			return out
		}
	}
}

func transact(t *testing.T, cl *kgo.Client, topic string, commit bool, values ...string) {
	t.Helper()
	ctx := context.Background()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatal(err)
	}
}

// TestTransactionsCommitAbortReadCommitted runs franz-go's transactional
// producer: committed transactions are visible to read_committed
// consumers, aborted ones only to read_uncommitted ones.
func TestTransactionsCommitAbortReadCommitted(t *testing.T) {
	_, addr := startServer(t, Config{AutoCreateTopics: true, DefaultPartitions: 3})
	topic := "txn-out"
	adm := kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr)))
	if _, err := adm.CreateTopic(context.Background(), 3, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	cl := mustClient(t, kgo.SeedBrokers(addr), kgo.TransactionalID("tx-1"), kgo.DefaultProduceTopic(topic))
	transact(t, cl, topic, true, "c1", "c2", "c3")
	transact(t, cl, topic, false, "a1", "a2")
	transact(t, cl, topic, true, "c4")
	if got, want := readAllValues(t, addr, topic, true), []string{"c1", "c2", "c3", "c4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("read_committed: %v, want %v", got, want)
	}
	if got, want := readAllValues(t, addr, topic, false), []string{"a1", "a2", "c1", "c2", "c3", "c4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("read_uncommitted: %v, want %v", got, want)
	}
	resp, err := adm.DescribeTransactions(context.Background(), "tx-1")
	if err != nil {
		t.Fatal(err)
	}
	if d := resp["tx-1"]; d.State != "CompleteCommit" {
		t.Fatalf("describe: %+v", d)
	}
}

// TestTransactionFencing: a second producer with the same transactional id
// fences the first, whose open transaction is aborted.
func TestTransactionFencing(t *testing.T) {
	_, addr := startServer(t, Config{AutoCreateTopics: true})
	topic := "fenced"
	zombie := mustClient(t, kgo.SeedBrokers(addr), kgo.TransactionalID("tx-f"), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	ctx := context.Background()
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := zombie.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("zombie")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fresh := mustClient(t, kgo.SeedBrokers(addr), kgo.TransactionalID("tx-f"), kgo.DefaultProduceTopic(topic))
	transact(t, fresh, topic, true, "fresh")
	err := zombie.EndTransaction(ctx, kgo.TryCommit)
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("zombie commit: %v, want PRODUCER_FENCED", err)
	}
	if got := readAllValues(t, addr, topic, true); !reflect.DeepEqual(got, []string{"fresh"}) {
		t.Fatalf("read_committed: %v", got)
	}
}

// TestOpenTransactionAbortedOnRestart: a transaction open when the broker
// stops is aborted when it starts again, and its records stay hidden from
// read_committed consumers, which are no longer blocked by it.
func TestOpenTransactionAbortedOnRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", AutoCreateTopics: true, Logger: quietLogger}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	addr := s.Addr().String()
	topic := "restart-txn"
	cl := mustClient(t, kgo.SeedBrokers(addr), kgo.TransactionalID("tx-r"), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	transact(t, cl, topic, true, "before")
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("open-%d", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	s.Close()

	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	addr = s.Addr().String()
	if got := readAllValues(t, addr, topic, true); !reflect.DeepEqual(got, []string{"before"}) {
		t.Fatalf("read_committed after restart: %v", got)
	}
	tx := s.txns.Describe([]string{"tx-r"})[0]
	if tx == nil || tx.State.String() != "CompleteAbort" {
		t.Fatalf("transaction after restart: %+v", tx)
	}
}

func mustClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestTransactionTimeoutAborts: a transaction left open past its timeout
// is aborted by the coordinator, and its producer is fenced.
func TestTransactionTimeoutAborts(t *testing.T) {
	s, addr := startServer(t, Config{AutoCreateTopics: true})
	topic := "timeout-txn"
	cl := mustClient(t, kgo.SeedBrokers(addr), kgo.TransactionalID("tx-t"), kgo.TransactionTimeout(1500*time.Millisecond),
		kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	ctx := context.Background()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("late")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if tx := s.txns.Describe([]string{"tx-t"})[0]; tx != nil && tx.State.String() == "CompleteAbort" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("transaction not aborted after its timeout")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("commit after the coordinator aborted the transaction succeeded")
	}
	if got := readValuesWithin(t, addr, topic, true, 2*time.Second); len(got) != 0 {
		t.Fatalf("read_committed sees %v", got)
	}
}

// TestCommitWaitsObserved: each EndTxn(commit) observes its data and
// decision waits in sluice_broker_txn_commit_wait_seconds (what `sluice
// bench broker` reports per transaction); an abort waits for no data and
// observes nothing.
func TestCommitWaitsObserved(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, addr := startServer(t, Config{AutoCreateTopics: true, Registerer: reg})
	topic := "txn-waits"
	adm := kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr)))
	if _, err := adm.CreateTopic(context.Background(), 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	cl := mustClient(t, kgo.SeedBrokers(addr), kgo.TransactionalID("tx-waits"), kgo.DefaultProduceTopic(topic))
	transact(t, cl, topic, true, "c1", "c2")
	transact(t, cl, topic, false, "a1")
	transact(t, cl, topic, true, "c3")
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "sluice_broker_txn_commit_wait_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "wait" {
					got[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	if want := map[string]uint64{"data": 2, "decision": 2}; !reflect.DeepEqual(got, want) {
		t.Fatalf("commit waits observed: %v, want %v", got, want)
	}
}

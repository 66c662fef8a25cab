package runtime

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/storage"
)

func TestPollLag(t *testing.T) {
	part := func(hwm int64, offsets ...int64) kgo.FetchPartition {
		p := kgo.FetchPartition{HighWatermark: hwm}
		for _, o := range offsets {
			p.Records = append(p.Records, &kgo.Record{Offset: o})
		}
		return p
	}
	fetches := func(ps ...kgo.FetchPartition) kgo.Fetches {
		return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "t", Partitions: ps}}}}
	}
	for _, c := range []struct {
		name string
		f    kgo.Fetches
		want int64
	}{
		{"at the end", fetches(part(3, 1, 2)), 0},
		{"behind", fetches(part(10, 1, 2)), 7},
		{"two partitions", fetches(part(3, 2), part(9, 4, 5)), 3},
		{"a partition without records", fetches(part(3, 2), part(9)), 0},
		{"high watermark not yet known", fetches(part(0, 2)), 0},
	} {
		if got := pollLag(c.f); got != c.want {
			t.Errorf("%s: pollLag = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestCommitWait(t *testing.T) {
	for _, c := range []struct {
		n    int
		lag  int64
		want time.Duration
	}{
		{maxPollRecords, 7, sinkCommitInterval}, // behind
		{maxPollRecords, 0, sinkCommitSpacing},  // full, but at the end
		{10, 7, sinkCommitSpacing},              // the rest of a fetch
		{10, 0, sinkCommitSpacing},
	} {
		if got := commitWait(c.n, c.lag); got != c.want {
			t.Errorf("commitWait(%d, %d) = %v, want %v", c.n, c.lag, got, c.want)
		}
	}
}

// A full poll (maxPollRecords) that reaches the end of the partition is
// committed at once, as a poll that is not full is: the sink has caught
// up. It used to wait for the commit interval with nothing left to read,
// which delayed the end of every burst of a multiple of 500 records.
func TestSinkCommitsFullPollAtTheEnd(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	prod := client(t, b.Addr(), kgo.AllowAutoTopicCreation())
	produce := func(n int) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: "burst", Value: []byte("v")}
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(1)
	w := newWorker(t, b.Addr())
	defer w.Close()
	if _, err := w.Create(ctx, "burst", connect.Config{"connector.class": valueSinkClass, "topics": "burst",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}, ""); err != nil {
		t.Fatal(err)
	}
	committed := func() int64 {
		offs, err := w.Offsets(ctx, "burst")
		if err != nil || len(offs) != 1 {
			return -1
		}
		n, _ := offs[0].Offset["kafka_offset"].(int64)
		return n
	}
	waitFor(t, "the first record committed", func() bool { return committed() == 1 })
	// The first commit was just now; a burst of exactly one full poll.
	start := time.Now()
	produce(maxPollRecords)
	deadline := start.Add(sinkCommitInterval * 9 / 10)
	for committed() != 1+maxPollRecords {
		if time.Now().After(deadline) {
			t.Fatalf("the burst of %d records was not committed within %v (committed %d)", maxPollRecords, deadline.Sub(start), committed())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// batchSink notes the size of every Put and refuses its failPut'th, for
// TestSinkPutsDrainedFetchInBatches.
const batchSinkClass = "test.BatchSink"

var batchSinkPuts = struct {
	sync.Mutex
	sizes []int
}{}

func init() {
	registerTestSink(batchSinkClass, func() connect.SinkTask { return &batchSinkTask{} })
}

type batchSinkTask struct{ failPut, puts int }

func (t *batchSinkTask) Start(_ context.Context, cfg connect.Config, _ connect.TaskContext) error {
	t.failPut, _ = strconv.Atoi(cfg["fail.put"])
	return nil
}
func (t *batchSinkTask) Put(_ context.Context, recs []*connect.Record) error {
	batchSinkPuts.Lock()
	defer batchSinkPuts.Unlock()
	batchSinkPuts.sizes = append(batchSinkPuts.sizes, len(recs))
	if t.puts++; t.puts == t.failPut {
		return errors.New("put refused")
	}
	return nil
}
func (t *batchSinkTask) Flush(context.Context) error { return nil }
func (t *batchSinkTask) Stop() error                 { return nil }

// A sink takes everything its consumer fetched at once (so that the next
// fetch runs while it works), but hands it to Put in batches of at most
// maxPollRecords, and commits nothing of it before the last batch is put:
// here the third Put of a fetch of 2000 records fails the task, and no
// offset may have been committed for the two batches before it, which
// were put but not flushed, nor for the rest.
func TestSinkPutsDrainedFetchInBatches(t *testing.T) {
	batchSinkPuts.Lock()
	batchSinkPuts.sizes = nil
	batchSinkPuts.Unlock()
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	prod := client(t, b.Addr(), kgo.AllowAutoTopicCreation())
	const n = 4 * maxPollRecords
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "drained", Value: []byte("v")}
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, b.Addr())
	defer w.Close()
	if _, err := w.Create(ctx, "drained", connect.Config{"connector.class": batchSinkClass, "topics": "drained",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter", "fail.put": "3"}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sink task FAILED", func() bool {
		st, err := w.Status("drained")
		return err == nil && len(st.Tasks) == 1 && st.Tasks[0].State == storage.StateFailed
	})
	batchSinkPuts.Lock()
	sizes := append([]int(nil), batchSinkPuts.sizes...)
	batchSinkPuts.Unlock()
	if len(sizes) != 3 {
		t.Fatalf("Put batch sizes %v, want three (the third refused)", sizes)
	}
	for _, s := range sizes {
		if s > maxPollRecords {
			t.Fatalf("Put batch sizes %v: more than maxPollRecords (%d) in one", sizes, maxPollRecords)
		}
	}
	offs, err := w.Offsets(ctx, "drained")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range offs {
		if n, _ := o.Offset["kafka_offset"].(int64); n > 0 {
			t.Fatalf("offset %d committed although the task failed before its first flush", n)
		}
	}
}

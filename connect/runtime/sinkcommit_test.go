package runtime

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
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

package postgres

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// A transaction's end queued apart from its records (the walsender sends
// each message on its own) must not make Poll return an empty batch while
// records follow: the runtime takes an empty batch for an idle source and
// waits for everything in flight. The end is still handed out, so Commit
// confirms it.
func TestPollSkipsLoneTransactionEnds(t *testing.T) {
	task := &Task{c: &conf{maxBatch: 10}, queue: make(chan []item, 4), idleWait: time.Hour}
	rec := &connect.Record{Topic: "t"}
	task.queue <- []item{{recs: []*connect.Record{rec}}}
	if got, err := task.Poll(context.Background()); err != nil || len(got) != 1 {
		t.Fatalf("first poll: %v %v", got, err)
	}
	task.queue <- []item{{commitEnd: 100}}
	type result struct {
		recs []*connect.Record
		err  error
	}
	res := make(chan result)
	go func() {
		got, err := task.Poll(context.Background())
		res <- result{got, err}
	}()
	for { // until Poll took the lone end
		task.mu.Lock()
		n := task.handedN
		task.mu.Unlock()
		if n == 2 {
			break
		}
		runtime.Gosched()
	}
	task.queue <- []item{{recs: []*connect.Record{rec, rec}}, {commitEnd: 200}}
	r := <-res
	got, err := r.recs, r.err
	if err != nil || len(got) != 2 {
		t.Fatalf("poll after a lone end returned %d records (%v), want the 2 that followed", len(got), err)
	}
	if err := task.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ack := task.ackLSN.Load(); ack != 200 {
		t.Fatalf("confirmed LSN %d, want 200", ack)
	}
	// Nothing follows: an end alone gives an empty batch (idle), handed out.
	task.idleWait = time.Millisecond
	task.queue <- []item{{commitEnd: 300}}
	if got, err := task.Poll(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("idle poll: %v %v", got, err)
	}
	_ = task.Commit(context.Background())
	if ack := task.ackLSN.Load(); ack != 300 {
		t.Fatalf("confirmed LSN %d, want 300", ack)
	}
}

package runtime

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connecttest"
	"github.com/sluicedata/sluice/connect/storage"
)

// Two distributed workers share a connector's tasks; when one leaves, the
// other runs them all.
func TestDistributedWorkersShareTasks(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 90*time.Second)
	dist := func(id string) func(*Options) {
		return func(o *Options) { o.Distributed, o.WorkerID, o.URL = true, id, "http://"+id }
	}
	wa := newWorker(t, b.Addr(), dist("a"))
	defer wa.Close()
	if _, err := wa.Create(ctx, "shared", connect.Config{"connector.class": connecttest.Source, "topic": "shared", "tasks.max": "2",
		"poll.delay.ms": "50", "batch": "1"}, ""); err != nil {
		t.Fatal(err)
	}
	workersOf := func(w *Worker) map[string]int {
		st, err := w.Status("shared")
		out := map[string]int{}
		if err != nil || st.Connector.State != storage.StateRunning {
			return out
		}
		for _, ts := range st.Tasks {
			if ts.State == storage.StateRunning {
				out[ts.WorkerID]++
			}
		}
		return out
	}
	waitFor(t, "worker a alone runs both tasks", func() bool { return workersOf(wa)["a"] == 2 })

	wb := newWorker(t, b.Addr(), dist("b"))
	waitFor(t, "each worker runs one task", func() bool {
		m := workersOf(wa)
		return m["a"] == 1 && m["b"] == 1
	})
	wb.Close()
	waitFor(t, "worker a runs both tasks again", func() bool { return workersOf(wa)["a"] == 2 })
	// Both tasks made progress from their own offsets.
	offs, err := wa.Offsets(ctx, "shared")
	if err != nil || len(offs) != 2 {
		t.Fatalf("offsets %v %v, want one per task", offs, err)
	}
	for _, o := range offs {
		if n, _ := o.Offset["n"].(int64); n < 1 {
			t.Errorf("task %v stored offset %v", o.Partition, o.Offset)
		}
	}
}

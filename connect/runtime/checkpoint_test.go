package runtime

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
)

const checkpointSource = "test.CheckpointSource"

var registerCheckpointSource sync.Once

// checkpointLog is what the checkpointing test source saw, per connector.
type checkpointLog struct {
	mu        sync.Mutex
	committed []int64 // checkpoints committed, in call order
	stored    []int64 // the stored offset's n at each of those calls
	commits   int     // Commit calls
}

var checkpointLogs sync.Map // connector name -> *checkpointLog

// cpSource counts up like connecttest's source; its checkpoint is the last
// n handed out by Poll.
type cpSource struct{}

func (cpSource) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	return []connect.Config{cfg}, nil
}
func (cpSource) NewTask() connect.SourceTask { return &cpTask{} }

type cpTask struct {
	tc          connect.TaskContext
	log         *checkpointLog
	topic       string
	next, count int64
	part        map[string]any
}

func (t *cpTask) Start(_ context.Context, cfg connect.Config, tc connect.TaskContext) error {
	t.tc, t.topic, t.part = tc, cfg["topic"], map[string]any{"task": "0"}
	t.count, _ = strconv.ParseInt(cfg["count"], 10, 64)
	l, _ := checkpointLogs.LoadOrStore(tc.Connector(), &checkpointLog{})
	t.log = l.(*checkpointLog)
	return nil
}

func (t *cpTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	if t.next >= t.count {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond): // idle, as a source with nothing new
		}
		return nil, nil
	}
	var out []*connect.Record
	for i := 0; i < 5 && t.next < t.count; i++ {
		out = append(out, &connect.Record{Topic: t.topic, Partition: -1,
			Value: fmt.Sprintf("v%d", t.next), ValueSchema: &connect.Schema{Type: connect.String},
			SourcePartition: t.part, SourceOffset: map[string]any{"n": t.next}})
		t.next++
	}
	return out, nil
}

func (t *cpTask) Checkpoint() any { return t.next - 1 }

func (t *cpTask) CommitCheckpoint(_ context.Context, cp any) error {
	stored := int64(-1)
	if off, _ := t.tc.Offset(t.part); off != nil {
		stored, _ = off["n"].(int64)
	}
	t.log.mu.Lock()
	defer t.log.mu.Unlock()
	t.log.committed = append(t.log.committed, cp.(int64))
	t.log.stored = append(t.log.stored, stored)
	return nil
}

func (t *cpTask) Commit(context.Context) error {
	t.log.mu.Lock()
	defer t.log.mu.Unlock()
	t.log.commits++
	return nil
}

func (t *cpTask) Stop() error { return nil }

// A checkpointing source hears of stored prefixes of its polls: each
// checkpoint it is told of is stored (never ahead of the offsets topic),
// they come in order, and every record reaches the topic once.
func TestCheckpointCommits(t *testing.T) {
	registerCheckpointSource.Do(func() {
		connect.Register(connect.Plugin{Spec: connect.Spec{Name: checkpointSource, Kind: connect.SourceKind, Version: "1.0",
			Fields: []connect.FieldSpec{
				{Name: "topic", Type: connect.TypeString, Required: true},
				{Name: "count", Type: connect.TypeLong, Default: "0"},
			}},
			NewSource: func() connect.SourceConnector { return cpSource{} }})
	})
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	w := newWorker(t, b.Addr())
	defer w.Close()
	const total = 2000
	checkpointLogs.Delete("cp") // of an earlier run (-count)
	if _, err := w.Create(ctx, "cp", connect.Config{"connector.class": checkpointSource, "topic": "cp", "count": strconv.Itoa(total)}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every offset stored", func() bool { return storedN(w, "cp") == total-1 })
	recs := readTopic(t, b.Addr(), "cp", false)
	if len(recs) != total {
		t.Fatalf("topic holds %d records, want %d", len(recs), total)
	}
	for i, r := range recs {
		if string(r.Value) != fmt.Sprintf("v%d", i) {
			t.Fatalf("record %d is %q", i, r.Value)
		}
	}
	l, _ := checkpointLogs.Load("cp")
	log := l.(*checkpointLog)
	waitFor(t, "a Commit once idle", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return log.commits > 0
	})
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.committed) == 0 {
		t.Fatal("no checkpoint committed while 400 polls went by")
	}
	for i, cp := range log.committed {
		if cp > log.stored[i] {
			t.Errorf("checkpoint %d committed while the stored offset was %d", cp, log.stored[i])
		}
		if i > 0 && cp <= log.committed[i-1] {
			t.Errorf("checkpoint %d committed after %d", cp, log.committed[i-1])
		}
	}
}

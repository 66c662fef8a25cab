package plan_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/state"
)

// aggQuery plans stream S and a CTAS over it and gives the query stores in
// dir ("" = in memory).
func aggQuery(t *testing.T, ctas, dir string) (*exec.Pipeline, *state.Stores) {
	t.Helper()
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM S (ID INT KEY, K STRING, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`)
	res := execute(t, cat, ctas)
	pipe, ok := res.Query.Exec.(*exec.Pipeline)
	if !ok || !pipe.Stateful() {
		t.Fatalf("an aggregation must be a stateful pipeline, got %T", res.Query.Exec)
	}
	stores, err := state.NewStores(state.Options{Local: true, Dir: dir, QueryID: pipe.ID(), Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	pipe.UseState(stores)
	return pipe, stores
}

func process(t *testing.T, pipe *exec.Pipeline, stores *state.Stores, ts int64, value string) []exec.Record {
	t.Helper()
	// Records the query writes to its own repartition topic are read back
	// at once, as the test runner does.
	own := map[string]bool{}
	for _, topic := range pipe.SourceTopics() {
		own[topic] = true
	}
	var out []exec.Record
	queue := []exec.Record{{Topic: "s", Key: []byte{0, 0, 0, 1}, Value: []byte(value), Timestamp: ts}}
	for len(queue) > 0 {
		recs, err := pipe.Process(context.Background(), queue[0])
		if err != nil {
			t.Fatal(err)
		}
		queue = queue[1:]
		for _, r := range recs {
			if own[r.Topic] {
				queue = append(queue, r)
			} else {
				out = append(out, r)
			}
		}
	}
	if err := stores.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLateRecordsAreCounted checks that updates dropped after the grace
// period show in Stats.Late, one per window, and produce nothing.
func TestLateRecordsAreCounted(t *testing.T) {
	pipe, stores := aggQuery(t, `CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S
		WINDOW HOPPING (SIZE 10 MILLISECONDS, ADVANCE BY 5 MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY K`, "")
	defer stores.Close()
	if out := process(t, pipe, stores, 30, `{"K":"a"}`); len(out) != 2 {
		t.Fatalf("record at 30: %d outputs, want 2 (windows 25 and 30)", len(out))
	}
	if out := process(t, pipe, stores, 7, `{"K":"a"}`); len(out) != 0 {
		t.Fatalf("late record: %d outputs, want none", len(out))
	}
	if got := pipe.Stats().Late.Load(); got != 2 {
		t.Fatalf("Late = %d, want 2 (windows 0 and 5 were closed)", got)
	}
	// A record late for one window only counts once.
	if out := process(t, pipe, stores, 26, `{"K":"a"}`); len(out) != 1 {
		t.Fatalf("record at 26: %d outputs, want 1 (window 25)", len(out))
	}
	if got := pipe.Stats().Late.Load(); got != 3 {
		t.Fatalf("Late = %d, want 3", got)
	}
}

// TestWindowedKeyEncoding checks ksqlDB's windowed key bytes: the KAFKA
// serialized key then the 8-byte big-endian window start; sessions put the
// end before the start.
func TestWindowedKeyEncoding(t *testing.T) {
	pipe, stores := aggQuery(t, `CREATE TABLE OUT AS SELECT ID, COUNT(*) AS C FROM S WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY ID`, "")
	defer stores.Close()
	out := process(t, pipe, stores, 2500, `{"K":"a"}`)
	if len(out) != 1 || len(out[0].Key) != 12 || binary.BigEndian.Uint32(out[0].Key) != 1 || binary.BigEndian.Uint64(out[0].Key[4:]) != 2000 {
		t.Fatalf("tumbling key: %x", out[0].Key)
	}
	pipe, stores = aggQuery(t, `CREATE TABLE OUT AS SELECT ID, COUNT(*) AS C FROM S WINDOW SESSION (1 SECOND) GROUP BY ID`, "")
	defer stores.Close()
	process(t, pipe, stores, 100, `{"K":"a"}`)
	out = process(t, pipe, stores, 700, `{"K":"a"}`)
	if len(out) != 2 || out[0].Value != nil {
		t.Fatalf("session merge: want a tombstone then the merged session, got %+v", out)
	}
	k := out[1].Key
	if len(k) != 20 || binary.BigEndian.Uint64(k[4:]) != 700 || binary.BigEndian.Uint64(k[12:]) != 100 || out[1].Timestamp != 700 {
		t.Fatalf("session key: %x ts %d", k, out[1].Timestamp)
	}
}

// TestAggregateStateOnDisk checks that groups live in the stores, not in
// the operator: a new pipeline on the same state directory continues the
// counts.
func TestAggregateStateOnDisk(t *testing.T) {
	dir := t.TempDir()
	const ctas = `CREATE TABLE OUT AS SELECT K, COUNT(*) AS C, SUM(V) AS T FROM S GROUP BY K`
	pipe, stores := aggQuery(t, ctas, dir)
	process(t, pipe, stores, 1, `{"K":"a","V":2}`)
	process(t, pipe, stores, 2, `{"K":"a","V":3}`)
	if err := stores.Close(); err != nil {
		t.Fatal(err)
	}
	pipe, stores = aggQuery(t, ctas, dir)
	defer stores.Close()
	out := process(t, pipe, stores, 3, `{"K":"a","V":4}`)
	if len(out) != 1 || string(out[0].Value) != `{"C":3,"T":9}` {
		t.Fatalf("after reopening: %+v", out)
	}
}

// TestManyGroups runs enough groups through a window that the store holds
// many keys, and checks every group's final count.
func TestManyGroups(t *testing.T) {
	pipe, stores := aggQuery(t, `CREATE TABLE OUT AS SELECT V, COUNT(*) AS C FROM S WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY V`, "")
	defer stores.Close()
	last := map[string]string{}
	for i := range 3000 {
		for _, r := range process(t, pipe, stores, int64(i), fmt.Sprintf(`{"V":%d}`, i%100)) {
			last[string(r.Key)] = string(r.Value)
		}
	}
	if len(last) != 100 {
		t.Fatalf("%d groups, want 100", len(last))
	}
	for k, v := range last {
		if v != `{"C":30}` {
			t.Fatalf("group %x: %s, want 30", k, v)
		}
	}
}

// TestPushAggregation checks a push query over an aggregation: stateful,
// one row per update, columns in SELECT order, failing HAVING rows hidden.
func TestPushAggregation(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM S (ID INT KEY, K STRING, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`)
	res := execute(t, cat, `SELECT COUNT(*) AS C, K FROM S GROUP BY K HAVING COUNT(*) > 1 EMIT CHANGES`)
	pipe := res.Query.Exec.(*exec.Pipeline)
	if !pipe.Stateful() || len(res.Query.Columns) != 2 || res.Query.Columns[0].Name != "C" {
		t.Fatalf("push aggregation: stateful %v, columns %+v", pipe.Stateful(), res.Query.Columns)
	}
	stores, err := state.NewStores(state.Options{Local: true, QueryID: pipe.ID(), Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	pipe.UseState(stores)
	if rows := process(t, pipe, stores, 1, `{"K":"a"}`); len(rows) != 0 {
		t.Fatalf("first row fails HAVING: %+v", rows)
	}
	rows := process(t, pipe, stores, 2, `{"K":"a"}`)
	if len(rows) != 1 || string(rows[0].Value) != `[2,"a"]` {
		t.Fatalf("second row: %+v", rows)
	}
}

// TestWindowStreamTimeAfterRestart: a new pipeline on the same state
// resumes stream time from the store (its latest window start), so a
// record for a window closed before the restart is still dropped.
func TestWindowStreamTimeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	const ctas = `CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S WINDOW TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY K`
	pipe, stores := aggQuery(t, ctas, dir)
	if out := process(t, pipe, stores, 25, `{"K":"a"}`); len(out) != 1 {
		t.Fatalf("record at 25: %+v", out)
	}
	if err := stores.Close(); err != nil {
		t.Fatal(err)
	}
	pipe, stores = aggQuery(t, ctas, dir)
	defer stores.Close()
	if out := process(t, pipe, stores, 5, `{"K":"a"}`); len(out) != 0 {
		t.Fatalf("record at 5 after the restart: window [0, 10) closed at stream time 20, got %+v", out)
	}
	if out := process(t, pipe, stores, 21, `{"K":"a"}`); len(out) != 1 || string(out[0].Value) != `{"C":2}` {
		t.Fatalf("record at 21: %+v", out)
	}
}

// TestEmitFinalAfterAbort checks that a final result whose emission was
// rolled back (the transaction aborted) is emitted again when the record is
// replayed: EMIT FINAL's scan position must not outlive an abort.
func TestEmitFinalAfterAbort(t *testing.T) {
	pipe, stores := aggQuery(t, `CREATE TABLE OUT AS SELECT ID, COUNT(*) AS C FROM S
		WINDOW TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY ID EMIT FINAL`, "")
	defer stores.Close()
	if out := process(t, pipe, stores, 1, `{"K":"a"}`); len(out) != 0 {
		t.Fatalf("open window: %d outputs, want none", len(out))
	}
	closing := exec.Record{Topic: "s", Key: []byte{0, 0, 0, 1}, Value: []byte(`{"K":"b"}`), Timestamp: 25}
	out, err := pipe.Process(context.Background(), closing)
	if err != nil || len(out) != 1 {
		t.Fatalf("closing record: %d outputs (%v), want window 0", len(out), err)
	}
	stores.Abort()
	out, err = pipe.Process(context.Background(), closing)
	if err != nil || len(out) != 1 || string(out[0].Value) != `{"C":1}` {
		t.Fatalf("replayed after abort: %+v (%v), want window 0 again", out, err)
	}
	if err := stores.Commit(); err != nil {
		t.Fatal(err)
	}
	// Later records scan from the committed position and emit nothing twice.
	if out := process(t, pipe, stores, 26, `{"K":"b"}`); len(out) != 0 {
		t.Fatalf("after commit: %+v, want none", out)
	}
}

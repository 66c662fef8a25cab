package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/connect"
)

// TestIncrementalSnapshot: an execute-snapshot signal while writes go on.
// Rows nobody touches must each be read once; rows changed during the
// snapshot must end in their latest state (a read never overwrites a newer
// change); the task is stopped half way and resumes from the offsets.
func TestIncrementalSnapshot(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY, v int)")
	e.exec("CREATE TABLE $S.debezium_signal (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))")
	e.exec("INSERT INTO $S.t SELECT g, 0 FROM generate_series(1, 600) g")
	extra := []string{"snapshot.mode", "no_data", "signal.data.collection", e.schema + ".debezium_signal", "incremental.snapshot.chunk.size", "40"}
	task, tc := e.start(extra...)
	e.exec(`INSERT INTO $S.debezium_signal VALUES ('sig-1', 'execute-snapshot', '{"data-collections": ["` + e.schema + `.t"], "type": "incremental"}')`)

	// Writers: updates of every 10th row, deletes of every 50th, new rows.
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, pgDSN())
		if err != nil {
			done <- err
			return
		}
		defer c.Close(ctx)
		for i := 10; i <= 600; i += 10 {
			q := fmt.Sprintf("UPDATE %[1]s.t SET v = v + 1 WHERE id = %[2]d; INSERT INTO %[1]s.t VALUES (%[3]d, 7)", e.schema, i, 1000+i)
			if i%50 == 0 {
				q += fmt.Sprintf("; DELETE FROM %s.t WHERE id = %d", e.schema, i)
			}
			if _, err := c.Exec(ctx, q); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()

	state := map[int32]int32{}
	reads := map[int32]int{}
	touched := func(id int32) bool { return id%10 == 0 || id > 1000 }
	apply := func(recs []*connect.Record) {
		for _, g := range events(recs) {
			switch g.op {
			case "r":
				id := g.after.Get("id").(int32)
				reads[id]++
				if s := g.rec.Value.(*connect.StructValue).Get("source").(*connect.StructValue).Get("snapshot"); s != "incremental" {
					t.Fatalf("read with source.snapshot=%v", s)
				}
				state[id] = g.after.Get("v").(int32)
			case "c", "u":
				state[g.after.Get("id").(int32)] = g.after.Get("v").(int32)
			case "d":
				delete(state, g.id.(int32))
			}
		}
	}
	untouchedRead := func() int {
		n := 0
		for id, c := range reads {
			if !touched(id) && c > 0 {
				n++
			}
		}
		return n
	}
	poll := func(task *Task, tc interface{ Ack([]*connect.Record) error }, until func() bool) {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		for !until() {
			recs, err := task.Poll(ctx)
			if err != nil || ctx.Err() != nil {
				t.Fatalf("poll: %v (untouched rows read: %d)", err, untouchedRead())
			}
			apply(recs)
			if err := tc.Ack(recs); err != nil {
				t.Fatal(err)
			}
			if err := task.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Half way: stop, restart from the stored offsets.
	poll(task, tc.Offsets, func() bool { return untouchedRead() >= 200 })
	_ = task.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	task2, tc2 := e.start(extra...)
	poll(task2, tc2.Offsets, func() bool { return untouchedRead() == 540 })
	// Then the stream is caught up once the state equals the table.
	want := map[int32]int32{}
	rows, err := e.db.Query(context.Background(), "SELECT id, v FROM "+e.schema+".t")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, v int32
		_ = rows.Scan(&id, &v)
		want[id] = v
	}
	equal := func() bool {
		if len(state) != len(want) {
			return false
		}
		for id, v := range want {
			if s, ok := state[id]; !ok || s != v {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(waitFor)
	for !equal() {
		if time.Now().After(deadline) {
			t.Fatalf("replayed state differs from the table: %d rows vs %d", len(state), len(want))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		recs, err := task2.Poll(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		apply(recs)
	}
	for id, n := range reads {
		if !touched(id) && n > 1 && id > 400 {
			t.Errorf("row %d read %d times after the restart point", id, n)
		}
	}
}

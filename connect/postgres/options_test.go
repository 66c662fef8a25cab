package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
)

func TestRegisteredUnderDebeziumClass(t *testing.T) {
	p, ok := connect.Lookup("io.debezium.connector.postgresql.PostgresConnector")
	if !ok || p.Spec.Name != "postgres-cdc" || p.NewSource == nil {
		t.Fatalf("lookup: %v %v", p, ok)
	}
	cfgs, err := p.NewSource().TaskConfigs(connect.Config{"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"}, 4)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("one task per slot: %v %v", cfgs, err)
	}
	if _, err := p.NewSource().TaskConfigs(connect.Config{"database.hostname": "h"}, 1); err == nil {
		t.Fatal("missing required keys accepted")
	}
}

func TestFiltersAndSkippedOperations(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.keep (id int PRIMARY KEY, secret text, shown text)")
	e.exec("CREATE TABLE $S.drop_me (id int PRIMARY KEY)")
	task, tc := e.start("snapshot.mode", "no_data", "table.include.list", e.schema+`\.keep`,
		"column.exclude.list", e.schema+`\.keep\.secret`, "skipped.operations", "u", "tombstones.on.delete", "false")
	e.exec("INSERT INTO $S.drop_me VALUES (1)")
	e.exec("INSERT INTO $S.keep VALUES (1, 's', 'x')")
	e.exec("UPDATE $S.keep SET shown = 'y'")
	e.exec("DELETE FROM $S.keep")
	got := events(connectortest.PollN(t, task, tc, 2, true, waitFor))
	if ops(got) != "c:1 d:1" {
		t.Fatalf("events %s, want c:1 d:1 (update skipped, no tombstone, other table filtered)", ops(got))
	}
	if _, _, ok := got[0].after.Schema.Field("secret"); ok {
		t.Error("excluded column present")
	}
	if got[0].after.Get("shown") != "x" {
		t.Errorf("after = %v", got[0].after.Values)
	}
	if more := connectortest.PollQuiet(t, task, 200*time.Millisecond); len(more) > 0 {
		t.Fatalf("unexpected %s", ops(events(more)))
	}
}

func TestTransactionMetadataAndHeartbeats(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.a (id int PRIMARY KEY)")
	e.exec("CREATE TABLE $S.b (id int PRIMARY KEY)")
	e.exec("CREATE TABLE $S.hb (id int PRIMARY KEY, n int)")
	e.exec("INSERT INTO $S.hb VALUES (1, 0)")
	task, tc := e.start("snapshot.mode", "no_data", "provide.transaction.metadata", "true", "heartbeat.interval.ms", "50",
		"table.include.list", e.schema+`\.(a|b)`, "heartbeat.action.query", "UPDATE "+e.schema+".hb SET n = n + 1")
	e.exec("BEGIN; INSERT INTO $S.a VALUES (1), (2); INSERT INTO $S.b VALUES (1); COMMIT")
	recs := connectortest.PollN(t, task, tc, 5, true, waitFor)
	if recs[0].Topic != "srv.transaction" || recs[4].Topic != "srv.transaction" {
		t.Fatalf("topics %s ... %s", recs[0].Topic, recs[4].Topic)
	}
	begin, end := recs[0].Value.(*connect.StructValue), recs[4].Value.(*connect.StructValue)
	if begin.Get("status") != "BEGIN" || end.Get("status") != "END" || end.Get("event_count") != int64(3) || begin.Get("id") != end.Get("id") {
		t.Fatalf("BEGIN %v END %v", begin.Values, end.Values)
	}
	colls := end.Get("data_collections").([]any)
	if len(colls) != 2 || colls[0].(*connect.StructValue).Get("event_count") != int64(2) {
		t.Fatalf("data_collections %v", colls)
	}
	block := recs[3].Value.(*connect.StructValue).Get("transaction").(*connect.StructValue)
	if block.Get("id") != begin.Get("id") || block.Get("total_order") != int64(3) || block.Get("data_collection_order") != int64(1) {
		t.Fatalf("transaction block %v", block.Values)
	}
	// Idle now: heartbeats come, keyed by the server name.
	hb := connectortest.PollN(t, task, tc, 1, true, waitFor)
	if hb[0].Topic != "__debezium-heartbeat.srv" || hb[0].Key.(*connect.StructValue).Get("serverName") != "srv" {
		t.Fatalf("heartbeat %s %v", hb[0].Topic, hb[0].Key)
	}
	var n int
	if err := e.db.QueryRow(context.Background(), "SELECT n FROM "+e.schema+".hb").Scan(&n); err != nil || n == 0 {
		t.Fatalf("heartbeat.action.query did not run: n=%d %v", n, err)
	}
}

// TestSlotConfirmedOnlyAfterCommit: polling alone does not move the slot;
// Commit does; an idle slot follows the server's WAL end.
func TestSlotConfirmedOnlyAfterCommit(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY)")
	task, tc := e.start("snapshot.mode", "no_data", "status.update.interval.ms", "50")
	confirmed := func() pglogrepl.LSN {
		var s string
		if err := e.db.QueryRow(context.Background(), "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", e.slot).Scan(&s); err != nil {
			t.Fatal(err)
		}
		l, _ := pglogrepl.ParseLSN(s)
		return l
	}
	start := confirmed()
	e.exec("INSERT INTO $S.t VALUES (1)")
	var insertEnd string
	_ = e.db.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&insertEnd)
	end, _ := pglogrepl.ParseLSN(insertEnd)
	connectortest.PollN(t, task, tc, 1, false, waitFor)
	// Several status intervals pass (polling for quiet, which also runs the
	// task's loop); the slot must not pass the uncommitted transaction.
	connectortest.PollQuiet(t, task, 300*time.Millisecond)
	if c := confirmed(); c > start && c >= end {
		t.Fatalf("slot confirmed to %s before Commit (start %s, insert ends %s)", c, start, end)
	}
	if err := task.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitFor)
	for confirmed() < end {
		if time.Now().After(deadline) {
			t.Fatalf("slot still at %s after Commit, want >= %s", confirmed(), end)
		}
		time.Sleep(20 * time.Millisecond) // polling the server's view
	}
	// Idle with traffic the publication does not carry: keepalives move the
	// slot on, with no record emitted.
	e.exec("CREATE TABLE $S.uncaptured (id int)")
	e.exec("INSERT INTO $S.uncaptured SELECT generate_series(1, 1000)")
	_ = e.db.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&insertEnd)
	end, _ = pglogrepl.ParseLSN(insertEnd)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for confirmed() < end {
		// Poll runs nothing itself, but keeps to the contract of a runtime.
		pctx, pcancel := context.WithTimeout(ctx, 50*time.Millisecond)
		recs, err := task.Poll(pctx)
		pcancel()
		if err != nil || len(recs) > 0 {
			t.Fatalf("idle slot: %v %d records", err, len(recs))
		}
		if ctx.Err() != nil {
			t.Fatalf("idle slot stayed at %s, WAL is at %s", confirmed(), end)
		}
	}
}

func TestSnapshotModes(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY)")
	e.exec("INSERT INTO $S.t VALUES (1), (2)")
	task, tc := e.start("snapshot.mode", "initial_only")
	if got := events(connectortest.PollN(t, task, tc, 2, true, waitFor)); ops(got) != "r:1 r:2" {
		t.Fatalf("initial_only: %s", ops(got))
	}
	e.exec("INSERT INTO $S.t VALUES (3)")
	if more := connectortest.PollQuiet(t, task, 200*time.Millisecond); len(more) > 0 {
		t.Fatalf("initial_only streamed %s", ops(events(more)))
	}
	_ = task.Stop()
	// always: a new snapshot on every start, then streaming.
	task2, tc2 := e.start("snapshot.mode", "always")
	if got := events(connectortest.PollN(t, task2, tc2, 3, true, waitFor)); ops(got)[:11] != "r:1 r:2 r:3" {
		t.Fatalf("always: %s", ops(got))
	}
	e.exec("INSERT INTO $S.t VALUES (4)")
	got := events(connectortest.PollN(t, task2, tc2, 1, true, waitFor))
	if ops(got) != "c:3 c:4" && ops(got) != "c:4" && ops(got) != "c:3" {
		t.Fatalf("always then stream: %s", ops(got))
	}
	evs := testutil.ToFloat64(task2.metrics.events.WithLabelValues("r"))
	if evs != 3 {
		t.Errorf("events_total{op=r} = %v, want 3", evs)
	}
	if n, err := testutil.GatherAndCount(prometheus.DefaultGatherer, "sluice_postgres_cdc_slot_lag_bytes"); err != nil || n == 0 {
		t.Errorf("lag metric not registered: %d %v", n, err)
	}
}

func TestMessageKeyColumns(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.nokey (code text, v int)")
	e.exec("ALTER TABLE $S.nokey REPLICA IDENTITY FULL")
	e.exec("CREATE TABLE $S.withpk (id int PRIMARY KEY, email text)")
	e.exec("INSERT INTO $S.withpk SELECT g, 'u' || g FROM generate_series(1, 5) g")
	task, tc := e.start("message.key.columns", e.schema+`\.nokey:code;`+e.schema+`\.withpk:email`, "snapshot.fetch.size", "2")
	got := connectortest.PollN(t, task, tc, 5, true, waitFor)
	for i, r := range got {
		if k := r.Key.(*connect.StructValue); k.Get("email") != fmt.Sprintf("u%d", i+1) || len(k.Values) != 1 {
			t.Fatalf("snapshot key %d: %v", i, k.Values)
		}
	}
	e.exec("INSERT INTO $S.nokey VALUES ('abc', 1)")
	got = connectortest.PollN(t, task, tc, 1, true, waitFor)
	if k, ok := got[0].Key.(*connect.StructValue); !ok || k.Get("code") != "abc" || got[0].KeySchema.Name != "srv."+e.schema+".nokey.Key" {
		t.Fatalf("key %v", got[0].Key)
	}
	if err := e.startErr("message.key.columns", "no-colon-here"); err == nil || !strings.Contains(err.Error(), "message.key.columns") {
		t.Fatalf("bad message.key.columns: %v", err)
	}
}

func TestLogicalDecodingMessages(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY)")
	task, tc := e.start("snapshot.mode", "no_data", "message.prefix.exclude.list", "ignored.*")
	e.exec("SELECT pg_logical_emit_message(false, 'outbox', 'non-tx')")
	e.exec("SELECT pg_logical_emit_message(false, 'ignored-prefix', 'x')")
	e.exec("BEGIN; INSERT INTO $S.t VALUES (1); SELECT pg_logical_emit_message(true, 'outbox', 'in-tx'); COMMIT")
	got := connectortest.PollN(t, task, tc, 3, true, waitFor)
	want := []struct{ topic, content string }{{"srv.message", "non-tx"}, {"srv." + e.schema + ".t", ""}, {"srv.message", "in-tx"}}
	for i, w := range want {
		if got[i].Topic != w.topic {
			t.Fatalf("record %d on %s, want %s", i, got[i].Topic, w.topic)
		}
		if w.content == "" {
			continue
		}
		v := got[i].Value.(*connect.StructValue)
		m := v.Get("message").(*connect.StructValue)
		if v.Get("op") != "m" || string(m.Get("content").([]byte)) != w.content || got[i].Key.(*connect.StructValue).Get("prefix") != "outbox" {
			t.Fatalf("message %d: %v %v", i, v.Values, m.Values)
		}
	}
	if tx := got[2].Value.(*connect.StructValue).Get("source").(*connect.StructValue).Get("txId"); tx == nil {
		t.Error("transactional message without txId")
	}
	// A restart replays nothing already delivered, messages included.
	waitConfirmed(t, e)
	_ = task.Stop()
	task2, _ := e.start("snapshot.mode", "no_data")
	if more := connectortest.PollQuiet(t, task2, 300*time.Millisecond); len(more) > 0 {
		t.Fatalf("replayed after restart: %d records, first on %s", len(more), more[0].Topic)
	}
}

func TestPartitionedTableViaRoot(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.m (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)")
	e.exec("CREATE TABLE $S.m_1 PARTITION OF $S.m FOR VALUES FROM (0) TO (100)")
	e.exec("CREATE TABLE $S.m_2 PARTITION OF $S.m FOR VALUES FROM (100) TO (200)")
	e.exec("INSERT INTO $S.m VALUES (1, 'a'), (150, 'b')")
	task, tc := e.start("publish.via.partition.root", "true")
	e.exec("INSERT INTO $S.m VALUES (2, 'c'), (151, 'd')")
	got := connectortest.PollN(t, task, tc, 4, true, waitFor)
	for _, r := range got {
		if r.Topic != "srv."+e.schema+".m" {
			t.Fatalf("record on %s, want the partitioned table's topic", r.Topic)
		}
	}
	if ops(events(got)) != "r:1 r:150 c:2 c:151" {
		t.Fatalf("events %s", ops(events(got)))
	}
}

func TestSnapshotOfTableWithoutKey(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.logs (line text)")
	e.exec("INSERT INTO $S.logs SELECT 'l' || g FROM generate_series(1, 25) g")
	task, tc := e.start("snapshot.fetch.size", "10")
	got := connectortest.PollN(t, task, tc, 25, true, waitFor)
	seen := map[string]bool{}
	for _, r := range got {
		if r.Key != nil || r.KeySchema != nil {
			t.Fatalf("keyless table with key %v", r.Key)
		}
		seen[r.Value.(*connect.StructValue).Get("after").(*connect.StructValue).Get("line").(string)] = true
	}
	if len(seen) != 25 {
		t.Fatalf("%d distinct rows, want 25 (read in one pass, not in key chunks)", len(seen))
	}
}

package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/connect/converters"
	"github.com/sluicedata/sluice/sql/types"
)

// Tests run against the local PostgreSQL (127.0.0.1:5432, trust auth,
// wal_level=logical: .ci/services.sh), or the one SLUICE_TEST_PG_HOST and
// SLUICE_TEST_PG_PORT name. Each test has its own schema, slot and
// publication with a random suffix, dropped at the end.

func pgHost() string {
	if h := os.Getenv("SLUICE_TEST_PG_HOST"); h != "" {
		return h
	}
	return "127.0.0.1"
}

func pgPort() string {
	if p := os.Getenv("SLUICE_TEST_PG_PORT"); p != "" {
		return p
	}
	return "5432"
}

// pgDSN is the test server's connection string for ordinary sessions.
func pgDSN() string {
	return "host=" + pgHost() + " port=" + pgPort() + " user=postgres dbname=test sslmode=disable"
}

type env struct {
	t      testing.TB
	db     *pgx.Conn
	schema string
	slot   string
	pub    string
	cfg    connect.Config
	offs   *connectortest.Offsets
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, pgDSN())
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL: %v", err)
	}
	sfx := fmt.Sprintf("%08x", rand.Uint32())
	e := &env{t: t, db: db, schema: "cdc_" + sfx, slot: "sluice_test_" + sfx, pub: "sluice_test_" + sfx, offs: connectortest.NewOffsets()}
	e.exec("CREATE SCHEMA " + e.schema)
	e.cfg = connect.Config{
		"database.hostname": pgHost(), "database.port": pgPort(), "database.user": "postgres", "database.dbname": "test",
		"topic.prefix": "srv", "slot.name": e.slot, "publication.name": e.pub,
		"publication.autocreate.mode": "filtered", "table.include.list": e.schema + `\..*`,
	}
	t.Cleanup(func() {
		ctx := context.Background()
		dropSlot(t, db, e.slot)
		_, _ = db.Exec(ctx, "DROP PUBLICATION IF EXISTS "+e.pub)
		_, _ = db.Exec(ctx, "DROP SCHEMA "+e.schema+" CASCADE")
		_ = db.Close(ctx)
	})
	return e
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Exec(context.Background(), strings.ReplaceAll(sql, "$S", e.schema), args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// start starts a task with the env's config plus extra keys.
func (e *env) start(extra ...string) (*Task, *connectortest.TaskContext) {
	e.t.Helper()
	cfg := connect.Config{}
	for k, v := range e.cfg {
		cfg[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	tc := connectortest.NewTaskContext(e.t, "pg", 0, e.offs)
	task := &Task{}
	if err := task.Start(context.Background(), cfg, tc); err != nil {
		e.t.Fatalf("start: %v", err)
	}
	e.t.Cleanup(func() { _ = task.Stop() })
	return task, tc
}

func (e *env) startErr(extra ...string) error {
	cfg := connect.Config{}
	for k, v := range e.cfg {
		cfg[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	task := &Task{}
	err := task.Start(context.Background(), cfg, connectortest.NewTaskContext(e.t, "pg", 0, e.offs))
	if err == nil {
		_ = task.Stop()
	}
	return err
}

// ev is a record reduced to what the tests compare.
type ev struct {
	topic, op string
	id        any
	after     *connect.StructValue
	before    *connect.StructValue
	rec       *connect.Record
}

func events(recs []*connect.Record) []ev {
	var out []ev
	for _, r := range recs {
		e := ev{topic: r.Topic, rec: r}
		if k, ok := r.Key.(*connect.StructValue); ok && len(k.Values) > 0 {
			e.id = k.Values[0]
		}
		if v, ok := r.Value.(*connect.StructValue); ok {
			e.op, _ = v.Get("op").(string)
			e.after, _ = v.Get("after").(*connect.StructValue)
			e.before, _ = v.Get("before").(*connect.StructValue)
		} else if r.Value == nil {
			e.op = "tombstone"
		}
		out = append(out, e)
	}
	return out
}

func ops(evs []ev) string {
	var b []string
	for _, e := range evs {
		b = append(b, fmt.Sprintf("%s:%v", e.op, e.id))
	}
	return strings.Join(b, " ")
}

const waitFor = 20 * time.Second

func TestStreamingEvents(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.items (id int PRIMARY KEY, name text, big text)")
	e.exec("ALTER TABLE $S.items ALTER COLUMN big SET STORAGE EXTERNAL") // out of line, uncompressed
	e.exec("INSERT INTO $S.items VALUES (1, 'one', NULL)")
	task, tc := e.start("snapshot.mode", "initial")

	snap := events(connectortest.PollN(t, task, tc, 1, true, waitFor))
	if ops(snap) != "r:1" {
		t.Fatalf("snapshot events: %s", ops(snap))
	}
	src := snap[0].rec.Value.(*connect.StructValue).Get("source").(*connect.StructValue)
	if src.Get("snapshot") != "last" || src.Get("connector") != "postgresql" || src.Get("schema") != e.schema || src.Get("table") != "items" {
		t.Errorf("snapshot source block: %v", src.Values)
	}
	if snap[0].topic != "srv."+e.schema+".items" {
		t.Errorf("topic %q", snap[0].topic)
	}

	// A large value stored out of line (TOAST), then an update that leaves it.
	big := strings.Repeat("x", 10000) + fmt.Sprint(rand.Int())
	e.exec("INSERT INTO $S.items VALUES (2, 'two', $1)", big)
	e.exec("UPDATE $S.items SET name = 'TWO' WHERE id = 2")
	e.exec("UPDATE $S.items SET id = 3 WHERE id = 2")
	e.exec("DELETE FROM $S.items WHERE id = 1")
	e.exec("ALTER TABLE $S.items ADD COLUMN extra int")
	e.exec("INSERT INTO $S.items VALUES (4, 'four', NULL, 44)")
	e.exec("ALTER TABLE $S.items DROP COLUMN big")
	e.exec("INSERT INTO $S.items VALUES (5, 'five', 55)")

	got := events(connectortest.PollN(t, task, tc, 9, true, waitFor))
	if want := "c:2 u:2 d:2 tombstone:2 c:3 d:1 tombstone:1 c:4 c:5"; ops(got) != want {
		t.Fatalf("events:\n got %s\nwant %s", ops(got), want)
	}
	if got[0].after.Get("big") != big {
		t.Errorf("insert lost the big value")
	}
	if v := got[1].after.Get("big"); v != "__debezium_unavailable_value" {
		t.Errorf("unchanged TOAST value = %.30v, want the placeholder", v)
	}
	if got[1].before != nil {
		t.Errorf("update under REPLICA IDENTITY DEFAULT has a before: %v", got[1].before.Values)
	}
	// Primary-key change: delete + tombstone + create with linking headers.
	if h, ok := got[2].rec.Header("__debezium.newkey"); !ok || h.Value.(*connect.StructValue).Get("id") != int32(3) {
		t.Errorf("delete of a key change lacks __debezium.newkey: %v", got[2].rec.Headers)
	}
	if h, ok := got[4].rec.Header("__debezium.oldkey"); !ok || h.Value.(*connect.StructValue).Get("id") != int32(2) {
		t.Errorf("create of a key change lacks __debezium.oldkey: %v", got[4].rec.Headers)
	}
	if got[5].before == nil || got[5].before.Get("id") != int32(1) || got[5].before.Get("name") != nil {
		t.Errorf("delete before should hold the key only: %v", got[5].before)
	}
	// Schema changes picked up from Relation messages.
	if _, _, ok := got[7].after.Schema.Field("extra"); !ok || got[7].after.Get("extra") != int32(44) {
		t.Errorf("added column missing: %v", got[7].after.Values)
	}
	if _, _, ok := got[8].after.Schema.Field("big"); ok {
		t.Errorf("dropped column still in the schema")
	}
	s := got[0].rec.Value.(*connect.StructValue).Get("source").(*connect.StructValue)
	if s.Get("snapshot") != "false" || s.Get("txId") == nil || s.Get("lsn") == nil {
		t.Errorf("streamed source block: %v", s.Values)
	}
}

func TestReplicaIdentityFullAndNoKey(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.full_t (id int PRIMARY KEY, v text)")
	e.exec("ALTER TABLE $S.full_t REPLICA IDENTITY FULL")
	e.exec("CREATE TABLE $S.nokey (a int, b text)")
	e.exec("ALTER TABLE $S.nokey REPLICA IDENTITY FULL")
	task, tc := e.start("snapshot.mode", "no_data", "skipped.operations", "none")
	e.exec("INSERT INTO $S.full_t VALUES (1, 'a')")
	e.exec("UPDATE $S.full_t SET v = 'b' WHERE id = 1")
	e.exec("INSERT INTO $S.nokey VALUES (7, 'x')")
	e.exec("DELETE FROM $S.nokey")
	e.exec("TRUNCATE $S.full_t")
	got := events(connectortest.PollN(t, task, tc, 5, true, waitFor))
	if want := "c:1 u:1 c:<nil> d:<nil> t:<nil>"; ops(got) != want {
		t.Fatalf("events: got %s want %s", ops(got), want)
	}
	if got[1].before == nil || got[1].before.Get("v") != "a" {
		t.Errorf("FULL update before = %v", got[1].before)
	}
	if got[2].rec.Key != nil || got[2].rec.KeySchema != nil {
		t.Errorf("table without key: key %v", got[2].rec.Key)
	}
	if got[3].before == nil || got[3].before.Get("b") != "x" {
		t.Errorf("FULL delete before = %v", got[3].before)
	}
}

func TestSnapshotHandOverWithConcurrentWrites(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY, v int)")
	e.exec("INSERT INTO $S.t SELECT g, 0 FROM generate_series(1, 3000) g")
	task, tc := e.start("snapshot.fetch.size", "100", "max.batch.size", "64")

	// Writes racing the snapshot: inserts of new rows and updates of
	// snapshotted ones, in a second connection.
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, pgDSN())
		if err != nil {
			done <- err
			return
		}
		defer c.Close(ctx)
		for i := 1; i <= 200; i++ {
			if _, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO %s.t VALUES (%d, 1); UPDATE %s.t SET v = v + 1 WHERE id = %d", e.schema, 3000+i, e.schema, i*7)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// 3000 snapshot rows, 200 inserts, 200 updates.
	got := events(connectortest.PollN(t, task, tc, 3400, true, waitFor))
	if more := connectortest.PollQuiet(t, task, 300*time.Millisecond); len(more) > 0 {
		t.Fatalf("%d events more than expected", len(more))
	}
	seen := map[string]int{}
	state := map[int32]int32{}
	for _, g := range got {
		seen[fmt.Sprintf("%s:%v", g.op, g.id)]++
		if g.after != nil {
			state[g.after.Get("id").(int32)] = g.after.Get("v").(int32)
		}
	}
	for k, n := range seen {
		if n > 1 && !strings.HasPrefix(k, "u:") {
			t.Errorf("%s emitted %d times", k, n)
		}
	}
	for i := 1; i <= 3000; i++ {
		if seen[fmt.Sprintf("r:%d", i)] != 1 {
			t.Fatalf("snapshot row %d missing", i)
		}
	}
	for i := 3001; i <= 3200; i++ {
		if seen[fmt.Sprintf("c:%d", i)] != 1 || seen[fmt.Sprintf("r:%d", i)] != 0 {
			t.Fatalf("row %d inserted after the slot: want one create and no read, got %d/%d", i, seen[fmt.Sprintf("c:%d", i)], seen[fmt.Sprintf("r:%d", i)])
		}
	}
	// The replayed state equals the table.
	rows, _ := e.db.Query(context.Background(), "SELECT id, v FROM "+e.schema+".t")
	n := 0
	for rows.Next() {
		var id, v int32
		_ = rows.Scan(&id, &v)
		if state[id] != v {
			t.Fatalf("row %d: table has v=%d, events give %d", id, v, state[id])
		}
		n++
	}
	if n != len(state) {
		t.Fatalf("table has %d rows, events %d", n, len(state))
	}
}

func TestResumeAfterStopNoGapNoDuplicate(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY)")
	task, tc := e.start("snapshot.mode", "no_data")
	e.exec("INSERT INTO $S.t SELECT generate_series(1, 10)")
	got := events(connectortest.PollN(t, task, tc, 10, true, waitFor))
	if got[9].id != int32(10) {
		t.Fatalf("events %s", ops(got))
	}
	waitConfirmed(t, e)
	_ = task.Stop()

	e.exec("INSERT INTO $S.t SELECT generate_series(11, 15)")
	task2, tc2 := e.start("snapshot.mode", "no_data")
	got = events(connectortest.PollN(t, task2, tc2, 5, true, waitFor))
	if want := "c:11 c:12 c:13 c:14 c:15"; ops(got) != want {
		t.Fatalf("after restart: %s, want %s", ops(got), want)
	}
	if more := connectortest.PollQuiet(t, task2, 300*time.Millisecond); len(more) > 0 {
		t.Fatalf("duplicates after restart: %s", ops(events(more)))
	}
}

// waitConfirmed waits until the slot's confirmed position reached the
// current WAL position the task acknowledged (the status update is sent by
// the streaming goroutine).
func waitConfirmed(t testing.TB, e *env) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		var behind bool
		err := e.db.QueryRow(context.Background(), "SELECT confirmed_flush_lsn < pg_current_wal_insert_lsn() - 1000000 FROM pg_replication_slots WHERE slot_name = $1", e.slot).Scan(&behind)
		if err == nil && !behind {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling the server's state, not synchronising goroutines
	}
	t.Fatalf("slot not confirmed")
}

func TestCrashWithoutCommitReplays(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY)")
	task, tc := e.start("snapshot.mode", "no_data")
	e.exec("INSERT INTO $S.t SELECT generate_series(1, 3)")
	got := events(connectortest.PollN(t, task, tc, 3, true, waitFor))
	if ops(got) != "c:1 c:2 c:3" {
		t.Fatal(ops(got))
	}
	e.exec("INSERT INTO $S.t SELECT generate_series(4, 6)")
	// Polled but never acknowledged: the runtime crashed before storing.
	got = events(connectortest.PollN(t, task, tc, 3, false, waitFor))
	if ops(got) != "c:4 c:5 c:6" {
		t.Fatal(ops(got))
	}
	_ = task.Stop()
	task2, tc2 := e.start("snapshot.mode", "no_data")
	got = events(connectortest.PollN(t, task2, tc2, 3, true, waitFor))
	if ops(got) != "c:4 c:5 c:6" {
		t.Fatalf("replay after crash: %s, want c:4 c:5 c:6", ops(got))
	}
	if more := connectortest.PollQuiet(t, task2, 300*time.Millisecond); len(more) > 0 {
		t.Fatalf("unexpected: %s", ops(events(more)))
	}
}

func TestSnapshotResumesAfterCrash(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.a (id int PRIMARY KEY)")
	e.exec("CREATE TABLE $S.b (id int PRIMARY KEY)")
	e.exec("INSERT INTO $S.a SELECT generate_series(1, 50)")
	e.exec("INSERT INTO $S.b SELECT generate_series(1, 50)")
	task, tc := e.start("snapshot.fetch.size", "7", "max.batch.size", "5")
	first := events(connectortest.PollN(t, task, tc, 65, true, waitFor))
	_ = task.Stop()
	task2, tc2 := e.start("snapshot.fetch.size", "7")
	rest := events(connectortest.PollN(t, task2, tc2, 100-len(first), true, waitFor))
	all := append(first, rest...)
	seen := map[string]bool{}
	for _, g := range all {
		k := fmt.Sprintf("%s/%v", g.topic, g.id)
		if g.op != "r" || seen[k] {
			t.Fatalf("%s %s: duplicate or not a read", g.op, k)
		}
		seen[k] = true
	}
	if len(seen) != 100 {
		t.Fatalf("%d distinct rows, want 100", len(seen))
	}
	last := rest[len(rest)-1].rec.Value.(*connect.StructValue).Get("source").(*connect.StructValue)
	if last.Get("snapshot") != "last" {
		t.Errorf("last record marker %v", last.Get("snapshot"))
	}
	// Streaming continues after the resumed snapshot.
	e.exec("INSERT INTO $S.b VALUES (51)")
	got := events(connectortest.PollN(t, task2, tc2, 1, true, waitFor))
	if ops(got) != "c:51" {
		t.Fatalf("after snapshot: %s", ops(got))
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY)")

	t.Run("role without REPLICATION", func(t *testing.T) {
		role := "norepl_" + e.schema
		e.exec("CREATE ROLE " + role + " LOGIN")
		defer e.exec("DROP ROLE " + role)
		defer e.exec("DROP OWNED BY " + role)
		err := e.startErr("database.user", role)
		if err == nil || !strings.Contains(err.Error(), "lacks the REPLICATION attribute") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no SELECT on a table", func(t *testing.T) {
		role := "nosel_" + e.schema
		e.exec("CREATE ROLE " + role + " LOGIN REPLICATION")
		defer e.exec("DROP ROLE " + role)
		defer e.exec("DROP OWNED BY " + role)
		e.exec("GRANT USAGE ON SCHEMA $S TO " + role)
		err := e.startErr("database.user", role)
		if err == nil || !strings.Contains(err.Error(), "no SELECT privilege on "+e.schema+".t") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		err := e.startErr("slot.name", "Bad-Slot", "decimal.handling.mode", "exact")
		if err == nil || !strings.Contains(err.Error(), "slot.name") || !strings.Contains(err.Error(), "decimal.handling.mode") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("publication disabled and missing", func(t *testing.T) {
		err := e.startErr("publication.autocreate.mode", "disabled")
		if err == nil || !strings.Contains(err.Error(), "does not exist and publication.autocreate.mode=disabled") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("dropped slot", func(t *testing.T) {
		task, tc := e.start("snapshot.mode", "no_data")
		e.exec("INSERT INTO $S.t VALUES (1)")
		connectortest.PollN(t, task, tc, 1, true, waitFor)
		_ = task.Stop()
		dropSlot(t, e.db, e.slot)
		err := e.startErr("snapshot.mode", "no_data")
		if err == nil || !strings.Contains(err.Error(), "does not exist, but offsets") {
			t.Fatalf("got %v", err)
		}
		// when_needed takes a new snapshot instead.
		task2, tc2 := e.start("snapshot.mode", "when_needed")
		got := events(connectortest.PollN(t, task2, tc2, 1, true, waitFor))
		if ops(got) != "r:1" {
			t.Fatalf("when_needed: %s", ops(got))
		}
	})
}

// dropSlot drops a test slot. The walsender of a stopped task may still hold
// it for a moment (its backend exits asynchronously): end it and wait.
func dropSlot(t testing.TB, db *pgx.Conn, slot string) {
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var active bool
		if err := db.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active); err != nil {
			return // gone
		}
		if !active {
			if _, err := db.Exec(ctx, "SELECT pg_drop_replication_slot($1)", slot); err == nil {
				return
			}
		} else {
			_, _ = db.Exec(ctx, "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active", slot)
		}
		if time.Now().After(deadline) {
			t.Errorf("replication slot %s left behind: drop it by hand, it holds WAL", slot)
			return
		}
		time.Sleep(20 * time.Millisecond) // waiting for the server to release the slot
	}
}

// TestSlotBehindOffset: the runtime stored the offsets but the slot was not
// confirmed (crash between the two). The replay is skipped up to the offset
// by default, and emitted again with offset.mismatch.strategy=trust_slot.
func TestSlotBehindOffset(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY)")
	task, tc := e.start("snapshot.mode", "no_data")
	e.exec("INSERT INTO $S.t VALUES (1)")
	e.exec("INSERT INTO $S.t VALUES (2)")
	recs := connectortest.PollN(t, task, tc, 2, false, waitFor)
	if err := tc.Offsets.Ack(recs); err != nil { // stored, never Committed
		t.Fatal(err)
	}
	_ = task.Stop()
	offs := tc.Offsets.Get(map[string]any{"server": "srv"})

	e.exec("INSERT INTO $S.t VALUES (3)")
	task2, tc2 := e.start("snapshot.mode", "no_data")
	if got := events(connectortest.PollN(t, task2, tc2, 1, false, waitFor)); ops(got) != "c:3" {
		t.Fatalf("default strategy: %s, want c:3 only", ops(got))
	}
	_ = task2.Stop()

	// The same stored offset again, now trusting the slot.
	if err := e.offs.Put(map[string]any{"server": "srv"}, offs); err != nil {
		t.Fatal(err)
	}
	task3, tc3 := e.start("snapshot.mode", "no_data", "offset.mismatch.strategy", "trust_slot")
	if got := events(connectortest.PollN(t, task3, tc3, 3, false, waitFor)); ops(got) != "c:1 c:2 c:3" {
		t.Fatalf("trust_slot: %s, want c:1 c:2 c:3", ops(got))
	}
}

// TestReconnectAfterLostConnection: the walsender is killed while streaming;
// the task reconnects and continues after the last change it handed over,
// with neither loss nor duplicate, even for changes not yet committed.
func TestReconnectAfterLostConnection(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY)")
	task, tc := e.start("snapshot.mode", "no_data")
	e.exec("INSERT INTO $S.t VALUES (1)")
	if got := events(connectortest.PollN(t, task, tc, 1, false, waitFor)); ops(got) != "c:1" {
		t.Fatal(ops(got))
	}
	e.exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1", e.slot)
	e.exec("INSERT INTO $S.t VALUES (2)")
	e.exec("INSERT INTO $S.t VALUES (3)")
	got := events(connectortest.PollN(t, task, tc, 2, true, waitFor))
	if ops(got) != "c:2 c:3" {
		t.Fatalf("after reconnect: %s, want c:2 c:3", ops(got))
	}
	if more := connectortest.PollQuiet(t, task, 300*time.Millisecond); len(more) > 0 {
		t.Fatalf("duplicates after reconnect: %s", ops(events(more)))
	}
}

// Under REPLICA IDENTITY DEFAULT a delete's old tuple carries the key
// columns only. NOT NULL columns get Debezium's fallback (the zero value of
// their type) so that the event fits its schema and the JsonConverter
// accepts it; nullable columns stay null.
func TestDeleteKeyOnlyFillsRequiredColumns(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.lines (id int PRIMARY KEY, amount numeric(10,2) NOT NULL, name text NOT NULL, n bigint NOT NULL, d date NOT NULL, opt text)")
	task, tc := e.start("snapshot.mode", "no_data")
	e.exec("INSERT INTO $S.lines VALUES (1, 2.50, 'x', 9, '2024-01-02', 'o')")
	e.exec("DELETE FROM $S.lines WHERE id = 1")
	recs := connectortest.PollN(t, task, tc, 3, true, waitFor)
	got := events(recs)
	if ops(got) != "c:1 d:1 tombstone:1" {
		t.Fatalf("events: %s", ops(got))
	}
	b := got[1].before
	if b == nil || b.Get("id") != int32(1) || b.Get("name") != "" || b.Get("n") != int64(0) || b.Get("opt") != nil {
		t.Fatalf("delete before = %v", b)
	}
	if d, ok := b.Get("amount").(types.Dec); !ok || d.String() != "0.00" {
		t.Errorf("amount fallback = %#v, want 0.00", b.Get("amount"))
	}
	if _, err := converters.NewJSON().FromConnect(recs[1].Topic, recs[1].ValueSchema, recs[1].Value); err != nil {
		t.Errorf("JsonConverter refuses the delete: %v", err)
	}
}

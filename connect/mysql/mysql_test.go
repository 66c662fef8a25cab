package mysql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/connect/recordjson"
)

// Integration tests against the local MariaDB (127.0.0.1:3306, root, no
// password) with the binlog settings of .ci/services.sh. Each test uses its
// own database and drops it at the end.

func dial(t testing.TB) *client.Conn {
	t.Helper()
	c, err := client.Connect("127.0.0.1:3306", "root", "", "")
	if err != nil {
		t.Skipf("MariaDB not reachable on 127.0.0.1:3306 (run .ci/services.sh): %v", err)
	}
	// A DDL stuck behind a metadata lock fails the test instead of hanging it.
	if _, err := c.Execute("SET SESSION lock_wait_timeout = 15"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func exec(t testing.TB, c *client.Conn, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := c.Execute(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// newDB creates a database with a random name and returns it with a
// connection using it.
func newDB(t testing.TB) (string, *client.Conn) {
	c := dial(t)
	name := fmt.Sprintf("cdc_%d", rand.Uint32())
	exec(t, c, "CREATE DATABASE "+name, "USE "+name)
	t.Cleanup(func() {
		admin, err := client.ConnectWithTimeout("127.0.0.1:3306", "root", "", "", 10*time.Second)
		if err == nil {
			admin.Execute("SET SESSION lock_wait_timeout = 15")
			if _, err := admin.Execute("DROP DATABASE IF EXISTS " + name); err != nil {
				t.Errorf("drop database %s: %v", name, err)
			}
			admin.Close()
		}
	})
	return name, c
}

func config(db string, kv ...string) connect.Config {
	cfg := connect.Config{
		"database.hostname": "127.0.0.1", "database.port": "3306", "database.user": "root",
		"database.server.id": fmt.Sprint(10000 + rand.IntN(100000)), "topic.prefix": "srv",
		"database.include.list": db,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	return cfg
}

func start(t testing.TB, cfg connect.Config, offsets *connectortest.Offsets) (*Task, *connectortest.TaskContext) {
	t.Helper()
	tc := connectortest.NewTaskContext(t, "mysql-test", 0, offsets)
	task := &Task{}
	if err := task.Start(context.Background(), cfg, tc); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task, tc
}

// changes keeps data-change events (drops schema changes, heartbeats,
// transaction metadata).
func changes(recs []*connect.Record, prefix string) []*connect.Record {
	var out []*connect.Record
	for _, r := range recs {
		if strings.HasPrefix(r.Topic, prefix+".") && !strings.HasSuffix(r.Topic, ".transaction") {
			out = append(out, r)
		}
	}
	return out
}

func pollChanges(t testing.TB, task *Task, tc *connectortest.TaskContext, n int) []*connect.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*connect.Record
	for len(out) < n {
		recs, err := task.Poll(ctx)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if ctx.Err() != nil {
			t.Fatalf("got %d change records, want %d", len(out), n)
		}
		if len(recs) > 0 {
			if err := tc.Offsets.Ack(recs); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, changes(recs, "srv")...)
	}
	return out
}

func env(r *connect.Record) *connect.StructValue { return r.Value.(*connect.StructValue) }

func op(r *connect.Record) string {
	if r.Value == nil {
		return "tombstone"
	}
	return env(r).Get("op").(string)
}

func afterJSON(t testing.TB, r *connect.Record) string {
	t.Helper()
	e := env(r)
	f, _, _ := e.Schema.Field("after")
	b, err := recordjson.Marshal(e.Get("after"), f.Schema)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keyID(r *connect.Record) int64 {
	k := r.Key.(*connect.StructValue).Values[0]
	switch x := k.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	}
	panic(fmt.Sprintf("key %T", k))
}

const typesTable = `CREATE TABLE types (
	id INT PRIMARY KEY,
	b BOOLEAN, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
	mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
	f FLOAT, d DOUBLE, dec1 DECIMAL(10,3), dec2 DECIMAL(30,0),
	bit1 BIT(1), bit12 BIT(12),
	dt DATE, dtm0 DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6), ts0 TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL,
	tm TIME, tm6 TIME(6), y YEAR,
	c CHAR(4), vc VARCHAR(20), tx TEXT, bin BINARY(3), vb VARBINARY(8), bl BLOB,
	j JSON, e ENUM('a','b c','d''e'), st SET('x','y','z'), g GEOMETRY)`

const typesValues = `(%d, TRUE, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
	-9223372036854775808, 18446744073709551615, 1.5, -2.25, 1234567.891, 123456789012345678901234567890,
	b'1', b'101000000001', '2024-02-29', '1000-01-01 00:00:00', '2024-02-29 12:34:56.789', '9999-12-31 23:59:59.999999',
	'2038-01-19 03:14:07', '1970-01-01 00:00:01.000001', '-838:59:59', '12:34:56.000789', 2155,
	'ab', 'héllo', 'long text', X'000102', X'FF', X'DEADBEEF',
	'{"a": [1, 2]}', 'd''e', 'x,z', ST_GeomFromText('POINT(1 2)'))`

const typesWant = `{"id":%d,"b":true,"ti":-128,"tiu":255,"si":-32768,"siu":65535,"mi":-8388608,"miu":16777215,"i":-2147483648,"iu":4294967295,` +
	`"bi":-9223372036854775808,"biu":-1,"f":1.5,"d":-2.25,"dec1":1234567.891,"dec2":123456789012345678901234567890,` +
	`"bit1":true,"bit12":"AQo=","dt":19782,"dtm0":-30610224000000,"dtm3":1709210096789,"dtm6":253402300799999999,` +
	`"ts0":"2038-01-19T03:14:07Z","ts6":"1970-01-01T00:00:01.000001Z","tm":-3020399000000,"tm6":45296000789,"y":2155,` +
	`"c":"ab","vc":"héllo","tx":"long text","bin":"AAEC","vb":"/w==","bl":"3q2+7w==",` +
	`"j":"{\"a\": [1, 2]}","e":"d'e","st":"x,z","g":{"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAABA","srid":0}}`

const typesNullWant = `{"id":%d,"b":null,"ti":null,"tiu":null,"si":null,"siu":null,"mi":null,"miu":null,"i":null,"iu":null,` +
	`"bi":null,"biu":null,"f":null,"d":null,"dec1":null,"dec2":null,"bit1":null,"bit12":null,"dt":null,"dtm0":null,"dtm3":null,"dtm6":null,` +
	`"ts0":null,"ts6":null,"tm":null,"tm6":null,"y":null,"c":null,"vc":null,"tx":null,"bin":null,"vb":null,"bl":null,` +
	`"j":null,"e":null,"st":null,"g":null}`

// Every type, with edge values and NULLs, read by the snapshot and by
// streaming: both give the Debezium values.
func TestTypeMapping(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, typesTable, fmt.Sprintf("INSERT INTO types VALUES "+typesValues, 1), "INSERT INTO types (id) VALUES (2)")
	task, tc := start(t, config(db), nil)
	snap := pollChanges(t, task, tc, 2)
	exec(t, c, fmt.Sprintf("INSERT INTO types VALUES "+typesValues, 3), "INSERT INTO types (id) VALUES (4)")
	stream := pollChanges(t, task, tc, 2)
	for i, r := range append(snap, stream...) {
		id := i + 1
		want := fmt.Sprintf(typesWant, id)
		if id%2 == 0 {
			want = fmt.Sprintf(typesNullWant, id)
		}
		if got := afterJSON(t, r); got != want {
			t.Errorf("row %d (op %s):\n got %s\nwant %s", id, op(r), got, want)
		}
	}
	if op(snap[0]) != "r" || op(stream[0]) != "c" {
		t.Errorf("ops %s, %s; want r, c", op(snap[0]), op(stream[0]))
	}
	// Semantic types in the schema.
	e := env(stream[0])
	f, _, _ := e.Schema.Field("after")
	wantNames := map[string]string{"dt": "io.debezium.time.Date", "dtm3": "io.debezium.time.Timestamp", "dtm6": "io.debezium.time.MicroTimestamp",
		"ts0": "io.debezium.time.ZonedTimestamp", "tm": "io.debezium.time.MicroTime", "y": "io.debezium.time.Year", "j": "io.debezium.data.Json",
		"e": "io.debezium.data.Enum", "st": "io.debezium.data.EnumSet", "bit12": "io.debezium.data.Bits", "dec1": connect.DecimalName,
		"g": "io.debezium.data.geometry.Geometry"}
	for col, name := range wantNames {
		fs, _, _ := f.Schema.Field(col)
		if fs.Schema.Name != name {
			t.Errorf("column %s: schema name %q, want %q", col, fs.Schema.Name, name)
		}
	}
	wantTypes := map[string]connect.SchemaType{"b": connect.Boolean, "ti": connect.Int16, "tiu": connect.Int16, "siu": connect.Int32, "iu": connect.Int64, "f": connect.Float32, "bit1": connect.Boolean}
	for col, typ := range wantTypes {
		fs, _, _ := f.Schema.Field(col)
		if fs.Schema.Type != typ {
			t.Errorf("column %s: type %s, want %s", col, fs.Schema.Type, typ)
		}
	}
	src := e.Get("source").(*connect.StructValue)
	if src.Get("connector") != "mysql" || src.Get("db") != db || src.Get("table") != "types" || src.Get("snapshot") != "false" ||
		src.Get("gtid") == nil || !strings.HasPrefix(src.Get("file").(string), "mariadb-bin.") {
		t.Errorf("source block %v", src.Values)
	}
	if stream[0].Topic != "srv."+db+".types" || stream[0].KeySchema.Name != "srv."+db+".types.Key" {
		t.Errorf("topic %s key schema %s", stream[0].Topic, stream[0].KeySchema.Name)
	}
}

// With bigint.unsigned.handling.mode=precise and decimal modes.
func TestHandlingModes(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE m (id INT PRIMARY KEY, biu BIGINT UNSIGNED, d DECIMAL(8,2), b VARBINARY(4))",
		"INSERT INTO m VALUES (1, 18446744073709551615, -12.50, X'0aff')")
	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{[]string{"bigint.unsigned.handling.mode", "precise", "decimal.handling.mode", "string", "binary.handling.mode", "hex"}, `{"id":1,"biu":18446744073709551615,"d":"-12.50","b":"0aff"}`},
		{[]string{"decimal.handling.mode", "double", "binary.handling.mode", "base64"}, `{"id":1,"biu":-1,"d":-12.5,"b":"Cv8="}`},
	} {
		task, ctx := start(t, config(db, tc.kv...), nil)
		recs := pollChanges(t, task, ctx, 1)
		if got := afterJSON(t, recs[0]); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.kv, got, tc.want)
		}
		task.Stop()
	}
}

// Stop in the middle of a multi-row transaction and resume by GTID: every
// change arrives once, none twice.
func TestResumeByGTID(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE r (id INT PRIMARY KEY, v VARCHAR(10))")
	offsets := connectortest.NewOffsets()
	cfg := config(db, "snapshot.mode", "no_data")
	task, tc := start(t, cfg, offsets)
	exec(t, c, "INSERT INTO r VALUES (1,'a')", "BEGIN", "INSERT INTO r VALUES (2,'b'),(3,'c')", "INSERT INTO r VALUES (4,'d')",
		"UPDATE r SET v='x' WHERE id=1", "COMMIT", "INSERT INTO r VALUES (5,'e')")
	// Acknowledge only the first two records, as if the task died before
	// the rest was stored.
	var got []*connect.Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(got) < 6 && ctx.Err() == nil {
		recs, err := task.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, changes(recs, "srv")...)
	}
	if len(got) < 6 {
		t.Fatalf("got %d records before the restart, want 6", len(got))
	}
	if err := offsets.Ack(got[:2]); err != nil {
		t.Fatal(err)
	}
	if off := offsets.Get(map[string]any{"server": "srv"}); off["gtids"] == nil || off["event"] != float64(0) || off["row"] != float64(1) {
		t.Fatalf("offset inside the transaction: %v", off)
	}
	task.Stop()

	task2, tc2 := start(t, cfg, offsets)
	rest := pollChanges(t, task2, tc2, 4)
	var ids []string
	for _, r := range rest {
		ids = append(ids, fmt.Sprintf("%s%d", op(r), keyID(r)))
	}
	if strings.Join(ids, " ") != "c3 c4 u1 c5" {
		t.Fatalf("after the restart: %v, want c3 c4 u1 c5", ids)
	}
	if extra := changes(connectortest.PollQuiet(t, task2, 300*time.Millisecond), "srv"); len(extra) > 0 {
		t.Fatalf("%d more records", len(extra))
	}
	// A restart after everything was acknowledged delivers nothing again.
	task2.Stop()
	task3, _ := start(t, cfg, offsets)
	exec(t, c, "DELETE FROM r WHERE id=5")
	recs := pollChanges(t, task3, tc2, 1)
	if op(recs[0]) != "d" || keyID(recs[0]) != 5 {
		t.Fatalf("after the second restart got %s %d, want d 5", op(recs[0]), keyID(recs[0]))
	}
	_ = tc
}

// ALTER TABLE while streaming: later rows carry the new column; a restart
// from an offset before the ALTER decodes the old rows with the old columns.
func TestAlterTable(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE a (id INT PRIMARY KEY, v INT)")
	offsets := connectortest.NewOffsets()
	cfg := config(db, "snapshot.mode", "no_data")
	task, tc := start(t, cfg, offsets)
	exec(t, c, "INSERT INTO a VALUES (1, 10)")
	first := pollChanges(t, task, tc, 1)
	before := offsets.Get(map[string]any{"server": "srv"})
	exec(t, c, "INSERT INTO a VALUES (2, 20)", "ALTER TABLE a ADD COLUMN w VARCHAR(5) DEFAULT 'z', DROP COLUMN v", "INSERT INTO a VALUES (3, 'n')")
	var all []*connect.Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(changes(all, "srv")) < 2 || len(all) < 3 {
		recs, err := task.Poll(ctx)
		if err != nil || ctx.Err() != nil {
			t.Fatalf("poll: %v %v", err, ctx.Err())
		}
		all = append(all, recs...)
	}
	var schemaChange *connect.Record
	for _, r := range all {
		if r.Topic == "srv" {
			schemaChange = r
		}
	}
	if schemaChange == nil {
		t.Fatal("no schema-change event on topic srv")
	}
	sc := schemaChange.Value.(*connect.StructValue)
	if !strings.Contains(sc.Get("ddl").(string), "ADD COLUMN w") || sc.Get("databaseName") != db {
		t.Errorf("schema change %v", sc.Values)
	}
	ch := sc.Get("tableChanges").([]any)[0].(*connect.StructValue)
	if ch.Get("type") != "ALTER" || ch.Get("id") != `"`+db+`"."a"` {
		t.Errorf("table change %v", ch.Values)
	}
	ch2 := changes(all, "srv")
	if got := afterJSON(t, ch2[0]); got != `{"id":2,"v":20}` {
		t.Errorf("before the ALTER: %s", got)
	}
	if got := afterJSON(t, ch2[1]); got != `{"id":3,"w":"n"}` {
		t.Errorf("after the ALTER: %s", got)
	}
	task.Stop()
	// Resume from before the ALTER: the schema history in the offset
	// decodes row 2 with the old columns.
	_ = first
	old := connectortest.NewOffsets()
	old.Put(map[string]any{"server": "srv"}, before)
	task2, tc2 := start(t, cfg, old)
	again := pollChanges(t, task2, tc2, 2)
	if a, b := afterJSON(t, again[0]), afterJSON(t, again[1]); a != `{"id":2,"v":20}` || b != `{"id":3,"w":"n"}` {
		t.Errorf("replay: %s then %s", a, b)
	}
}

// The snapshot runs while another connection inserts and updates: folding
// the events gives the table's final state, and every inserted row arrives
// once, either read by the snapshot or created by the stream.
func TestSnapshotWithConcurrentWrites(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE s (id INT PRIMARY KEY, v INT)")
	var vals []string
	for i := 1; i <= 3000; i++ {
		vals = append(vals, fmt.Sprintf("(%d,0)", i))
	}
	exec(t, c, "INSERT INTO s VALUES "+strings.Join(vals, ","))
	task, tc := start(t, config(db, "snapshot.fetch.size", "250"), nil)
	writer := dial(t)
	exec(t, writer, "USE "+db)
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= 200; i++ {
			if _, err := writer.Execute(fmt.Sprintf("INSERT INTO s VALUES (%d, %d)", 3000+i, i)); err != nil {
				done <- err
				return
			}
			if _, err := writer.Execute(fmt.Sprintf("UPDATE s SET v = v + 1 WHERE id = %d", i*7)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	state := map[int64]string{}
	seen := map[int64]int{}
	apply := func(recs []*connect.Record) {
		for _, r := range recs {
			switch op(r) {
			case "r", "c":
				seen[keyID(r)]++
				state[keyID(r)] = afterJSON(t, r)
			case "u":
				state[keyID(r)] = afterJSON(t, r)
			case "d":
				delete(state, keyID(r))
			}
		}
	}
	apply(pollChanges(t, task, tc, 3000))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Drain until the stream reaches the writer's last change.
	deadline := time.Now().Add(15 * time.Second)
	for state[3200] != `{"id":3200,"v":200}` || state[1400] != `{"id":1400,"v":1}` {
		if time.Now().After(deadline) {
			t.Fatalf("stream did not catch up: row 3200 %q, row 1400 %q", state[3200], state[1400])
		}
		apply(changes(connectortest.PollQuiet(t, task, 100*time.Millisecond), "srv"))
	}
	r, err := c.Execute("SELECT id, v FROM s ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if len(state) != r.RowNumber() {
		t.Fatalf("%d rows from events, %d in the table", len(state), r.RowNumber())
	}
	for i := range r.RowNumber() {
		id, _ := r.GetInt(i, 0)
		v, _ := r.GetInt(i, 1)
		if want := fmt.Sprintf(`{"id":%d,"v":%d}`, id, v); state[id] != want {
			t.Fatalf("row %d: events give %s, table has %s", id, state[id], want)
		}
		if seen[id] != 1 {
			t.Fatalf("row %d was read or created %d times", id, seen[id])
		}
	}
}

// A snapshot interrupted after some chunks resumes after the last key read.
func TestSnapshotResume(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE a1 (id INT PRIMARY KEY)", "CREATE TABLE b2 (k VARCHAR(10), n INT, PRIMARY KEY (k, n))")
	var va, vb []string
	for i := 1; i <= 100; i++ {
		va = append(va, fmt.Sprintf("(%d)", i))
		vb = append(vb, fmt.Sprintf("('k%02d', %d)", i%10, i))
	}
	exec(t, c, "INSERT INTO a1 VALUES "+strings.Join(va, ","), "INSERT INTO b2 VALUES "+strings.Join(vb, ","))
	offsets := connectortest.NewOffsets()
	cfg := config(db, "snapshot.fetch.size", "30")
	task, _ := start(t, cfg, offsets)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []*connect.Record
	for len(got) < 130 {
		recs, err := task.Poll(ctx)
		if err != nil || ctx.Err() != nil {
			t.Fatalf("poll: %v %v", err, ctx.Err())
		}
		got = append(got, changes(recs, "srv")...)
	}
	offsets.Ack(got[:130])
	task.Stop()
	off := offsets.Get(map[string]any{"server": "srv"})
	if off["snapshot"] != true || off["snapshot_table"] != db+".b2" {
		t.Fatalf("offset in the middle of the snapshot: %v", off)
	}
	task2, tc2 := start(t, cfg, offsets)
	rest := pollChanges(t, task2, tc2, 70)
	keys := map[string]bool{}
	for _, r := range append(got[100:130], rest...) {
		if op(r) != "r" || !strings.HasSuffix(r.Topic, ".b2") {
			t.Fatalf("unexpected %s on %s", op(r), r.Topic)
		}
		k := r.Key.(*connect.StructValue)
		id := fmt.Sprint(k.Values...)
		if keys[id] {
			t.Fatalf("row %s twice", id)
		}
		keys[id] = true
	}
	if len(keys) != 100 {
		t.Fatalf("%d rows of b2, want 100", len(keys))
	}
	last := env(rest[len(rest)-1]).Get("source").(*connect.StructValue).Get("snapshot")
	if last != "last" {
		t.Errorf("last snapshot record marked %v", last)
	}
	if off := offsets.Get(map[string]any{"server": "srv"}); off["snapshot"] != nil {
		t.Errorf("offset after the snapshot still in it: %v", off)
	}
}

// A user without replication privileges gets an error naming them.
func TestMissingPrivileges(t *testing.T) {
	db, c := newDB(t)
	user := fmt.Sprintf("cdc_ro_%d", rand.Uint32()%1000000)
	exec(t, c, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'pw'", "GRANT SELECT ON "+db+".* TO '"+user+"'@'%'")
	t.Cleanup(func() { c.Execute("DROP USER '" + user + "'@'%'") })
	cfg := config(db, "database.user", user, "database.password", "pw")
	err := (&Task{}).Start(context.Background(), cfg, connectortest.NewTaskContext(t, "x", 0, nil))
	if err == nil {
		t.Fatal("started without replication privileges")
	}
	for _, want := range []string{"REPLICATION SLAVE", "REPLICATION CLIENT", user} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "SELECT,") || strings.HasSuffix(err.Error(), "SELECT") {
		t.Errorf("error %q names SELECT, which was granted", err)
	}
}

// A stored position whose binlog is gone fails the start clearly, and
// snapshot.mode=when_needed takes a new snapshot instead.
func TestPurgedPosition(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE p (id INT PRIMARY KEY)", "INSERT INTO p VALUES (1)")
	offsets := connectortest.NewOffsets()
	offsets.Put(map[string]any{"server": "srv"}, map[string]any{"file": "mariadb-bin.000000", "pos": 4})
	err := (&Task{}).Start(context.Background(), config(db), connectortest.NewTaskContext(t, "x", 0, offsets))
	if err == nil || !strings.Contains(err.Error(), "mariadb-bin.000000") || !strings.Contains(err.Error(), "no longer on the server") {
		t.Fatalf("start with a purged binlog: %v", err)
	}
	task, tc := start(t, config(db, "snapshot.mode", "when_needed"), offsets)
	recs := pollChanges(t, task, tc, 1)
	if op(recs[0]) != "r" {
		t.Fatalf("when_needed: got %s, want a snapshot read", op(recs[0]))
	}
}

// A server with the binlog off and STATEMENT format: the error names both.
// It runs its own mariadbd (a fresh data directory on a free port), since
// the shared server must keep its binlog on.
func TestBinlogSettingsChecked(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second MariaDB server")
	}
	if _, err := lookPath("mariadbd"); err != nil {
		t.Skip("mariadbd not installed")
	}
	port := startScratchServer(t, "--skip-log-bin", "--binlog-format=STATEMENT")
	cfg := config("test")
	cfg["database.port"] = fmt.Sprint(port)
	err := (&Task{}).Start(context.Background(), cfg, connectortest.NewTaskContext(t, "x", 0, nil))
	if err == nil {
		t.Fatal("started against a server without a row-based binlog")
	}
	for _, want := range []string{"log_bin=OFF", "binlog_format is STATEMENT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
}

// Key change, tombstones, transaction metadata, include.query, heartbeats
// and column filters in one stream.
func TestEventKinds(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE k (id INT PRIMARY KEY, v INT, secret VARCHAR(10))", "CREATE TABLE nokey (v INT)")
	cfg := config(db, "snapshot.mode", "no_data", "provide.transaction.metadata", "true", "include.query", "true",
		"heartbeat.interval.ms", "50", "column.exclude.list", db+`\.k\.secret`)
	task, _ := start(t, cfg, nil)
	exec(t, c, "BEGIN", "INSERT INTO k VALUES (1, 1, 's')", "UPDATE k SET id = 2 WHERE id = 1", "DELETE FROM k WHERE id = 2", "INSERT INTO nokey VALUES (7)", "COMMIT")
	var all []*connect.Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hasEnd := func() bool {
		for _, r := range all {
			if r.Topic == "srv.transaction" && r.Value.(*connect.StructValue).Get("status") == "END" {
				return true
			}
		}
		return false
	}
	for !hasEnd() {
		recs, err := task.Poll(ctx)
		if err != nil || ctx.Err() != nil {
			t.Fatalf("poll: %v %v", err, ctx.Err())
		}
		all = append(all, recs...)
	}
	var seq []string
	var gtid string
	for _, r := range all {
		switch {
		case strings.HasPrefix(r.Topic, "__debezium-heartbeat."):
			continue
		case r.Topic == "srv.transaction":
			v := r.Value.(*connect.StructValue)
			seq = append(seq, v.Get("status").(string))
			gtid = v.Get("id").(string)
			if v.Get("status") == "END" && v.Get("event_count") != int64(5) {
				t.Errorf("END event_count %v, want 5", v.Get("event_count"))
			}
		case r.Value == nil:
			seq = append(seq, fmt.Sprintf("tomb%d", keyID(r)))
		default:
			e := env(r)
			s := op(e2r(e))
			if r.Key != nil {
				s += fmt.Sprint(keyID(r))
			} else {
				s += "-nokey"
			}
			if _, ok := r.Header("__debezium.newkey"); ok {
				s += "(newkey)"
			}
			if _, ok := r.Header("__debezium.oldkey"); ok {
				s += "(oldkey)"
			}
			seq = append(seq, s)
			if tb := e.Get("transaction"); tb == nil {
				t.Errorf("%s: no transaction block", s)
			}
			wantQ := map[string]string{"c1": "INSERT INTO k VALUES (1, 1, 's')", "d1(newkey)": "UPDATE k SET id = 2 WHERE id = 1",
				"d2": "DELETE FROM k WHERE id = 2", "c-nokey": "INSERT INTO nokey VALUES (7)"}
			if q := e.Get("source").(*connect.StructValue).Get("query"); wantQ[s] != "" && q != wantQ[s] {
				t.Errorf("%s: source.query %v, want %q", s, q, wantQ[s])
			}
			if after, ok := e.Get("after").(*connect.StructValue); ok {
				if _, _, has := after.Schema.Field("secret"); has {
					t.Errorf("excluded column secret in the value schema")
				}
			}
		}
	}
	want := "BEGIN c1 d1(newkey) tomb1 c2(oldkey) d2 tomb2 c-nokey END"
	if got := strings.Join(seq, " "); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	if !regexp.MustCompile(`^\d+-\d+-\d+$`).MatchString(gtid) {
		t.Errorf("transaction id %q is not a MariaDB GTID", gtid)
	}
	// Heartbeats come while idle, carrying the committed offset.
	hb := connectortest.PollQuiet(t, task, 300*time.Millisecond)
	n := 0
	for _, r := range hb {
		if r.Topic == "__debezium-heartbeat.srv" && r.SourceOffset["gtids"] != nil {
			n++
		}
	}
	if n == 0 {
		t.Errorf("no heartbeat in 300ms with heartbeat.interval.ms=50")
	}
}

func e2r(e *connect.StructValue) *connect.Record { return &connect.Record{Value: e} }

// Tables created while streaming are captured; drops are schema changes.
func TestCreateDropTable(t *testing.T) {
	db, c := newDB(t)
	task, _ := start(t, config(db, "snapshot.mode", "no_data"), nil)
	exec(t, c, "CREATE TABLE n (id INT PRIMARY KEY, v JSON)", `INSERT INTO n VALUES (1, '{"k": 1}')`)
	var seq []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(seq) < 3 {
		if len(seq) == 2 {
			exec(t, c, "DROP TABLE n")
		}
		recs, err := task.Poll(ctx)
		if err != nil || ctx.Err() != nil {
			t.Fatalf("poll: %v %v (got %v)", err, ctx.Err(), seq)
		}
		for _, r := range recs {
			if r.Topic == "srv" {
				ch := r.Value.(*connect.StructValue).Get("tableChanges").([]any)[0].(*connect.StructValue)
				seq = append(seq, ch.Get("type").(string))
			} else if r.Value != nil {
				seq = append(seq, op(r)+":"+afterJSON(t, r))
			}
		}
	}
	if got := strings.Join(seq, " "); got != `CREATE c:{"id":1,"v":"{\"k\": 1}"} DROP` {
		t.Errorf("got %s", got)
	}
}

// Rows written between two DDLs that the task reads only after both ran:
// information_schema already shows the second definition, the binlog's
// Table_map metadata gives the one the rows were written with.
func TestSeveralDDLsReadLate(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE l (id INT PRIMARY KEY, a INT)")
	offsets := connectortest.NewOffsets()
	cfg := config(db, "snapshot.mode", "no_data", "heartbeat.interval.ms", "20")
	task, _ := start(t, cfg, offsets)
	// A heartbeat stores the position and the schema history; then the
	// task stops so that it reads everything late.
	if err := offsets.Ack(connectortest.PollQuiet(t, task, 200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if offsets.Get(map[string]any{"server": "srv"})["schema"] == nil {
		t.Fatal("no offset with a schema history from the heartbeats")
	}
	task.Stop()
	exec(t, c, "ALTER TABLE l ADD COLUMN b VARCHAR(5)", "INSERT INTO l VALUES (1, 10, 'x')",
		"ALTER TABLE l DROP COLUMN a, ADD COLUMN flag BOOLEAN", "INSERT INTO l VALUES (2, 'y', TRUE)")
	task2, tc2 := start(t, cfg, offsets)
	recs := pollChanges(t, task2, tc2, 2)
	if a, b := afterJSON(t, recs[0]), afterJSON(t, recs[1]); a != `{"id":1,"a":10,"b":"x"}` || b != `{"id":2,"b":"y","flag":true}` {
		t.Errorf("got %s then %s", a, b)
	}
}

// initial_only snapshots and stops; a restart after it does nothing; the
// schema-change events of the snapshot come first, one CREATE per table.
func TestInitialOnly(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE x1 (id INT PRIMARY KEY)", "CREATE TABLE x2 (id INT PRIMARY KEY)", "INSERT INTO x1 VALUES (1)", "INSERT INTO x2 VALUES (2)")
	offsets := connectortest.NewOffsets()
	cfg := config(db, "snapshot.mode", "initial_only")
	task, tc := start(t, cfg, offsets)
	all := connectortest.PollN(t, task, tc, 4, true, 10*time.Second)
	var seq []string
	for _, r := range all {
		if r.Topic == "srv" {
			seq = append(seq, "schema:"+r.Value.(*connect.StructValue).Get("tableChanges").([]any)[0].(*connect.StructValue).Get("type").(string))
			if off := r.SourceOffset; off["snapshot_table"] != db+".x1" {
				t.Errorf("schema-change offset %v: a restart must start the snapshot at the first table", off)
			}
		} else {
			seq = append(seq, op(r)+":"+env(r).Get("source").(*connect.StructValue).Get("snapshot").(string))
		}
	}
	if got := strings.Join(seq, " "); got != "schema:CREATE schema:CREATE r:first r:last" {
		t.Errorf("got %s", got)
	}
	exec(t, c, "INSERT INTO x1 VALUES (3)")
	if more := changes(connectortest.PollQuiet(t, task, 300*time.Millisecond), "srv"); len(more) > 0 {
		t.Errorf("initial_only streamed %d records", len(more))
	}
	task.Stop()
	task2, _ := start(t, cfg, offsets)
	if more := connectortest.PollQuiet(t, task2, 300*time.Millisecond); len(more) > 0 {
		t.Errorf("a restart after the snapshot emitted %d records", len(more))
	}
}

// time.precision.mode=connect gives Kafka Connect's logical types.
func TestConnectTimePrecision(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE tp (id INT PRIMARY KEY, dt DATE, tm TIME(3), dtm DATETIME(6))",
		"INSERT INTO tp VALUES (1, '2024-02-29', '01:02:03.456', '2024-02-29 12:34:56.789123')")
	task, tc := start(t, config(db, "time.precision.mode", "connect"), nil)
	recs := pollChanges(t, task, tc, 1)
	exec(t, c, "INSERT INTO tp VALUES (2, '2024-02-29', '01:02:03.456', '2024-02-29 12:34:56.789123')")
	recs = append(recs, pollChanges(t, task, tc, 1)...)
	for i, r := range recs {
		want := fmt.Sprintf(`{"id":%d,"dt":19782,"tm":3723456,"dtm":1709210096789}`, i+1)
		if got := afterJSON(t, r); got != want {
			t.Errorf("%s: got %s, want %s", op(r), got, want)
		}
	}
	f, _, _ := env(recs[0]).Schema.Field("after")
	for col, name := range map[string]string{"dt": connect.DateName, "tm": connect.TimeName, "dtm": connect.TimestampName} {
		if fs, _, _ := f.Schema.Field(col); fs.Schema.Name != name {
			t.Errorf("%s: %s, want %s", col, fs.Schema.Name, name)
		}
	}
}

// message.key.columns replaces the key; skipped.operations drops updates.
func TestKeyColumnsAndSkippedOps(t *testing.T) {
	db, c := newDB(t)
	exec(t, c, "CREATE TABLE kc (id INT PRIMARY KEY, code VARCHAR(5), v INT)")
	task, tc := start(t, config(db, "snapshot.mode", "no_data", "message.key.columns", db+`\.kc:code`, "skipped.operations", "u"), nil)
	exec(t, c, "INSERT INTO kc VALUES (1, 'a', 1)", "UPDATE kc SET v = 2", "DELETE FROM kc")
	recs := pollChanges(t, task, tc, 3)
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s:%s", op(r), r.Key.(*connect.StructValue).Get("code")))
	}
	if strings.Join(got, " ") != "c:a d:a tombstone:a" {
		t.Errorf("got %v", got)
	}
	if f := recs[0].KeySchema.Fields; len(f) != 1 || f[0].Name != "code" || f[0].Schema.Optional {
		t.Errorf("key schema %+v", f)
	}
	_, err := parseConf(config(db, "message.key.columns", "nocolon"))
	if err == nil || !strings.Contains(err.Error(), "message.key.columns") {
		t.Errorf("bad message.key.columns: %v", err)
	}
}

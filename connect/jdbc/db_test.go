package jdbc

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
)

// testDB is a scratch database on one of the machine's servers: a schema of
// database test on PostgreSQL, a database on MariaDB. It is dropped when the
// test ends.
type testDB struct {
	name string // "postgres" or "mariadb"
	d    dialect
	url  string // connection.url for the sink
	db   *sql.DB
	ns   string // schema (PostgreSQL) or database (MariaDB) name
}

const (
	pgURL    = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"
	mysqlURL = "jdbc:mariadb://127.0.0.1:3306/test?user=root"
)

// eachDB runs f against a fresh PostgreSQL schema and a fresh MariaDB
// database, as subtests.
func eachDB(t *testing.T, f func(t *testing.T, db *testDB)) {
	t.Helper()
	for _, name := range []string{"postgres", "mariadb"} {
		t.Run(name, func(t *testing.T) {
			f(t, newTestDB(t, name))
		})
	}
}

func newTestDB(t testing.TB, name string) *testDB {
	t.Helper()
	ns := fmt.Sprintf("jdbc_sink_%d_%d", time.Now().UnixNano()%1e9, rand.IntN(1e6))
	raw := pgURL
	if name == "mariadb" {
		raw = mysqlURL
	}
	tg, err := parseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	admin, d, err := open(tg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("%s on this machine is needed for this test: %v", d, err)
	}
	tdb := &testDB{name: name, d: d, ns: ns}
	if d == postgres {
		mustExec(t, admin, "CREATE SCHEMA "+ns)
		tdb.url = pgURL + "&currentSchema=" + ns
		t.Cleanup(func() { admin.Exec("DROP SCHEMA " + ns + " CASCADE"); admin.Close() })
	} else {
		mustExec(t, admin, "CREATE DATABASE "+ns)
		tdb.url = "jdbc:mariadb://127.0.0.1:3306/" + ns + "?user=root"
		t.Cleanup(func() { admin.Exec("DROP DATABASE " + ns); admin.Close() })
	}
	tg, _ = parseURL(tdb.url)
	tdb.db, _, err = open(tg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tdb.db.Close() })
	return tdb
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rows runs q and returns each row as its columns joined by "|", NULL as
// "NULL". Queries cast what they read to text, so the comparison is on what
// the database holds.
func (tdb *testDB) rows(t testing.TB, q string) []string {
	t.Helper()
	rs, err := tdb.db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// q quotes an identifier for the test database.
func (tdb *testDB) q(s string) string { return sqlWriter{d: tdb.d, quote: true}.ident(s) }

func (tdb *testDB) wantRows(t *testing.T, q string, want ...string) {
	t.Helper()
	got := tdb.rows(t, q)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s\n got: %q\nwant: %q", q, got, want)
	}
}

// startTask starts a sink task with cfg plus the database's URL.
func startTask(t testing.TB, tdb *testDB, cfg connect.Config) *task {
	t.Helper()
	full := connect.Config{"connection.url": tdb.url, "max.retries": "0"}
	for k, v := range cfg {
		full[k] = v
	}
	p, ok := connect.Lookup("io.confluent.connect.jdbc.JdbcSinkConnector")
	if !ok {
		t.Fatal("jdbc sink not registered")
	}
	tcs, err := p.NewSink().TaskConfigs(full, 1)
	if err != nil {
		t.Fatal(err)
	}
	st := p.NewSink().NewTask()
	if err := st.Start(context.Background(), tcs[0], connectortest.NewTaskContext(t, "jdbc", 0, nil)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	return st.(*task)
}

// put hands records to the task and flushes, failing the test on any error.
func put(t testing.TB, tk *task, recs ...*connect.Record) {
	t.Helper()
	if err := tk.Put(context.Background(), recs); err != nil {
		if re, ok := err.(*connect.RecordError); ok {
			for r, e := range re.Failed {
				t.Errorf("record at offset %d: %v", r.Offset, e)
			}
		}
		t.Fatalf("put: %v", err)
	}
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Schemas and records used across tests.
var (
	keySchema = &connect.Schema{Type: connect.Struct, Name: "Key", Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
	}}
	userSchema = &connect.Schema{Type: connect.Struct, Name: "User", Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "name", Schema: &connect.Schema{Type: connect.String}},
		{Name: "score", Schema: &connect.Schema{Type: connect.Float64, Optional: true}},
	}}
)

var offsets atomic.Int64

// user is a record of topic with key {id} and value {id, name, score}.
func user(topic string, id int32, name string, score any) *connect.Record {
	return &connect.Record{
		Topic: topic, Partition: 0, Offset: offsets.Add(1),
		Key: connect.NewStruct(keySchema).Put("id", id), KeySchema: keySchema,
		Value:       connect.NewStruct(userSchema).Put("id", id).Put("name", name).Put("score", score),
		ValueSchema: userSchema,
	}
}

func tombstone(topic string, id int32) *connect.Record {
	return &connect.Record{Topic: topic, Offset: offsets.Add(1),
		Key: connect.NewStruct(keySchema).Put("id", id), KeySchema: keySchema}
}

func testContext(t *testing.T) connect.TaskContext {
	return connectortest.NewTaskContext(t, "jdbc", 0, nil)
}

package compat

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// End-to-end CDC migration tests: a real `sluice dev` process runs a CDC
// source and jdbc-sink between the local PostgreSQL 15 (127.0.0.1:5432,
// trust auth, wal_level=logical) and MariaDB 10.11 (127.0.0.1:3306, root);
// .ci/services.sh sets both up; SLUICE_TEST_PG_PORT names another
// PostgreSQL port. Each test works in its own PostgreSQL schema, MariaDB
// database, slot and publication, dropped at the end.

const mariaAdminDSN = "root@tcp(127.0.0.1:3306)/"

var (
	pgPort     = cmp.Or(os.Getenv("SLUICE_TEST_PG_PORT"), "5432")
	pgAdminDSN = "host=127.0.0.1 port=" + pgPort + " user=postgres dbname=test sslmode=disable"
)

var jsonConverters = map[string]any{
	"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
	"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
	"key.converter.schemas.enable":   "true",
	"value.converter.schemas.enable": "true",
}

func withJSON(cfg map[string]any) map[string]any {
	for k, v := range jsonConverters {
		cfg[k] = v
	}
	return cfg
}

func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	ctx := testCtx(t, 10*time.Second)
	if err := db.PingContext(ctx); err != nil {
		missing(t, "%s on this machine (run .ci/services.sh): %v", driver, err)
	}
	return db
}

func mustExecDB(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// pgEnv is a fresh PostgreSQL schema with a slot and publication name for
// one test; all three are dropped at the end (also on failure).
type pgEnv struct {
	db     *sql.DB
	schema string
	slot   string
	pub    string
}

func newPGEnv(t *testing.T) *pgEnv {
	t.Helper()
	db := openDB(t, "pgx", pgAdminDSN)
	sfx := fmt.Sprintf("%08x", rand.Uint32())
	e := &pgEnv{db: db, schema: "e2e_" + sfx, slot: "sluice_e2e_" + sfx, pub: "sluice_e2e_" + sfx}
	mustExecDB(t, db, "CREATE SCHEMA "+e.schema)
	t.Cleanup(func() {
		dropSlotSQL(t, db, e.slot)
		_, _ = db.Exec("DROP PUBLICATION IF EXISTS " + e.pub)
		_, _ = db.Exec("DROP SCHEMA " + e.schema + " CASCADE")
		_ = db.Close()
	})
	return e
}

// dropSlotSQL drops a replication slot, first ending the walsender of a
// killed Sluice if the server still thinks it is active.
func dropSlotSQL(t *testing.T, db *sql.DB, slot string) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		var active bool
		if err := db.QueryRow("SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active); err != nil {
			return // gone (or never created)
		}
		if !active {
			if _, err := db.Exec("SELECT pg_drop_replication_slot($1)", slot); err == nil {
				return
			}
		} else {
			_, _ = db.Exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active", slot)
		}
		if time.Now().After(deadline) {
			t.Errorf("replication slot %s could not be dropped: drop it by hand", slot)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newMariaDB creates an empty MariaDB database, dropped at the end, and
// returns a connection to it.
func newMariaDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	admin := openDB(t, "mysql", mariaAdminDSN)
	name := fmt.Sprintf("e2e_%08x", rand.Uint32())
	mustExecDB(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE IF EXISTS " + name); _ = admin.Close() })
	db := openDB(t, "mysql", "root@tcp(127.0.0.1:3306)/"+name)
	t.Cleanup(func() { _ = db.Close() })
	return db, name
}

// migTable is one table of the migration: how to read it on each side so
// that equal data gives equal text.
//
// Normalisation (type-aware, per column), chosen so that only a real data
// difference shows:
//   - NUMERIC(p,s) -> DECIMAL(65,s): both print s decimals, compared as text;
//   - DOUBLE / REAL -> DOUBLE / FLOAT: values are multiples of 1/4 (exact in
//     binary), both print their shortest form;
//   - BOOLEAN -> TINYINT(1): read as 0/1 on both sides;
//   - TIMESTAMP(6) -> DATETIME(6): formatted with all six fractional digits on
//     both sides (PostgreSQL drops trailing zeros by default);
//   - DATE: YYYY-MM-DD on both sides;
//   - UUID -> CHAR(36): PostgreSQL's lower-case text form;
//   - NULL -> "NULL" on both sides.
type migTable struct {
	name     string
	srcDDL   string // CREATE TABLE at the source, $S is the schema or database
	pgSelect string // columns read on PostgreSQL
	mySelect string // the same columns read on MariaDB
}

var pgToMariaTables = []migTable{
	{
		name:     "accounts",
		srcDDL:   "CREATE TABLE $S.accounts (id bigint PRIMARY KEY, name text NOT NULL, balance numeric(12,2), active boolean, updated timestamp(6))",
		pgSelect: "id::text, name, balance::text, active::int::text, to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US')",
		mySelect: "id, name, balance, active, DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f')",
	},
	{
		name:     "items",
		srcDDL:   "CREATE TABLE $S.items (sku varchar(40) PRIMARY KEY, qty integer NOT NULL, price double precision, note text)",
		pgSelect: "sku, qty::text, price::text, note",
		mySelect: "sku, qty, price, note",
	},
	{
		name:     "order_lines",
		srcDDL:   "CREATE TABLE $S.order_lines (order_id integer, line smallint, amount numeric(10,2) NOT NULL, created date, PRIMARY KEY (order_id, line))",
		pgSelect: "order_id::text, line::text, amount::text, to_char(created, 'YYYY-MM-DD')",
		mySelect: "order_id, line, amount, DATE_FORMAT(created, '%Y-%m-%d')",
	},
	{
		name:     "tags",
		srcDDL:   "CREATE TABLE $S.tags (id uuid PRIMARY KEY, label text, score real, hits smallint)",
		pgSelect: "id::text, label, score::text, hits::text",
		mySelect: "id, label, score, hits",
	},
}

// readRows reads q and returns each row as its columns joined by "|", NULL
// as "NULL", sorted.
func readRows(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	slices.Sort(out)
	return out, nil
}

// diffRows describes how got differs from want (sorted inputs), briefly.
func diffRows(want, got []string) string {
	var missingRows, extra []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			missingRows = append(missingRows, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	first := func(s []string) []string { return s[:min(len(s), 5)] }
	return fmt.Sprintf("%d rows missing or different at the target (first: %q), %d extra or different (first: %q)",
		len(missingRows), first(missingRows), len(extra), first(extra))
}

// waitTablesEqual polls until every table reads the same on both sides.
func waitTablesEqual(t *testing.T, b *broker, src, dst *sql.DB, srcQ, dstQ func(migTable) string, tables []migTable, timeout time.Duration) {
	t.Helper()
	ctx := testCtx(t, timeout+10*time.Second)
	deadline := time.Now().Add(timeout)
	for {
		var diffs []string
		for _, tb := range tables {
			want, err := readRows(ctx, src, srcQ(tb))
			if err != nil {
				t.Fatalf("source %s: %v", tb.name, err)
			}
			got, err := readRows(ctx, dst, dstQ(tb))
			if err != nil {
				// The sink creates the table with the first record.
				diffs = append(diffs, fmt.Sprintf("%s: %v", tb.name, err))
				continue
			}
			if !slices.Equal(want, got) {
				diffs = append(diffs, fmt.Sprintf("%s (%d rows at the source, %d at the target): %s", tb.name, len(want), len(got), diffRows(want, got)))
			}
		}
		if len(diffs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("target has not caught up after %v:\n%s\nconnectors: %v", timeout, strings.Join(diffs, "\n"),
				connectCall(t, b, "GET", "/connectors?expand=status", nil, 200))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitRunning polls a connector's status until the connector and all its
// tasks are RUNNING; a FAILED state fails the test at once with its trace.
func waitRunning(t *testing.T, b *broker, name string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, code := connectStatus(t, b, name)
		if code == 200 {
			if tr := failedTrace(st); tr != "" {
				t.Fatalf("connector %s FAILED: %s", name, tr)
			}
			if running(st) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("connector %s not RUNNING after %v: %d %v", name, timeout, code, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connectStatus reads /connectors/{name}/status without requiring a status
// code: right after a restart the runtime may not know the connector yet.
func connectStatus(t *testing.T, b *broker, name string) (map[string]any, int) {
	t.Helper()
	resp, err := http.Get("http://" + b.connectAddr + "/connectors/" + name + "/status")
	if err != nil {
		return nil, 0
	}
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, resp.StatusCode
	}
	return st, resp.StatusCode
}

// failedTrace returns the trace of a FAILED connector or task, or "".
func failedTrace(st map[string]any) string {
	if c, ok := st["connector"].(map[string]any); ok && c["state"] == "FAILED" {
		tr, _ := c["trace"].(string)
		return "connector: " + tr
	}
	tasks, _ := st["tasks"].([]any)
	for _, tk := range tasks {
		if m, ok := tk.(map[string]any); ok && m["state"] == "FAILED" {
			tr, _ := m["trace"].(string)
			return fmt.Sprintf("task %v: %s", m["id"], tr)
		}
	}
	return ""
}

// workload runs writers goroutines of random inserts, updates, deletes,
// primary-key changes and multi-table transactions against PostgreSQL until
// stop is closed, paced so that the sink has a steady stream to follow.
// ops counts committed statements or transactions.
type workload struct {
	db     *sql.DB
	schema string // PostgreSQL schema or MariaDB database
	mysql  bool   // the source is MariaDB: rewrite the statements
	ops    atomic.Int64
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

// Errors the workload expects from concurrent writers on the same keys.
func benignPGError(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1062, 1213, 1205: // duplicate key, deadlock, lock wait timeout
			return true
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", "40P01", "40001": // unique violation, deadlock, serialization failure
			return true
		}
	}
	return false
}

func (w *workload) run(writers int) {
	w.stop = make(chan struct{})
	for g := range writers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			tick := time.NewTicker(4 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-w.stop:
					return
				case <-tick.C:
				}
				if err := w.step(r); err != nil && !benignPGError(err) {
					w.mu.Lock()
					w.err = errors.Join(w.err, err)
					w.mu.Unlock()
					return
				}
				w.ops.Add(1)
			}
		}()
	}
}

func (w *workload) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	if w.err != nil {
		t.Fatalf("workload: %v", w.err)
	}
}

// waitOps waits until the workload has done n more operations.
func (w *workload) waitOps(t *testing.T, n int64) {
	t.Helper()
	target := w.ops.Load() + n
	deadline := time.Now().Add(30 * time.Second)
	for w.ops.Load() < target {
		w.mu.Lock()
		err := w.err
		w.mu.Unlock()
		if err != nil {
			t.Fatalf("workload: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("workload did %d operations, want %d", w.ops.Load(), target)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const keySpace = 150 // keys per table, small so updates and deletes hit rows

func uuidOf(k int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", k) }

func randTS(r *rand.Rand) time.Time {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(365*24*3600*1e6)) * time.Microsecond)
}

var (
	pgParam    = regexp.MustCompile(`\$[0-9]+`)
	onConflict = regexp.MustCompile(`ON CONFLICT \([^)]*\) DO UPDATE SET`)
	excluded   = regexp.MustCompile(`excluded\.(\w+)`)
)

// sql turns a statement written for PostgreSQL ($S for the schema, $n
// parameters in order, ON CONFLICT) into the source's dialect.
func (w *workload) sql(q string) string {
	q = strings.ReplaceAll(q, "$S", w.schema)
	if w.mysql {
		q = pgParam.ReplaceAllString(q, "?")
		q = onConflict.ReplaceAllString(q, "ON DUPLICATE KEY UPDATE")
		q = excluded.ReplaceAllString(q, "VALUES($1)")
	}
	return q
}

func (w *workload) exec(q string, args ...any) error {
	_, err := w.db.Exec(w.sql(q), args...)
	return err
}

// seed writes the rows the snapshot reads.
func (w *workload) seed(t *testing.T, r *rand.Rand) {
	t.Helper()
	for k := range keySpace / 2 {
		for _, f := range []func(*rand.Rand, int) error{w.upsertAccount, w.upsertItem, w.upsertLine, w.upsertTag} {
			if err := f(r, k); err != nil {
				t.Fatalf("seed: %v", err)
			}
		}
	}
}

func (w *workload) upsertAccount(r *rand.Rand, k int) error {
	var active any = r.IntN(2) == 0
	if r.IntN(10) == 0 {
		active = nil
	}
	return w.exec(`INSERT INTO $S.accounts VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, balance = excluded.balance, active = excluded.active, updated = excluded.updated`,
		int64(k)*1_000_000_007, fmt.Sprintf("acct %d é'\"", k), fmt.Sprintf("%d.%02d", r.IntN(100000), r.IntN(100)), active, randTS(r))
}

func (w *workload) upsertItem(r *rand.Rand, k int) error {
	var note any = strings.Repeat("n", r.IntN(40))
	if r.IntN(4) == 0 {
		note = nil
	}
	return w.exec(`INSERT INTO $S.items VALUES ($1, $2, $3, $4)
		ON CONFLICT (sku) DO UPDATE SET qty = excluded.qty, price = excluded.price, note = excluded.note`,
		fmt.Sprintf("SKU-%04d", k), r.IntN(1000)-100, float64(r.IntN(40000))/4, note)
}

func (w *workload) upsertLine(r *rand.Rand, k int) error {
	return w.exec(`INSERT INTO $S.order_lines VALUES ($1, $2, $3, $4)
		ON CONFLICT (order_id, line) DO UPDATE SET amount = excluded.amount, created = excluded.created`,
		k/5, k%5, fmt.Sprintf("%d.%02d", r.IntN(10000), r.IntN(100)), randTS(r).Format("2006-01-02"))
}

func (w *workload) upsertTag(r *rand.Rand, k int) error {
	return w.exec(`INSERT INTO $S.tags VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET label = excluded.label, score = excluded.score, hits = excluded.hits`,
		uuidOf(k), fmt.Sprintf("tag-%d", r.IntN(1000)), float32(r.IntN(4000))/4, r.IntN(30000))
}

func (w *workload) step(r *rand.Rand) error {
	k := r.IntN(keySpace)
	switch op := r.IntN(16); op {
	case 0, 1:
		return w.upsertAccount(r, k)
	case 2:
		return w.upsertItem(r, k)
	case 3:
		return w.upsertLine(r, k)
	case 4:
		return w.upsertTag(r, k)
	case 5:
		return w.exec("UPDATE $S.accounts SET balance = balance + 1.25, updated = $1 WHERE id = $2", randTS(r), int64(k)*1_000_000_007)
	case 6:
		return w.exec("UPDATE $S.items SET qty = qty + 1, note = NULL WHERE sku = $1", fmt.Sprintf("SKU-%04d", k))
	case 7:
		return w.exec("UPDATE $S.order_lines SET amount = amount + 1.10 WHERE order_id = $1", k/5)
	case 8:
		return w.exec("UPDATE $S.tags SET hits = (hits + 7) % 30000, score = score + 0.5 WHERE id = $1", uuidOf(k))
	case 9:
		return w.exec("DELETE FROM $S.accounts WHERE id = $1", int64(k)*1_000_000_007)
	case 10:
		return w.exec("DELETE FROM $S.items WHERE sku = $1", fmt.Sprintf("SKU-%04d", k))
	case 11:
		return w.exec("DELETE FROM $S.order_lines WHERE order_id = $1 AND line = $2", k/5, k%5)
	case 12:
		return w.exec("DELETE FROM $S.tags WHERE id = $1", uuidOf(k))
	case 13:
		// Primary-key change: Debezium emits a delete of the old key and a
		// create of the new one.
		return w.exec("UPDATE $S.items SET sku = $1 WHERE sku = $2", fmt.Sprintf("SKU-%04d", r.IntN(keySpace)), fmt.Sprintf("SKU-%04d", k))
	case 14:
		// Composite-key change.
		return w.exec("UPDATE $S.order_lines SET line = $1 WHERE order_id = $2 AND line = $3", 5+r.IntN(5), k/5, k%5)
	default:
		// A transaction over three tables, sometimes rolled back.
		tx, err := w.db.Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		id := int64(k) * 1_000_000_007
		for _, st := range []struct {
			q    string
			args []any
		}{
			{"UPDATE $S.accounts SET balance = balance - 2.50 WHERE id = $1", []any{id}},
			{"INSERT INTO $S.order_lines VALUES ($1, 9, 2.50, '2024-06-30') ON CONFLICT (order_id, line) DO UPDATE SET amount = $S.order_lines.amount + 2.50", []any{k / 5}},
			{"DELETE FROM $S.tags WHERE id = $1", []any{uuidOf(k)}},
		} {
			if _, err := tx.Exec(w.sql(st.q), st.args...); err != nil {
				return err
			}
		}
		if r.IntN(5) == 0 {
			return tx.Rollback()
		}
		return tx.Commit()
	}
}

// migration is one direction of a CDC migration through one `sluice dev`.
type migration struct {
	w          *workload // writes to the source
	dst        *sql.DB
	tables     []migTable
	srcQ, dstQ func(migTable) string
	source     map[string]any // connector configs, without converters
	sink       map[string]any
}

// run registers the source and the sink through the REST API, runs the
// workload with two kill -9 and restarts of Sluice in the middle, and
// requires every target table to equal its source table at the end.
func (m *migration) run(t *testing.T) {
	t.Helper()
	began := time.Now()
	m.w.seed(t, rand.New(rand.NewPCG(1, 2)))

	b := startFull(t)
	connectCall(t, b, "POST", "/connectors", map[string]any{"name": "source", "config": withJSON(m.source)}, 201)
	connectCall(t, b, "POST", "/connectors", map[string]any{"name": "sink", "config": withJSON(m.sink)}, 201)
	waitRunning(t, b, "source", 30*time.Second)
	waitRunning(t, b, "sink", 30*time.Second)

	m.w.run(4)
	stopped := false
	defer func() {
		if !stopped {
			close(m.w.stop)
			m.w.wg.Wait()
		}
	}()
	for range 2 {
		m.w.waitOps(t, 300)
		b.kill()
		m.w.waitOps(t, 50) // changes made while Sluice is down
		b.start()
		waitRunning(t, b, "source", 30*time.Second)
		waitRunning(t, b, "sink", 30*time.Second)
	}
	m.w.waitOps(t, 300)
	stopped = true
	m.w.finish(t)
	t.Logf("workload: %d operations", m.w.ops.Load())

	waitTablesEqual(t, b, m.w.db, m.dst, m.srcQ, m.dstQ, m.tables, 60*time.Second)
	var counts []string
	for _, tb := range m.tables {
		rows, _ := readRows(context.Background(), m.dst, m.dstQ(tb))
		counts = append(counts, fmt.Sprintf("%s=%d", tb.name, len(rows)))
	}
	t.Logf("target rows: %s; took %v", strings.Join(counts, " "), time.Since(began).Round(time.Millisecond))
}

// PostgreSQL -> MariaDB through postgres-cdc and jdbc-sink, Sluice killed
// with SIGKILL twice while writers keep changing the source.
func TestCDCMigrationPostgresToMariaDB(t *testing.T) {
	pg := newPGEnv(t)
	maria, mariaName := newMariaDB(t)
	for _, tb := range pgToMariaTables {
		mustExecDB(t, pg.db, strings.ReplaceAll(tb.srcDDL, "$S", pg.schema))
	}
	prefix := "mig" + pg.schema[len("e2e_"):]
	var topics []string
	for _, tb := range pgToMariaTables {
		topics = append(topics, prefix+"."+pg.schema+"."+tb.name)
	}
	m := &migration{
		w:      &workload{db: pg.db, schema: pg.schema},
		dst:    maria,
		tables: pgToMariaTables,
		srcQ: func(tb migTable) string {
			return fmt.Sprintf("SELECT %s FROM %s.%s", tb.pgSelect, pg.schema, tb.name)
		},
		dstQ: func(tb migTable) string { return fmt.Sprintf("SELECT %s FROM %s", tb.mySelect, tb.name) },
		source: map[string]any{
			"connector.class":   "postgres-cdc",
			"database.hostname": "127.0.0.1", "database.port": pgPort, "database.user": "postgres", "database.dbname": "test",
			"topic.prefix": prefix, "slot.name": pg.slot, "publication.name": pg.pub,
			"publication.autocreate.mode": "filtered", "table.include.list": pg.schema + `\..*`,
		},
		sink: map[string]any{
			"connector.class": "jdbc-sink",
			"topics":          strings.Join(topics, ","),
			"connection.url":  "jdbc:mariadb://127.0.0.1:3306/" + mariaName + "?user=root",
			"insert.mode":     "upsert", "pk.mode": "record_key", "delete.enabled": "true", "auto.create": "true",
			"table.name.format": "${source.table}",
		},
	}
	m.run(t)
}

// The MariaDB source tables: the same data as pgToMariaTables in MariaDB
// types (UUIDs as CHAR(36), BOOLEAN is TINYINT(1)). The PostgreSQL side
// reads what the sink created; active::text is 'true'/'false' for a BOOLEAN
// column and '1'/'0' for a SMALLINT one, both read as 1/0.
var mariaToPGTables = []migTable{
	{
		name:     "accounts",
		srcDDL:   "CREATE TABLE $S.accounts (id bigint PRIMARY KEY, name text NOT NULL, balance decimal(12,2), active boolean, updated datetime(6))",
		mySelect: "id, name, balance, active, DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f')",
		pgSelect: "id::text, name, balance::text, CASE WHEN active IS NULL THEN NULL WHEN active::text IN ('true', '1') THEN '1' ELSE '0' END, to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US')",
	},
	{
		name:     "items",
		srcDDL:   "CREATE TABLE $S.items (sku varchar(40) PRIMARY KEY, qty integer NOT NULL, price double, note text)",
		mySelect: "sku, qty, price, note",
		pgSelect: "sku, qty::text, price::text, note",
	},
	{
		name:     "order_lines",
		srcDDL:   "CREATE TABLE $S.order_lines (order_id integer, line smallint, amount decimal(10,2) NOT NULL, created date, PRIMARY KEY (order_id, line))",
		mySelect: "order_id, line, amount, DATE_FORMAT(created, '%Y-%m-%d')",
		pgSelect: "order_id::text, line::text, amount::text, to_char(created, 'YYYY-MM-DD')",
	},
	{
		name:     "tags",
		srcDDL:   "CREATE TABLE $S.tags (id char(36) PRIMARY KEY, label text, score float, hits smallint)",
		mySelect: "id, label, score, hits",
		pgSelect: "id::text, label, score::text, hits::text",
	},
}

// MariaDB -> PostgreSQL through mysql-cdc and jdbc-sink, with the same
// workload and kills.
func TestCDCMigrationMariaDBToPostgres(t *testing.T) {
	pg := newPGEnv(t) // the target schema
	maria, mariaName := newMariaDB(t)
	for _, tb := range mariaToPGTables {
		mustExecDB(t, maria, strings.ReplaceAll(tb.srcDDL, "$S", mariaName))
	}
	prefix := "mig" + mariaName[len("e2e_"):]
	var topics []string
	for _, tb := range mariaToPGTables {
		topics = append(topics, prefix+"."+mariaName+"."+tb.name)
	}
	m := &migration{
		w:      &workload{db: maria, schema: mariaName, mysql: true},
		dst:    pg.db,
		tables: mariaToPGTables,
		srcQ:   func(tb migTable) string { return fmt.Sprintf("SELECT %s FROM %s", tb.mySelect, tb.name) },
		dstQ: func(tb migTable) string {
			return fmt.Sprintf("SELECT %s FROM %s.%s", tb.pgSelect, pg.schema, tb.name)
		},
		source: map[string]any{
			"connector.class":   "mysql-cdc",
			"database.hostname": "127.0.0.1", "database.port": "3306", "database.user": "root",
			"database.server.id":    fmt.Sprint(10000 + rand.IntN(1_000_000)),
			"topic.prefix":          prefix,
			"database.include.list": mariaName,
			"table.include.list":    mariaName + `\..*`,
		},
		sink: map[string]any{
			"connector.class": "jdbc-sink",
			"topics":          strings.Join(topics, ","),
			"connection.url":  "jdbc:postgresql://127.0.0.1:" + pgPort + "/test?user=postgres&currentSchema=" + pg.schema,
			"insert.mode":     "upsert", "pk.mode": "record_key", "delete.enabled": "true", "auto.create": "true",
			"table.name.format": "${source.table}",
		},
	}
	m.run(t)
}

// waitFailed polls a connector's status until it or a task is FAILED and
// returns the trace.
func waitFailed(t *testing.T, b *broker, name string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, code := connectStatus(t, b, name)
		if code == 200 {
			if tr := failedTrace(st); tr != "" {
				return tr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("connector %s not FAILED after 30s: %d %v", name, code, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Bad settings given through the REST API end in a FAILED status whose
// trace says what is wrong, and the process keeps serving.
func TestCDCBadConfigFails(t *testing.T) {
	pg := newPGEnv(t)
	sfx := pg.schema[len("e2e_"):]
	role := "e2e_noselect_" + sfx
	mustExecDB(t, pg.db, "CREATE TABLE "+pg.schema+".secret (id int PRIMARY KEY, v text)")
	mustExecDB(t, pg.db, "CREATE ROLE "+role+" LOGIN REPLICATION PASSWORD 'pw'")
	t.Cleanup(func() {
		// DROP OWNED also revokes the role's grants, which DROP ROLE needs.
		_, _ = pg.db.Exec("DROP OWNED BY " + role)
		if _, err := pg.db.Exec("DROP ROLE IF EXISTS " + role); err != nil {
			t.Errorf("drop role %s: %v", role, err)
		}
	})
	mustExecDB(t, pg.db, "GRANT USAGE ON SCHEMA "+pg.schema+" TO "+role)
	// The publication exists already (creating one FOR TABLE needs the
	// table's owner): what the role lacks is only SELECT on the table.
	mustExecDB(t, pg.db, "CREATE PUBLICATION "+pg.pub+" FOR TABLE "+pg.schema+".secret")

	maria := openDB(t, "mysql", mariaAdminDSN)
	user := "e2e_pw_" + sfx
	mustExecDB(t, maria, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'right-password'")
	t.Cleanup(func() { _, _ = maria.Exec("DROP USER IF EXISTS '" + user + "'@'%'"); _ = maria.Close() })
	mustExecDB(t, maria, "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '"+user+"'@'%'")

	b := startFull(t)
	pgSource := func(user string) map[string]any {
		return withJSON(map[string]any{
			"connector.class":   "postgres-cdc",
			"database.hostname": "127.0.0.1", "database.port": pgPort, "database.user": user, "database.password": "pw", "database.dbname": "test",
			"topic.prefix": "bad" + sfx, "slot.name": pg.slot, "publication.name": pg.pub,
			"publication.autocreate.mode": "disabled", "table.include.list": pg.schema + `\.secret`,
		})
	}
	cases := []struct {
		name   string
		config map[string]any
		want   []string // all in the trace
	}{
		{"pg-no-select", pgSource(role), []string{"no SELECT privilege", pg.schema + ".secret", "GRANT SELECT"}},
		// The local PostgreSQL trusts 127.0.0.1 (any password is accepted),
		// so a login failure is shown with a role that does not exist.
		{"pg-no-role", pgSource("e2e_missing_" + sfx), []string{"e2e_missing_" + sfx, "does not exist"}},
		{"mysql-wrong-password", withJSON(map[string]any{
			"connector.class":   "mysql-cdc",
			"database.hostname": "127.0.0.1", "database.user": user, "database.password": "wrong-password",
			"database.server.id": fmt.Sprint(10000 + rand.IntN(1_000_000)), "topic.prefix": "badmy" + sfx,
		}), []string{"Access denied", user}},
	}
	for _, tc := range cases {
		connectCall(t, b, "POST", "/connectors", map[string]any{"name": tc.name, "config": tc.config}, 201)
	}
	for _, tc := range cases {
		tr := waitFailed(t, b, tc.name)
		t.Logf("%s: %.200s", tc.name, tr)
		for _, w := range tc.want {
			if !strings.Contains(tr, w) {
				t.Errorf("%s: trace does not mention %q:\n%s", tc.name, w, tr)
			}
		}
		if strings.Contains(tr, "right-password") || strings.Contains(tr, "wrong-password") {
			t.Errorf("%s: trace shows the password:\n%s", tc.name, tr)
		}
	}
	// The process is still up and serving the REST API.
	if !b.running() {
		t.Fatalf("sluice dev exited: %v", b.exitErr())
	}
	list := connectCall(t, b, "GET", "/connectors", nil, 200).([]any)
	if len(list) != len(cases) {
		t.Errorf("GET /connectors = %v, want the %d failed connectors", list, len(cases))
	}
	connectCall(t, b, "DELETE", "/connectors/pg-no-select", nil, 204)
}

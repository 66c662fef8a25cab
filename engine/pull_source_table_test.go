package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/engine/commands"
	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

// queryIDs lists the ids SHOW QUERIES answers.
func queryIDs(t *testing.T, e *Engine) []string {
	t.Helper()
	out := run(t, e, `SHOW QUERIES;`, nil)
	var ids []string
	for _, q := range out[0].(map[string]any)["queries"].([]any) {
		ids = append(ids, q.(map[string]any)["id"].(string))
	}
	return ids
}

// CREATE SOURCE TABLE starts a hidden query (CST_<TABLE>_<n>) that reads
// the whole topic into a store: pull queries look keys up and scan it,
// updates replace and tombstones delete, a restarted engine answers from
// the restored store, and DROP TABLE ends the query and its changelog.
func TestPullQueriesOnSourceTable(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	dir := t.TempDir()
	e := startEngineIn(t, b, dir)
	// No auto.offset.reset: the query reads from the start regardless.
	run(t, e, `CREATE SOURCE TABLE USERS (ID STRING PRIMARY KEY, NAME STRING, AGE INT) WITH (KAFKA_TOPIC='users', PARTITIONS=2, VALUE_FORMAT='JSON');`, nil)
	produceKV(t, b, "users",
		"u1", `{"NAME":"ann","AGE":30}`,
		"u2", `{"NAME":"bob","AGE":40}`,
		"u3", `{"NAME":"cy","AGE":50}`,
		"u4", `{"NAME":"dee","AGE":60}`,
		"u1", `{"NAME":"ann","AGE":31}`, // an update
		"u4", "<tombstone>") // a delete

	ids := queryIDs(t, e)
	if len(ids) != 1 || !strings.HasPrefix(ids[0], "CST_USERS_") {
		t.Fatalf("SHOW QUERIES: %v, want one CST_USERS_<n>", ids)
	}
	qid := ids[0]

	waitPull(t, e, `SELECT * FROM USERS WHERE ID = 'u1';`, `["u1","ann",31]`)
	waitPull(t, e, `SELECT * FROM USERS WHERE ID = 'u4';`, ``)
	for _, tc := range []struct{ sql, want string }{
		{`SELECT NAME FROM USERS WHERE ID = 'u2';`, `["bob"]`},
		{`SELECT * FROM USERS WHERE ID = 'nope';`, ``},
		{`SELECT ID FROM USERS WHERE ID IN ('u3', 'u1', 'zz');`, `["u3"] ["u1"]`},
		{`SELECT ID FROM USERS WHERE ID = 'u1' AND AGE > 40;`, ``},
	} {
		if got, err := pull(t, e, tc.sql, nil); err != nil || got != tc.want {
			t.Errorf("%s\n got %q (err %v)\nwant %q", tc.sql, got, err, tc.want)
		}
	}
	scan := func(e *Engine, sql string) string {
		got, err := pull(t, e, sql, nil)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		rows := strings.Fields(got)
		sortStrings(rows)
		return strings.Join(rows, " ")
	}
	if got := scan(e, `SELECT ID FROM USERS;`); got != `["u1"] ["u2"] ["u3"]` {
		t.Errorf("scan: %s", got)
	}
	if got := scan(e, `SELECT ID FROM USERS WHERE AGE >= 40;`); got != `["u2"] ["u3"]` {
		t.Errorf("scan with WHERE: %s", got)
	}
	if got := strings.Fields(scan(e, `SELECT ID FROM USERS LIMIT 2;`)); len(got) != 2 {
		t.Errorf("LIMIT 2: %v", got)
	}
	changelog := "_confluent-ksql-default_query_" + qid + "-Materialize-changelog"
	if !e.topicExists(t, changelog) {
		t.Fatalf("no changelog topic %s", changelog)
	}
	e.Close()

	// Restarted with no new input, the same query answers from its
	// restored store; later records still arrive.
	e2 := startEngineIn(t, b, dir)
	defer e2.Close()
	if ids := queryIDs(t, e2); len(ids) != 1 || ids[0] != qid {
		t.Errorf("SHOW QUERIES after restart: %v, want [%s]", ids, qid)
	}
	waitPull(t, e2, `SELECT ID, AGE FROM USERS WHERE ID IN ('u1', 'u2', 'u4');`, `["u1",31] ["u2",40]`)
	produceKV(t, b, "users", "u2", "<tombstone>", "u5", `{"NAME":"eve","AGE":20}`)
	waitPull(t, e2, `SELECT ID FROM USERS WHERE ID IN ('u2', 'u5');`, `["u5"]`)

	// DROP TABLE ends the query with the table, and its changelog.
	run(t, e2, `DROP TABLE USERS;`, nil)
	if ids := queryIDs(t, e2); len(ids) != 0 {
		t.Errorf("SHOW QUERIES after DROP: %v", ids)
	}
	if e2.topicExists(t, changelog) {
		t.Errorf("changelog %s survived DROP TABLE", changelog)
	}
	if _, err := osStat(dir + "/" + qid); err == nil {
		t.Errorf("local state of %s survived DROP TABLE", qid)
	}
	e2.mu.Lock()
	running := e2.running[qid] != nil
	e2.mu.Unlock()
	if running {
		t.Errorf("%s still running after DROP TABLE", qid)
	}
	if _, err := pull(t, e2, `SELECT * FROM USERS WHERE ID = 'u1';`, nil); err == nil {
		t.Errorf("pull query on a dropped table answered")
	}
}

// A plain CREATE TABLE over a topic is still not queryable, in ksqlDB's
// words, while a source table over the same topic is; its query is not
// ended by TERMINATE.
func TestSourceTableQueryAndPlainTable(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	dir := t.TempDir()
	e := startEngineIn(t, b, dir)
	run(t, e, `CREATE TABLE T (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `CREATE SOURCE TABLE S (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');`, nil)
	want := "The `T` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_T AS SELECT * FROM T'."
	if _, err := pull(t, e, `SELECT * FROM T WHERE ID = 'x';`, nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("plain table: got %v, want %q", err, want)
	}
	if ids := queryIDs(t, e); len(ids) != 1 || !strings.HasPrefix(ids[0], "CST_S_") {
		t.Errorf("SHOW QUERIES: %v, want only CST_S_<n>", ids)
	}
	produceKV(t, b, "t", "k", `{"V":7}`)
	waitPull(t, e, `SELECT V FROM S WHERE ID = 'k';`, `[7]`)

	// Only DROP TABLE ends a source table's query: TERMINATE refuses it
	// (ksqlDB's message) and TERMINATE ALL leaves it running.
	cst := queryIDs(t, e)[0]
	_, err := e.Execute(context.Background(), &rest.Request{KSQL: `TERMINATE ` + cst + `;`})
	if want := "Cannot terminate query '" + cst + "' because it is linked to a source table."; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("TERMINATE %s: got %v, want %q", cst, err, want)
	}
	run(t, e, `CREATE TABLE Q AS SELECT * FROM T;`, nil)
	run(t, e, `TERMINATE ALL;`, nil)
	if ids := queryIDs(t, e); len(ids) != 1 || ids[0] != cst {
		t.Errorf("SHOW QUERIES after TERMINATE ALL: %v, want [%s]", ids, cst)
	}
	produceKV(t, b, "t", "k", `{"V":8}`)
	waitPull(t, e, `SELECT V FROM S WHERE ID = 'k';`, `[8]`)
	e.Close()

	// Replaying the command log after TERMINATE ALL restarts it too.
	e2 := startEngineIn(t, b, dir)
	defer e2.Close()
	if ids := queryIDs(t, e2); len(ids) != 1 || ids[0] != cst {
		t.Errorf("SHOW QUERIES after restart: %v, want [%s]", ids, cst)
	}
	waitPull(t, e2, `SELECT V FROM S WHERE ID = 'k';`, `[8]`)
	e2.mu.Lock()
	running := len(e2.running)
	e2.mu.Unlock()
	if running != 1 {
		t.Errorf("%d queries running after restart, want 1 (%s)", running, cst)
	}
}

// CREATE OR REPLACE SOURCE TABLE over a source table is refused (ksqlDB's
// message) and not logged: one CST query keeps running, also after a
// restart. A command log of an older version, where the replacement started
// a second CST query, replays to the first version and its one query.
func TestCreateOrReplaceSourceTableKeepsOneQuery(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	dir := t.TempDir()
	e := startEngineIn(t, b, dir)
	create := `CREATE SOURCE TABLE USERS (ID STRING PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='users', PARTITIONS=1, VALUE_FORMAT='JSON');`
	replace := `CREATE OR REPLACE SOURCE TABLE USERS (ID STRING PRIMARY KEY, NAME STRING, AGE INT) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');`
	run(t, e, create, nil)
	produceKV(t, b, "users", "u1", `{"NAME":"ann","AGE":30}`)
	ids := queryIDs(t, e)
	if len(ids) != 1 || !strings.HasPrefix(ids[0], "CST_USERS_") {
		t.Fatalf("SHOW QUERIES: %v, want one CST_USERS_<n>", ids)
	}
	cst := ids[0]
	want := "Cannot add table 'USERS': CREATE OR REPLACE is not supported on source tables."
	for _, sql := range []string{replace,
		`CREATE OR REPLACE TABLE USERS (ID STRING PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');`} {
		if _, err := e.Execute(context.Background(), &rest.Request{KSQL: sql}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s\n got %v\nwant %q", sql, err, want)
		}
	}
	if ids := runningIDs(e); len(ids) != 1 || ids[0] != cst {
		t.Fatalf("running after refused replacements: %v, want [%s]", ids, cst)
	}
	waitPull(t, e, `SELECT * FROM USERS WHERE ID = 'u1';`, `["u1","ann"]`)
	// What an older version logged: the replacement, accepted.
	if _, err := e.cmds.Append(context.Background(), "table/`USERS`/create", commands.Command{Statement: replace}); err != nil {
		t.Fatal(err)
	}
	e.Close()

	e2 := startEngineIn(t, b, dir)
	defer e2.Close()
	if ids := runningIDs(e2); len(ids) != 1 || ids[0] != cst {
		t.Fatalf("running after restart: %v, want [%s]", ids, cst)
	}
	if ids := queryIDs(t, e2); len(ids) != 1 || ids[0] != cst {
		t.Errorf("SHOW QUERIES after restart: %v, want [%s]", ids, cst)
	}
	produceKV(t, b, "users", "u2", `{"NAME":"bob","AGE":40}`)
	waitPull(t, e2, `SELECT * FROM USERS WHERE ID IN ('u1', 'u2');`, `["u1","ann"] ["u2","bob"]`)
	run(t, e2, `DROP TABLE USERS;`, nil)
	if ids := runningIDs(e2); len(ids) != 0 {
		t.Errorf("running after DROP: %v", ids)
	}
}

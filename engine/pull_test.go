package engine

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

func startEngineIn(t *testing.T, b *testkit.Broker, stateDir string) *Engine {
	t.Helper()
	e, err := Start(context.Background(), Config{Brokers: []string{b.Addr()}, Metrics: testMetrics, StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// pull runs a pull query and returns its rows joined by spaces, or the
// error's message.
func pull(t *testing.T, e *Engine, sql string, props map[string]any) (string, error) {
	t.Helper()
	st, err := e.Query(context.Background(), &rest.Request{KSQL: sql, StreamsProperties: props})
	if err != nil {
		return "", err
	}
	defer st.Close()
	var rows []string
	for r := range st.Rows {
		rows = append(rows, string(r))
	}
	return strings.Join(rows, " "), st.Err()
}

// waitPull repeats a pull query until it answers want (the materializing
// query catches up asynchronously).
func waitPull(t *testing.T, e *Engine, sql, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := pull(t, e, sql, nil)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s\n got %q (err %v)\nwant %q", sql, got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func produceKV(t *testing.T, b *testkit.Broker, topic string, kvs ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < len(kvs); i += 2 {
		r := &kgo.Record{Topic: topic, Key: []byte(kvs[i])}
		if kvs[i+1] != "<tombstone>" {
			r.Value = []byte(kvs[i+1])
		}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// Pull queries on a CTAS table: key lookups, IN lists, scans with WHERE on
// value columns, LIMIT, deletes by tombstone; answered again after a
// restart from the restored state, with no new input.
func TestPullQueriesOnMaterializedTable(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	dir := t.TempDir()
	e := startEngineIn(t, b, dir)
	earliest := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE TABLE ACCOUNTS (ID STRING PRIMARY KEY, OWNER STRING, BALANCE INT) WITH (KAFKA_TOPIC='accounts', PARTITIONS=2, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `CREATE TABLE BALANCES AS SELECT ID, OWNER, BALANCE * 10 AS CENTS FROM ACCOUNTS;`, earliest)
	produceKV(t, b, "accounts",
		"a1", `{"OWNER":"ann","BALANCE":1}`,
		"a2", `{"OWNER":"bob","BALANCE":2}`,
		"a3", `{"OWNER":"cy","BALANCE":3}`,
		"a4", `{"OWNER":"dee","BALANCE":4}`,
		"a1", `{"OWNER":"ann","BALANCE":5}`, // an update
		"a4", "<tombstone>") // a delete

	waitPull(t, e, `SELECT * FROM BALANCES WHERE ID = 'a1';`, `["a1","ann",50]`)
	for _, tc := range []struct{ sql, want string }{
		{`SELECT OWNER, CENTS FROM BALANCES WHERE ID = 'a2';`, `["bob",20]`},
		{`SELECT * FROM BALANCES WHERE ID = 'a4';`, ``},   // deleted
		{`SELECT * FROM BALANCES WHERE ID = 'nope';`, ``}, // never there
		{`SELECT ID FROM BALANCES WHERE ID IN ('a3', 'a1', 'zz');`, `["a3"] ["a1"]`},
		{`SELECT ID FROM BALANCES WHERE ID = 'a1' AND CENTS > 100;`, ``}, // the rest of the WHERE still filters
	} {
		if got, err := pull(t, e, tc.sql, nil); err != nil || got != tc.want {
			t.Errorf("%s\n got %q (err %v)\nwant %q", tc.sql, got, err, tc.want)
		}
	}
	// Scans: order follows the stores, so compare sets.
	scan := func(sql string) []string {
		got, err := pull(t, e, sql, nil)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		rows := strings.Fields(got)
		sortStrings(rows)
		return rows
	}
	if got := strings.Join(scan(`SELECT ID FROM BALANCES;`), " "); got != `["a1"] ["a2"] ["a3"]` {
		t.Errorf("scan: %s", got)
	}
	if got := strings.Join(scan(`SELECT ID FROM BALANCES WHERE CENTS >= 30;`), " "); got != `["a1"] ["a3"]` {
		t.Errorf("scan with WHERE: %s", got)
	}
	if got := scan(`SELECT ID FROM BALANCES LIMIT 2;`); len(got) != 2 {
		t.Errorf("LIMIT 2: %v", got)
	}
	e.Close()

	// Restarted with no new input: the stores of the assigned partitions
	// open at once and answer from the restored state.
	e2 := startEngineIn(t, b, dir)
	defer e2.Close()
	waitPull(t, e2, `SELECT ID, CENTS FROM BALANCES WHERE ID IN ('a1', 'a2', 'a4');`, `["a1",50] ["a2",20]`)
}

// ksqlDB's errors for pull queries it cannot answer.
func TestPullQueryErrors(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	e := startEngineIn(t, b, t.TempDir())
	defer e.Close()
	run(t, e, `CREATE TABLE T (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `CREATE TABLE Q AS SELECT * FROM T;`, nil)
	for _, tc := range []struct {
		sql   string
		props map[string]any
		want  string
	}{
		{`SELECT * FROM T WHERE ID = 'x';`, nil, "The `T` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_T AS SELECT * FROM T'. See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query."},
		{`SELECT ID, COUNT(*) FROM Q GROUP BY ID;`, nil, "Pull queries don't support GROUP BY clauses."},
		{`SELECT * FROM Q WHERE ID = 'x' AND ROWOFFSET > 1;`, nil, "Pull queries don't support the following columns in WHERE clauses: ROWOFFSET"},
		{`SELECT ROWPARTITION FROM Q;`, nil, "Pull queries don't support the following columns in SELECT clauses: ROWPARTITION"},
		{`SELECT * FROM Q WHERE V = 1;`, map[string]any{"ksql.query.pull.table.scan.enabled": "false"},
			"Query requires table scan to be enabled. Table scans can be enabled by setting ksql.query.pull.table.scan.enabled=true"},
	} {
		_, err := pull(t, e, tc.sql, tc.props)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n got %v\nwant %q", tc.sql, err, tc.want)
		}
	}
	// A key lookup needs no scan.
	if _, err := pull(t, e, `SELECT * FROM Q WHERE ID = 'x';`, map[string]any{"ksql.query.pull.table.scan.enabled": "false"}); err != nil {
		t.Errorf("key lookup with scans disabled: %v", err)
	}
}

// TERMINATE deletes the query's changelog topics and local state.
func TestTerminateDeletesInternalTopics(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	dir := t.TempDir()
	e := startEngineIn(t, b, dir)
	defer e.Close()
	run(t, e, `CREATE TABLE T (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');`, nil)
	out := run(t, e, `CREATE TABLE Q AS SELECT * FROM T;`, map[string]any{"auto.offset.reset": "earliest"})
	qid := out[0].(map[string]any)["commandStatus"].(map[string]any)["queryId"].(string)
	produceKV(t, b, "t", "k", `{"V":1}`)
	waitPull(t, e, `SELECT V FROM Q WHERE ID = 'k';`, `[1]`)
	changelog := "_confluent-ksql-default_query_" + qid + "-Materialize-changelog"
	if !e.topicExists(t, changelog) {
		t.Fatalf("no changelog topic %s", changelog)
	}
	run(t, e, `TERMINATE `+qid+`;`, nil)
	if e.topicExists(t, changelog) {
		t.Errorf("changelog %s survived TERMINATE", changelog)
	}
	if _, err := osStat(dir + "/" + qid); err == nil {
		t.Errorf("local state of %s survived TERMINATE", qid)
	}
}

// topicExists asks the broker through a new client (franz-go serves
// metadata requests from a recent cache).
func (e *Engine) topicExists(t *testing.T, name string) bool {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopicsWithInternal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return td.Has(name)
}

func sortStrings(s []string) { sort.Strings(s) }

var osStat = os.Stat

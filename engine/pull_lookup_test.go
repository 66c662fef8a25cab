package engine

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

// answer is a pull query's stream as the REST handlers write it, with the
// query id's sequence number blanked (every query gets its own).
func answer(t *testing.T, st *rest.Stream) string {
	t.Helper()
	defer st.Close()
	var rows []string
	for r := range st.Rows {
		rows = append(rows, string(r))
	}
	id := regexp.MustCompile(`_\d+$`).ReplaceAllString(st.QueryID, "_N")
	return fmt.Sprintf("%s %q %q %s err=%v limit=%v complete=%v", id, st.ColumnNames, st.ColumnTypes,
		strings.Join(rows, " "), st.Err(), st.LimitReached(), st.Complete)
}

// TestKeyLookupFastPath: key lookups answered from a prepared plan give
// what the general path (parse, plan, WHERE) gives, over keys that exist,
// do not, or need quoting, on a KAFKA and a JSON key; every other shape
// and table falls back to the general path; a prepared lookup follows DROP
// and re-CREATE of its table.
func TestKeyLookupFastPath(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	e := startEngineIn(t, b, t.TempDir())
	defer e.Close()
	earliest := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE TABLE ACCOUNTS (ID STRING PRIMARY KEY, OWNER STRING, BALANCE INT, RATE DOUBLE, TAGS ARRAY<STRING>, LIMITS MAP<STRING, BIGINT>, ADDR STRUCT<CITY STRING, ZIP INT>, COST DECIMAL(6, 2), SEEN TIMESTAMP) WITH (KAFKA_TOPIC='accounts', PARTITIONS=2, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `CREATE TABLE ACC AS SELECT * FROM ACCOUNTS;`, earliest)
	run(t, e, `CREATE TABLE ACC_JSON WITH (KEY_FORMAT='JSON') AS SELECT * FROM ACCOUNTS;`, earliest)
	run(t, e, "CREATE TABLE `Lower` AS SELECT ID AS `id`, OWNER FROM ACCOUNTS;", earliest)
	run(t, e, `CREATE STREAM EVENTS (ID STRING KEY, N INT) WITH (KAFKA_TOPIC='events', PARTITIONS=1, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `CREATE TABLE PER_HOUR AS SELECT ID, COUNT(*) AS C FROM EVENTS WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY ID;`, earliest)
	run(t, e, `CREATE TABLE BY_N AS SELECT N, COUNT(*) AS C FROM EVENTS GROUP BY N;`, earliest)
	produceKV(t, b, "accounts",
		"a1", `{"OWNER":"ann","BALANCE":1,"RATE":0.5,"TAGS":["x","y"],"LIMITS":{"b":2,"a":1},"ADDR":{"CITY":"Oslo","ZIP":150},"COST":1.5,"SEEN":1700000000000}`,
		"a2", `{"OWNER":"bob \"b\" \u00e9","BALANCE":null,"RATE":1e300}`,
		"it's", `{"OWNER":"quote"}`,
		"ünï", `{"OWNER":"unicode"}`,
		"a3", `{"OWNER":"cy"}`,
		"a3", "<tombstone>")
	produceKV(t, b, "events", "e1", `{"N":1}`, "e2", `{"N":1}`)
	waitPull(t, e, `SELECT ID FROM ACC_JSON WHERE ID = 'ünï' AND OWNER = 'unicode';`, `["ünï"]`)
	waitPull(t, e, `SELECT ID FROM ACC WHERE ID = 'ünï' AND OWNER = 'unicode';`, `["ünï"]`)
	waitPull(t, e, "SELECT `id` FROM `Lower` WHERE `id` = 'ünï' AND OWNER = 'unicode';", `["ünï"]`)
	waitPull(t, e, `SELECT ID, C FROM PER_HOUR WHERE ID = 'e2' AND C > 0;`, `["e2",1]`)
	waitPull(t, e, `SELECT N, C FROM BY_N WHERE N = 1 AND C > 1;`, `[1,2]`)

	general := func(sql string) string {
		st, err := e.query(context.Background(), &rest.Request{KSQL: sql})
		if err != nil {
			return "error: " + err.Error()
		}
		return answer(t, st)
	}
	ctx := context.Background()
	for _, sql := range []string{
		`SELECT * FROM ACC WHERE ID = 'a1';`,
		`SELECT * FROM ACC WHERE ID = 'a2';`,
		`SELECT * FROM ACC WHERE ID = 'a3';`, // deleted
		`SELECT * FROM ACC WHERE ID = 'never';`,
		`SELECT * FROM ACC WHERE ID = '';`,
		`SELECT * FROM ACC WHERE ID = 'it''s';`,
		`select * from acc where id='ünï'`,
		`SELECT * FROM ACC_JSON WHERE ID = 'a1';`,
		`SELECT * FROM ACC_JSON WHERE ID = 'it''s';`,
		`SELECT * FROM ACC_JSON WHERE ID = 'never';`,
		"SELECT * FROM `Lower` WHERE `id` = 'a1';",
	} {
		want := general(sql)
		if strings.HasPrefix(want, "error") {
			t.Fatalf("%s: the general path fails: %s", sql, want)
		}
		for i := 0; i < 3; i++ { // the first prepares, the next reuse
			st, ok := e.keyLookup(ctx, &rest.Request{KSQL: sql})
			if !ok {
				t.Fatalf("%s: not answered by the key-lookup path", sql)
			}
			if got := answer(t, st); got != want {
				t.Errorf("%s\nkey lookup: %s\n   general: %s", sql, got, want)
			}
		}
		st, err := e.Query(ctx, &rest.Request{KSQL: sql})
		if err != nil || answer(t, st) != want {
			t.Errorf("%s: Query does not answer as the general path (%v)", sql, err)
		}
	}

	// Shapes and tables the prepared path does not take: Query answers
	// them (or fails) as before.
	for _, tc := range []struct {
		sql   string
		props map[string]any
	}{
		{`SELECT * FROM ACC WHERE OWNER = 'ann';`, nil},      // not the key
		{`SELECT * FROM ACC WHERE ID IN ('a1', 'a2');`, nil}, // IN
		{`SELECT * FROM ACC WHERE ID = 'a1' LIMIT 1;`, nil},  // LIMIT
		{`SELECT OWNER FROM ACC WHERE ID = 'a1';`, nil},      // projection
		{`SELECT * FROM ACC WHERE ID = 'a1' AND BALANCE = 1;`, nil},
		{`SELECT * FROM PER_HOUR WHERE ID = 'e1';`, nil}, // windowed
		{`SELECT * FROM BY_N WHERE N = '1';`, nil},       // INT key
		{`SELECT * FROM ACCOUNTS WHERE ID = 'a1';`, nil}, // source table: not queryable
		{`SELECT * FROM EVENTS WHERE ID = 'e1';`, nil},   // a stream
		{`SELECT * FROM NOPE WHERE ID = 'a1';`, nil},     // unknown table
		{`SELECT * FROM ACC WHERE ID = 'a1';`, map[string]any{"ksql.query.pull.table.scan.enabled": "false"}},
	} {
		if _, ok := e.keyLookup(ctx, &rest.Request{KSQL: tc.sql, StreamsProperties: tc.props}); ok {
			t.Errorf("%s: answered by the key-lookup path, want the general path", tc.sql)
		}
		want := general(tc.sql)
		got := "error: "
		if st, err := e.Query(ctx, &rest.Request{KSQL: tc.sql, StreamsProperties: tc.props}); err != nil {
			got += err.Error()
		} else {
			got = answer(t, st)
		}
		if tc.props == nil && got != want {
			t.Errorf("%s\n  Query: %s\ngeneral: %s", tc.sql, got, want)
		}
	}

	// Concurrent lookups share the prepared plan and its pooled pipelines
	// (run with -race): each gets its own key's row.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				k, want := "a1", `["a1","ann",1,`
				if (g+i)%2 == 1 {
					k, want = "it''s", `["it's","quote",null,`
				}
				st, ok := e.keyLookup(context.Background(), &rest.Request{KSQL: "SELECT * FROM ACC WHERE ID = '" + k + "';"})
				if !ok {
					t.Errorf("concurrent lookup of %s: not answered by the key-lookup path", k)
					return
				}
				if got := answer(t, st); !strings.Contains(got, want) {
					t.Errorf("concurrent lookup of %s: %s", k, got)
					return
				}
			}
		}()
	}
	wg.Wait()

	// DROP and re-CREATE with other columns: the prepared lookup is
	// planned again.
	run(t, e, `DROP TABLE ACC;`, nil)
	if _, ok := e.keyLookup(ctx, &rest.Request{KSQL: `SELECT * FROM ACC WHERE ID = 'a1';`}); ok {
		t.Errorf("key lookup on a dropped table answered")
	}
	run(t, e, `CREATE TABLE ACC AS SELECT ID, OWNER FROM ACCOUNTS;`, earliest)
	waitPull(t, e, `SELECT * FROM ACC WHERE ID = 'a1';`, `["a1","ann"]`)
	if got, want := answer(t, mustLookup(t, e, `SELECT * FROM ACC WHERE ID = 'a1';`)), general(`SELECT * FROM ACC WHERE ID = 'a1';`); got != want {
		t.Errorf("after re-CREATE\nkey lookup: %s\n   general: %s", got, want)
	}
}

func mustLookup(t *testing.T, e *Engine, sql string) *rest.Stream {
	t.Helper()
	st, ok := e.keyLookup(context.Background(), &rest.Request{KSQL: sql})
	if !ok {
		t.Fatalf("%s: not answered by the key-lookup path", sql)
	}
	return st
}

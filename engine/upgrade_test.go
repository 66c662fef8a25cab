package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/engine/queries"
	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

// wantOnce checks that the sink holds exactly the values want, each once.
func wantOnce(t *testing.T, got []string, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("sink holds\n %v\nwant\n %v", got, want)
	}
}

// runningIDs lists the queries the engine runs.
func runningIDs(e *Engine) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for id := range e.running {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// CREATE OR REPLACE with a new filter upgrades the running CSAS in place:
// same id, same consumer group, so the new version continues from the old
// one's committed offsets (no record twice, none lost) and only it runs,
// also after a restart replays the command topic. DROP then ends it.
func TestCreateOrReplaceUpgradesRunningQuery(t *testing.T) {
	for _, guarantee := range []string{"at_least_once", "exactly_once_v2"} {
		t.Run(guarantee, func(t *testing.T) { testUpgradeRunningQuery(t, guarantee) })
	}
}

func testUpgradeRunningQuery(t *testing.T, guarantee string) {
	b := testkit.StartBroker(t, noDelay)
	dir := t.TempDir()
	e := startEngineIn(t, b, dir)
	earliest := map[string]any{"auto.offset.reset": "earliest", "processing.guarantee": guarantee}
	run(t, e, `CREATE STREAM USERS (ID INT KEY, NAME STRING, AMOUNT DOUBLE) WITH (KAFKA_TOPIC='users', PARTITIONS=1, KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');`, nil)
	out := run(t, e, `CREATE STREAM EVEN AS SELECT ID, NAME FROM USERS WHERE ID % 2 = 0;`, earliest)
	qid := out[0].(map[string]any)["commandStatus"].(map[string]any)["queryId"].(string)
	produceJSON(t, b, "users", 0, 9) // the last record passes the filter: all 9 read
	var want []string
	for i := 0; i < 9; i += 2 {
		want = append(want, fmt.Sprintf(`%d|{"NAME":"user%d"}`, i, i))
	}
	wantOnce(t, readValues(t, b, "EVEN", len(want)), want)

	out = run(t, e, `CREATE OR REPLACE STREAM EVEN AS SELECT ID, NAME, AMOUNT FROM USERS WHERE ID % 3 = 0;`, earliest)
	st := out[0].(map[string]any)["commandStatus"].(map[string]any)
	if st["queryId"] != qid || st["message"] != "Created query with ID "+qid {
		t.Fatalf("CREATE OR REPLACE answered %v, want query %s", st, qid)
	}
	if ids := runningIDs(e); !slices.Equal(ids, []string{qid}) {
		t.Fatalf("running after the upgrade: %v, want [%s]", ids, qid)
	}
	if ids := queryIDs(t, e); !slices.Equal(ids, []string{qid}) {
		t.Fatalf("SHOW QUERIES after the upgrade: %v", ids)
	}
	produceJSON(t, b, "users", 9, 21) // the last record (20) fails the new filter
	for i := 9; i < 21; i += 3 {
		want = append(want, fmt.Sprintf(`%d|{"NAME":"user%d","AMOUNT":%d.5}`, i, i, i))
	}
	wantOnce(t, readValues(t, b, "EVEN", len(want)), want)
	if s, err := e.QueryState(qid); s != queries.Running {
		t.Fatalf("query state %s (%v)", s, err)
	}
	explained, _ := json.Marshal(run(t, e, "SHOW QUERIES;", nil))
	if !strings.Contains(string(explained), "ID % 3 = 0") {
		t.Errorf("SHOW QUERIES does not show the new version: %s", explained)
	}
	e.Close()

	// The restarted engine replays both statements: only the latest
	// version runs, under the same id and group, from its offsets.
	e2 := startEngineIn(t, b, dir)
	defer e2.Close()
	if ids := runningIDs(e2); !slices.Equal(ids, []string{qid}) {
		t.Fatalf("running after restart: %v, want [%s]", ids, qid)
	}
	produceJSON(t, b, "users", 21, 31) // 30 passes: all read
	for i := 21; i < 31; i += 3 {
		want = append(want, fmt.Sprintf(`%d|{"NAME":"user%d","AMOUNT":%d.5}`, i, i, i))
	}
	wantOnce(t, readValues(t, b, "EVEN", len(want)), want)
	if got := readUntilQuiet(t, b, "EVEN"); len(got) != len(want) {
		t.Fatalf("sink has %d records after restart, want %d", len(got), len(want))
	}

	// DROP ends the one query writing the sink.
	run(t, e2, `DROP STREAM EVEN;`, nil)
	if ids := runningIDs(e2); len(ids) != 0 {
		t.Errorf("running after DROP: %v", ids)
	}
}

// An upgraded aggregation keeps its state: counts continue where the old
// version left them; a refused upgrade leaves the old version running.
func TestCreateOrReplaceKeepsAggregateState(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	dir := t.TempDir()
	e := startEngineIn(t, b, dir)
	defer e.Close()
	earliest := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE STREAM CLICKS (USER STRING KEY, PAGE STRING) WITH (KAFKA_TOPIC='clicks', PARTITIONS=1, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `CREATE TABLE PER_USER AS SELECT USER, COUNT(*) AS N FROM CLICKS WHERE PAGE IS NOT NULL GROUP BY USER;`, earliest)
	produceKV(t, b, "clicks", "ann", `{"PAGE":"a"}`, "ann", `{"PAGE":"b"}`, "bob", `{"PAGE":"a"}`)
	waitPull(t, e, `SELECT N FROM PER_USER WHERE USER = 'bob';`, `[1]`)
	waitPull(t, e, `SELECT N FROM PER_USER WHERE USER = 'ann';`, `[2]`)

	run(t, e, `CREATE OR REPLACE TABLE PER_USER AS SELECT USER, COUNT(*) AS N FROM CLICKS WHERE PAGE IS NOT NULL AND PAGE <> 'x' GROUP BY USER;`, earliest)
	produceKV(t, b, "clicks", "ann", `{"PAGE":"x"}`, "ann", `{"PAGE":"c"}`, "bob", `{"PAGE":"x"}`, "bob", `{"PAGE":"d"}`)
	waitPull(t, e, `SELECT N FROM PER_USER WHERE USER = 'bob';`, `[2]`)
	waitPull(t, e, `SELECT N FROM PER_USER WHERE USER = 'ann';`, `[3]`)

	_, err := e.Execute(context.Background(), &rest.Request{KSQL: `CREATE OR REPLACE TABLE PER_USER AS SELECT USER, COUNT(PAGE) AS N FROM CLICKS GROUP BY USER;`})
	if err == nil || !strings.Contains(err.Error(), "must have matching columns not part of aggregate") {
		t.Fatalf("incompatible upgrade: %v", err)
	}
	produceKV(t, b, "clicks", "bob", `{"PAGE":"e"}`)
	waitPull(t, e, `SELECT N FROM PER_USER WHERE USER = 'bob';`, `[3]`)
	if ids := runningIDs(e); len(ids) != 1 || !strings.HasPrefix(ids[0], "CTAS_PER_USER_") {
		t.Fatalf("running: %v", ids)
	}
}

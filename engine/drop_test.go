package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

// DROP TABLE of a CTAS terminates its query with it, deleting the query's
// changelog and local state, as ksqlDB does since confluentinc/ksql#6143;
// a source read by another CTAS is refused with ksqlDB's message; and a
// restarted engine replays the log to the same place: the dropped table's
// query does not start again.
func TestDropTerminatesQueryAndSurvivesRestart(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	dir := t.TempDir()
	e := startEngineIn(t, b, dir)
	earliest := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE STREAM USERS (ID STRING KEY, NAME STRING) WITH (KAFKA_TOPIC='users', PARTITIONS=1, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `CREATE TABLE COUNTS AS SELECT NAME, COUNT(*) AS N FROM USERS GROUP BY NAME;`, earliest)
	run(t, e, `CREATE TABLE BIG AS SELECT NAME, N FROM COUNTS WHERE N > 1;`, earliest)
	run(t, e, `CREATE STREAM COPY AS SELECT * FROM USERS;`, earliest)
	produceKV(t, b, "users", "u1", `{"NAME":"ann"}`, "u2", `{"NAME":"ann"}`, "u3", `{"NAME":"bob"}`)
	waitPull(t, e, `SELECT N FROM COUNTS WHERE NAME = 'ann';`, `[2]`)
	ids := queryIDs(t, e)
	if len(ids) != 3 {
		t.Fatalf("SHOW QUERIES: %v", ids)
	}
	slices.Sort(ids)
	copyQ, bigQ, countsQ := ids[0], ids[1], ids[2]
	if !strings.HasPrefix(bigQ, "CTAS_BIG_") || !strings.HasPrefix(countsQ, "CTAS_COUNTS_") || !strings.HasPrefix(copyQ, "CSAS_COPY_") {
		t.Fatalf("SHOW QUERIES: %v", ids)
	}
	changelog := "_confluent-ksql-default_query_" + countsQ + "-Aggregate-Aggregate-Materialize-changelog"
	if !e.topicExists(t, changelog) {
		t.Fatalf("no changelog topic %s", changelog)
	}

	_, err := e.Execute(context.Background(), &rest.Request{KSQL: `DROP TABLE COUNTS;`})
	want := "Cannot drop COUNTS.\nThe following streams and/or tables read from this source: [BIG].\nYou need to drop them before dropping COUNTS."
	if err == nil || err.Error() != want {
		t.Fatalf("DROP TABLE COUNTS under BIG:\n got %v\nwant %s", err, want)
	}
	run(t, e, `DROP TABLE BIG;`, nil)
	run(t, e, `DROP TABLE COUNTS;`, nil)
	if ids := queryIDs(t, e); len(ids) != 1 || ids[0] != copyQ {
		t.Fatalf("SHOW QUERIES after DROP: %v, want [%s]", ids, copyQ)
	}
	if e.topicExists(t, changelog) {
		t.Errorf("changelog %s survived DROP TABLE", changelog)
	}
	if _, err := osStat(dir + "/" + countsQ); err == nil {
		t.Errorf("local state of %s survived DROP TABLE", countsQ)
	}
	e.mu.Lock()
	running := len(e.running)
	e.mu.Unlock()
	if running != 1 {
		t.Errorf("%d queries running after DROP, want 1", running)
	}
	e.Close()

	e2 := startEngineIn(t, b, dir)
	defer e2.Close()
	if ids := queryIDs(t, e2); len(ids) != 1 || ids[0] != copyQ {
		t.Errorf("SHOW QUERIES after restart: %v, want [%s]", ids, copyQ)
	}
	e2.mu.Lock()
	_, countsRunning := e2.running[countsQ]
	running = len(e2.running)
	e2.mu.Unlock()
	if countsRunning || running != 1 {
		t.Errorf("after restart: %d queries running (%s: %v), want only %s", running, countsQ, countsRunning, copyQ)
	}
	if e2.topicExists(t, changelog) {
		t.Errorf("changelog %s came back after restart", changelog)
	}
	// USERS can be dropped once COPY is: its query goes with it.
	run(t, e2, `DROP STREAM COPY;`, nil)
	run(t, e2, `DROP STREAM USERS;`, nil)
	if ids := queryIDs(t, e2); len(ids) != 0 {
		t.Errorf("SHOW QUERIES after dropping everything: %v", ids)
	}
}

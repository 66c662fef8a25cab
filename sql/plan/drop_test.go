package plan_test

import (
	"context"
	"testing"

	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
)

func executeErr(t *testing.T, cat *plan.Catalog, sql string) error {
	t.Helper()
	stmt, err := parser.ParseStatement(sql)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Execute(context.Background(), cat, stmt, nil)
	return err
}

func wantQueries(t *testing.T, cat *plan.Catalog, want ...string) {
	t.Helper()
	var got []string
	for _, q := range cat.Queries() {
		got = append(got, q.ID)
	}
	if len(got) != len(want) {
		t.Fatalf("queries %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("queries %v, want %v", got, want)
		}
	}
}

// DROP STREAM/TABLE follows ksqlDB's rules (confluentinc/ksql#6143 and its
// engine tests): sources created from the source must be dropped first,
// INSERT INTO queries reading or writing it terminated first, and the
// CSAS/CTAS query that writes it is terminated with it.
func TestDropSourceTerminatesItsQuery(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM TEST1 (ID INT KEY, V INT) WITH (KAFKA_TOPIC='test1', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE STREAM BAR AS SELECT * FROM TEST1`)   // CSAS_BAR_0
	execute(t, cat, `CREATE STREAM FOO AS SELECT * FROM BAR`)     // CSAS_FOO_1
	execute(t, cat, `CREATE STREAM FOO2 AS SELECT * FROM BAR`)    // CSAS_FOO2_2
	execute(t, cat, `CREATE STREAM OTHER AS SELECT * FROM TEST1`) // CSAS_OTHER_3

	for _, tc := range []struct{ sql, want string }{
		{`DROP STREAM BAR`, "Cannot drop BAR.\nThe following streams and/or tables read from this source: [FOO, FOO2].\nYou need to drop them before dropping BAR."},
		{`DROP STREAM TEST1`, "Cannot drop TEST1.\nThe following streams and/or tables read from this source: [BAR, OTHER].\nYou need to drop them before dropping TEST1."},
	} {
		if err := executeErr(t, cat, tc.sql); err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.sql, err, tc.want)
		}
	}

	// Dropping FOO ends CSAS_FOO_1 only.
	res := execute(t, cat, `DROP STREAM FOO`)
	if res.Dropped != "FOO" || res.StopQuery != "CSAS_FOO_1" || res.Message != "Source `FOO` (topic: FOO) was dropped." {
		t.Fatalf("DROP STREAM FOO: %+v", res)
	}
	wantQueries(t, cat, "CSAS_BAR_0", "CSAS_FOO2_2", "CSAS_OTHER_3")

	// A source whose query was terminated still holds its drop constraint,
	// and then drops with no query to stop.
	execute(t, cat, `TERMINATE CSAS_FOO2_2`)
	if err := executeErr(t, cat, `DROP STREAM BAR`); err == nil || err.Error() != "Cannot drop BAR.\nThe following streams and/or tables read from this source: [FOO2].\nYou need to drop them before dropping BAR." {
		t.Errorf("DROP STREAM BAR with FOO2's query terminated: %v", err)
	}
	if res := execute(t, cat, `DROP STREAM FOO2`); res.StopQuery != "" || res.Dropped != "FOO2" {
		t.Fatalf("DROP STREAM FOO2 after TERMINATE: %+v", res)
	}

	// INSERT INTO queries writing or reading the source must be
	// terminated first; the message leaves out the source's own query.
	execute(t, cat, `INSERT INTO BAR SELECT * FROM TEST1`) // INSERTQUERY_4
	execute(t, cat, `INSERT INTO OTHER SELECT * FROM BAR`) // INSERTQUERY_5
	if err := executeErr(t, cat, `DROP STREAM BAR`); err == nil || err.Error() != "Cannot drop BAR.\nThe following queries read from this source: [INSERTQUERY_5].\nThe following queries write into this source: [INSERTQUERY_4].\nYou need to terminate them before dropping BAR." {
		t.Errorf("DROP STREAM BAR with INSERT queries: %v", err)
	}
	execute(t, cat, `TERMINATE INSERTQUERY_5`)
	if err := executeErr(t, cat, `DROP STREAM BAR`); err == nil || err.Error() != "Cannot drop BAR.\nThe following queries read from this source: [].\nThe following queries write into this source: [INSERTQUERY_4].\nYou need to terminate them before dropping BAR." {
		t.Errorf("DROP STREAM BAR with an INSERT query writing it: %v", err)
	}
	execute(t, cat, `TERMINATE INSERTQUERY_4`)
	if res := execute(t, cat, `DROP STREAM BAR`); res.StopQuery != "CSAS_BAR_0" {
		t.Fatalf("DROP STREAM BAR: %+v", res)
	}
	wantQueries(t, cat, "CSAS_OTHER_3")

	// Tables: the same rules for CTAS.
	execute(t, cat, `CREATE TABLE TEST2 (ID INT PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='test2', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE TABLE TBAR AS SELECT * FROM TEST2`) // CTAS_TBAR_6
	execute(t, cat, `CREATE TABLE TFOO AS SELECT * FROM TBAR`)  // CTAS_TFOO_7
	if err := executeErr(t, cat, `DROP TABLE TBAR`); err == nil || err.Error() != "Cannot drop TBAR.\nThe following streams and/or tables read from this source: [TFOO].\nYou need to drop them before dropping TBAR." {
		t.Errorf("DROP TABLE TBAR: %v", err)
	}
	if res := execute(t, cat, `DROP TABLE TFOO`); res.StopQuery != "CTAS_TFOO_7" {
		t.Fatalf("DROP TABLE TFOO: %+v", res)
	}
	wantQueries(t, cat, "CSAS_OTHER_3", "CTAS_TBAR_6")
	// A join references both of its sources.
	execute(t, cat, `CREATE STREAM J AS SELECT O.ID, O.V, T.V AS TV FROM OTHER O JOIN TBAR T ON O.ID = T.ID`)
	for _, name := range []string{"OTHER", "TBAR"} {
		kind := "STREAM"
		if name == "TBAR" {
			kind = "TABLE"
		}
		if err := executeErr(t, cat, `DROP `+kind+` `+name); err == nil || err.Error() != "Cannot drop "+name+".\nThe following streams and/or tables read from this source: [J].\nYou need to drop them before dropping "+name+"." {
			t.Errorf("DROP %s under a join: %v", name, err)
		}
	}
}

// While a command log replays, drop constraints are not enforced (as
// ksqlDB's metastore restore): a log written when the DROP was accepted
// replays the same way.
func TestDropSourceWhileRestoring(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE STREAM A AS SELECT * FROM S`)
	execute(t, cat, `TERMINATE CSAS_A_0`)
	cat.SetRestoring(true)
	if res := execute(t, cat, `DROP STREAM S`); res.Dropped != "S" {
		t.Fatalf("DROP while restoring: %+v", res)
	}
	cat.SetRestoring(false)
	// The constraint went with S: a new S can be dropped.
	execute(t, cat, `CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`)
	execute(t, cat, `DROP STREAM S`)
}

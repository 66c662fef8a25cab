package plan_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
)

// CREATE OR REPLACE over a running CSAS/CTAS upgrades it in place: the id
// stays, one query writes the sink, and DROP then ends that query.
func TestCreateOrReplaceUpgradesInPlace(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM A (ID INT KEY, COL1 INT, COL2 INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON')`)
	first := execute(t, cat, `CREATE STREAM B AS SELECT ID, COL1 FROM A`)
	if first.Query.ID != "CSAS_B_0" || first.Query.Upgrade {
		t.Fatalf("first version: %+v", first.Query)
	}
	second := execute(t, cat, `CREATE OR REPLACE STREAM B AS SELECT ID, COL1, COL2 FROM A WHERE COL1 > 0`)
	if second.Query.ID != "CSAS_B_0" || !second.Query.Upgrade || second.Message != "Created query with ID CSAS_B_0" {
		t.Fatalf("upgrade: %+v %q", second.Query, second.Message)
	}
	wantQueries(t, cat, "CSAS_B_0")
	qs := cat.Queries()
	if !strings.Contains(qs[0].SQL, "COL1 > 0") {
		t.Errorf("query SQL after upgrade: %s", qs[0].SQL)
	}
	if b, _ := cat.Source("B"); b.Query != "CSAS_B_0" || len(b.Columns) != 3 {
		t.Errorf("sink after upgrade: %+v", b)
	}
	// The id counter is not used by an upgrade.
	if res := execute(t, cat, `CREATE STREAM C AS SELECT * FROM A`); res.Query.ID != "CSAS_C_1" {
		t.Errorf("next query id %s, want CSAS_C_1", res.Query.ID)
	}
	if res := execute(t, cat, `DROP STREAM B`); res.StopQuery != "CSAS_B_0" {
		t.Errorf("DROP STREAM B after upgrade: %+v", res)
	}
	wantQueries(t, cat, "CSAS_C_1")
}

// A sink whose query was terminated is replaced by a new query (new id),
// still only with a compatible schema.
func TestCreateOrReplaceAfterTerminate(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM A (ID INT KEY, COL1 INT, COL2 INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE STREAM B AS SELECT ID, COL1, COL2 FROM A`)
	execute(t, cat, `TERMINATE CSAS_B_0`)
	if err := executeErr(t, cat, `CREATE OR REPLACE STREAM B AS SELECT ID, COL1 FROM A`); err == nil || !strings.Contains(err.Error(), "Cannot upgrade data source") {
		t.Fatalf("incompatible replace after TERMINATE: %v", err)
	}
	res := execute(t, cat, `CREATE OR REPLACE STREAM B AS SELECT ID, COL1, COL2 FROM A WHERE COL1 > 0`)
	if res.Query.ID != "CSAS_B_1" || res.Query.Upgrade {
		t.Fatalf("replace after TERMINATE: %+v", res.Query)
	}
	wantQueries(t, cat, "CSAS_B_1")
}

// AbortQuery puts the catalog back when the engine cannot run the new
// version: the old version's SQL, schema and query stay.
func TestAbortQueryRestoresReplacedVersion(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM A (ID INT KEY, COL1 INT, COL2 INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE STREAM B AS SELECT ID, COL1 FROM A`)
	old, _ := cat.Source("B")
	res := execute(t, cat, `CREATE OR REPLACE STREAM B AS SELECT ID, COL1, COL2 FROM A`)
	cat.AbortQuery(res.Query)
	if b, _ := cat.Source("B"); b != old {
		t.Errorf("sink after abort: %+v, want the old version", b)
	}
	wantQueries(t, cat, "CSAS_B_0")
	if q := cat.Queries()[0]; strings.Contains(q.SQL, "COL2") {
		t.Errorf("query after abort: %s", q.SQL)
	}
	// A new CSAS that is aborted leaves nothing behind.
	res = execute(t, cat, `CREATE STREAM C AS SELECT * FROM A`)
	cat.AbortQuery(res.Query)
	if _, ok := cat.Source("C"); ok {
		t.Error("aborted CSAS left its sink")
	}
	wantQueries(t, cat, "CSAS_B_0")
}

// Each refusal, with ksqlDB's message (its sql-tests/query-upgrades
// files, StructuredDataSource.canUpgradeTo, QueryIdUtil).
func TestCreateOrReplaceRefusals(t *testing.T) {
	setup := []string{
		`CREATE STREAM A (ID INT KEY, COL1 INT, COL2 INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON')`,
		`CREATE STREAM S (ID INT KEY, FOO INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`,
		`CREATE TABLE T (ID INT PRIMARY KEY, BAR INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON')`,
		`CREATE TABLE U (ID INT PRIMARY KEY, BAZ INT, TID INT) WITH (KAFKA_TOPIC='u', VALUE_FORMAT='JSON')`,
		`CREATE STREAM WS (ID INT KEY, V INT) WITH (KAFKA_TOPIC='ws', VALUE_FORMAT='JSON', WINDOW_TYPE='TUMBLING', WINDOW_SIZE='30 SECONDS')`,
	}
	for _, tc := range []struct {
		name          string
		before, after string
		props         map[string]string
		want          string
	}{
		{name: "stream-table join",
			before: `CREATE STREAM J AS SELECT A.ID, A.COL1, T.BAR FROM A JOIN T ON A.ID = T.ID`,
			after:  `CREATE OR REPLACE STREAM J AS SELECT A.ID, A.COL1, T.BAR FROM A JOIN T ON A.ID = T.ID WHERE A.COL1 > 0`,
			want:   "Upgrades not yet supported for StreamTableJoin"},
		{name: "stream-stream join",
			before: `CREATE STREAM J AS SELECT A.ID, A.COL1, S.FOO FROM A JOIN S WITHIN 10 SECONDS ON A.ID = S.ID`,
			after:  `CREATE OR REPLACE STREAM J AS SELECT A.ID, A.COL1, S.FOO FROM A JOIN S WITHIN 10 SECONDS ON A.ID = S.ID WHERE S.FOO > 0`,
			want:   "Upgrades not yet supported for StreamStreamJoin"},
		{name: "table-table join",
			before: `CREATE TABLE J AS SELECT T.ID, T.BAR, U.BAZ FROM T JOIN U ON T.ID = U.ID`,
			after:  `CREATE OR REPLACE TABLE J AS SELECT T.ID, T.BAR, U.BAZ FROM T JOIN U ON T.ID = U.ID WHERE T.BAR > 0`,
			want:   "Upgrades not yet supported for TableTableJoin"},
		{name: "foreign-key join",
			before: `CREATE TABLE J AS SELECT U.ID, U.BAZ, T.BAR FROM U JOIN T ON U.TID = T.ID`,
			after:  `CREATE OR REPLACE TABLE J AS SELECT U.ID, U.BAZ, T.BAR FROM U JOIN T ON U.TID = T.ID WHERE U.BAZ > 0`,
			want:   "Upgrades not yet supported for ForeignKeyTableTableJoin"},
		{name: "into a join",
			before: `CREATE STREAM J AS SELECT ID, COL1 FROM A`,
			after:  `CREATE OR REPLACE STREAM J AS SELECT A.ID AS ID, A.COL1 AS COL1 FROM A JOIN T ON A.ID = T.ID`,
			want:   "Query is not upgradeable. Cannot change a non-join source into a join source."},
		{name: "windowed aggregation",
			before: `CREATE TABLE W AS SELECT ID, COUNT(*) AS N FROM A WINDOW TUMBLING (SIZE 30 SECONDS) GROUP BY ID`,
			after:  `CREATE OR REPLACE TABLE W AS SELECT ID, COUNT(*) AS N FROM A WINDOW TUMBLING (SIZE 30 SECONDS) WHERE COL1 > 0 GROUP BY ID`,
			want:   "Upgrades not yet supported for StreamWindowedAggregate"},
		{name: "suppressed aggregation",
			before: `CREATE TABLE W AS SELECT ID, COUNT(*) AS N FROM A WINDOW TUMBLING (SIZE 30 SECONDS) GROUP BY ID EMIT FINAL`,
			after:  `CREATE OR REPLACE TABLE W AS SELECT ID, COUNT(*) AS N FROM A WINDOW TUMBLING (SIZE 30 SECONDS) WHERE COL1 > 0 GROUP BY ID EMIT FINAL`,
			want:   "Upgrades not yet supported for TableSuppress"},
		{name: "table aggregation",
			before: `CREATE TABLE G AS SELECT BAR, COUNT(*) AS N FROM T GROUP BY BAR`,
			after:  `CREATE OR REPLACE TABLE G AS SELECT BAR, COUNT(*) AS N FROM T WHERE ID > 0 GROUP BY BAR`,
			want:   "Upgrades not yet supported for TableAggregate"},
		{name: "table function",
			before: `CREATE STREAM X AS SELECT ID, EXPLODE(ARRAY[COL1, COL2]) AS V FROM A`,
			after:  `CREATE OR REPLACE STREAM X AS SELECT ID, EXPLODE(ARRAY[COL1, COL2]) AS V FROM A WHERE COL1 > 0`,
			want:   "Upgrades not yet supported for StreamFlatMap"},
		{name: "windowed source",
			before: `CREATE STREAM X AS SELECT * FROM WS`,
			after:  `CREATE OR REPLACE STREAM X AS SELECT * FROM WS WHERE V > 0`,
			want:   "Upgrades not yet supported for WindowedStreamSource"},
		{name: "aggregate input gains a column",
			before: `CREATE TABLE G AS SELECT ID, COUNT(*) AS N FROM A GROUP BY ID`,
			after:  `CREATE OR REPLACE TABLE G AS SELECT ID, COUNT(COL1) AS N FROM A WHERE COL1 > 0 GROUP BY ID`,
			want:   "Query is not upgradeable. Plan step of type StreamAggregate must have matching columns not part of aggregate. Values differ: [`ID`, `ROWTIME`] vs. [`ID`, `COL1`]"},
		{name: "aggregate input loses a column",
			before: `CREATE TABLE G AS SELECT ID, COUNT(*) AS N FROM A WHERE COL1 > 0 GROUP BY ID`,
			after:  `CREATE OR REPLACE TABLE G AS SELECT ID, COUNT(*) AS N FROM A GROUP BY ID`,
			want:   "Query is not upgradeable. Plan step of type StreamAggregate must have matching columns not part of aggregate. Values differ: [`ID`, `ROWTIME`, `COL1`] vs. [`ID`, `ROWTIME`]"},
		{name: "aggregate functions",
			before: `CREATE TABLE G AS SELECT ID, SUM(COL1) AS N FROM A GROUP BY ID`,
			after:  `CREATE OR REPLACE TABLE G AS SELECT ID, MAX(COL1) AS N FROM A GROUP BY ID`,
			want:   "Query is not upgradeable. Plan step of type StreamAggregate must have matching aggregate functions. Values differ: [SUM(COL1)] vs. [MAX(COL1)]"},
		{name: "group by expression",
			before: `CREATE TABLE G AS SELECT COL1 + COL2 AS K, COUNT(COL1) AS N FROM A GROUP BY COL1 + COL2`,
			after:  `CREATE OR REPLACE TABLE G AS SELECT COL1 * COL2 AS K, COUNT(COL1) AS N FROM A GROUP BY COL1 * COL2`,
			want:   "Query is not upgradeable. Plan step of type StreamGroupBy must have matching groupByExpressions. Values differ: [COL1 + COL2] vs. [COL1 * COL2]"},
		{name: "removed column",
			before: `CREATE STREAM B AS SELECT ID, COL1, COL2 FROM A`,
			after:  `CREATE OR REPLACE STREAM B AS SELECT ID, COL1 FROM A`,
			want:   "Cannot upgrade data source: DataSource '`B`' has schema = `ID` INTEGER KEY, `COL1` INTEGER, `COL2` INTEGER which is not upgradeable to `ID` INTEGER KEY, `COL1` INTEGER. (The following columns are changed, missing or reordered: [`COL2` INTEGER])"},
		{name: "changed type",
			before: `CREATE STREAM B AS SELECT ID, COL1, COL2 FROM A`,
			after:  `CREATE OR REPLACE STREAM B AS SELECT ID, COL1, CAST(COL2 AS STRING) AS COL2 FROM A`,
			want:   "Cannot upgrade data source: DataSource '`B`' has schema = `ID` INTEGER KEY, `COL1` INTEGER, `COL2` INTEGER which is not upgradeable to `ID` INTEGER KEY, `COL1` INTEGER, `COL2` STRING. (The following columns are changed, missing or reordered: [`COL2` INTEGER])"},
		{name: "changed key",
			before: `CREATE STREAM B AS SELECT * FROM A PARTITION BY COL1`,
			after:  `CREATE OR REPLACE STREAM B AS SELECT * FROM A PARTITION BY COL2`,
			want:   "Cannot upgrade data source: DataSource '`B`' has schema = `COL1` INTEGER KEY, `COL2` INTEGER, `ID` INTEGER which is not upgradeable to `COL2` INTEGER KEY, `COL1` INTEGER, `ID` INTEGER. (Key columns must be identical. The following key columns are changed, missing or reordered: [`COL1` INTEGER KEY])"},
		{name: "changed source",
			before: `CREATE STREAM B AS SELECT ID, FOO FROM S`,
			after:  `CREATE OR REPLACE STREAM B AS SELECT ID, COL1 AS FOO FROM A`,
			want:   "Query is not upgradeable. Plan step of type StreamSource must have matching topicName. Values differ: s vs. a"},
		{name: "stream to table",
			before: `CREATE STREAM B AS SELECT ID, FOO FROM S`,
			after:  `CREATE OR REPLACE TABLE B AS SELECT ID, BAR AS FOO FROM T`,
			want:   "Cannot upgrade data source: DataSource '`B`' has type = KSTREAM which is not upgradeable to KTABLE"},
		{name: "sink topic and timestamp",
			before: `CREATE STREAM B AS SELECT ID, FOO FROM S`,
			after:  `CREATE OR REPLACE STREAM B WITH (KAFKA_TOPIC='b2', TIMESTAMP='TS') AS SELECT ID, FOO, CAST(FOO AS BIGINT) AS TS FROM S`,
			want:   "Cannot upgrade data source: DataSource '`B`' has topic = B (key KAFKA, value JSON) which is not upgradeable to b2 (key KAFKA, value JSON)\n\tAND DataSource '`B`' has timestampColumn = none which is not upgradeable to `TS`"},
		{name: "disabled",
			before: `CREATE STREAM B AS SELECT ID, FOO FROM S`,
			after:  `CREATE OR REPLACE STREAM B AS SELECT ID, FOO FROM S WHERE FOO > 0`,
			props:  map[string]string{"ksql.create.or.replace.enabled": "false"},
			want:   "Cannot add stream 'B': A stream with the same name already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat := plan.NewCatalog()
			for _, s := range setup {
				execute(t, cat, s)
			}
			first := execute(t, cat, tc.before)
			stmt, err := parser.ParseStatement(tc.after)
			if err != nil {
				t.Fatal(err)
			}
			_, err = plan.Execute(context.Background(), cat, stmt, tc.props)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("%s\n got %v\nwant %s", tc.after, err, tc.want)
			}
			// Nothing changed.
			qs := cat.Queries()
			if len(qs) != 1 || qs[0].ID != first.Query.ID || qs[0].SQL != first.Query.SQL {
				t.Errorf("queries after a refused upgrade: %+v", qs)
			}
		})
	}
}

// A sink that an INSERT INTO query also writes cannot be replaced
// (QueryIdUtil: "multiple queries writing into it").
func TestCreateOrReplaceWithInsertInto(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM A (ID INT KEY, COL1 INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE STREAM C (ID INT KEY, COL1 INT) WITH (KAFKA_TOPIC='c', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE STREAM B AS SELECT * FROM A`)
	execute(t, cat, `INSERT INTO B SELECT * FROM C`)
	want := "REPLACE for sink B is not supported because there are multiple queries writing into it: [CSAS_B_0, INSERTQUERY_1]"
	if err := executeErr(t, cat, `CREATE OR REPLACE STREAM B AS SELECT * FROM A WHERE COL1 > 0`); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// A plain CREATE OR REPLACE of a CSAS sink (new columns declared) keeps the
// sink's query: DROP still ends it.
func TestDeclaredReplaceOfSinkKeepsItsQuery(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM A (ID INT KEY, COL1 INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE STREAM B AS SELECT * FROM A`)
	execute(t, cat, `CREATE OR REPLACE STREAM B (ID INT KEY, COL1 INT, X INT) WITH (KAFKA_TOPIC='B', VALUE_FORMAT='JSON')`)
	if err := executeErr(t, cat, `DROP STREAM A`); err == nil || !strings.Contains(err.Error(), "read from this source: [B]") {
		t.Errorf("DROP STREAM A under B: %v", err)
	}
	if res := execute(t, cat, `DROP STREAM B`); res.StopQuery != "CSAS_B_0" {
		t.Errorf("DROP STREAM B: %+v", res)
	}
}

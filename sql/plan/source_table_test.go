package plan_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
)

// CREATE SOURCE TABLE plans a CST query that the engine runs; the table is
// then queryable, and DROP TABLE asks the engine to stop that query. A
// plain CREATE TABLE plans none.
func TestSourceTablePlansCSTQuery(t *testing.T) {
	cat := plan.NewCatalog()
	res := execute(t, cat, `CREATE TABLE P (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='p', VALUE_FORMAT='JSON', PARTITIONS=1)`)
	if res.Kind != plan.DDL || res.Query != nil {
		t.Fatalf("plain CREATE TABLE: %+v", res)
	}
	res = execute(t, cat, `CREATE SOURCE TABLE T (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON')`)
	if res.Kind != plan.PersistentQuery || res.Message != "Table created" || res.Query == nil ||
		!strings.HasPrefix(res.Query.ID, "CST_T_") || !res.Query.FromEarliest ||
		strings.Join(res.Query.SourceTopics, ",") != "t" || res.Query.SinkTopic.Name != "" {
		t.Fatalf("CREATE SOURCE TABLE: %+v %+v", res, res.Query)
	}
	if _, ok := res.Query.Exec.(exec.Materialized); !ok {
		t.Fatalf("CST query %T is not materialized", res.Query.Exec)
	}
	id := res.Query.ID
	if !cat.IsSourceTableQuery(id) {
		t.Errorf("IsSourceTableQuery(%s) = false", id)
	}
	pull := execute(t, cat, `SELECT * FROM T WHERE ID = 'x';`)
	if pull.Query == nil || pull.Query.Table == nil || pull.Query.Table.QueryID != id {
		t.Fatalf("pull query on T: %+v", pull.Query)
	}
	stmt, err := parser.ParseStatement(`TERMINATE ` + id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Execute(context.Background(), cat, stmt, nil); err == nil ||
		err.Error() != "Cannot terminate query '"+id+"' because it is linked to a source table." {
		t.Errorf("TERMINATE %s: %v", id, err)
	}
	res = execute(t, cat, `DROP TABLE T`)
	if res.StopQuery != id {
		t.Errorf("DROP TABLE: StopQuery %q, want %q", res.StopQuery, id)
	}
	if len(cat.Queries()) != 0 {
		t.Errorf("queries after DROP: %v", cat.Queries())
	}
}

// CREATE OR REPLACE is refused for source tables and streams, and over
// them, with ksqlDB's message (CreateSourceFactory): the table keeps its
// one CST query, which is never replaced by a second.
func TestCreateOrReplaceSourceTableRefused(t *testing.T) {
	cat := plan.NewCatalog()
	first := execute(t, cat, `CREATE SOURCE TABLE T (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE SOURCE STREAM S (ID STRING KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE TABLE P (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='p', VALUE_FORMAT='JSON')`)
	for _, tc := range []struct{ sql, want string }{
		// The same statement again, and one that adds a column.
		{`CREATE OR REPLACE SOURCE TABLE T (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON')`,
			"Cannot add table 'T': CREATE OR REPLACE is not supported on source tables."},
		{`CREATE OR REPLACE SOURCE TABLE T (ID STRING PRIMARY KEY, V INT, W INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON')`,
			"Cannot add table 'T': CREATE OR REPLACE is not supported on source tables."},
		// A plain table over a source table.
		{`CREATE OR REPLACE TABLE T (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON')`,
			"Cannot add table 'T': CREATE OR REPLACE is not supported on source tables."},
		// A source table over a plain table, and a new one.
		{`CREATE OR REPLACE SOURCE TABLE P (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='p', VALUE_FORMAT='JSON')`,
			"Cannot add table 'P': CREATE OR REPLACE is not supported on source tables."},
		{`CREATE OR REPLACE SOURCE TABLE N (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='n', VALUE_FORMAT='JSON')`,
			"Cannot add table 'N': CREATE OR REPLACE is not supported on source tables."},
		// Streams alike.
		{`CREATE OR REPLACE SOURCE STREAM S (ID STRING KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`,
			"Cannot add stream 'S': CREATE OR REPLACE is not supported on source streams."},
		{`CREATE OR REPLACE STREAM S (ID STRING KEY, V INT, W INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`,
			"Cannot add stream 'S': CREATE OR REPLACE is not supported on source streams."},
		// Without OR REPLACE the existing-name check comes first.
		{`CREATE SOURCE TABLE T (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON')`,
			"Cannot add table 'T': A table with the same name already exists"},
	} {
		if err := executeErr(t, cat, tc.sql); err == nil || err.Error() != tc.want {
			t.Errorf("%s\n got %v\nwant %s", tc.sql, err, tc.want)
		}
	}
	qs := cat.Queries()
	if len(qs) != 1 || qs[0].ID != first.Query.ID || qs[0].SQL != first.Query.SQL {
		t.Fatalf("queries after refused replacements: %+v, want only %s", qs, first.Query.ID)
	}
	if src, ok := cat.Source("T"); !ok || !src.ReadOnly || src.Query != first.Query.ID || len(src.Columns) != 2 {
		t.Errorf("T after refused replacements: %+v", src)
	}
	if _, ok := cat.Source("N"); ok {
		t.Errorf("N created by a refused statement")
	}
	// A plain table may still be replaced.
	execute(t, cat, `CREATE OR REPLACE TABLE P (ID STRING PRIMARY KEY, V INT, W INT) WITH (KAFKA_TOPIC='p', VALUE_FORMAT='JSON')`)
}

// Command logs of older versions may hold a CREATE OR REPLACE SOURCE TABLE
// that created the table: replayed, it creates it (with its CST query); one
// that replaced a source table is refused, leaving the first version.
func TestReplayedCreateOrReplaceSourceTable(t *testing.T) {
	cat := plan.NewCatalog()
	cat.SetRestoring(true)
	res := execute(t, cat, `CREATE OR REPLACE SOURCE TABLE N (ID STRING PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='n', VALUE_FORMAT='JSON')`)
	if res.Query == nil || !strings.HasPrefix(res.Query.ID, "CST_N_") {
		t.Fatalf("replayed CREATE OR REPLACE SOURCE TABLE of a new table: %+v", res)
	}
	want := "Cannot add table 'N': CREATE OR REPLACE is not supported on source tables."
	if err := executeErr(t, cat, `CREATE OR REPLACE SOURCE TABLE N (ID STRING PRIMARY KEY, V INT, W INT) WITH (KAFKA_TOPIC='n', VALUE_FORMAT='JSON')`); err == nil || err.Error() != want {
		t.Fatalf("replayed replacement: got %v, want %s", err, want)
	}
	if qs := cat.Queries(); len(qs) != 1 || qs[0].ID != res.Query.ID {
		t.Errorf("queries: %+v", qs)
	}
}

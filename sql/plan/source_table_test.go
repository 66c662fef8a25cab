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

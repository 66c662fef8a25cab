package plan_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
)

// Pull queries on a CTAS table: the keys the WHERE pins, serialized in the
// table's key format, or a scan (Keys nil).
func TestPullTableLookupKeys(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE TABLE T (ID INT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=1)`)
	execute(t, cat, `CREATE TABLE Q AS SELECT * FROM T`)
	execute(t, cat, `CREATE TABLE R (A STRING PRIMARY KEY, B INT PRIMARY KEY, V INT) WITH (KAFKA_TOPIC='r', KEY_FORMAT='JSON', VALUE_FORMAT='JSON', PARTITIONS=1)`)
	execute(t, cat, `CREATE TABLE RQ AS SELECT * FROM R`)
	for _, tc := range []struct{ sql, keys string }{
		{`SELECT * FROM Q WHERE ID = 7`, `[[0 0 0 7]]`},
		{`SELECT * FROM Q WHERE 7 = ID AND NAME = 'x'`, `[[0 0 0 7]]`},
		{`SELECT * FROM Q WHERE ID IN (1, 2, 1)`, `[[0 0 0 1] [0 0 0 2]]`},
		{`SELECT * FROM Q WHERE ID = 1 OR ID = 2`, `[]`}, // OR: a scan
		{`SELECT * FROM Q WHERE ID > 3`, `[]`},
		{`SELECT * FROM Q`, `[]`},
		{`SELECT * FROM RQ WHERE A IN ('x', 'y') AND B = 2`, `[{"A":"x","B":2} {"A":"y","B":2}]`},
		{`SELECT * FROM RQ WHERE A = 'x'`, `[]`}, // not every key column: a scan
	} {
		stmt, err := parser.ParseStatement(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Execute(context.Background(), cat, stmt, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if res.Query.Table == nil || !res.Query.Pull {
			t.Fatalf("%s: not a table pull query: %+v", tc.sql, res.Query)
		}
		var got string
		if len(res.Query.Table.Keys) > 0 && tc.keys[1] == '{' {
			var ks []string
			for _, k := range res.Query.Table.Keys {
				ks = append(ks, string(k))
			}
			got = fmt.Sprint(ks)
		} else {
			got = fmt.Sprint(res.Query.Table.Keys)
		}
		if got != tc.keys {
			t.Errorf("%s: keys %s, want %s", tc.sql, got, tc.keys)
		}
	}
}

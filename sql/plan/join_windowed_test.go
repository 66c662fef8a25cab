package plan_test

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/plan"
)

// Joins of windowed sources are refused with ksqlDB's analyzer messages
// (whole texts: the fixtures compare one line).
func TestWindowedJoinErrors(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM S (K STRING KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`)
	execute(t, cat, `CREATE TABLE W (K STRING PRIMARY KEY, C BIGINT) WITH (KAFKA_TOPIC='w', VALUE_FORMAT='JSON', WINDOW_TYPE='TUMBLING', WINDOW_SIZE='10 SECONDS')`)
	execute(t, cat, `CREATE TABLE SW (K STRING PRIMARY KEY, C BIGINT) WITH (KAFKA_TOPIC='sw', VALUE_FORMAT='JSON', WINDOW_TYPE='SESSION')`)
	for _, tc := range []struct{ sql, want string }{
		{`CREATE STREAM O AS SELECT S.K, V, C FROM S JOIN W ON S.K = W.K`,
			"Can not join windowed source to non-windowed source.\n`S` is not windowed\n`W` is TUMBLING windowed"},
		{`CREATE STREAM O AS SELECT S.K, V, C FROM S JOIN W ON W.K = S.K`,
			"Can not join windowed source to non-windowed source.\n`W` is TUMBLING windowed\n`S` is not windowed"},
		{`CREATE TABLE O AS SELECT W.K, W.C, SW.C AS C2 FROM W JOIN SW ON W.K = SW.K`,
			"Incompatible windowed sources.\nLeft source: TUMBLING\nRight source: SESSION\n" +
				"Session windowed sources can only be joined to other session windowed sources, and may still not result in expected behaviour as session bounds must be an exact match for the join to work\n" +
				"Hopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed sources"},
	} {
		if err := executeErr(t, cat, tc.sql); err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.sql, err, tc.want)
		}
	}
	// A join of windowed tables is a windowed table of the left one's window.
	execute(t, cat, `CREATE TABLE W2 (K STRING PRIMARY KEY, D BIGINT) WITH (KAFKA_TOPIC='w2', VALUE_FORMAT='JSON', WINDOW_TYPE='HOPPING', WINDOW_SIZE='20 SECONDS')`)
	res := execute(t, cat, `CREATE TABLE J AS SELECT W.K, C, D FROM W JOIN W2 ON W.K = W2.K`)
	if w := res.Source.Window; w == nil || w.Type != "TUMBLING" || w.Size != 10_000 {
		t.Errorf("window of J: %+v", w)
	}
}

// The docs example (docs/sql-joins.md): each side's window bounds are
// selectable, qualified.
func TestWindowBoundsInJoinDocsExample(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM CLICKS (USER_ID STRING KEY, URL STRING) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=1)`)
	execute(t, cat, `CREATE STREAM VIEWS (USER_ID STRING KEY, URL STRING) WITH (KAFKA_TOPIC='views', VALUE_FORMAT='JSON', PARTITIONS=1)`)
	execute(t, cat, `CREATE TABLE CLICKS_PER_MIN AS SELECT USER_ID, COUNT(*) AS CLICKS FROM CLICKS WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY USER_ID`)
	execute(t, cat, `CREATE TABLE VIEWS_PER_MIN AS SELECT USER_ID, COUNT(*) AS VIEWS FROM VIEWS WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY USER_ID`)
	res := execute(t, cat, `CREATE TABLE CTR_WINDOWS AS SELECT V.USER_ID, V.WINDOWSTART AS WSTART, V.WINDOWEND AS WEND, CLICKS, VIEWS FROM VIEWS_PER_MIN V LEFT JOIN CLICKS_PER_MIN C ON V.USER_ID = C.USER_ID`)
	var names []string
	for _, c := range res.Source.Columns {
		names = append(names, c.Name+" "+c.Type.String())
	}
	if got, want := strings.Join(names, ", "), "V_USER_ID STRING, WSTART BIGINT, WEND BIGINT, CLICKS BIGINT, VIEWS BIGINT"; got != want {
		t.Errorf("columns of CTR_WINDOWS: %s, want %s", got, want)
	}
}

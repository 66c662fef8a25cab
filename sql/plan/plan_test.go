package plan_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
)

func execute(t *testing.T, cat *plan.Catalog, sql string) *plan.Result {
	t.Helper()
	stmt, err := parser.ParseStatement(sql)
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.Execute(context.Background(), cat, stmt, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

// TestExecuteResults walks the result kinds the engine acts on.
func TestExecuteResults(t *testing.T) {
	ctx := context.Background()
	cat := plan.NewCatalog(plan.WithClock(func() int64 { return 42 }))

	res := execute(t, cat, `CREATE STREAM S (ID INT KEY, NAME STRING, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=3)`)
	if res.Kind != plan.DDL || res.Message != "Stream created" || res.Source.Name != "S" ||
		!res.Topic.Create || res.Topic.Partitions != 3 || res.Topic.Name != "s" {
		t.Fatalf("CREATE STREAM: %+v", res)
	}

	res = execute(t, cat, `CREATE STREAM OUT AS SELECT ID, UCASE(NAME) AS N FROM S WHERE V > 1`)
	if res.Kind != plan.PersistentQuery || res.Query.ID != "CSAS_OUT_0" || res.Query.SinkTopic.Name != "OUT" ||
		!res.Query.SinkTopic.Create || strings.Join(res.Query.SourceTopics, ",") != "s" {
		t.Fatalf("CSAS: %+v %+v", res, res.Query)
	}
	out, err := res.Query.Exec.Process(ctx, exec.Record{Topic: "s", Key: []byte{0, 0, 0, 7}, Value: []byte(`{"NAME":"a","V":2}`), Timestamp: 9})
	if err != nil || len(out) != 1 || string(out[0].Value) != `{"N":"A"}` || out[0].Topic != "OUT" || out[0].Timestamp != 9 {
		t.Fatalf("CSAS output: %v %+v", err, out)
	}
	if src, ok := cat.Source("OUT"); !ok || src.Query != "CSAS_OUT_0" || len(cat.Queries()) != 1 {
		t.Fatalf("sink not in the catalog: %+v", src)
	}

	res = execute(t, cat, `SELECT ID, V * 10 AS V10 FROM S EMIT CHANGES LIMIT 5`)
	if res.Kind != plan.PushQuery || *res.Query.Limit != 5 || len(res.Query.Columns) != 2 {
		t.Fatalf("push query: %+v", res.Query)
	}
	rows, err := res.Query.Exec.Process(ctx, exec.Record{Topic: "s", Key: []byte{0, 0, 0, 7}, Value: []byte(`{"NAME":"a","V":2}`)})
	if err != nil || len(rows) != 1 || string(rows[0].Value) != `[7,20]` {
		t.Fatalf("push rows: %v %+v", err, rows)
	}

	res = execute(t, cat, `SELECT * FROM S WHERE V > 1`)
	if res.Kind != plan.PushQuery || !res.Query.Pull || len(res.Query.Columns) != 3 {
		t.Fatalf("pull query over a stream: %+v", res.Query)
	}

	res = execute(t, cat, `INSERT INTO S (ID, NAME, V) VALUES (1, 'x', 3)`)
	if res.Kind != plan.Insert || len(res.Records) != 1 || res.Records[0].Topic != "s" ||
		string(res.Records[0].Value) != `{"NAME":"x","V":3}` || res.Records[0].Timestamp != 42 {
		t.Fatalf("insert: %+v", res.Records)
	}

	res = execute(t, cat, `SHOW STREAMS`)
	if res.Kind != plan.Info || len(res.Info.Rows) != 2 || res.Info.Rows[0][0] != "OUT" {
		t.Fatalf("SHOW STREAMS: %+v", res.Info)
	}
	res = execute(t, cat, `DESCRIBE S`)
	if res.Info.Rows[0][0] != "ID" || res.Info.Rows[0][1] != "INT (key)" {
		t.Fatalf("DESCRIBE: %+v", res.Info.Rows)
	}
	res = execute(t, cat, `TERMINATE CSAS_OUT_0`)
	if res.TerminateID != "CSAS_OUT_0" || len(cat.Queries()) != 0 {
		t.Fatalf("TERMINATE: %+v", res)
	}
	res = execute(t, cat, `DROP STREAM OUT`)
	if res.Dropped != "OUT" {
		t.Fatalf("DROP: %+v", res)
	}
	res = execute(t, cat, `SET 'auto.offset.reset' = 'earliest'`)
	if res.Kind != plan.Property || res.Name != "auto.offset.reset" || res.Value != "earliest" {
		t.Fatalf("SET: %+v", res)
	}
}

// TestProcessingLog checks bad records reach the processing log and are
// counted, without failing the query.
func TestProcessingLog(t *testing.T) {
	log := &exec.MemoryLog{}
	cat := plan.NewCatalog(plan.WithProcessingLog(log))
	execute(t, cat, `CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON')`)
	res := execute(t, cat, `CREATE STREAM OUT AS SELECT * FROM S`)
	out, err := res.Query.Exec.Process(context.Background(), exec.Record{Topic: "s", Value: []byte(`{"V": "x"}`), Offset: 12})
	if err != nil || len(out) != 0 {
		t.Fatalf("bad record: %v %v", err, out)
	}
	entries := log.Entries()
	if len(entries) != 1 || entries[0].Kind != exec.DeserializationError || entries[0].QueryID != "CSAS_OUT_0" ||
		entries[0].Record.Offset != 12 {
		t.Fatalf("log: %+v", entries)
	}
	if !strings.Contains(string(entries[0].JSON()), `"deserializationError"`) {
		t.Fatalf("log JSON: %s", entries[0].JSON())
	}
	if st := res.Query.Exec.(*exec.Pipeline).Stats(); st.In.Load() != 1 || st.Errors.Load() != 1 || st.Out.Load() != 0 {
		t.Fatalf("stats: in %d errors %d out %d", st.In.Load(), st.Errors.Load(), st.Out.Load())
	}
}

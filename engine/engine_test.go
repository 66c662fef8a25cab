package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/engine/queries"
	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

var testMetrics = queries.NewMetrics(prometheus.NewRegistry())

func startEngine(t *testing.T, b *testkit.Broker) *Engine {
	t.Helper()
	e, err := Start(context.Background(), Config{Brokers: []string{b.Addr()}, Metrics: testMetrics})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func run(t *testing.T, e *Engine, sql string, props map[string]any) []any {
	t.Helper()
	out, err := e.Execute(context.Background(), &rest.Request{KSQL: sql, StreamsProperties: props})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func produceJSON(t *testing.T, b *testkit.Broker, topic string, from, to int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: binary.BigEndian.AppendUint32(nil, uint32(i)),
			Value: []byte(fmt.Sprintf(`{"ID": %d, "NAME": "user%d", "AMOUNT": %d.5}`, i, i, i))})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func readValues(t *testing.T, b *testkit.Broker, topic string, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []string
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: %d records, want %d: %v", topic, len(out), want, out)
		}
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, fmt.Sprintf("%d|%s", binary.BigEndian.Uint32(r.Key), r.Value))
		})
	}
	sort.Strings(out)
	return out
}

func noDelay(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 }

func TestPersistentQuerySurvivesRestart(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	produceJSON(t, b, "users", 0, 10)
	e := startEngine(t, b)
	earliest := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE STREAM USERS (ID INT KEY, NAME STRING, AMOUNT DOUBLE) WITH (KAFKA_TOPIC='users', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');`, nil)
	out := run(t, e, `CREATE STREAM BIG AS SELECT ID, UCASE(NAME) AS NAME, AMOUNT * 2 AS DOUBLED FROM USERS WHERE ID % 2 = 0 EMIT CHANGES;`, earliest)
	st := out[0].(map[string]any)["commandStatus"].(map[string]any)
	qid, _ := st["queryId"].(string)
	if !strings.HasPrefix(qid, "CSAS_BIG_") {
		t.Fatalf("query id %q in %v", qid, out)
	}
	got := readValues(t, b, "BIG", 5)
	if len(got) != 5 || got[4] != `8|{"NAME":"USER8","DOUBLED":17}` {
		t.Fatalf("output %v", got)
	}
	e.Close()

	// The restarted engine replays the command topic: the stream and the
	// query are back, and the query continues from its committed offsets.
	produceJSON(t, b, "users", 10, 20)
	e2 := startEngine(t, b)
	defer e2.Close()
	got = readValues(t, b, "BIG", 10)
	if len(got) != 10 {
		t.Fatalf("after restart: %v", got)
	}
	seen := map[string]bool{}
	for _, v := range got {
		if seen[v] {
			t.Fatalf("duplicate %s", v)
		}
		seen[v] = true
	}
	shown := run(t, e2, "SHOW STREAMS;", nil)
	b2, _ := json.Marshal(shown)
	if !strings.Contains(string(b2), `"name":"BIG"`) || !strings.Contains(string(b2), `"name":"USERS"`) {
		t.Fatalf("SHOW STREAMS: %s", b2)
	}
	queriesOut, _ := json.Marshal(run(t, e2, "SHOW QUERIES;", nil))
	if !strings.Contains(string(queriesOut), qid) || !strings.Contains(string(queriesOut), `"state":"RUNNING"`) {
		t.Fatalf("SHOW QUERIES: %s", queriesOut)
	}
}

func TestPushQueryInsertValuesAndErrors(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	e := startEngine(t, b)
	defer e.Close()
	run(t, e, `CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `INSERT INTO S (ID, V) VALUES (1, 'a'); INSERT INTO S (ID, V) VALUES (2, 'b');`, nil)

	st, err := e.Query(context.Background(), &rest.Request{KSQL: "SELECT ID, V FROM S WHERE ID > 1 EMIT CHANGES LIMIT 2;",
		StreamsProperties: map[string]any{"auto.offset.reset": "earliest"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.ColumnNames, ",") != "ID,V" || strings.Join(st.ColumnTypes, ",") != "INTEGER,STRING" {
		t.Fatalf("columns %v %v", st.ColumnNames, st.ColumnTypes)
	}
	if err := e.Insert(context.Background(), "s", map[string]any{"ID": json.Number("3"), "V": "c"}); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for r := range st.Rows {
		rows = append(rows, string(r))
	}
	st.Close()
	if strings.Join(rows, " ") != `[2,"b"] [3,"c"]` || !st.LimitReached() {
		t.Fatalf("rows %v limit %v err %v", rows, st.LimitReached(), st.Err())
	}

	// A pull query over a stream reads what the topic holds and ends.
	pull, err := e.Query(context.Background(), &rest.Request{KSQL: "SELECT * FROM S;"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range pull.Rows {
		n++
	}
	if n != 3 || pull.Err() != nil {
		t.Fatalf("pull query: %d rows, %v", n, pull.Err())
	}

	for _, tc := range []struct{ sql, want string }{
		{"CREATE STREAM X (A INT) WITH (KAFKA_TOPIC='missing', VALUE_FORMAT='JSON');", "Topic 'missing' does not exist"},
		{"SELECT * FROM S EMIT CHANGES;", "/query"},
		{"CREATE STREAM;", "line 1"},
		{"SELECT NOPE FROM S EMIT CHANGES;", ""},
	} {
		_, err := e.Execute(context.Background(), &rest.Request{KSQL: tc.sql})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.sql, err)
		}
	}
	if err := e.Insert(context.Background(), "S", map[string]any{"ID": "not a number"}); err == nil {
		t.Error("inserting a string into INT column must fail")
	}
}

package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

// produceAt writes JSON values with keys at given record times.
func produceAt(t *testing.T, b *testkit.Broker, topic string, recs ...struct {
	key, value string
	ts         int64
}) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, r := range recs {
		kr := &kgo.Record{Topic: topic, Key: []byte(r.key), Value: []byte(r.value), Timestamp: timeFromMillis(r.ts)}
		if err := cl.ProduceSync(context.Background(), kr).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

type rec = struct {
	key, value string
	ts         int64
}

// Pull queries on aggregates: a per-key count and sum, and a windowed one
// with WINDOWSTART/WINDOWEND bounds. A push query with GROUP BY runs on
// in-memory state.
func TestPullQueriesOnAggregates(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	e := startEngineIn(t, b, t.TempDir())
	defer e.Close()
	earliest := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE STREAM TX (CARD STRING KEY, AMOUNT INT) WITH (KAFKA_TOPIC='tx', PARTITIONS=2, VALUE_FORMAT='JSON');`, nil)
	run(t, e, `CREATE TABLE TOTALS AS SELECT CARD, COUNT(*) AS N, SUM(AMOUNT) AS TOTAL FROM TX GROUP BY CARD;`, earliest)
	run(t, e, `CREATE TABLE PER_MINUTE AS SELECT CARD, COUNT(*) AS N, SUM(AMOUNT) AS TOTAL FROM TX WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY CARD;`, earliest)
	var recs []rec
	for i := 0; i < 12; i++ {
		// c0..c2, minutes 0..3: card c(i%3) at minute i/3.
		recs = append(recs, rec{fmt.Sprintf("c%d", i%3), fmt.Sprintf(`{"AMOUNT": %d}`, i), int64(i/3)*60_000 + int64(i)})
	}
	produceAt(t, b, "tx", recs...)

	waitPull(t, e, `SELECT CARD, N, TOTAL FROM TOTALS WHERE CARD = 'c1';`, `["c1",4,22]`)
	waitPull(t, e, `SELECT CARD, WINDOWSTART, WINDOWEND, N, TOTAL FROM PER_MINUTE WHERE CARD = 'c1' AND WINDOWSTART = 180000;`,
		`["c1",180000,240000,1,10]`)
	for _, tc := range []struct{ sql, want string }{
		{`SELECT CARD, N FROM TOTALS WHERE CARD IN ('c0', 'c2');`, `["c0",4] ["c2",4]`},
		{`SELECT WINDOWSTART, TOTAL FROM PER_MINUTE WHERE CARD = 'c2' AND WINDOWSTART >= 60000 AND WINDOWEND <= 180000;`,
			`[60000,5] [120000,8]`},
		{`SELECT WINDOWSTART FROM PER_MINUTE WHERE CARD = 'c0' LIMIT 3;`, `[0] [60000] [120000]`},
	} {
		if got, err := pull(t, e, tc.sql, nil); err != nil || got != tc.want {
			t.Errorf("%s\n got %q (err %v)\nwant %q", tc.sql, got, err, tc.want)
		}
	}
	got, err := pull(t, e, `SELECT CARD FROM PER_MINUTE WHERE WINDOWSTART = 0;`, nil)
	if err != nil || len(strings.Fields(got)) != 3 {
		t.Errorf("scan of one window: %q %v", got, err)
	}

	// A push query with GROUP BY: in-memory state, one row per update.
	st, err := e.Query(context.Background(), &rest.Request{KSQL: `SELECT CARD, COUNT(*) AS N FROM TX GROUP BY CARD EMIT CHANGES LIMIT 12;`,
		StreamsProperties: earliest})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for r := range st.Rows {
		s := string(r)
		last[s[:5]] = s
	}
	st.Close()
	if st.Err() != nil || fmt.Sprint(last) != `map[["c0":["c0",4] ["c1":["c1",4] ["c2":["c2",4]]` {
		t.Errorf("push GROUP BY: %v (err %v)", last, st.Err())
	}
}

package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

// TestJoinInputsInTimestampOrder: a stream-table join whose two topics are
// both written before the query starts, so its first poll holds both. The
// table's rows and the stream's rows alternate in time; processed
// partition by partition, every order would come out wrong (table first:
// each order sees the last name; stream first: no order finds a name). In
// timestamp order, as Kafka Streams processes a task's partitions, each
// order joins the name valid when it was placed. The latest-row join
// (ksqlDB 0.29) is used: the temporal join would hide the table-first
// order. A push query over the same join gives the same rows. The
// stream-stream case: a row finds its match expired when the
// other side's later rows went first.
func TestJoinInputsInTimestampOrder(t *testing.T) {
	for _, guarantee := range []string{"at_least_once", "exactly_once_v2"} {
		t.Run(guarantee, func(t *testing.T) {
			b := testkit.StartBroker(t, noDelay)
			e := startEngine(t, b)
			defer e.Close()
			run(t, e, `CREATE TABLE USERS (ID INT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=1);`, nil)
			run(t, e, `CREATE STREAM ORDERS (UID INT KEY, ITEM STRING) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);`, nil)
			var recs []*kgo.Record
			put := func(topic string, ts int64, value string) {
				recs = append(recs, &kgo.Record{Topic: topic, Key: binary.BigEndian.AppendUint32(nil, 1),
					Value: []byte(value), Timestamp: time.UnixMilli(ts)})
			}
			for i, name := range []string{"a", "b", "c"} {
				ts := int64(1000 + 2000*i)
				put("users", ts, fmt.Sprintf(`{"NAME":%q}`, name))
				put("orders", ts+1000, fmt.Sprintf(`{"ITEM":"o%d"}`, i))
			}
			cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}

			props := map[string]any{"auto.offset.reset": "earliest", "processing.guarantee": guarantee,
				"sluice.join.stream.table.temporal": "false"}
			run(t, e, `CREATE STREAM J AS SELECT O.UID AS UID, O.ITEM AS ITEM, U.NAME AS NAME
  FROM ORDERS O JOIN USERS U ON O.UID = U.ID EMIT CHANGES;`, props)
			want := []string{`1|{"ITEM":"o0","NAME":"a"}`, `1|{"ITEM":"o1","NAME":"b"}`, `1|{"ITEM":"o2","NAME":"c"}`}
			readValues(t, b, "J", len(want))
			got := outputs(t, b, "J")
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("stream-table join:\ngot  %v\nwant %v", got, want)
			}

			if guarantee == "at_least_once" {
				// A push query runs the same join with the same order.
				st, err := e.Query(context.Background(), &rest.Request{KSQL: `SELECT O.UID AS UID, O.ITEM AS ITEM, U.NAME AS NAME
  FROM ORDERS O JOIN USERS U ON O.UID = U.ID EMIT CHANGES LIMIT 3;`, StreamsProperties: props})
				if err != nil {
					t.Fatal(err)
				}
				var rows []string
				for r := range st.Rows {
					rows = append(rows, string(r))
				}
				st.Close()
				if got := strings.Join(rows, " "); got != `[1,"o0","a"] [1,"o1","b"] [1,"o2","c"]` {
					t.Fatalf("push query: %s (err %v)", got, st.Err())
				}
			}

			// Stream-stream, one partition each: L at 1 s and 200 s, R at
			// 1.5 s (joins L at 1 s) and 400 s. Left first, L at 1 s has
			// expired from the join's window store (60 s segments) when R
			// at 1.5 s looks for it; right first, R at 1.5 s has expired
			// when L at 1 s comes.
			run(t, e, `CREATE STREAM L (K INT KEY, V STRING) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON', PARTITIONS=1);`, nil)
			run(t, e, `CREATE STREAM R (K INT KEY, V STRING) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON', PARTITIONS=1);`, nil)
			recs = recs[:0]
			put("l", 1000, `{"V":"l1"}`)
			put("l", 200000, `{"V":"l2"}`)
			put("r", 1500, `{"V":"r1"}`)
			put("r", 400000, `{"V":"r2"}`)
			if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			run(t, e, `CREATE STREAM LR AS SELECT L.K AS K, L.V AS LV, R.V AS RV
  FROM L JOIN R WITHIN 1 SECOND GRACE PERIOD 0 SECONDS ON L.K = R.K EMIT CHANGES;`, props)
			want = []string{`1|{"LV":"l1","RV":"r1"}`}
			readValues(t, b, "LR", len(want))
			got = outputs(t, b, "LR")
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("stream-stream join:\ngot  %v\nwant %v", got, want)
			}
		})
	}
}

// outputs reads topic (read_committed) until it is quiet: its records in
// offset order, as key|value with an INT key.
func outputs(t *testing.T, b *testkit.Broker, topic string) []string {
	t.Helper()
	var out []string
	for _, r := range readUntilQuiet(t, b, topic) {
		out = append(out, fmt.Sprintf("%d|%s", binary.BigEndian.Uint32(r.Key), r.Value))
	}
	return out
}

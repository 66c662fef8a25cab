package plan_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/state"
)

// cluster runs a persistent query the way the engine's runner does over
// several partitions: each record it writes goes to the partition Kafka's
// default partitioner picks (murmur2 of the key), records the query wrote
// to its own repartition topics are read back by it, the rest are outputs.
type cluster struct {
	t          *testing.T
	q          *plan.Query
	partitions int32
	stores     *state.Stores
	offsets    map[string]int64
	out        []exec.Record
}

func newCluster(t *testing.T, q *plan.Query, partitions int32) *cluster {
	t.Helper()
	st, err := state.NewStores(state.Options{Local: true, QueryID: q.ID, Partitions: math.MaxInt32})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q.Exec.(exec.StatefulQuery).UseState(st)
	return &cluster{t: t, q: q, partitions: partitions, stores: st, offsets: map[string]int64{}}
}

// partitionOf is the partition the default producer partitioner picks.
func (c *cluster) partitionOf(topic string, key []byte) int32 {
	p := kgo.StickyKeyPartitioner(nil).ForTopic(topic)
	return int32(p.Partition(&kgo.Record{Topic: topic, Key: key}, int(c.partitions)))
}

// feed processes one source record (in the partition given) and then
// everything it leads to through the repartition topics.
func (c *cluster) feed(r exec.Record) {
	c.t.Helper()
	internal := map[string]bool{}
	for _, rt := range c.q.RepartitionTopics {
		internal[rt.Name] = true
	}
	queue := []exec.Record{r}
	for len(queue) > 0 {
		in := queue[0]
		queue = queue[1:]
		k := fmt.Sprintf("%s/%d", in.Topic, in.Partition)
		in.Offset = c.offsets[k]
		c.offsets[k]++
		recs, err := c.q.Exec.Process(context.Background(), in)
		if err != nil {
			c.t.Fatal(err)
		}
		if err := c.stores.Commit(); err != nil {
			c.t.Fatal(err)
		}
		for _, rec := range recs {
			if internal[rec.Topic] {
				rec.Partition = c.partitionOf(rec.Topic, rec.Key)
				queue = append(queue, rec)
				continue
			}
			c.out = append(c.out, rec)
		}
	}
}

func intKey(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// latest returns the last value of each output key, decoded from JSON.
func latest(t *testing.T, recs []exec.Record) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range recs {
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("output %s: %v", r.Value, err)
		}
		out[string(r.Key)] = v
	}
	return out
}

// TestGroupByRepartitions checks that a GROUP BY on a value column goes
// through the query's repartition topic, so that a group whose rows come
// from four partitions is counted in one place: in-process re-keying would
// give each partition a partial count.
func TestGroupByRepartitions(t *testing.T) {
	cat := plan.NewCatalog(plan.WithServiceID("svc_"))
	execute(t, cat, `CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=4)`)
	res := execute(t, cat, `CREATE TABLE T AS SELECT V, COUNT(*) AS N FROM S GROUP BY V`)
	q := res.Query
	const topic = "_confluent-ksql-svc_query_CTAS_T_0-Aggregate-GroupBy-repartition"
	if len(q.RepartitionTopics) != 1 || q.RepartitionTopics[0].Name != topic || !q.RepartitionTopics[0].Create ||
		!slices.Equal(q.RepartitionTopics[0].PartitionsOf, []string{"s"}) {
		t.Fatalf("repartition topics: %+v", q.RepartitionTopics)
	}
	if got := q.Exec.SourceTopics(); !slices.Equal(got, []string{"s", topic}) {
		t.Fatalf("the query must read its repartition topic: %v", got)
	}
	if !slices.Equal(q.SourceTopics, []string{"s"}) {
		t.Fatalf("the user-visible sources must not list it: %v", q.SourceTopics)
	}

	// The source record gives no output, only the repartition record, keyed
	// by the new key as the sink's key format writes it.
	c := newCluster(t, q, 4)
	recs, err := q.Exec.Process(context.Background(), exec.Record{Topic: "s", Partition: 1, Key: intKey(1),
		Value: []byte(`{"V":"a"}`), Timestamp: 5, Headers: []exec.Header{{Key: "h", Value: []byte("x")}}})
	if err != nil || len(recs) != 1 || recs[0].Topic != topic || string(recs[0].Key) != "a" || recs[0].Timestamp != 5 ||
		len(recs[0].Headers) != 1 || recs[0].Headers[0].Key != "h" {
		t.Fatalf("repartition record: %v %+v", err, recs)
	}
	c.stores.Commit()

	// Ids 0..39 spread over four partitions; V is id%3: each group's rows
	// come from every partition.
	want := map[string]float64{}
	for id := range int32(40) {
		v := fmt.Sprintf("g%d", id%3)
		want[v]++
		c.feed(exec.Record{Topic: "s", Partition: id % 4, Key: intKey(id), Value: []byte(`{"V":"` + v + `"}`), Timestamp: int64(id)})
	}
	// One null group: dropped before the topic and logged.
	c.feed(exec.Record{Topic: "s", Partition: 2, Key: intKey(99), Value: []byte(`{"V":null}`)})
	got := latest(t, c.out)
	if len(got) != len(want) {
		t.Fatalf("groups: %v", got)
	}
	for k, n := range want {
		if got[k]["N"] != n {
			t.Errorf("group %s: COUNT %v, want %v", k, got[k]["N"], n)
		}
	}
}

// TestGroupByKeyHasNoRepartition: grouping by the source's key, and push
// queries (one process reads every partition), need no repartition topic.
func TestGroupByKeyHasNoRepartition(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=4)`)
	res := execute(t, cat, `CREATE TABLE T AS SELECT ID, COUNT(*) AS N FROM S GROUP BY ID`)
	if len(res.Query.RepartitionTopics) != 0 || len(res.Query.Exec.SourceTopics()) != 1 {
		t.Fatalf("GROUP BY the key: %+v", res.Query.RepartitionTopics)
	}
	res = execute(t, cat, `SELECT V, COUNT(*) FROM S GROUP BY V EMIT CHANGES`)
	if len(res.Query.RepartitionTopics) != 0 || len(res.Query.Exec.SourceTopics()) != 1 {
		t.Fatalf("push query: %+v", res.Query.RepartitionTopics)
	}
}

// TestStreamTableJoinRepartitions checks that a stream joined on a value
// column is re-keyed through a repartition topic whose key bytes are the
// table's, so a stream row meets its table row in the table's partition.
func TestStreamTableJoinRepartitions(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE TABLE C (CID INT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='c', VALUE_FORMAT='JSON', PARTITIONS=4)`)
	execute(t, cat, `CREATE STREAM O (OID INT KEY, CID INT, AMOUNT INT) WITH (KAFKA_TOPIC='o', VALUE_FORMAT='JSON', PARTITIONS=4)`)
	res := execute(t, cat, `CREATE STREAM E AS SELECT O.CID, OID, AMOUNT, NAME FROM O JOIN C ON O.CID = C.CID`)
	q := res.Query
	const topic = "_confluent-ksql-default_query_CSAS_E_0-Join-left-repartition"
	if len(q.RepartitionTopics) != 1 || q.RepartitionTopics[0].Name != topic ||
		!slices.Equal(q.RepartitionTopics[0].PartitionsOf, []string{"c"}) {
		t.Fatalf("repartition topics: %+v", q.RepartitionTopics)
	}
	c := newCluster(t, q, 4)
	for cid := range int32(8) {
		key := intKey(cid)
		c.feed(exec.Record{Topic: "c", Partition: c.partitionOf("c", key), Key: key,
			Value: []byte(fmt.Sprintf(`{"NAME":"n%d"}`, cid))})
	}
	// Orders keyed by order id, in partitions unrelated to their customer.
	for oid := range int32(24) {
		c.feed(exec.Record{Topic: "o", Partition: oid % 4, Key: intKey(oid),
			Value: []byte(fmt.Sprintf(`{"CID":%d,"AMOUNT":%d}`, oid%8, oid))})
	}
	if len(c.out) != 24 {
		t.Fatalf("joined %d of 24 orders", len(c.out))
	}
	for _, r := range c.out {
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		cid := int32(binary.BigEndian.Uint32(r.Key))
		if v["NAME"] != fmt.Sprintf("n%d", cid) || int32(v["AMOUNT"].(float64))%8 != cid {
			t.Fatalf("wrong join: key %d value %s", cid, r.Value)
		}
	}
}

// TestStreamStreamJoinRepartitionsBothSides: both sides joined on value
// columns are re-keyed, each through its own topic.
func TestStreamStreamJoinRepartitionsBothSides(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM A (ID INT KEY, X INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON', PARTITIONS=2)`)
	execute(t, cat, `CREATE STREAM B (ID INT KEY, Y INT) WITH (KAFKA_TOPIC='b', VALUE_FORMAT='JSON', PARTITIONS=2)`)
	res := execute(t, cat, `CREATE STREAM J AS SELECT A.X, A.ID AS AID, B.ID AS BID FROM A JOIN B WITHIN 1 HOUR ON A.X = B.Y`)
	var names []string
	for _, rt := range res.Query.RepartitionTopics {
		names = append(names, rt.Name)
	}
	want := []string{"_confluent-ksql-default_query_CSAS_J_0-Join-left-repartition", "_confluent-ksql-default_query_CSAS_J_0-Join-right-repartition"}
	if !slices.Equal(names, want) {
		t.Fatalf("repartition topics: %v", names)
	}
	c := newCluster(t, res.Query, 2)
	c.feed(exec.Record{Topic: "a", Partition: 0, Key: intKey(1), Value: []byte(`{"X":7}`), Timestamp: 10})
	c.feed(exec.Record{Topic: "b", Partition: 1, Key: intKey(2), Value: []byte(`{"Y":7}`), Timestamp: 11})
	if len(c.out) != 1 || string(c.out[0].Value) != `{"AID":1,"BID":2}` || binary.BigEndian.Uint32(c.out[0].Key) != 7 {
		t.Fatalf("outputs: %+v", c.out)
	}
}

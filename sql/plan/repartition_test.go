package plan_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
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

// TestTableGroupByRepartitions: a table grouped by a value column sends
// each change as a subtractor (the old row, to its old group) and an adder
// through the repartition topic; groups stay exact when rows move between
// groups and are deleted, with rows in four partitions.
func TestTableGroupByRepartitions(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE TABLE U (ID INT PRIMARY KEY, REGION STRING, SPEND INT) WITH (KAFKA_TOPIC='u', VALUE_FORMAT='JSON', PARTITIONS=4)`)
	res := execute(t, cat, `CREATE TABLE R AS SELECT REGION, COUNT(*) AS N, SUM(SPEND) AS TOTAL FROM U GROUP BY REGION`)
	if len(res.Query.RepartitionTopics) != 1 {
		t.Fatalf("repartition topics: %+v", res.Query.RepartitionTopics)
	}
	c := newCluster(t, res.Query, 4)
	type user struct {
		region string
		spend  int
	}
	users := map[int32]user{}
	set := func(id int32, region string, spend int) {
		key := intKey(id)
		p := c.partitionOf("u", key)
		if region == "" {
			delete(users, id)
			c.feed(exec.Record{Topic: "u", Partition: p, Key: key})
			return
		}
		users[id] = user{region, spend}
		c.feed(exec.Record{Topic: "u", Partition: p, Key: key, Value: []byte(fmt.Sprintf(`{"REGION":%q,"SPEND":%d}`, region, spend))})
	}
	regions := []string{"north", "south", "east"}
	for id := range int32(30) {
		set(id, regions[id%3], int(id))
	}
	for id := int32(0); id < 30; id += 4 {
		set(id, regions[(id+1)%3], 100) // moves to another group
	}
	for id := int32(1); id < 30; id += 7 {
		set(id, "", 0) // deleted
	}
	set(2, regions[2%3], 5) // updated within its group
	want := map[string][2]float64{}
	for _, u := range users {
		w := want[u.region]
		want[u.region] = [2]float64{w[0] + 1, w[1] + float64(u.spend)}
	}
	got := latest(t, c.out)
	for _, r := range regions {
		if got[r]["N"] != want[r][0] || got[r]["TOTAL"] != want[r][1] {
			t.Errorf("region %s: got %v, want COUNT %v SUM %v", r, got[r], want[r][0], want[r][1])
		}
	}
}

// TestJoinRepartitionKeyFormatFallback: two keyless streams joined on a
// BOOLEAN expression cannot write that key in KAFKA, the default key format;
// both sides then write it as JSON and still meet.
func TestJoinRepartitionKeyFormatFallback(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM A (X INT, F BOOLEAN) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON', PARTITIONS=2)`)
	execute(t, cat, `CREATE STREAM B (Y INT, G BOOLEAN) WITH (KAFKA_TOPIC='b', VALUE_FORMAT='JSON', PARTITIONS=2)`)
	res := execute(t, cat, `CREATE STREAM J WITH (KEY_FORMAT='JSON') AS SELECT A.F, X, Y FROM A JOIN B WITHIN 1 HOUR ON A.F = B.G`)
	if len(res.Query.RepartitionTopics) != 2 || res.Query.RepartitionTopics[0].KeyFormat != "JSON" || res.Query.RepartitionTopics[1].KeyFormat != "JSON" {
		t.Fatalf("repartition topics: %+v", res.Query.RepartitionTopics)
	}
	c := newCluster(t, res.Query, 2)
	c.feed(exec.Record{Topic: "a", Partition: 0, Value: []byte(`{"X":1,"F":true}`), Timestamp: 10})
	c.feed(exec.Record{Topic: "b", Partition: 1, Value: []byte(`{"Y":2,"G":true}`), Timestamp: 11})
	c.feed(exec.Record{Topic: "b", Partition: 0, Value: []byte(`{"Y":3,"G":false}`), Timestamp: 12})
	if len(c.out) != 1 || string(c.out[0].Value) != `{"X":1,"Y":2}` || string(c.out[0].Key) != "true" {
		t.Fatalf("outputs: %+v", c.out)
	}
}

// TestMultiWayJoinRepartitions: each join of a multi-way join re-keys its
// left input when joined on another column, through its own topic; the
// second split re-keys rows that already went through the first.
func TestMultiWayJoinRepartitions(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE TABLE P (PID INT PRIMARY KEY, PNAME STRING) WITH (KAFKA_TOPIC='p', VALUE_FORMAT='JSON', PARTITIONS=3)`)
	execute(t, cat, `CREATE TABLE C (CID INT PRIMARY KEY, CNAME STRING) WITH (KAFKA_TOPIC='c', VALUE_FORMAT='JSON', PARTITIONS=3)`)
	execute(t, cat, `CREATE STREAM O (OID INT KEY, CID INT, PID INT) WITH (KAFKA_TOPIC='o', VALUE_FORMAT='JSON', PARTITIONS=3)`)
	res := execute(t, cat, `CREATE STREAM E AS SELECT O.PID, OID, CNAME, PNAME FROM O JOIN C ON O.CID = C.CID JOIN P ON O.PID = P.PID`)
	var names []string
	for _, rt := range res.Query.RepartitionTopics {
		names = append(names, rt.Name)
	}
	want := []string{"_confluent-ksql-default_query_CSAS_E_0-Join-left-repartition", "_confluent-ksql-default_query_CSAS_E_0-Join-2-left-repartition"}
	if !slices.Equal(names, want) {
		t.Fatalf("repartition topics: %v", names)
	}
	c := newCluster(t, res.Query, 3)
	for id := range int32(6) {
		c.feed(exec.Record{Topic: "c", Partition: c.partitionOf("c", intKey(id)), Key: intKey(id), Value: []byte(fmt.Sprintf(`{"CNAME":"c%d"}`, id))})
		c.feed(exec.Record{Topic: "p", Partition: c.partitionOf("p", intKey(id)), Key: intKey(id), Value: []byte(fmt.Sprintf(`{"PNAME":"p%d"}`, id))})
	}
	for oid := range int32(30) {
		c.feed(exec.Record{Topic: "o", Partition: oid % 3, Key: intKey(oid), Value: []byte(fmt.Sprintf(`{"CID":%d,"PID":%d}`, oid%6, (oid/6)%6))})
	}
	if len(c.out) != 30 {
		t.Fatalf("joined %d of 30 orders", len(c.out))
	}
	for _, r := range c.out {
		var v struct {
			OID          int
			CNAME, PNAME string
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		pid := int(binary.BigEndian.Uint32(r.Key))
		if v.CNAME != fmt.Sprintf("c%d", v.OID%6) || v.PNAME != fmt.Sprintf("p%d", pid) || pid != (v.OID/6)%6 {
			t.Fatalf("wrong join: key %d value %s", pid, r.Value)
		}
	}
}

// TestPushQueryStateIsOneTask: a push query has no repartition topic (one
// process reads every partition), so its state must not be split by input
// partition: a group's count spans the partitions, and a stream row meets a
// table row of another partition.
func TestPushQueryStateIsOneTask(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=4)`)
	execute(t, cat, `CREATE TABLE C (CID INT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='c', VALUE_FORMAT='JSON', PARTITIONS=4)`)
	ctx := context.Background()
	stores := func(q *plan.Query) {
		st, err := state.NewStores(state.Options{Local: true, QueryID: "push", Partitions: math.MaxInt32})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		q.Exec.(exec.StatefulQuery).UseState(st)
	}
	agg := execute(t, cat, `SELECT V, COUNT(*) AS N, COLLECT_LIST(ROWPARTITION) AS P FROM S GROUP BY V EMIT CHANGES`).Query
	stores(agg)
	var last string
	for p := range int32(4) {
		out, err := agg.Exec.Process(ctx, exec.Record{Topic: "s", Partition: p, Key: intKey(p), Value: []byte(`{"V":"a"}`)})
		if err != nil || len(out) != 1 {
			t.Fatalf("%v %+v", err, out)
		}
		last = string(out[0].Value)
	}
	if last != `["a",4,[0,1,2,3]]` {
		t.Fatalf("push GROUP BY over four partitions: %s", last)
	}
	join := execute(t, cat, `SELECT S.ID, NAME FROM S JOIN C ON S.ID = C.CID EMIT CHANGES`).Query
	stores(join)
	if _, err := join.Exec.Process(ctx, exec.Record{Topic: "c", Partition: 3, Key: intKey(7), Value: []byte(`{"NAME":"seven"}`)}); err != nil {
		t.Fatal(err)
	}
	out, err := join.Exec.Process(ctx, exec.Record{Topic: "s", Partition: 1, Key: intKey(7), Value: []byte(`{"V":"x"}`)})
	if err != nil || len(out) != 1 || string(out[0].Value) != `[7,"seven"]` {
		t.Fatalf("push join: %v %+v", err, out)
	}
}

// TestGroupByRepartitionWritesOnlyReadColumns: a stream GROUP BY's
// repartition record carries the columns the aggregation reads (WHERE,
// grouping expressions, aggregate arguments) and none of the others, and
// the aggregate still gets the read ones through it.
func TestGroupByRepartitionWritesOnlyReadColumns(t *testing.T) {
	cat := plan.NewCatalog()
	execute(t, cat, `CREATE STREAM S (ID INT KEY, V STRING, AMOUNT INT, NOTE STRING, REGION STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=4)`)
	res := execute(t, cat, `CREATE TABLE T AS SELECT V, SUM(AMOUNT) AS TOTAL FROM S WHERE REGION = 'eu-west' GROUP BY V`)
	q := res.Query
	if len(q.RepartitionTopics) != 1 {
		t.Fatalf("repartition topics: %+v", q.RepartitionTopics)
	}
	c := newCluster(t, q, 4)
	recs, err := q.Exec.Process(context.Background(), exec.Record{Topic: "s", Partition: 0, Key: intKey(1),
		Value: []byte(`{"V":"group-a","AMOUNT":123456,"NOTE":"never-read-by-the-query","REGION":"eu-west"}`)})
	if err != nil || len(recs) != 1 || recs[0].Topic != q.RepartitionTopics[0].Name {
		t.Fatalf("repartition record: %v %+v", err, recs)
	}
	value := string(recs[0].Value)
	if strings.Contains(value, "never-read-by-the-query") {
		t.Errorf("the repartition record carries a column nothing reads: %q", value)
	}
	for _, read := range []string{"group-a", "eu-west"} {
		if !strings.Contains(value, read) {
			t.Errorf("the repartition record lacks %q, which the query reads: %q", read, value)
		}
	}
	if err := c.stores.Commit(); err != nil {
		t.Fatal(err)
	}

	for id, amount := range []int{5, 7, 11} {
		c.feed(exec.Record{Topic: "s", Partition: int32(id % 4), Key: intKey(int32(id)),
			Value: []byte(fmt.Sprintf(`{"V":"g","AMOUNT":%d,"NOTE":"n","REGION":"eu-west"}`, amount))})
	}
	c.feed(exec.Record{Topic: "s", Partition: 3, Key: intKey(9), Value: []byte(`{"V":"g","AMOUNT":100,"REGION":"us"}`)})
	if got := latest(t, c.out)["g"]["TOTAL"]; got != float64(23) {
		t.Fatalf("SUM through the pruned repartition: %v, want 23", got)
	}
}

package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/engine/queries"
	"github.com/sluicedata/sluice/testkit"
)

// Repartition topics with a real broker: a source of four partitions whose
// rows of one group (or of one join key) sit in different partitions. The
// query's tasks are keyed by partition, so without the repartition topic
// each would aggregate (or join) only its own share.

const repartitionPartitions = 4

// produceKeyed writes records with 4-byte INT keys; the default
// partitioner spreads them over the topic's partitions. It returns the
// partition of each record.
func produceKeyed(t *testing.T, b *testkit.Broker, topic string, keys []int, value func(int) string) map[int]int32 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i, k := range keys {
		recs = append(recs, &kgo.Record{Topic: topic, Key: binary.BigEndian.AppendUint32(nil, uint32(k)),
			Value: []byte(value(k)), Timestamp: time.UnixMilli(int64(1000 + i))})
	}
	res := cl.ProduceSync(context.Background(), recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	parts := map[int]int32{}
	for i, r := range res {
		parts[keys[i]] = r.Record.Partition
	}
	return parts
}

// waitLatest reads topic from the start until the latest value of each key
// satisfies done, and returns those values. It stops early when the query
// qid failed.
func waitLatest(t *testing.T, b *testkit.Broker, e *Engine, qid, topic string, decodeKey func([]byte) string, done func(map[string]string) bool) map[string]string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	latest := map[string]string{}
	for !done(latest) {
		if r := e.running[qid]; r != nil {
			if st, err := r.State(); st == queries.Error {
				t.Fatalf("query %s failed: %v", qid, err)
			}
		}
		poll, cancelPoll := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(poll)
		cancelPoll()
		if ctx.Err() != nil {
			t.Fatalf("%s: gave up waiting; latest values %v", topic, latest)
		}
		fs.EachRecord(func(r *kgo.Record) { latest[decodeKey(r.Key)] = string(r.Value) })
	}
	return latest
}

func partitionCount(t *testing.T, b *testkit.Broker, topic string) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(context.Background(), topic)
	if err != nil || !td.Has(topic) {
		t.Fatalf("topic %s: %v", topic, err)
	}
	return len(td[topic].Partitions)
}

func TestGroupByRepartitionTopic(t *testing.T) {
	for _, guarantee := range []string{"at_least_once", "exactly_once_v2"} {
		t.Run(guarantee, func(t *testing.T) {
			b := testkit.StartBroker(t, noDelay)
			e := startEngine(t, b)
			defer e.Close()
			props := map[string]any{"auto.offset.reset": "earliest", "processing.guarantee": guarantee}
			run(t, e, `CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)

			// 60 rows, V = g0..g4: each group's rows spread over the four
			// partitions (checked below, or the test would prove nothing).
			var ids []int
			want := map[string]int{}
			for id := range 60 {
				ids = append(ids, id)
				want[fmt.Sprintf("g%d", id%5)]++
			}
			parts := produceKeyed(t, b, "s", ids, func(id int) string { return fmt.Sprintf(`{"V":"g%d"}`, id%5) })
			spread := map[string]map[int32]bool{}
			for id, p := range parts {
				g := fmt.Sprintf("g%d", id%5)
				if spread[g] == nil {
					spread[g] = map[int32]bool{}
				}
				spread[g][p] = true
			}
			for g, ps := range spread {
				if len(ps) < 2 {
					t.Fatalf("group %s is in one partition only: the test needs it spread", g)
				}
			}

			out := run(t, e, `CREATE TABLE T AS SELECT V, COUNT(*) AS N FROM S GROUP BY V;`, props)
			qid := out[0].(map[string]any)["commandStatus"].(map[string]any)["queryId"].(string)
			rp := "_confluent-ksql-default_query_" + qid + "-Aggregate-GroupBy-repartition"
			if n := partitionCount(t, b, rp); n != repartitionPartitions {
				t.Fatalf("%s has %d partitions, want %d", rp, n, repartitionPartitions)
			}
			wantJSON := map[string]string{}
			for g, n := range want {
				wantJSON[g] = fmt.Sprintf(`{"N":%d}`, n)
			}
			waitLatest(t, b, e, qid, "T", func(k []byte) string { return string(k) }, func(m map[string]string) bool {
				for g, v := range wantJSON {
					if m[g] != v {
						return false
					}
				}
				return true
			})
			// Read everything again once the query is quiet: a duplicate
			// or a partial count would show as a later value.
			got := map[string]string{}
			for _, rec := range readUntilQuiet(t, b, "T") {
				got[string(rec.Key)] = string(rec.Value)
			}
			if len(got) != len(wantJSON) {
				t.Fatalf("groups: got %v, want %v", got, wantJSON)
			}
			for g, v := range wantJSON {
				if got[g] != v {
					t.Fatalf("group %s: got %s, want %s", g, got[g], v)
				}
			}

			// TERMINATE deletes the query's repartition topic, as ksqlDB does.
			run(t, e, "TERMINATE "+qid+";", nil)
			cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if td, err := kadm.NewClient(cl).ListTopics(context.Background(), rp); err != nil || td.Has(rp) {
				t.Fatalf("after TERMINATE: %s still listed (%v)", rp, err)
			}
		})
	}
}

func TestStreamTableJoinRepartitionTopic(t *testing.T) {
	for _, guarantee := range []string{"at_least_once", "exactly_once_v2"} {
		t.Run(guarantee, func(t *testing.T) {
			b := testkit.StartBroker(t, noDelay)
			e := startEngine(t, b)
			defer e.Close()
			props := map[string]any{"auto.offset.reset": "earliest", "processing.guarantee": guarantee}
			run(t, e, `CREATE TABLE C (CID INT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='c', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)
			run(t, e, `CREATE STREAM O (OID INT KEY, CID INT, AMOUNT INT) WITH (KAFKA_TOPIC='o', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)
			var cids []int
			for cid := range 8 {
				cids = append(cids, cid)
			}
			produceKeyed(t, b, "c", cids, func(cid int) string { return fmt.Sprintf(`{"NAME":"n%d"}`, cid) })

			out := run(t, e, `CREATE STREAM E AS SELECT O.CID, OID, AMOUNT, NAME FROM O JOIN C ON O.CID = C.CID;`, props)
			qid := out[0].(map[string]any)["commandStatus"].(map[string]any)["queryId"].(string)
			rp := "_confluent-ksql-default_query_" + qid + "-Join-left-repartition"
			if n := partitionCount(t, b, rp); n != repartitionPartitions {
				t.Fatalf("%s has %d partitions, want %d", rp, n, repartitionPartitions)
			}
			// The table rows are in the query's state before any order.
			r := e.running[qid]
			deadline := time.Now().Add(30 * time.Second)
			for r.Processed() < int64(len(cids)) {
				if st, err := r.State(); st == queries.Error {
					t.Fatalf("query %s failed: %v", qid, err)
				}
				if time.Now().After(deadline) {
					t.Fatalf("the query read %d table rows", r.Processed())
				}
				time.Sleep(20 * time.Millisecond)
			}

			// Orders keyed by order id: an order is rarely in its
			// customer's partition.
			var oids []int
			for oid := range 40 {
				oids = append(oids, oid)
			}
			produceKeyed(t, b, "o", oids, func(oid int) string { return fmt.Sprintf(`{"CID":%d,"AMOUNT":%d}`, oid%8, oid) })
			waitLatest(t, b, e, qid, "E", func(k []byte) string { return fmt.Sprint(binary.BigEndian.Uint32(k)) },
				func(m map[string]string) bool { return len(m) == 8 })
			joined := readUntilQuiet(t, b, "E")
			if len(joined) != len(oids) {
				t.Fatalf("joined %d of %d orders", len(joined), len(oids))
			}
			for _, rec := range joined {
				var v struct {
					OID, AMOUNT int
					NAME        string
				}
				if err := json.Unmarshal(rec.Value, &v); err != nil {
					t.Fatal(err)
				}
				cid := int(binary.BigEndian.Uint32(rec.Key))
				if v.OID%8 != cid || v.NAME != fmt.Sprintf("n%d", cid) {
					t.Fatalf("wrong join: key %d value %s", cid, rec.Value)
				}
			}
		})
	}
}

// readUntilQuiet reads topic (read_committed) from the start until a
// second passes with no new record.
func readUntilQuiet(t *testing.T, b *testkit.Broker, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		recs := cl.PollFetches(ctx).Records()
		cancel()
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
	}
}

func TestTableGroupByRepartitionTopic(t *testing.T) {
	for _, guarantee := range []string{"at_least_once", "exactly_once_v2"} {
		t.Run(guarantee, func(t *testing.T) {
			b := testkit.StartBroker(t, noDelay)
			e := startEngine(t, b)
			defer e.Close()
			props := map[string]any{"auto.offset.reset": "earliest", "processing.guarantee": guarantee}
			run(t, e, `CREATE TABLE U (ID INT PRIMARY KEY, REGION STRING) WITH (KAFKA_TOPIC='u', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)
			region := map[int]string{}
			var ids []int
			for id := range 40 {
				ids = append(ids, id)
				region[id] = fmt.Sprintf("r%d", id%3)
			}
			produceKeyed(t, b, "u", ids, func(id int) string { return fmt.Sprintf(`{"REGION":"r%d"}`, id%3) })
			// Every fifth user moves to another region.
			var moved []int
			for id := 0; id < 40; id += 5 {
				moved = append(moved, id)
				region[id] = fmt.Sprintf("r%d", (id+1)%3)
			}
			produceKeyed(t, b, "u", moved, func(id int) string { return fmt.Sprintf(`{"REGION":"r%d"}`, (id+1)%3) })
			want := map[string]string{}
			counts := map[string]int{}
			for _, r := range region {
				counts[r]++
			}
			for r, n := range counts {
				want[r] = fmt.Sprintf(`{"N":%d}`, n)
			}
			out := run(t, e, `CREATE TABLE R AS SELECT REGION, COUNT(*) AS N FROM U GROUP BY REGION;`, props)
			qid := out[0].(map[string]any)["commandStatus"].(map[string]any)["queryId"].(string)
			waitLatest(t, b, e, qid, "R", func(k []byte) string { return string(k) }, func(m map[string]string) bool {
				for r, v := range want {
					if m[r] != v {
						return false
					}
				}
				return true
			})
			got := map[string]string{}
			for _, rec := range readUntilQuiet(t, b, "R") {
				got[string(rec.Key)] = string(rec.Value)
			}
			for r, v := range want {
				if got[r] != v {
					t.Fatalf("region %s: got %s, want %s (all: %v)", r, got[r], v, got)
				}
			}
		})
	}
}

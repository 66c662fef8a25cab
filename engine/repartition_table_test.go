package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/testkit"
)

// TestTableGroupByRepartitionTopic: a table of four partitions grouped on a
// value column. Rows move between groups and are deleted; each change's
// retraction and addition go through the GroupBy repartition topic, so the
// counts come out exact although a group's rows (and a row's old and new
// group) sit in different partitions.
func TestTableGroupByMovesAndDeletesAcrossPartitions(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	e := startEngine(t, b)
	defer e.Close()
	props := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE TABLE TT (ID INT PRIMARY KEY, V STRING) WITH (KAFKA_TOPIC='tt', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	final := map[int]string{} // the table's rows once everything is read
	var recs []*kgo.Record
	put := func(id int, v string) {
		r := &kgo.Record{Topic: "tt", Key: binary.BigEndian.AppendUint32(nil, uint32(id)),
			Timestamp: time.UnixMilli(int64(1000 + len(recs)))}
		if v != "" {
			r.Value = []byte(fmt.Sprintf(`{"V":%q}`, v))
			final[id] = v
		} else {
			delete(final, id)
		}
		recs = append(recs, r)
	}
	for id := range 60 {
		put(id, fmt.Sprintf("g%d", id%5))
	}
	for id := range 20 { // move to the next group
		put(id, fmt.Sprintf("g%d", (id+1)%5))
	}
	for id := 40; id < 50; id++ { // delete
		put(id, "")
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	counts := map[string]int{}
	for _, v := range final {
		counts[v]++
	}
	for g, n := range counts {
		want[g] = fmt.Sprintf(`{"N":%d}`, n)
	}

	out := run(t, e, `CREATE TABLE C AS SELECT V, COUNT(*) AS N FROM TT GROUP BY V;`, props)
	qid := out[0].(map[string]any)["commandStatus"].(map[string]any)["queryId"].(string)
	rp := "_confluent-ksql-default_query_" + qid + "-Aggregate-GroupBy-repartition"
	if n := partitionCount(t, b, rp); n != repartitionPartitions {
		t.Fatalf("%s has %d partitions, want %d", rp, n, repartitionPartitions)
	}
	waitLatest(t, b, e, qid, "C", func(k []byte) string { return string(k) }, func(m map[string]string) bool {
		for g, v := range want {
			if m[g] != v {
				return false
			}
		}
		return true
	})
	got := map[string]string{}
	for _, rec := range readUntilQuiet(t, b, "C") {
		got[string(rec.Key)] = string(rec.Value)
	}
	for g, v := range want {
		if got[g] != v {
			t.Fatalf("group %s: got %s, want %s (all: %v)", g, got[g], v, got)
		}
	}
}

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

// TestGroupByOverTableTableJoinAcrossPartitions: two tables of four
// partitions joined on their keys and grouped on a column of the right
// table. Rows change on both sides (moving joined rows between groups) and
// are deleted on both sides; the joined rows' retractions and additions go
// through the GroupBy repartition topic, so the counts come out as the
// inner join of the final tables.
func TestGroupByOverTableTableJoinAcrossPartitions(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	e := startEngine(t, b)
	defer e.Close()
	props := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE TABLE ACC (ID INT PRIMARY KEY, LIM INT) WITH (KAFKA_TOPIC='acc', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)
	run(t, e, `CREATE TABLE CUST (ID INT PRIMARY KEY, COUNTRY STRING) WITH (KAFKA_TOPIC='cust', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	acc, cust := map[int]int{}, map[int]string{} // the tables' final rows
	var recs []*kgo.Record
	put := func(topic string, id int, value string) {
		recs = append(recs, &kgo.Record{Topic: topic, Key: binary.BigEndian.AppendUint32(nil, uint32(id)),
			Value: []byte(value), Timestamp: time.UnixMilli(int64(1000 + len(recs)))})
		if value == "" {
			recs[len(recs)-1].Value = nil
		}
	}
	setAcc := func(id, lim int) { put("acc", id, fmt.Sprintf(`{"LIM":%d}`, lim)); acc[id] = lim }
	setCust := func(id int, c string) { put("cust", id, fmt.Sprintf(`{"COUNTRY":%q}`, c)); cust[id] = c }
	for id := range 40 {
		setAcc(id, id)
		setCust(id, fmt.Sprintf("c%d", id%4))
	}
	for id := range 10 { // right side moves the joined row to another group
		setCust(id, fmt.Sprintf("c%d", (id+1)%4))
	}
	for id := 10; id < 20; id++ { // left side updates stay in their group
		setAcc(id, id*10)
	}
	for id := 20; id < 25; id++ { // left deletes
		put("acc", id, "")
		delete(acc, id)
	}
	for id := 25; id < 30; id++ { // right deletes
		put("cust", id, "")
		delete(cust, id)
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	type agg struct{ n, total int }
	groups := map[string]agg{}
	for id, lim := range acc {
		if c, ok := cust[id]; ok {
			g := groups[c]
			groups[c] = agg{g.n + 1, g.total + lim}
		}
	}
	want := map[string]string{}
	for c, g := range groups {
		want[c] = fmt.Sprintf(`{"N":%d,"TOTAL":%d}`, g.n, g.total)
	}

	out := run(t, e, `CREATE TABLE C AS SELECT COUNTRY, COUNT(*) AS N, SUM(LIM) AS TOTAL FROM ACC JOIN CUST ON ACC.ID = CUST.ID GROUP BY COUNTRY;`, props)
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
	if len(got) != len(want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	for g, v := range want {
		if got[g] != v {
			t.Fatalf("group %s: got %s, want %s (all: %v)", g, got[g], v, got)
		}
	}
}

// TestJoinOfWindowedAggregations: two tumbling-window counts over topics of
// four partitions, joined on key and window. Each window's counts meet the
// same window of the other side, and the result keys are windowed (the key
// then the 8-byte window start).
func TestJoinOfWindowedAggregations(t *testing.T) {
	b := testkit.StartBroker(t, noDelay)
	e := startEngine(t, b)
	defer e.Close()
	props := map[string]any{"auto.offset.reset": "earliest"}
	run(t, e, `CREATE STREAM CLICKS (ID INT KEY, U STRING) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)
	run(t, e, `CREATE STREAM VIEWS (ID INT KEY, U STRING) WITH (KAFKA_TOPIC='views', VALUE_FORMAT='JSON', PARTITIONS=4);`, nil)
	run(t, e, `CREATE TABLE C AS SELECT U, COUNT(*) AS CLICKS FROM CLICKS WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY U;`, props)
	run(t, e, `CREATE TABLE V AS SELECT U, COUNT(*) AS VIEWS FROM VIEWS WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY U;`, props)
	out := run(t, e, `CREATE TABLE CTR AS SELECT V.U, VIEWS, CLICKS FROM V JOIN C ON V.U = C.U;`, props)
	qid := out[0].(map[string]any)["commandStatus"].(map[string]any)["queryId"].(string)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	event := func(topic string, id int, user string, ms int64) {
		recs = append(recs, &kgo.Record{Topic: topic, Key: binary.BigEndian.AppendUint32(nil, uint32(id)),
			Value: []byte(fmt.Sprintf(`{"U":%q}`, user)), Timestamp: time.UnixMilli(ms)})
	}
	// Window [0, 1000): u1 3 views 1 click, u2 1 view 2 clicks; window
	// [1000, 2000): u1 2 views 2 clicks; u3 has views only.
	for i, ms := range []int64{100, 200, 300} {
		event("views", i, "u1", ms)
	}
	event("views", 3, "u2", 400)
	event("views", 4, "u3", 450)
	event("clicks", 0, "u1", 500)
	event("clicks", 1, "u2", 600)
	event("clicks", 2, "u2", 700)
	event("views", 5, "u1", 1100)
	event("views", 6, "u1", 1200)
	event("clicks", 3, "u1", 1300)
	event("clicks", 4, "u1", 1400)
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"u1@0":    `{"VIEWS":3,"CLICKS":1}`,
		"u2@0":    `{"VIEWS":1,"CLICKS":2}`,
		"u1@1000": `{"VIEWS":2,"CLICKS":2}`,
	}
	windowedKey := func(k []byte) string {
		if len(k) < 8 {
			return "bad key " + string(k)
		}
		return fmt.Sprintf("%s@%d", k[:len(k)-8], int64(binary.BigEndian.Uint64(k[len(k)-8:])))
	}
	got := waitLatest(t, b, e, qid, "CTR", windowedKey, func(m map[string]string) bool {
		for k, v := range want {
			if m[k] != v {
				return false
			}
		}
		return true
	})
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected result %s = %s", k, got[k])
		}
	}
}

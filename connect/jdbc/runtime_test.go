package jdbc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/connect"
	_ "github.com/sluicedata/sluice/connect/converters" // JsonConverter
	"github.com/sluicedata/sluice/connect/runtime"
	"github.com/sluicedata/sluice/testkit"
)

// The sink under the real runtime: JSON records with schemas from a topic
// into PostgreSQL, a tombstone deleting, and a row the database refuses
// dead-lettered while the rest is written and the offsets committed.
func TestUnderRuntime(t *testing.T) {
	tdb := newTestDB(t, "postgres")
	mustExec(t, tdb.db, "CREATE TABLE orders (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, amount NUMERIC(10,2))")
	b := testkit.StartBroker(t, func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	key := func(id int) []byte {
		return fmt.Appendf(nil, `{"schema":{"type":"struct","fields":[{"field":"id","type":"int32"}]},"payload":{"id":%d}}`, id)
	}
	value := func(id int, name, amount string) []byte {
		return fmt.Appendf(nil, `{"schema":{"type":"struct","name":"Order","fields":[{"field":"id","type":"int32"},`+
			`{"field":"name","type":"string"},{"field":"amount","type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}}]},`+
			`"payload":{"id":%d,"name":%q,"amount":%q}}`, id, name, amount)
	}
	recs := []*kgo.Record{
		{Key: key(1), Value: value(1, "ann", "MDk=")},          // 123.45
		{Key: key(2), Value: value(2, "bob", "AQ==")},          // 0.01
		{Key: key(3), Value: value(3, "far too long", "AQ==")}, // refused: VARCHAR(5)
		{Key: key(2)}, // tombstone
		{Key: key(4), Value: value(4, "dan", "/w==")}, // -0.01
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("orders"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	w, err := runtime.New(ctx, runtime.Options{Brokers: []string{b.Addr()}, WorkerID: "jdbc-test", Distributed: true,
		WorkerConfig: connect.Config{"key.converter": "org.apache.kafka.connect.json.JsonConverter",
			"value.converter": "org.apache.kafka.connect.json.JsonConverter"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = w.Create(ctx, "orders-pg", connect.Config{"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
		"topics": "orders", "connection.url": tdb.url, "pk.mode": "record_key", "insert.mode": "upsert", "delete.enabled": "true",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "orders-dlq", "errors.deadletterqueue.topic.replication.factor": "1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// The runtime commits the consumer offsets only after Put and Flush.
	for {
		offs, err := w.Offsets(ctx, "orders-pg")
		if err == nil && len(offs) == 1 && offs[0].Offset["kafka_offset"] == int64(len(recs)) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("offsets never reached %d: %v %v", len(recs), offs, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	tdb.wantRows(t, "SELECT id, name, amount::text FROM orders ORDER BY id", "1|ann|123.45", "4|dan|-0.01")

	dlq, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("orders-dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	fs := dlq.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	var got []*kgo.Record
	fs.EachRecord(func(r *kgo.Record) { got = append(got, r) })
	if len(got) != 1 || string(got[0].Value) != string(recs[2].Value) {
		t.Fatalf("dead-lettered %d records, want the refused one", len(got))
	}
}

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/runtime"
	"github.com/sluicedata/sluice/testkit"
)

// TestThroughRuntime runs the connector in the Connect runtime against an
// embedded broker, with the JsonConverter: the topic holds Debezium's JSON,
// the offsets topic the source offsets, and the slot follows what the
// runtime stored.
func TestThroughRuntime(t *testing.T) {
	e := newEnv(t)
	e.exec("CREATE TABLE $S.t (id int PRIMARY KEY, name text)")
	e.exec("INSERT INTO $S.t VALUES (1, 'snap')")
	b := testkit.StartBroker(t, func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	jc := "org.apache.kafka.connect.json.JsonConverter"
	w, err := runtime.New(ctx, runtime.Options{Brokers: []string{b.Addr()}, WorkerID: "w1",
		WorkerConfig: connect.Config{"key.converter": jc, "value.converter": jc}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cfg := connect.Config{"connector.class": "io.debezium.connector.postgresql.PostgresConnector"}
	for k, v := range e.cfg {
		cfg[k] = v
	}
	if _, err := w.Create(ctx, "pg", cfg, ""); err != nil {
		t.Fatal(err)
	}
	topic := "srv." + e.schema + ".t"
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	read := func(n int) {
		for len(got) < n {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("read %v, want %d records", got, n)
			}
			fs.EachRecord(func(r *kgo.Record) {
				var v struct {
					Schema  struct{ Name string }
					Payload struct {
						Op     string
						After  struct{ ID int }
						Source struct{ Connector, Snapshot string }
					}
				}
				if err := json.Unmarshal(r.Value, &v); err != nil {
					t.Fatalf("value %s: %v", r.Value, err)
				}
				if v.Schema.Name != topic+".Envelope" || v.Payload.Source.Connector != "postgresql" {
					t.Fatalf("not a Debezium envelope: %s", r.Value)
				}
				got = append(got, fmt.Sprintf("%s:%d", v.Payload.Op, v.Payload.After.ID))
			})
		}
	}
	read(1)
	e.exec("INSERT INTO $S.t VALUES (2, 'streamed')")
	read(2)
	if fmt.Sprint(got) != "[r:1 c:2]" {
		t.Fatalf("topic holds %v", got)
	}
	// The runtime stored the streamed offset under {"server": "srv"}.
	deadline := time.Now().Add(waitFor)
	for {
		offs, err := w.Offsets(ctx, "pg")
		if err == nil && len(offs) == 1 && offs[0].Offset["lsn_commit"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets %v %v", offs, err)
		}
		time.Sleep(20 * time.Millisecond) // the runtime flushes offsets on its own schedule
	}
}

package storage

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/testkit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Records written by Kafka Connect itself (key order and spacing as Java's
// JsonConverter writes them) are understood: a Sluice node can take over a
// Kafka Connect cluster's internal topics.
func TestReadsKafkaConnectRecords(t *testing.T) {
	b := testkit.StartBroker(t)
	ctx := ctxFor(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rec := func(topic, k, v string) *kgo.Record {
		r := &kgo.Record{Topic: topic, Key: []byte(k)}
		if v != "" {
			r.Value = []byte(v)
		}
		return r
	}
	if err := ensureTopic(ctx, kadmFor(cl), TopicSpec{Name: "cfg", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	if err := ensureTopic(ctx, kadmFor(cl), TopicSpec{Name: "off", Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	err = cl.ProduceSync(ctx,
		rec("cfg", "connector-a-b", `{"properties":{"connector.class":"x","name":"a-b","tasks.max":"2"}}`),
		rec("cfg", "task-a-b-0", `{"properties":{"name":"a-b","t":"0"}}`),
		rec("cfg", "task-a-b-1", `{"properties":{"name":"a-b","t":"1"}}`),
		rec("cfg", "commit-a-b", `{"tasks":2}`),
		rec("cfg", "target-state-a-b", `{"state":"PAUSED","state.v2":"STOPPED"}`),
		rec("cfg", "connector-gone", `{"properties":{"connector.class":"x","name":"gone"}}`),
		rec("cfg", "connector-gone", ""),
		rec("cfg", "task-half-0", `{"properties":{"t":"0"}}`), // never committed
		rec("cfg", "connector-half", `{"properties":{"connector.class":"x","name":"half"}}`),
		rec("off", `["a-b",{"file":"/x","line":null}]`, `{"position":42}`),
		rec("off", `["a-b",{"z":1,"a":2}]`, `{"position":7}`),
		rec("off", `["a-b",{"z":1,"a":2}]`, `{"position":8}`),
		rec("off", `["a-b",{"gone":true}]`, `{"position":1}`),
		rec("off", `["a-b",{"gone":true}]`, ""),
	).FirstErr()
	if err != nil {
		t.Fatal(err)
	}

	cfgs, err := OpenConfigs(ctx, []string{b.Addr()}, "cfg", quiet, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cfgs.Close()
	if names := cfgs.Names(); len(names) != 2 || names[0] != "a-b" || names[1] != "half" {
		t.Fatalf("names = %v", names)
	}
	ab, _ := cfgs.Connector("a-b")
	if ab.Target != Stopped || !ab.Committed || len(ab.Tasks) != 2 || ab.Tasks[1]["t"] != "1" || ab.Config["tasks.max"] != "2" {
		t.Errorf("a-b = %+v", ab)
	}
	half, _ := cfgs.Connector("half")
	if half.Committed || len(half.Tasks) != 0 || half.Target != Started {
		t.Errorf("half = %+v", half)
	}

	offs, err := OpenOffsets(ctx, []string{b.Addr()}, "off", 3, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer offs.Close()
	if got := offs.Get("a-b", map[string]any{"a": int64(2), "z": 1}); got["position"] != int64(8) {
		t.Errorf("offset with keys in another order = %v", got)
	}
	if got := offs.Get("a-b", map[string]any{"file": "/x", "line": nil}); got["position"] != int64(42) {
		t.Errorf("offset = %v", got)
	}
	if got := offs.Get("a-b", map[string]any{"gone": true}); got != nil {
		t.Errorf("tombstoned offset = %v", got)
	}
	if n := len(offs.List("a-b")); n != 2 {
		t.Errorf("List = %d entries, want 2", n)
	}
}

// What we write is byte for byte what Kafka Connect writes.
func TestWritesKafkaConnectFormats(t *testing.T) {
	b := testkit.StartBroker(t)
	ctx := ctxFor(t)
	cfgs, err := OpenConfigs(ctx, []string{b.Addr()}, "cfg", quiet, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cfgs.Close()
	offs, err := OpenOffsets(ctx, []string{b.Addr()}, "off", 5, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer offs.Close()
	sts, err := OpenStatuses(ctx, []string{b.Addr()}, "st", 2, "w1", quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer sts.Close()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cfgs.PutTarget(ctx, "c", Stopped))
	must(cfgs.PutConnector(ctx, "c", connect.Config{"name": "c", "connector.class": "x"}))
	must(cfgs.PutTasks(ctx, "c", []connect.Config{{"k": "v"}}))
	must(cfgs.RequestRestart(ctx, Restart{Connector: "c", IncludeTasks: true}))
	must(offs.Write(ctx, "c", []SourceOffset{{Partition: map[string]any{"f": "a"}, Offset: map[string]any{"pos": 3}}}))
	must(sts.PutTask(ctx, "c", 0, Status{State: StateRunning, WorkerID: "w1"}))
	must(sts.UseTopic(ctx, "c", 0, "orders"))

	want := map[string]map[string]string{
		"cfg": {
			"target-state-c":      `{"state":"PAUSED","state.v2":"STOPPED"}`,
			"connector-c":         `{"properties":{"connector.class":"x","name":"c"}}`,
			"task-c-0":            `{"properties":{"k":"v"}}`,
			"commit-c":            `{"tasks":1}`,
			"restart-connector-c": `{"include-tasks":true,"only-failed":false}`,
		},
		"off": {`["c",{"f":"a"}]`: `{"pos":3}`},
		"st": {
			"status-task-c-0":                 `{"state":"RUNNING","worker_id":"w1","generation":0}`,
			"status-topic-orders:connector-c": "",
		},
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("cfg", "off", "st"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	left := 0
	for _, m := range want {
		left += len(m)
	}
	for left > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("still missing %d records: %v", left, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			v, ok := want[r.Topic][string(r.Key)]
			if !ok {
				t.Errorf("unexpected record %s %s", r.Topic, r.Key)
				return
			}
			if v != "" && string(r.Value) != v {
				t.Errorf("%s %s = %s, want %s", r.Topic, r.Key, r.Value, v)
			}
			delete(want[r.Topic], string(r.Key))
			left--
		})
	}
}

func kadmFor(cl *kgo.Client) *kadm.Client { return kadm.NewClient(cl) }

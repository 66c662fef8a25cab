package kafka

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/testkit"
)

func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32) {
	t.Helper()
	resp, err := kadm.NewClient(cl).CreateTopic(context.Background(), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

func produce(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// deliver plays the runtime: it writes polled records to the destination,
// then stores their offsets and calls Commit.
func deliver(t *testing.T, dst *kgo.Client, tk connect.SourceTask, offsets *connectortest.Offsets, recs []*connect.Record) {
	t.Helper()
	var out []*kgo.Record
	for _, r := range recs {
		kr := &kgo.Record{Topic: r.Topic, Partition: r.Partition, Timestamp: r.Timestamp}
		if r.Key != nil {
			kr.Key = r.Key.([]byte)
		}
		if r.Value != nil {
			kr.Value = r.Value.([]byte)
		}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value.([]byte)})
		}
		out = append(out, kr)
	}
	produce(t, dst, out...)
	if err := offsets.Ack(recs); err != nil {
		t.Fatal(err)
	}
	if err := tk.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// readAll reads a partition from the start to its end offset.
func readAll(t *testing.T, addr, topic string, partition int32) []*kgo.Record {
	t.Helper()
	cl := client(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().AtStart()}}))
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, partition)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for int64(len(out)) < end.Offset {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s-%d: %d of %d records", topic, partition, len(out), end.Offset)
		}
		out = append(out, f.Records()...)
	}
	return out
}

func startReplicator(t *testing.T, cfg connect.Config, offsets *connectortest.Offsets) *task {
	t.Helper()
	cfgs, err := connector{}.TaskConfigs(cfg, 1)
	if err != nil {
		t.Fatalf("task configs: %v", err)
	}
	tk := &task{}
	if err := tk.Start(context.Background(), cfgs[0], connectortest.NewTaskContext(t, "repl", 0, offsets)); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { tk.Stop() })
	return tk
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func TestReplicate(t *testing.T) {
	srcB, dstB := testkit.StartBroker(t), testkit.StartBroker(t)
	src, old := client(t, srcB.Addr()), client(t, dstB.Addr())
	createTopic(t, src, "orders", 2)
	createTopic(t, src, "other", 1)
	createTopic(t, src, "_internal", 1)
	createTopic(t, src, "_hidden", 1)
	// The destination has older data in partition 0 and only one partition:
	// copies land at other offsets, and the replicator grows the topic.
	createTopic(t, old, "dc1.orders", 1)
	for i := range 5 {
		produce(t, old, &kgo.Record{Topic: "dc1.orders", Partition: 0, Value: []byte(fmt.Sprintf("old-%d", i))})
	}
	base := time.UnixMilli(1700000000000)
	var srcRecs []*kgo.Record
	for i := range 60 {
		r := &kgo.Record{Topic: "orders", Partition: int32(i % 2), Key: []byte(fmt.Sprintf("k%d", i)),
			Value: []byte(fmt.Sprintf("v%d", i)), Timestamp: base.Add(time.Duration(i) * time.Second),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte{byte(i), 0}}}}
		switch i {
		case 4:
			r.Key = nil
		case 6:
			r.Value = nil // a tombstone stays a tombstone
		}
		srcRecs = append(srcRecs, r)
	}
	produce(t, src, srcRecs...)
	produce(t, src, &kgo.Record{Topic: "other", Value: []byte("x")}, &kgo.Record{Topic: "_internal", Value: []byte("i")},
		&kgo.Record{Topic: "_hidden", Value: []byte("h")})

	offsets := connectortest.NewOffsets()
	cfg := connect.Config{
		"src.kafka.bootstrap.servers":   srcB.Addr(),
		"dest.kafka.bootstrap.servers":  dstB.Addr(),
		"topic.regex":                   ".*",
		"topic.whitelist":               "_internal",
		"topic.blacklist":               "other",
		"topic.rename.format":           "dc1.${topic}",
		"src.consumer.group.id":         "repl",
		"src.consumer.max.poll.records": "25",
		"topic.poll.interval.ms":        "50",
	}
	tk := startReplicator(t, cfg, offsets)
	mark := time.Now()
	lap := func(what string) { t.Logf("%s after %v", what, time.Since(mark)) }

	// First lifetime: copy some, deliver only what was polled, stop.
	first := connectortest.PollN(t, tk, &connectortest.TaskContext{Offsets: offsets}, 20, false, 10*time.Second)
	if td, err := kadm.NewClient(client(t, dstB.Addr())).ListTopics(context.Background(), "dc1.orders"); err != nil || len(td["dc1.orders"].Partitions) != 2 {
		t.Fatalf("destination topic not grown to 2 partitions: %v %v", td, err)
	}
	dst := client(t, dstB.Addr()) // a producer that sees the grown topic
	deliver(t, dst, tk, offsets, first)
	tk.Stop()

	lap("first lifetime")
	// Second lifetime resumes after the delivered records.
	tk2 := startReplicator(t, cfg, offsets)
	var rest []*connect.Record
	for len(first)+len(rest) < 61 {
		rest = append(rest, connectortest.PollN(t, tk2, &connectortest.TaskContext{Offsets: offsets}, 1, false, 10*time.Second)...)
	}
	deliver(t, dst, tk2, offsets, rest)
	if more := connectortest.PollQuiet(t, tk2, 100*time.Millisecond); len(more) != 0 {
		t.Fatalf("%d records after everything was copied (first %d, rest %d)", len(more), len(first), len(rest))
	}

	lap("second lifetime")
	// Destination content: same records per partition, in order, after the old data.
	for p := int32(0); p < 2; p++ {
		got := readAll(t, dstB.Addr(), "dc1.orders", p)
		skip := 0
		if p == 0 {
			skip = 5
		}
		got = got[skip:]
		var want []*kgo.Record
		for _, r := range srcRecs {
			if r.Partition == p {
				want = append(want, r)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("partition %d: %d records copied, want %d", p, len(got), len(want))
		}
		for i, g := range got {
			w := want[i]
			if !bytes.Equal(g.Key, w.Key) || (g.Key == nil) != (w.Key == nil) || !bytes.Equal(g.Value, w.Value) ||
				(g.Value == nil) != (w.Value == nil) || !g.Timestamp.Equal(w.Timestamp) ||
				header(g, "h") != string(w.Headers[0].Value) || header(g, OffsetHeader) != fmt.Sprint(i) {
				t.Fatalf("partition %d record %d: got %q=%q %v %v, want %q=%q %v", p, i, g.Key, g.Value, g.Timestamp, g.Headers, w.Key, w.Value, w.Timestamp)
			}
		}
	}
	if got := readAll(t, dstB.Addr(), "dc1._internal", 0); len(got) != 1 || string(got[0].Value) != "i" {
		t.Fatalf("whitelisted internal topic: %v", got)
	}
	topics, _ := kadm.NewClient(dst).ListTopics(context.Background())
	if topics.Has("dc1.other") || topics.Has("dc1._hidden") {
		t.Fatalf("blacklisted or internal topic copied: %v", topics.Names())
	}

	lap("content check")
	// The copied offsets were committed to the source group.
	committed, err := kadm.NewClient(src).FetchOffsets(context.Background(), "repl")
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		if o, _ := committed.Lookup("orders", p); o.At != 30 {
			t.Fatalf("source group offset of partition %d: %d, want 30", p, o.At)
		}
	}

	// A topic created later is picked up at the next scan.
	createTopic(t, src, "orders-late", 1)
	produce(t, src, &kgo.Record{Topic: "orders-late", Value: []byte("late")})
	late := connectortest.PollN(t, tk2, &connectortest.TaskContext{Offsets: offsets}, 1, false, 10*time.Second)
	if late[0].Topic != "dc1.orders-late" || string(late[0].Value.([]byte)) != "late" {
		t.Fatalf("late topic record %+v", late[0])
	}

	lap("late topic")
	// Offset translation of a consumer group of the source cluster.
	adm := kadm.NewClient(src)
	offs := kadm.Offsets{}
	offs.AddOffset("orders", 0, 12, -1)
	offs.AddOffset("orders", 1, 30, -1)
	if _, err := adm.CommitOffsets(context.Background(), "app", offs); err != nil {
		t.Fatal(err)
	}
	translated, err := TranslateGroup(context.Background(), []string{srcB.Addr()}, []string{dstB.Addr()}, "app", "dc1.${topic}")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := translated.Lookup("dc1.orders", 0); o.At != 5+12 {
		t.Fatalf("translated offset of partition 0: %d, want 17", o.At)
	}
	if o, _ := translated.Lookup("dc1.orders", 1); o.At != 30 {
		t.Fatalf("translated offset of partition 1: %d, want 30 (the end)", o.At)
	}
	lap("translation")
	at17 := readAll(t, dstB.Addr(), "dc1.orders", 0)[17]
	if string(at17.Value) != string(srcRecs[24].Value) { // source offset 12 of partition 0 is record 24
		t.Fatalf("record at the translated offset: %q, want %q", at17.Value, srcRecs[24].Value)
	}
}

// An unreachable source cluster does not fail Start; Poll keeps trying.
func TestUnreachableSource(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tk := startReplicator(t, connect.Config{"src.kafka.bootstrap.servers": addr, "topic.whitelist": "a"}, nil)
	if recs := connectortest.PollQuiet(t, tk, 100*time.Millisecond); len(recs) != 0 {
		t.Fatalf("%d records from nowhere", len(recs))
	}
}

func TestTranslate(t *testing.T) {
	// Records 0..4 copied at 10..14, then a restart copied 3..6 again at 15..18.
	var m []OffsetMapping
	for i := int64(0); i < 5; i++ {
		m = append(m, OffsetMapping{Dest: 10 + i, Source: i})
	}
	for i := int64(3); i < 7; i++ {
		m = append(m, OffsetMapping{Dest: 12 + i, Source: i})
	}
	cases := []struct{ src, want int64 }{{0, 10}, {3, 13}, {5, 17}, {6, 18}, {7, 19}, {100, 19}}
	for _, c := range cases {
		if got := Translate(m, c.src, 19); got != c.want {
			t.Errorf("Translate(%d) = %d, want %d", c.src, got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  connect.Config
		want string
	}{
		{connect.Config{"topic.regex": "x"}, "src.kafka.bootstrap.servers"},
		{connect.Config{"src.kafka.bootstrap.servers": "h:1"}, "set topic.whitelist or topic.regex"},
		{connect.Config{"src.kafka.bootstrap.servers": "h:1", "topic.regex": "("}, "topic.regex"},
		{connect.Config{"src.kafka.bootstrap.servers": "h:1", "topic.whitelist": "a", "topic.rename.format": "copy"}, "must contain ${topic}"},
	}
	for _, c := range cases {
		_, err := connector{}.TaskConfigs(c.cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
	for _, n := range []string{"kafka-replicator", "io.confluent.connect.replicator.ReplicatorSourceConnector"} {
		if p, ok := connect.Lookup(n); !ok || p.NewSource == nil {
			t.Errorf("%s not registered", n)
		}
	}
}

func TestTasksSplitPartitions(t *testing.T) {
	const tasks = 3
	owners := map[tp]int{}
	for i := range tasks {
		tk := &task{index: uint32(i), count: tasks}
		for _, topic := range []string{"a", "b", "orders"} {
			for p := int32(0); p < 12; p++ {
				if tk.owns(tp{topic, p}) {
					if prev, dup := owners[tp{topic, p}]; dup {
						t.Fatalf("%s-%d owned by tasks %d and %d", topic, p, prev, i)
					}
					owners[tp{topic, p}] = i
				}
			}
		}
	}
	perTask := map[int]int{}
	for _, o := range owners {
		perTask[o]++
	}
	if len(owners) != 36 || len(perTask) != tasks {
		t.Fatalf("%d partitions owned, spread %v", len(owners), perTask)
	}
}

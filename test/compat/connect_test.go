package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// connectCall sends a request to the Kafka Connect REST API of b, requires
// status want and returns the decoded body.
func connectCall(t *testing.T, b *broker, method, path string, body any, want int) any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, "http://"+b.connectAddr+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	var out any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: %q: %v", method, path, data, err)
		}
	}
	return out
}

// waitConnect polls a REST read until cond holds.
func waitConnect(t *testing.T, b *broker, path, what string, cond func(any) bool) any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v := connectCall(t, b, "GET", path, nil, 200)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: GET %s = %v", what, path, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func running(v any) bool {
	st := v.(map[string]any)
	if st["connector"].(map[string]any)["state"] != "RUNNING" {
		return false
	}
	tasks := st["tasks"].([]any)
	return len(tasks) > 0 && tasks[0].(map[string]any)["state"] == "RUNNING"
}

func sourceOffsetIs(n int) func(any) bool {
	return func(v any) bool {
		offs := v.(map[string]any)["offsets"].([]any)
		return len(offs) == 1 && offs[0].(map[string]any)["offset"].(map[string]any)["n"] == float64(n)
	}
}

// readValues reads a topic from the start to its end (read_committed: to
// its last stable offset) and counts each value.
func readConnectValues(t *testing.T, b *broker, topic string, committed bool) (map[string]int, []*kgo.Record) {
	t.Helper()
	ctx := testCtx(t, 60*time.Second)
	adm := b.admin(t)
	var ends kadm.ListedOffsets
	var err error
	if committed {
		ends, err = adm.ListCommittedOffsets(ctx, topic)
	} else {
		ends, err = adm.ListEndOffsets(ctx, topic)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.KeepControlRecords()}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl := b.client(t, opts...)
	count := map[string]int{}
	var recs []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				count[string(r.Value)]++
				recs = append(recs, r)
			}
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return count, recs
}

var stringConverters = map[string]any{
	"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
	"value.converter": "org.apache.kafka.connect.storage.StringConverter",
}

func withConverters(cfg map[string]any) map[string]any {
	for k, v := range stringConverters {
		cfg[k] = v
	}
	return cfg
}

// A source and a sink keep going across a restart of sluice dev: both come
// back RUNNING, the source resumes from its stored offset, the sink from its
// committed offsets, and its failed records are in the dead-letter topic.
func TestConnectSurvivesRestart(t *testing.T) {
	b := startConnectBroker(t, "--group-initial-rebalance-delay", "0")
	topic, dlq := topicName(t, "numbers"), topicName(t, "dlq")
	const total = 300

	root := connectCall(t, b, "GET", "/", nil, 200).(map[string]any)
	if root["kafka_cluster_id"] == "" {
		t.Errorf("GET / = %v", root)
	}
	connectCall(t, b, "POST", "/connectors", map[string]any{"name": "src", "config": withConverters(map[string]any{
		"connector.class": "org.sluice.test.TestSourceConnector", "topic": topic, "count": total, "batch": 5, "poll.delay.ms": 20})}, 201)
	connectCall(t, b, "POST", "/connectors", map[string]any{"name": "snk", "config": withConverters(map[string]any{
		"connector.class": "test.Sink", "topics": topic, "fail.odd": "true", "errors.tolerance": "all",
		"errors.deadletterqueue.topic.name": dlq, "errors.deadletterqueue.context.headers.enable": "true"})}, 201)
	connectCall(t, b, "POST", "/connectors", map[string]any{"name": "src", "config": map[string]any{"connector.class": "test.Source"}}, 409)
	connectCall(t, b, "POST", "/connectors", map[string]any{"name": "x", "config": map[string]any{"connector.class": "com.example.Missing"}}, 400)
	connectCall(t, b, "GET", "/connectors/missing/status", nil, 404)
	waitConnect(t, b, "/connectors/src/status", "source RUNNING", running)
	waitConnect(t, b, "/connectors/src/offsets", "the source to be under way", func(v any) bool {
		offs := v.(map[string]any)["offsets"].([]any)
		return len(offs) == 1 && offs[0].(map[string]any)["offset"].(map[string]any)["n"].(float64) >= 40
	})

	b.restart()

	waitConnect(t, b, "/connectors/src/status", "source RUNNING after restart", running)
	waitConnect(t, b, "/connectors/snk/status", "sink RUNNING after restart", running)
	waitConnect(t, b, "/connectors/src/offsets", "every source offset stored", sourceOffsetIs(total-1))
	waitConnect(t, b, "/connectors/snk/offsets", "sink offsets at the end", func(v any) bool {
		offs := v.(map[string]any)["offsets"].([]any)
		return len(offs) == 1 && offs[0].(map[string]any)["offset"].(map[string]any)["kafka_offset"] == float64(total)
	})

	count, _ := readConnectValues(t, b, topic, false)
	for i := range total {
		if c := count[fmt.Sprintf("v%d", i)]; c != 1 {
			t.Errorf("topic holds v%d %d times, want once (a clean restart repeats nothing)", i, c)
		}
	}
	dead, recs := readConnectValues(t, b, dlq, false)
	for i := 1; i < total; i += 2 {
		if c := dead[fmt.Sprintf("v%d", i)]; c != 1 {
			t.Errorf("dead-letter topic holds v%d %d times, want once", i, c)
		}
	}
	if len(recs) != total/2 {
		t.Errorf("dead-letter topic holds %d records, want %d", len(recs), total/2)
	}
	for _, r := range recs[:1] {
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		if h["__connect.errors.topic"] != topic || h["__connect.errors.stage"] != "TASK_PUT" || h["__connect.errors.connector.name"] != "snk" {
			t.Errorf("dead-letter headers %v", h)
		}
	}

	// The internal topics are compacted, with Kafka Connect's partitioning.
	adm := b.admin(t)
	ctx := testCtx(t, 30*time.Second)
	td, err := adm.ListTopics(ctx, "_connect-configs", "_connect-offsets", "_connect-status")
	if err != nil {
		t.Fatal(err)
	}
	for topic, parts := range map[string]int{"_connect-configs": 1, "_connect-offsets": 25, "_connect-status": 5} {
		if n := len(td[topic].Partitions); n != parts {
			t.Errorf("%s has %d partitions, want %d", topic, n, parts)
		}
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "_connect-configs", "_connect-offsets", "_connect-status")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rc {
		policy := ""
		for _, kv := range c.Configs {
			if kv.Key == "cleanup.policy" {
				policy = kv.MaybeValue()
			}
		}
		if c.Err != nil || policy != "compact" {
			t.Errorf("%s cleanup.policy = %q (%v), want compact", c.Name, policy, c.Err)
		}
	}
}

// Exactly-once source: sluice dev is killed (SIGKILL) while the source
// writes; after the restart the topic read read_committed holds each record
// once.
func TestConnectExactlyOnceSourceKill(t *testing.T) {
	b := startConnectBroker(t, "--connect-exactly-once-source")
	topic := topicName(t, "once")
	const total = 2000
	connectCall(t, b, "POST", "/connectors", map[string]any{"name": "eos", "config": withConverters(map[string]any{
		"connector.class": "test.Source", "topic": topic, "count": total, "batch": 10, "poll.delay.ms": 5,
		"exactly.once.support": "required"})}, 201)
	waitConnect(t, b, "/connectors/eos/offsets", "the source to be under way", func(v any) bool {
		offs := v.(map[string]any)["offsets"].([]any)
		return len(offs) == 1 && offs[0].(map[string]any)["offset"].(map[string]any)["n"].(float64) >= 300
	})
	b.kill()
	b.start()
	waitConnect(t, b, "/connectors/eos/status", "source RUNNING after the kill", running)
	waitConnect(t, b, "/connectors/eos/offsets", "every offset stored", sourceOffsetIs(total-1))
	count, recs := readConnectValues(t, b, topic, true)
	for i := range total {
		if c := count["v"+strconv.Itoa(i)]; c != 1 {
			t.Errorf("read_committed: v%d %d times, want once", i, c)
		}
	}
	if len(recs) != total {
		t.Errorf("read_committed: %d records, want %d", len(recs), total)
	}
}

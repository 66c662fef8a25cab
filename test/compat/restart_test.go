package compat

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRestartPersistence checks that topics, partitions, topic IDs, configs and
// records survive a clean restart, that a deleted topic stays deleted, and that
// appends continue at the right offsets.
func TestRestartPersistence(t *testing.T) {
	b := startBroker(t)
	adm := b.admin(t)
	ctx := testCtx(t, 2*time.Minute)

	kept := topicName(t, "kept")
	createTopic(t, adm, kept, 3, map[string]*string{"retention.ms": kadm.StringPtr("3600000")})
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr("300000")}}, kept)
	if err := alterErr(resp, err); err != nil {
		t.Fatalf("alter configs: %v", err)
	}
	grown := topicName(t, "grown")
	createTopic(t, adm, grown, 1, nil)
	if resp, err := adm.UpdatePartitions(ctx, 4, grown); err != nil || resp[grown].Err != nil {
		t.Fatalf("create partitions: %v %v", err, resp[grown].Err)
	}
	gone := topicName(t, "gone")
	createTopic(t, adm, gone, 2, nil)

	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var records []*kgo.Record
	for i := range 3000 {
		records = append(records, testRecord(kept, 3, i, base, "restart"))
	}
	for i := range 400 {
		records = append(records, testRecord(grown, 4, i, base, "grown"), testRecord(gone, 2, i, base, "gone"))
	}
	cl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(8<<10), kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	produceAll(t, cl, records)
	if resp, err := adm.DeleteTopic(ctx, gone); err != nil || resp.Err != nil {
		t.Fatalf("delete topic: %v %v", err, resp.Err)
	}
	before, err := adm.ListTopics(ctx, kept, grown)
	if err != nil {
		t.Fatal(err)
	}
	endsBefore := map[string]map[int32]int64{kept: endOffsets(t, adm, kept), grown: endOffsets(t, adm, grown)}
	cl.Close()

	b.restart()

	adm = b.admin(t)
	ctx = testCtx(t, 2*time.Minute)
	after, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Has(gone) {
		t.Errorf("deleted topic %s is back after restart", gone)
	}
	for _, topic := range []string{kept, grown} {
		td, ok := after[topic]
		if !ok {
			t.Fatalf("topic %s missing after restart", topic)
		}
		if len(td.Partitions) != len(before[topic].Partitions) {
			t.Errorf("topic %s: %d partitions after restart, %d before", topic, len(td.Partitions), len(before[topic].Partitions))
		}
		if td.ID != before[topic].ID {
			t.Errorf("topic %s: ID %v after restart, %v before", topic, td.ID, before[topic].ID)
		}
		ends := endOffsets(t, adm, topic)
		for p, end := range endsBefore[topic] {
			if ends[p] != end {
				t.Errorf("topic %s partition %d: end offset %d after restart, %d before", topic, p, ends[p], end)
			}
		}
	}
	wantConfig(t, adm, kept, "retention.ms", "3600000", true)
	wantConfig(t, adm, kept, "max.message.bytes", "300000", true)
	wantConfig(t, adm, kept, "cleanup.policy", "delete", false)

	// Every record of kept reads back as written.
	got := consumeAll(t, b, kept, endsBefore[kept])
	for i := range 3000 {
		want := records[i]
		p, o := want.Partition, i/3
		if o >= len(got[p]) {
			t.Fatalf("record %d (partition %d offset %d) missing after restart", i, p, o)
		}
		r := got[p][o]
		if !sameBytes(r.Key, want.Key) || !sameBytes(r.Value, want.Value) || !sameHeaders(r.Headers, want.Headers) || !r.Timestamp.Equal(want.Timestamp) {
			t.Fatalf("record %d (partition %d offset %d) differs after restart: key %q value %.40q headers %s ts %d", i, p, o, r.Key, r.Value, headersString(r.Headers), r.Timestamp.UnixMilli())
		}
	}

	// Appends continue after the last offset, and a recreated name starts empty.
	cl = b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	r := &kgo.Record{Topic: kept, Partition: 0, Value: []byte("after restart")}
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("produce after restart: %v", err)
	}
	if r.Offset != endsBefore[kept][0] {
		t.Errorf("first record after restart at offset %d, want %d", r.Offset, endsBefore[kept][0])
	}
	createTopic(t, adm, gone, 2, nil)
	for p, end := range endOffsets(t, adm, gone) {
		if end != 0 {
			t.Errorf("recreated %s: partition %d end offset %d, want 0", gone, p, end)
		}
	}
}

// TestMetricsEndpoint checks that /metrics serves Prometheus text.
func TestMetricsEndpoint(t *testing.T) {
	b := startBroker(t)
	// Some traffic first, so broker metrics have something to count.
	topic := topicName(t, "t")
	createTopic(t, b.admin(t), topic, 1, nil)
	if err := b.client(t).ProduceSync(testCtx(t, 30*time.Second), &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + b.httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") && !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("GET /metrics: Content-Type %q, want Prometheus text", ct)
	}
	if !bytes.Contains(body, []byte("# TYPE ")) {
		t.Errorf("GET /metrics: no '# TYPE' lines in:\n%.500s", body)
	}
}

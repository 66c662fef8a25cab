package compat

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// franz-go (kgo, kadm) negotiates the newest versions the broker advertises
// (Produce 13, Fetch 18, Metadata 13 on Kafka 4.x). Its producer is idempotent
// by default and keeps up to 5 produce requests in flight per broker.

// testRecord builds record i of a run: a mix of nil and empty keys, values and
// header values, with explicit timestamps.
func testRecord(topic string, partitions, i int, base time.Time, tag string) *kgo.Record {
	r := &kgo.Record{
		Topic:     topic,
		Partition: int32(i % partitions),
		Timestamp: base.Add(time.Duration(i) * time.Millisecond),
		Key:       []byte(fmt.Sprintf("key-%d", i)),
		Value:     []byte(fmt.Sprintf("value-%d-%s", i, strings.Repeat("abcdefgh", i%40))),
		Headers: []kgo.RecordHeader{
			{Key: "i", Value: []byte(strconv.Itoa(i))},
			{Key: "tag", Value: []byte(tag)},
		},
	}
	switch {
	case i%10 == 0:
		r.Key = nil
	case i%10 == 1:
		r.Key = []byte{}
	}
	switch {
	case i%13 == 0:
		r.Value = nil
	case i%13 == 1:
		r.Value = []byte{}
	}
	if i%5 == 0 {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "nil"}, kgo.RecordHeader{Key: "i", Value: []byte("dup")})
	}
	return r
}

// sameBytes is bytes.Equal that also tells nil (null) from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func sameHeaders(a, b []kgo.RecordHeader) bool {
	return slices.EqualFunc(a, b, func(x, y kgo.RecordHeader) bool { return x.Key == y.Key && sameBytes(x.Value, y.Value) })
}

// produceAll produces records asynchronously and requires every one to be
// acknowledged, with offsets increasing in produce order within a partition
// (consumeAll checks that they are dense).
func produceAll(t *testing.T, cl *kgo.Client, records []*kgo.Record) {
	t.Helper()
	var (
		mu   sync.Mutex
		errs []error
		last = map[string]map[int32]int64{}
	)
	ctx := testCtx(t, 2*time.Minute)
	for _, r := range records {
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if last[r.Topic] == nil {
				last[r.Topic] = map[int32]int64{}
			}
			if prev, ok := last[r.Topic][r.Partition]; ok && r.Offset <= prev {
				errs = append(errs, fmt.Errorf("%s/%d: acknowledged offset %d after %d", r.Topic, r.Partition, r.Offset, prev))
			}
			last[r.Topic][r.Partition] = r.Offset
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if len(errs) > 0 {
		t.Fatalf("produce: %d errors, first: %v", len(errs), errs[0])
	}
}

// TestFranzCodecs produces with every codec through the idempotent producer
// with several requests in flight, and checks every field read back.
func TestFranzCodecs(t *testing.T) {
	b := startBroker(t)
	adm := b.admin(t)
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()},
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	}
	const partitions, n = 2, 6000
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			topic := topicName(t, "t")
			createTopic(t, adm, topic, partitions, nil)
			base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
			records := make([]*kgo.Record, n)
			for i := range records {
				records[i] = testRecord(topic, partitions, i, base, c.name)
			}
			cl := b.client(t,
				kgo.ProducerBatchCompression(c.codec),
				kgo.ProducerBatchMaxBytes(8<<10), // many batches: several requests in flight
				kgo.ProducerLinger(0),
				kgo.RecordPartitioner(kgo.ManualPartitioner()),
			)
			produceAll(t, cl, records)

			ends := endOffsets(t, adm, topic)
			for p := range int32(partitions) {
				if want := int64(n / partitions); ends[p] != want {
					t.Errorf("partition %d: end offset %d, want %d", p, ends[p], want)
				}
			}
			got := consumeAll(t, b, topic, ends)
			bad := 0
			for i, want := range records {
				p := want.Partition
				o := i / partitions
				if o >= len(got[p]) {
					t.Fatalf("record %d (partition %d offset %d) not consumed", i, p, o)
				}
				r := got[p][o]
				var diffs []string
				if !sameBytes(r.Key, want.Key) {
					diffs = append(diffs, fmt.Sprintf("key %q (nil %v), want %q (nil %v)", r.Key, r.Key == nil, want.Key, want.Key == nil))
				}
				if !sameBytes(r.Value, want.Value) {
					diffs = append(diffs, fmt.Sprintf("value %.40q (nil %v), want %.40q (nil %v)", r.Value, r.Value == nil, want.Value, want.Value == nil))
				}
				if !sameHeaders(r.Headers, want.Headers) {
					diffs = append(diffs, fmt.Sprintf("headers %s, want %s", headersString(r.Headers), headersString(want.Headers)))
				}
				if !r.Timestamp.Equal(want.Timestamp) {
					diffs = append(diffs, fmt.Sprintf("timestamp %v, want %v", r.Timestamp.UnixMilli(), want.Timestamp.UnixMilli()))
				}
				if r.Attrs.TimestampType() != 0 {
					diffs = append(diffs, fmt.Sprintf("timestamp type %d, want 0 (CreateTime)", r.Attrs.TimestampType()))
				}
				if len(diffs) > 0 {
					if bad++; bad <= 10 {
						t.Errorf("record %d (partition %d offset %d): %s", i, p, o, strings.Join(diffs, "; "))
					}
				}
			}
			if bad > 10 {
				t.Errorf("... %d records differ in all", bad)
			}
			for p := range int32(partitions) {
				if got := storedCodecs(t, b, topic, p); !got[codecID[c.name]] {
					t.Errorf("partition %d: stored batches use codecs %v, want %d (%s)", p, got, codecID[c.name], c.name)
				}
			}
		})
	}
}

// TestFranzConcurrentProducers runs several idempotent producers into one
// partition at once; each producer's records must stay in order, none lost
// or duplicated.
func TestFranzConcurrentProducers(t *testing.T) {
	b := startBroker(t)
	adm := b.admin(t)
	topic := topicName(t, "t")
	createTopic(t, adm, topic, 1, nil)
	const producers, each = 4, 3000
	var wg sync.WaitGroup
	for p := range producers {
		cl := b.client(t, kgo.ProducerBatchMaxBytes(4<<10), kgo.ProducerLinger(0))
		wg.Go(func() {
			var rs []*kgo.Record
			for i := range each {
				rs = append(rs, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(p)), Value: []byte(strconv.Itoa(i))})
			}
			produceAll(t, cl, rs)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	got := consumeAll(t, b, topic, map[int32]int64{0: producers * each})
	next := make([]int, producers)
	for _, r := range got[0] {
		p, _ := strconv.Atoi(string(r.Key))
		i, _ := strconv.Atoi(string(r.Value))
		if p < 0 || p >= producers || i != next[p] {
			t.Fatalf("offset %d: producer %s record %s, want producer %d's record %d next", r.Offset, r.Key, r.Value, p, next[min(max(p, 0), producers-1)])
		}
		next[p]++
	}
}

// TestFranzListOffsets checks ListOffsets earliest, latest, by timestamp and
// max timestamp through kadm.
func TestFranzListOffsets(t *testing.T) {
	b := startBroker(t)
	adm := b.admin(t)
	topic := topicName(t, "t")
	createTopic(t, adm, topic, 2, nil)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	// Partition p, offset i: timestamp base + 10*i ms, produced in batches of 10.
	cl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for batch := range 10 {
		var rs []*kgo.Record
		for i := batch * 10; i < batch*10+10; i++ {
			for p := range int32(2) {
				rs = append(rs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(strconv.Itoa(i)), Timestamp: base.Add(time.Duration(10*i) * time.Millisecond)})
			}
		}
		if err := cl.ProduceSync(testCtx(t, 30*time.Second), rs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	ctx := testCtx(t, time.Minute)
	check := func(what string, listed kadm.ListedOffsets, err error, want int64) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		for p := range int32(2) {
			o, ok := listed.Lookup(topic, p)
			switch {
			case !ok:
				t.Errorf("%s: partition %d missing", what, p)
			case o.Err != nil:
				t.Errorf("%s: partition %d: %v", what, p, o.Err)
			case o.Offset != want:
				t.Errorf("%s: partition %d offset %d, want %d", what, p, o.Offset, want)
			}
		}
	}
	l, err := adm.ListStartOffsets(ctx, topic)
	check("earliest", l, err, 0)
	l, err = adm.ListEndOffsets(ctx, topic)
	check("latest", l, err, 100)
	ms := base.UnixMilli()
	for _, tc := range []struct {
		ts, want int64
	}{
		{ms - 5000, 0},
		{ms, 0},
		{ms + 1, 1},
		{ms + 255, 26},
		{ms + 990, 99},
		{ms + 991, 100}, // after every record: kadm turns the broker's -1 into the end offset
	} {
		l, err = adm.ListOffsetsAfterMilli(ctx, tc.ts, topic)
		check(fmt.Sprintf("after %d ms", tc.ts-ms), l, err, tc.want)
	}
	t.Run("max timestamp", func(t *testing.T) {
		l, err := adm.ListMaxTimestampOffsets(ctx, topic)
		if err != nil {
			t.Fatalf("ListOffsets -3 (max timestamp, v7+): %v", err)
		}
		check("max timestamp", l, nil, 99)
	})

	// Timestamps out of order across batches: the answer is the first offset
	// whose timestamp is at or after the target.
	t.Run("unordered timestamps", func(t *testing.T) {
		topic := topicName(t, "u")
		createTopic(t, adm, topic, 1, nil)
		for _, d := range []int64{100, 300, 200, 400} {
			r := &kgo.Record{Topic: topic, Value: []byte(strconv.FormatInt(d, 10)), Timestamp: time.UnixMilli(ms + d)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
		}
		for _, tc := range []struct{ d, want int64 }{{50, 0}, {150, 1}, {250, 1}, {301, 3}, {400, 3}} {
			l, err := adm.ListOffsetsAfterMilli(ctx, ms+tc.d, topic)
			if err != nil {
				t.Fatal(err)
			}
			if o, _ := l.Lookup(topic, 0); o.Err != nil || o.Offset != tc.want {
				t.Errorf("after +%d ms: offset %d (err %v), want %d", tc.d, o.Offset, o.Err, tc.want)
			}
		}
	})
}

func configValue(t *testing.T, adm *kadm.Client, topic, key string) kadm.Config {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(testCtx(t, 30*time.Second), topic)
	if err != nil {
		t.Fatalf("describe configs %s: %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe configs %s: %v %v", topic, err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("describe configs %s: no %s among %d configs", topic, key, len(rc.Configs))
	return kadm.Config{}
}

func wantConfig(t *testing.T, adm *kadm.Client, topic, key, value string, dynamic bool) {
	t.Helper()
	c := configValue(t, adm, topic, key)
	if c.Value == nil || *c.Value != value {
		t.Errorf("topic %s config %s = %v, want %q", topic, key, c.MaybeValue(), value)
	}
	if isDyn := c.Source == kmsg.ConfigSourceDynamicTopicConfig; isDyn != dynamic {
		t.Errorf("topic %s config %s source %v, want dynamic topic config: %v", topic, key, c.Source, dynamic)
	}
}

// alterErr folds a single-topic alter response into one error.
func alterErr(resp kadm.AlterConfigsResponses, err error) error {
	if err != nil {
		return err
	}
	if len(resp) != 1 {
		return fmt.Errorf("%d responses, want 1", len(resp))
	}
	return resp[0].Err
}

// TestFranzAdmin covers topic administration through kadm.
func TestFranzAdmin(t *testing.T) {
	b := startBroker(t)
	adm := b.admin(t)
	ctx := testCtx(t, 2*time.Minute)
	topic := topicName(t, "t")

	// CreateTopics with configs; again gives TOPIC_ALREADY_EXISTS.
	createTopic(t, adm, topic, 3, map[string]*string{
		"retention.ms":      kadm.StringPtr("3600000"),
		"max.message.bytes": kadm.StringPtr("200000"),
	})
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Errorf("create existing topic: %v, want TOPIC_ALREADY_EXISTS", err)
	}
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	td := details[topic]
	if td.Err != nil || len(td.Partitions) != 3 || td.ID == (kadm.TopicID{}) {
		t.Errorf("metadata for %s: err %v, %d partitions, id %v; want no error, 3 partitions, non-zero id", topic, td.Err, len(td.Partitions), td.ID)
	}

	// Broker defaults (-1) and validateOnly.
	dflt := topicName(t, "defaults")
	if _, err := adm.CreateTopic(ctx, -1, -1, nil, dflt); err != nil {
		t.Errorf("create topic with broker defaults (-1, -1): %v", err)
	}
	dry := topicName(t, "dry")
	if resp, err := adm.ValidateCreateTopics(ctx, 2, 1, nil, dry); err != nil || resp[dry].Err != nil {
		t.Errorf("validate-only create: %v %v", err, resp[dry].Err)
	}
	if details, err := adm.ListTopics(ctx); err != nil {
		t.Fatal(err)
	} else if details.Has(dry) {
		t.Errorf("validate-only create made topic %s", dry)
	} else if !details.Has(dflt) || len(details[dflt].Partitions) < 1 {
		t.Errorf("topic %s created with defaults is missing or has no partitions", dflt)
	}

	// DescribeConfigs: set values are dynamic, others have defaults.
	wantConfig(t, adm, topic, "retention.ms", "3600000", true)
	wantConfig(t, adm, topic, "max.message.bytes", "200000", true)
	wantConfig(t, adm, topic, "cleanup.policy", "delete", false)

	// IncrementalAlterConfigs: set one, delete one.
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("7200000")},
		{Op: kadm.DeleteConfig, Name: "max.message.bytes"},
	}, topic)
	if err := alterErr(resp, err); err != nil {
		t.Errorf("incremental alter configs: %v", err)
	}
	wantConfig(t, adm, topic, "retention.ms", "7200000", true)
	wantConfig(t, adm, topic, "max.message.bytes", "1048588", false)

	// Invalid values and unknown keys: INVALID_CONFIG, nothing changes.
	for _, ac := range []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("not-a-number")},
		{Op: kadm.SetConfig, Name: "no.such.config", Value: kadm.StringPtr("1")},
	} {
		resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{ac}, topic)
		if err := alterErr(resp, err); !errors.Is(err, kerr.InvalidConfig) {
			t.Errorf("alter %s=%s: %v, want INVALID_CONFIG", ac.Name, *ac.Value, err)
		}
	}
	wantConfig(t, adm, topic, "retention.ms", "7200000", true)

	// AlterConfigs (non-incremental) replaces the whole set of topic configs.
	resp, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "cleanup.policy", Value: kadm.StringPtr("compact")}}, topic)
	if err := alterErr(resp, err); err != nil {
		t.Errorf("alter configs (non-incremental): %v", err)
	}
	wantConfig(t, adm, topic, "cleanup.policy", "compact", true)
	wantConfig(t, adm, topic, "retention.ms", "604800000", false)

	// CreatePartitions: grow to 5 and produce to the new partition; shrinking
	// is INVALID_PARTITIONS.
	if resp, err := adm.UpdatePartitions(ctx, 5, topic); err != nil || resp[topic].Err != nil {
		t.Errorf("create partitions to 5: %v %v", err, resp[topic].Err)
	}
	details, err = adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(details[topic].Partitions); n != 5 {
		t.Errorf("after create partitions: %d partitions, want 5", n)
	}
	cl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 4, Key: []byte("k"), Value: []byte("on new partition")}).FirstErr(); err != nil {
		t.Errorf("produce to new partition 4: %v", err)
	}
	if resp, err := adm.UpdatePartitions(ctx, 2, topic); err == nil && !errors.Is(resp[topic].Err, kerr.InvalidPartitions) {
		t.Errorf("shrink to 2 partitions: %v, want INVALID_PARTITIONS", resp[topic].Err)
	}

	// DeleteTopics; deleting again is UNKNOWN_TOPIC_OR_PARTITION; the name can
	// be reused and the new topic starts empty.
	if resp, err := adm.DeleteTopic(ctx, topic); err != nil || resp.Err != nil {
		t.Fatalf("delete topic: %v %v", err, resp.Err)
	}
	details, err = adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if details.Has(topic) {
		t.Errorf("deleted topic %s still listed", topic)
	}
	if _, err := adm.DeleteTopic(ctx, topic); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("delete missing topic: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
	createTopic(t, adm, topic, 5, nil)
	for p, end := range endOffsets(t, adm, topic) {
		if end != 0 {
			t.Errorf("recreated topic: partition %d end offset %d, want 0", p, end)
		}
	}
	wantConfig(t, adm, topic, "cleanup.policy", "delete", false)
}

// TestFranzBadInput checks the error codes for requests a broker must refuse.
func TestFranzBadInput(t *testing.T) {
	b := startBroker(t)
	adm := b.admin(t)
	ctx := testCtx(t, 2*time.Minute)

	t.Run("invalid topic names", func(t *testing.T) {
		names := []string{"", ".", "..", "has space", "slash/name", "star*", strings.Repeat("a", 250), "ünïcödé"}
		resp, err := adm.CreateTopics(ctx, 1, 1, nil, names...)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			r, ok := resp[name]
			if !ok {
				t.Errorf("create %q: no response", name)
			} else if !errors.Is(r.Err, kerr.InvalidTopicException) {
				t.Errorf("create %q: %v, want INVALID_TOPIC_EXCEPTION", name, r.Err)
			}
		}
		ok := strings.Repeat("a", 249) // the longest valid name
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, ok); err != nil {
			t.Errorf("create 249-character name: %v", err)
		}
		details, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if details.Has(name) {
				t.Errorf("invalid topic %q was created", name)
			}
		}
	})

	topic := topicName(t, "t")
	createTopic(t, adm, topic, 2, map[string]*string{"max.message.bytes": kadm.StringPtr("10000")})
	raw := b.rawClient(t)
	unknown := int16(kerr.UnknownTopicOrPartition.Code)

	t.Run("unknown partition", func(t *testing.T) {
		if code := rawProduce(t, raw, topic, 7, rawBatch([][]byte{[]byte("x")}, false)); code != unknown {
			t.Errorf("produce to partition 7 of 2: error %d (%v), want %d (UNKNOWN_TOPIC_OR_PARTITION)", code, kerr.ErrorForCode(code), unknown)
		}
		if p := rawFetch(t, raw, topic, 7, 0); p.ErrorCode != unknown {
			t.Errorf("fetch partition 7 of 2: error %d (%v), want %d", p.ErrorCode, kerr.ErrorForCode(p.ErrorCode), unknown)
		}
		if code, _ := rawListOffset(t, raw, topic, 7, -1); code != unknown {
			t.Errorf("list offsets partition 7 of 2: error %d (%v), want %d", code, kerr.ErrorForCode(code), unknown)
		}
		missing := topicName(t, "missing")
		if code := rawProduce(t, raw, missing, 0, rawBatch([][]byte{[]byte("x")}, false)); code != unknown {
			t.Errorf("produce to missing topic: error %d (%v), want %d", code, kerr.ErrorForCode(code), unknown)
		}
	})

	t.Run("fetch out of range", func(t *testing.T) {
		if p := rawFetch(t, raw, topic, 0, 1000); p.ErrorCode != kerr.OffsetOutOfRange.Code {
			t.Errorf("fetch offset 1000 of an empty partition: error %d (%v), want OFFSET_OUT_OF_RANGE", p.ErrorCode, kerr.ErrorForCode(p.ErrorCode))
		}
	})

	t.Run("corrupt batch", func(t *testing.T) {
		if code := rawProduce(t, raw, topic, 0, rawBatch([][]byte{[]byte("bad crc")}, true)); code != kerr.CorruptMessage.Code {
			t.Errorf("produce batch with a wrong CRC: error %d (%v), want CORRUPT_MESSAGE", code, kerr.ErrorForCode(code))
		}
		if code := rawProduce(t, raw, topic, 0, rawBatch([][]byte{[]byte("good crc")}, false)); code != 0 {
			t.Errorf("produce hand-built batch: error %d (%v)", code, kerr.ErrorForCode(code))
		}
	})

	t.Run("message too large", func(t *testing.T) {
		// Uncompressed: max.message.bytes limits the batch as sent, after compression.
		cl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(1),
			kgo.ProducerBatchCompression(kgo.NoCompression()))
		big := &kgo.Record{Topic: topic, Partition: 1, Value: bytes.Repeat([]byte{'x'}, 20_000)}
		if err := cl.ProduceSync(ctx, big).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
			t.Errorf("produce 20000 bytes to a topic with max.message.bytes=10000: %v, want MESSAGE_TOO_LARGE", err)
		}
		if code := rawProduce(t, raw, topic, 1, rawBatch([][]byte{bytes.Repeat([]byte{'y'}, 12_000)}, false)); code != kerr.MessageTooLarge.Code {
			t.Errorf("raw produce of 12000 bytes: error %d (%v), want MESSAGE_TOO_LARGE", code, kerr.ErrorForCode(code))
		}
		small := &kgo.Record{Topic: topic, Partition: 1, Value: bytes.Repeat([]byte{'z'}, 5_000)}
		if err := cl.ProduceSync(ctx, small).FirstErr(); err != nil {
			t.Errorf("produce 5000 bytes after a rejected batch: %v", err)
		}
		ends := endOffsets(t, adm, topic)
		got := consumeAll(t, b, topic, map[int32]int64{1: ends[1]})
		if len(got[1]) != 1 || !bytes.Equal(got[1][0].Value, small.Value) {
			t.Errorf("partition 1 holds %d records, want only the 5000-byte one", len(got[1]))
		}
	})
}

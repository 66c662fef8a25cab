package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kcat is librdkafka 2.0.2 behind kcat 1.7.1 (Debian's package): Produce v7,
// Fetch v11, ListOffsets v2, Metadata v4, InitProducerId v4.

// kcatRun runs kcat with args and returns stdout; it fails the test on a
// non-zero exit or on delivery errors reported on stderr.
func kcatRun(t *testing.T, timeout time.Duration, args ...string) []byte {
	t.Helper()
	kcat := requireTool(t, "kcat")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, args...)
	dieWithParent(cmd)
	var stdout bytes.Buffer
	stderr := &protoErrWatch{cancel: cancel}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	err := cmd.Run()
	if stderr.seen() {
		t.Fatalf("kcat %s: librdkafka could not parse a broker response\nstderr:\n%s", strings.Join(args, " "), tail(stderr.String(), 30))
	}
	if ctx.Err() != nil {
		t.Fatalf("kcat %s: timed out after %v\nstderr:\n%s", strings.Join(args, " "), timeout, tail(stderr.String(), 30))
	}
	if err != nil {
		t.Fatalf("kcat %s: %v\nstderr:\n%s", strings.Join(args, " "), err, tail(stderr.String(), 30))
	}
	if s := stderr.String(); strings.Contains(s, "Delivery failed") {
		t.Fatalf("kcat %s reported errors:\n%s", strings.Join(args, " "), tail(s, 30))
	}
	return stdout.Bytes()
}

// protoErrWatch collects kcat's stderr and stops kcat once librdkafka logs
// PROTOERR: a broker response it cannot parse, after which it retries forever
// instead of exiting.
type protoErrWatch struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel func()
	found  bool
}

func (w *protoErrWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	// librdkafka logs two PROTOERR lines per failure; the second says why.
	if !w.found && bytes.Count(w.buf.Bytes(), []byte("|PROTOERR|")) >= 2 {
		w.found = true
		w.cancel()
	}
	return len(p), nil
}

func (w *protoErrWatch) seen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.found
}

func (w *protoErrWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// kcatRecord is one input line: key TAB value.
type kcatRecord struct{ key, value string }

// writeKcatInput writes n keyed records, one per line, and returns them.
func writeKcatInput(t *testing.T, n int, seed uint64) (string, []kcatRecord) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_{}\"'"
	path := filepath.Join(t.TempDir(), "input.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	recs := make([]kcatRecord, n)
	for i := range recs {
		// Repetitive values so that every codec actually compresses.
		v := make([]byte, rng.IntN(200))
		for j := range v {
			v[j] = alphabet[rng.IntN(8)+(j%3)*8]
		}
		recs[i] = kcatRecord{key: fmt.Sprintf("k%06d", i%997), value: fmt.Sprintf("v%06d:%s", i, v)}
		fmt.Fprintf(w, "%s\t%s\n", recs[i].key, recs[i].value)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, recs
}

// kcatConsumed is one consumed record as printed by kcatConsume.
type kcatConsumed struct {
	partition int32
	offset    int64
	key       string
	value     string
	headers   string
}

// kcatConsume reads every partition of topic from the beginning to its end
// (-e: kcat exits once every partition reports end of partition).
func kcatConsume(t *testing.T, b *broker, topic string, timeout time.Duration) []kcatConsumed {
	t.Helper()
	// Not quiet (-q): on a timeout, stderr shows librdkafka's protocol errors.
	out := kcatRun(t, timeout, "-C", "-b", b.addr, "-t", topic, "-o", "beginning", "-e",
		"-f", `%p\t%o\t%k\t%h\t%s\n`)
	var recs []kcatConsumed
	for line := range strings.SplitSeq(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 5)
		if len(f) != 5 {
			t.Fatalf("kcat consume: unexpected line %q", line)
		}
		p, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("kcat consume: unexpected line %q", line)
		}
		recs = append(recs, kcatConsumed{partition: int32(p), offset: o, key: f[2], headers: f[3], value: f[4]})
	}
	return recs
}

// checkKcatRoundTrip compares what kcat consumed with what was produced: every
// record exactly once, one partition per key, produce order kept within each
// partition and offsets dense from 0.
func checkKcatRoundTrip(t *testing.T, produced []kcatRecord, consumed []kcatConsumed, wantHeaders string) {
	t.Helper()
	if len(consumed) != len(produced) {
		t.Errorf("consumed %d records, produced %d", len(consumed), len(produced))
	}
	index := make(map[string]int, len(produced)) // value -> produce index
	for i, r := range produced {
		index[r.value] = i
	}
	seen := make(map[int]bool, len(produced))
	keyPartition := map[string]int32{}
	lastIndex := map[int32]int{}
	nextOffset := map[int32]int64{}
	bad := 0
	fail := func(format string, args ...any) {
		t.Helper()
		if bad++; bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	for _, c := range consumed {
		i, ok := index[c.value]
		switch {
		case !ok:
			fail("partition %d offset %d: value %.40q was never produced", c.partition, c.offset, c.value)
			continue
		case seen[i]:
			fail("partition %d offset %d: record %d consumed twice", c.partition, c.offset, i)
		case c.key != produced[i].key:
			fail("partition %d offset %d: key %q, want %q", c.partition, c.offset, c.key, produced[i].key)
		case c.headers != wantHeaders:
			fail("partition %d offset %d: headers %q, want %q", c.partition, c.offset, c.headers, wantHeaders)
		}
		seen[i] = true
		if p, ok := keyPartition[c.key]; ok && p != c.partition {
			fail("key %q in partitions %d and %d", c.key, p, c.partition)
		}
		keyPartition[c.key] = c.partition
		if last, ok := lastIndex[c.partition]; ok && i < last {
			fail("partition %d offset %d: record %d after record %d (produce order lost)", c.partition, c.offset, i, last)
		}
		lastIndex[c.partition] = i
		if c.offset != nextOffset[c.partition] {
			fail("partition %d: offset %d, want %d", c.partition, c.offset, nextOffset[c.partition])
		}
		nextOffset[c.partition] = c.offset + 1
	}
	for i := range produced {
		if !seen[i] {
			fail("record %d (%.40q) not consumed", i, produced[i].value)
		}
	}
	if bad > 10 {
		t.Errorf("... %d problems in all", bad)
	}
}

// TestKcatProduceConsume100k produces 100,000 keyed records with headers via
// librdkafka's idempotent producer and reads them back with kcat's consumer.
func TestKcatProduceConsume100k(t *testing.T) {
	requireTool(t, "kcat")
	b := startBroker(t)
	topic := topicName(t, "t")
	createTopic(t, b.admin(t), topic, 3, nil)

	input, recs := writeKcatInput(t, 100_000, 1)
	kcatRun(t, 3*time.Minute, "-P", "-b", b.addr, "-t", topic, "-K", `\t`, "-l",
		"-H", "source=kcat", "-H", "run=100k",
		"-X", "enable.idempotence=true", "-X", "linger.ms=5",
		input)

	consumed := kcatConsume(t, b, topic, 2*time.Minute)
	checkKcatRoundTrip(t, recs, consumed, "source=kcat,run=100k")

	// The broker's own view agrees with what kcat read.
	var total int64
	for _, end := range endOffsets(t, b.admin(t), topic) {
		total += end
	}
	if total != int64(len(recs)) {
		t.Errorf("end offsets add up to %d, want %d", total, len(recs))
	}
}

// TestKcatCompression round-trips smaller runs with each librdkafka codec and
// cross-checks them with franz-go's decompression and the stored batches.
func TestKcatCompression(t *testing.T) {
	requireTool(t, "kcat")
	b := startBroker(t)
	adm := b.admin(t)
	findCoordinator := advertises(t, b, 10)
	for _, codec := range []string{"snappy", "lz4", "gzip", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			topic := topicName(t, "t")
			createTopic(t, adm, topic, 2, nil)
			input, recs := writeKcatInput(t, 5000, 2)
			kcatRun(t, time.Minute, "-P", "-b", b.addr, "-t", topic, "-K", `\t`, "-l", "-z", codec,
				"-X", "linger.ms=20", input)

			// franz-go reads the same records (its own decompressor).
			got := consumeAll(t, b, topic, endOffsets(t, adm, topic))
			n := 0
			for _, rs := range got {
				n += len(rs)
			}
			if n != len(recs) {
				t.Errorf("franz-go consumed %d records, want %d", n, len(recs))
			}
			// Batches are stored as produced, so they are still compressed,
			// if librdkafka compressed them: it sends uncompressed when the
			// broker's ApiVersions fails its checks.
			for p := range got {
				codecs := storedCodecs(t, b, topic, p)
				switch {
				case codecs[codecID[codec]]:
				case codec == "lz4" && !findCoordinator:
					t.Logf("lz4: librdkafka sent uncompressed batches: it enables lz4 only when FindCoordinator (key 10) is advertised (groups issue)")
				default:
					t.Errorf("partition %d: stored batches use codecs %v, want %s (%d). librdkafka logs \"Broker does not "+
						"support compression type\" and sends uncompressed when ApiVersions fails its checks: gzip, snappy "+
						"and lz4 need the advertised Produce range to include v0 (why Kafka 4 lists Produce from 0, "+
						"KAFKA-18659), lz4 also FindCoordinator v0, zstd Produce v7 and Fetch v10",
						p, codecs, codec, codecID[codec])
				}
			}

			checkKcatRoundTrip(t, recs, kcatConsume(t, b, topic, time.Minute), "")
		})
	}
}

// advertises reports whether the broker's ApiVersions lists key.
func advertises(t *testing.T, b *broker, key int16) bool {
	t.Helper()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(testCtx(t, 30*time.Second), seed(b.client(t)))
	if err != nil {
		t.Fatalf("ApiVersions: %v", err)
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == key {
			return true
		}
	}
	return false
}

// TestKcatMetadata checks `kcat -L` lists the broker, topics and partitions.
func TestKcatMetadata(t *testing.T) {
	requireTool(t, "kcat")
	b := startBroker(t)
	adm := b.admin(t)
	want := map[string]int{topicName(t, "one"): 1, topicName(t, "five"): 5}
	for topic, n := range want {
		createTopic(t, adm, topic, int32(n), nil)
	}

	var md struct {
		Brokers []struct {
			ID   int32  `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
		Topics []struct {
			Topic      string `json:"topic"`
			Err        string `json:"error"`
			Partitions []struct {
				Partition int32  `json:"partition"`
				Leader    int32  `json:"leader"`
				Err       string `json:"error"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	out := kcatRun(t, time.Minute, "-L", "-J", "-b", b.addr)
	if err := json.Unmarshal(out, &md); err != nil {
		t.Fatalf("kcat -L -J: %v\n%s", err, out)
	}
	if len(md.Brokers) != 1 || md.Brokers[0].Name != b.addr {
		t.Errorf("kcat -L brokers = %+v, want one broker at %s", md.Brokers, b.addr)
	}
	for _, tp := range md.Topics {
		n, ok := want[tp.Topic]
		if !ok {
			continue
		}
		delete(want, tp.Topic)
		if tp.Err != "" {
			t.Errorf("topic %s: error %q", tp.Topic, tp.Err)
		}
		if len(tp.Partitions) != n {
			t.Errorf("topic %s: %d partitions, want %d", tp.Topic, len(tp.Partitions), n)
		}
		for i, p := range tp.Partitions {
			if p.Partition != int32(i) || p.Err != "" || len(md.Brokers) == 0 || p.Leader != md.Brokers[0].ID {
				t.Errorf("topic %s: partition entry %+v, want partition %d led by the broker, no error", tp.Topic, p, i)
			}
		}
	}
	for topic := range want {
		t.Errorf("kcat -L does not list topic %s:\n%s", topic, out)
	}
}

// TestKcatQueryTimestamp checks `kcat -Q` (ListOffsets by timestamp).
func TestKcatQueryTimestamp(t *testing.T) {
	requireTool(t, "kcat")
	b := startBroker(t)
	topic := topicName(t, "t")
	createTopic(t, b.admin(t), topic, 1, nil)

	// Records 0..99 with timestamps base+10*i.
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	cl := b.client(t)
	var rs []*kgo.Record
	for i := range 100 {
		rs = append(rs, &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i)), Timestamp: base.Add(time.Duration(10*i) * time.Millisecond)})
	}
	if err := cl.ProduceSync(testCtx(t, 30*time.Second), rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	re := regexp.MustCompile(`\[0\]\s+offset\s+(-?\d+)`)
	for _, tc := range []struct {
		ts   int64
		want int64
	}{
		{base.UnixMilli() - 1, 0},
		{base.UnixMilli(), 0},
		{base.UnixMilli() + 1, 1},
		{base.UnixMilli() + 500, 50},
		{base.UnixMilli() + 990, 99},
	} {
		out := kcatRun(t, time.Minute, "-Q", "-b", b.addr, "-t", fmt.Sprintf("%s:0:%d", topic, tc.ts))
		m := re.FindSubmatch(out)
		if m == nil {
			t.Fatalf("kcat -Q %d: unexpected output %q", tc.ts, out)
		}
		if got, _ := strconv.ParseInt(string(m[1]), 10, 64); got != tc.want {
			t.Errorf("kcat -Q timestamp %d: offset %d, want %d", tc.ts, got, tc.want)
		}
	}
}

// TestKcatGroupConsume reads a topic with kcat's balanced consumer (-G,
// librdkafka's KafkaConsumer: JoinGroup v5, SyncGroup v3, OffsetCommit v7,
// OffsetFetch v7), then checks that the group's committed offsets are the
// end offsets and that a second run resumes there and reads nothing.
func TestKcatGroupConsume(t *testing.T) {
	requireTool(t, "kcat")
	b := startBroker(t)
	adm := b.admin(t)
	topic := topicName(t, "t")
	createTopic(t, adm, topic, 3, nil)
	cl := b.client(t)
	const n = 3000
	for i := range n {
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf("v%d", i))}, nil)
	}
	if err := cl.Flush(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	group := topicName(t, "g")
	consume := func() []string {
		out := kcatRun(t, 2*time.Minute, "-b", b.addr, "-G", group, "-e", "-q", "-f", `%s\n`,
			"-X", "auto.offset.reset=earliest", topic)
		return strings.Fields(string(out))
	}
	got := consume()
	seen := map[string]bool{}
	for _, v := range got {
		seen[v] = true
	}
	if len(seen) != n {
		t.Fatalf("kcat -G read %d distinct records (%d in all), want %d", len(seen), len(got), n)
	}
	ends := endOffsets(t, adm, topic)
	committed, err := adm.FetchOffsets(testCtx(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	for p, end := range ends {
		if o, _ := committed.Lookup(topic, p); o.At != end {
			t.Errorf("partition %d: committed %d, end %d", p, o.At, end)
		}
	}
	if again := consume(); len(again) != 0 {
		t.Errorf("a second kcat -G run read %d records: it did not resume from the committed offsets", len(again))
	}
}

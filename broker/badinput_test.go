package broker

// Bad input over real TCP connections: malformed frames, invalid names,
// refused batches and protocol corner cases. The broker must answer with
// the Kafka error a client expects (or close only the offending
// connection) and must not write anything it refused.

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newAdmin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func createTopic(t *testing.T, adm *kadm.Client, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	resp, err := adm.CreateTopic(testCtx(t), partitions, 1, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", name, err)
	}
}

// logEnd is a partition's log end offset, read from the broker directly.
func logEnd(t *testing.T, s *Server, topic string, p int32) int64 {
	t.Helper()
	l := s.topics.get(topic).Partition(p)
	if l == nil {
		t.Fatalf("no partition %s/%d", topic, p)
	}
	return l.LogEndOffset()
}

// produceRequest builds a Produce v9 request with one batch per entry.
func produceRequest(acks int16, topic string, partition int32, batch []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks, req.TimeoutMillis = acks, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// produce sends one batch on c and returns the partition's answer.
func produce(t *testing.T, c *rawConn, topic string, partition int32, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	resp := c.roundTrip(produceRequest(-1, topic, partition, batch)).(*kmsg.ProduceResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce response has the wrong shape: %+v", resp)
	}
	return resp.Topics[0].Partitions[0]
}

// noError stands for error code 0 in wantCode.
var noError = &kerr.Error{Message: "NONE", Code: 0}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	if got != want.Code {
		t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(got), want.Message)
	}
}

func apiVersionsOK(t *testing.T, c *rawConn) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "sluice-test", "1"
	resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		t.Fatalf("ApiVersions: error %v, %d keys", kerr.ErrorForCode(resp.ErrorCode), len(resp.ApiKeys))
	}
}

func TestMalformedFrameClosesOnlyThatConnection(t *testing.T) {
	_, addr := startServer(t, Config{})
	adm := newAdmin(t, addr)
	bystander := dialRaw(t, addr)
	apiVersionsOK(t, bystander)

	size := func(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }
	withSize := func(body []byte) []byte { return append(size(int32(len(body))), body...) }
	header := func(key, version int16) []byte {
		b := binary.BigEndian.AppendUint16(nil, uint16(key))
		b = binary.BigEndian.AppendUint16(b, uint16(version))
		b = binary.BigEndian.AppendUint32(b, 1)
		return binary.BigEndian.AppendUint16(b, 0) // empty client id
	}
	for _, tc := range []struct {
		name  string
		bytes []byte
	}{
		{"garbage after a valid size", withSize(bytes.Repeat([]byte{0xff}, 32))},
		{"garbage body after a valid header", withSize(append(header(3, 12), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))},
		{"size -1", size(-1)},
		{"size 200 MiB", size(200 << 20)},
		{"size smaller than a header", withSize([]byte{0, 18, 0, 0})},
		{"truncated header", withSize([]byte{0, 3, 0, 0, 0, 0, 0, 1, 0})}, // client id length cut in half
		{"client id longer than the frame", withSize([]byte{0, 3, 0, 0, 0, 0, 0, 1, 0, 50, 'x'})},
		{"unknown api key", withSize(header(9999, 0))},
		{"unsupported version", withSize(header(0, 2))}, // Produce v0-2 are gone (KIP-896)
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := dialRaw(t, addr)
			bad.write(tc.bytes)
			bad.expectClosed()
			apiVersionsOK(t, bystander) // the open connection still works
			apiVersionsOK(t, dialRaw(t, addr))
			if _, err := adm.ListTopics(testCtx(t)); err != nil {
				t.Fatalf("a new client cannot list topics: %v", err)
			}
		})
	}
}

var invalidTopicNames = []string{"", "..", strings.Repeat("a", 250), "a/b"}

func TestCreateTopicsRefusesInvalidNames(t *testing.T) {
	s, addr := startServer(t, Config{})
	c := dialRaw(t, addr)
	for _, name := range invalidTopicNames {
		for _, v := range []int16{2, 7} {
			req := kmsg.NewPtrCreateTopicsRequest()
			req.SetVersion(v)
			req.TimeoutMillis = 5000
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
			req.Topics = append(req.Topics, rt)
			resp := c.roundTrip(req).(*kmsg.CreateTopicsResponse)
			if len(resp.Topics) != 1 {
				t.Fatalf("%q v%d: %d topics in the answer", name, v, len(resp.Topics))
			}
			wantCode(t, "CreateTopics "+name, resp.Topics[0].ErrorCode, kerr.InvalidTopicException)
		}
	}
	if ts := s.topics.all(); len(ts) != 0 {
		t.Fatalf("%d topics were created", len(ts))
	}
}

func TestMetadataAutoCreateRefusesInvalidNames(t *testing.T) {
	s, addr := startServer(t, Config{AutoCreateTopics: true})
	c := dialRaw(t, addr)
	for _, v := range []int16{1, 4, 12} {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(v)
		req.AllowAutoTopicCreation = true
		for _, name := range invalidTopicNames {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(name)
			req.Topics = append(req.Topics, rt)
		}
		resp := c.roundTrip(req).(*kmsg.MetadataResponse)
		if len(resp.Topics) != len(invalidTopicNames) {
			t.Fatalf("v%d: %d topics in the answer, want %d", v, len(resp.Topics), len(invalidTopicNames))
		}
		for i, mt := range resp.Topics {
			wantCode(t, "Metadata "+invalidTopicNames[i], mt.ErrorCode, kerr.InvalidTopicException)
		}
	}
	if ts := s.topics.all(); len(ts) != 0 {
		t.Fatalf("%d topics were created", len(ts))
	}
}

func TestProduceToUnknownTopicOrPartition(t *testing.T) {
	_, addr := startServer(t, Config{})
	createTopic(t, newAdmin(t, addr), "known", 2, nil)
	c := dialRaw(t, addr)
	batch := testBatch{values: []string{"v"}}.encode
	for _, tc := range []struct {
		topic     string
		partition int32
	}{{"unknown", 0}, {"known", 2}, {"known", -1}, {"known", 1 << 30}} {
		rp := produce(t, c, tc.topic, tc.partition, batch())
		wantCode(t, "produce to "+tc.topic, rp.ErrorCode, kerr.UnknownTopicOrPartition)
	}
}

func TestCorruptBatchIsRefusedAndNotWritten(t *testing.T) {
	s, addr := startServer(t, Config{})
	createTopic(t, newAdmin(t, addr), "crc", 1, nil)
	c := dialRaw(t, addr)
	if rp := produce(t, c, "crc", 0, testBatch{values: []string{"first"}}.encode()); rp.ErrorCode != 0 || rp.BaseOffset != 0 {
		t.Fatalf("first produce: %v at offset %d", kerr.ErrorForCode(rp.ErrorCode), rp.BaseOffset)
	}

	badCRC := testBatch{values: []string{"bad", "crc"}}.encode()
	badCRC[17] ^= 0x01
	badPayload := testBatch{values: []string{"bad", "payload"}}.encode()
	badPayload[len(badPayload)-2] ^= 0x40 // inside the records, covered by the CRC
	short := testBatch{values: []string{"cut"}}.encode()
	short = short[:len(short)-3] // length field no longer matches
	for name, b := range map[string][]byte{"flipped CRC": badCRC, "flipped payload": badPayload, "truncated batch": short} {
		rp := produce(t, c, "crc", 0, b)
		wantCode(t, name, rp.ErrorCode, kerr.CorruptMessage)
		if got := logEnd(t, s, "crc", 0); got != 1 {
			t.Fatalf("after %s: log end offset %d, want 1", name, got)
		}
	}
	if rp := produce(t, c, "crc", 0, testBatch{values: []string{"second"}}.encode()); rp.ErrorCode != 0 || rp.BaseOffset != 1 {
		t.Fatalf("valid produce after refused ones: %v at offset %d, want offset 1", kerr.ErrorForCode(rp.ErrorCode), rp.BaseOffset)
	}
	// The log holds exactly the two good batches.
	f := fetchAt(t, c, "crc", 0, 0)
	wantCode(t, "fetch", f.ErrorCode, noError)
	var got []string
	for d := f.RecordBatches; len(d) > 0; {
		var b kmsg.RecordBatch
		if err := b.ReadFrom(d); err != nil {
			t.Fatalf("stored batch does not decode: %v", err)
		}
		got = append(got, recordValues(t, b)...)
		d = d[12+int(b.Length):]
	}
	if strings.Join(got, ",") != "first,second" {
		t.Fatalf("log holds %q, want first,second", got)
	}
}

func recordValues(t *testing.T, b kmsg.RecordBatch) []string {
	t.Helper()
	var out []string
	recs := b.Records
	for i := int32(0); i < b.NumRecords; i++ {
		n, k := binary.Varint(recs)
		var r kmsg.Record
		if k <= 0 || r.ReadFrom(recs[:k+int(n)]) != nil {
			t.Fatalf("record %d does not decode", i)
		}
		out = append(out, string(r.Value))
		recs = recs[k+int(n):]
	}
	return out
}

// fetchAt fetches one partition from offset without waiting.
func fetchAt(t *testing.T, c *rawConn, topic string, partition int32, offset int64) kmsg.FetchResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(11)
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, 0, 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := c.roundTrip(req).(*kmsg.FetchResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch response has the wrong shape: %+v", resp)
	}
	return resp.Topics[0].Partitions[0]
}

func TestBatchOverMaxMessageBytes(t *testing.T) {
	s, addr := startServer(t, Config{})
	createTopic(t, newAdmin(t, addr), "small", 1, map[string]*string{"max.message.bytes": kmsg.StringPtr("1000")})
	c := dialRaw(t, addr)
	rp := produce(t, c, "small", 0, testBatch{values: []string{strings.Repeat("x", 2000)}}.encode())
	wantCode(t, "produce 2000 bytes", rp.ErrorCode, kerr.MessageTooLarge)
	if got := logEnd(t, s, "small", 0); got != 0 {
		t.Fatalf("log end offset %d, want 0", got)
	}
	rp = produce(t, c, "small", 0, testBatch{values: []string{"fits"}}.encode())
	wantCode(t, "produce a small batch", rp.ErrorCode, noError)
}

func TestKeylessRecordToCompactedTopic(t *testing.T) {
	s, addr := startServer(t, Config{})
	createTopic(t, newAdmin(t, addr), "compacted", 1, map[string]*string{"cleanup.policy": kmsg.StringPtr("compact")})
	c := dialRaw(t, addr)
	for name, b := range map[string][]byte{
		"keyless":         testBatch{values: []string{"v"}, nullKeys: true}.encode(),
		"keyless gzipped": testBatch{values: []string{"v", "w"}, nullKeys: true, gzip: true}.encode(),
	} {
		rp := produce(t, c, "compacted", 0, b)
		wantCode(t, name, rp.ErrorCode, kerr.InvalidRecord)
	}
	if got := logEnd(t, s, "compacted", 0); got != 0 {
		t.Fatalf("log end offset %d, want 0", got)
	}
	rp := produce(t, c, "compacted", 0, testBatch{values: []string{"v"}, keys: []string{"k"}, gzip: true}.encode())
	wantCode(t, "keyed", rp.ErrorCode, noError)
}

func TestFetchPastTheEnd(t *testing.T) {
	_, addr := startServer(t, Config{})
	createTopic(t, newAdmin(t, addr), "short", 1, nil)
	c := dialRaw(t, addr)
	produce(t, c, "short", 0, testBatch{values: []string{"a", "b"}}.encode())
	wantCode(t, "fetch at the end", fetchAt(t, c, "short", 0, 2).ErrorCode, noError)
	f := fetchAt(t, c, "short", 0, 5)
	wantCode(t, "fetch past the end", f.ErrorCode, kerr.OffsetOutOfRange)
	if f.HighWatermark != 2 {
		t.Fatalf("high watermark %d, want 2", f.HighWatermark)
	}
	wantCode(t, "fetch below the start", fetchAt(t, c, "short", 0, -3).ErrorCode, kerr.OffsetOutOfRange)
}

func TestApiVersionsAboveMax(t *testing.T) {
	_, addr := startServer(t, Config{})
	c := dialRaw(t, addr)
	a := lookupAPI(apiKeyApiVersions)
	for _, v := range []int16{a.max + 1, 100} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(v)
		req.ClientSoftwareName, req.ClientSoftwareVersion = "sluice-test", "1"
		corr := c.send(req)
		resp := kmsg.NewPtrApiVersionsResponse() // v0-shaped answer (KIP-511)
		c.recv(resp, corr)
		wantCode(t, "ApiVersions above max", resp.ErrorCode, kerr.UnsupportedVersion)
		if len(resp.ApiKeys) != 1 || resp.ApiKeys[0].ApiKey != apiKeyApiVersions ||
			resp.ApiKeys[0].MinVersion != a.min || resp.ApiKeys[0].MaxVersion != a.max {
			t.Fatalf("v%d: api keys %+v, want only ApiVersions v%d-v%d", v, resp.ApiKeys, a.min, a.max)
		}
	}
	apiVersionsOK(t, c) // the client retries on the same connection
}

func TestAcksZeroGetsNoResponse(t *testing.T) {
	s, addr := startServer(t, Config{})
	createTopic(t, newAdmin(t, addr), "fire", 1, nil)
	c := dialRaw(t, addr)
	c.send(produceRequest(0, "fire", 0, testBatch{values: []string{"a"}}.encode()))
	c.send(produceRequest(0, "nope", 0, testBatch{values: []string{"b"}}.encode())) // errors are silent too
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(9)
	corr := c.send(md)
	resp := md.ResponseKind()
	resp.SetVersion(9)
	c.recv(resp, corr) // fails if an answer to the produce came first
	deadline := time.Now().Add(10 * time.Second)
	for logEnd(t, s, "fire", 0) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the acks=0 batch was not written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestIdempotentProducerDuplicatesAndGaps(t *testing.T) {
	s, addr := startServer(t, Config{})
	createTopic(t, newAdmin(t, addr), "idem", 1, nil)
	c := dialRaw(t, addr)
	ip := kmsg.NewPtrInitProducerIDRequest()
	ip.SetVersion(4)
	ipr := c.roundTrip(ip).(*kmsg.InitProducerIDResponse)
	wantCode(t, "InitProducerId", ipr.ErrorCode, noError)
	pid, epoch := ipr.ProducerID, ipr.ProducerEpoch

	first := testBatch{values: []string{"a", "b"}, idempotent: true, pid: pid, epoch: epoch, seq: 0}.encode()
	rp := produce(t, c, "idem", 0, append([]byte(nil), first...))
	if rp.ErrorCode != 0 || rp.BaseOffset != 0 {
		t.Fatalf("first batch: %v at %d", kerr.ErrorForCode(rp.ErrorCode), rp.BaseOffset)
	}
	second := testBatch{values: []string{"c"}, idempotent: true, pid: pid, epoch: epoch, seq: 2}.encode()
	if rp = produce(t, c, "idem", 0, append([]byte(nil), second...)); rp.ErrorCode != 0 || rp.BaseOffset != 2 {
		t.Fatalf("second batch: %v at %d", kerr.ErrorForCode(rp.ErrorCode), rp.BaseOffset)
	}
	// Retries of either batch are acknowledged with the original offset.
	for _, tc := range []struct {
		batch []byte
		off   int64
	}{{first, 0}, {second, 2}, {first, 0}} {
		rp = produce(t, c, "idem", 0, append([]byte(nil), tc.batch...))
		if rp.ErrorCode != 0 || rp.BaseOffset != tc.off {
			t.Fatalf("duplicate: %v at %d, want offset %d", kerr.ErrorForCode(rp.ErrorCode), rp.BaseOffset, tc.off)
		}
	}
	if got := logEnd(t, s, "idem", 0); got != 3 {
		t.Fatalf("log end offset %d after duplicates, want 3", got)
	}
	gap := testBatch{values: []string{"d"}, idempotent: true, pid: pid, epoch: epoch, seq: 5}.encode()
	wantCode(t, "sequence gap", produce(t, c, "idem", 0, gap).ErrorCode, kerr.OutOfOrderSequenceNumber)
	if got := logEnd(t, s, "idem", 0); got != 3 {
		t.Fatalf("log end offset %d after a gap, want 3", got)
	}
	next := testBatch{values: []string{"d"}, idempotent: true, pid: pid, epoch: epoch, seq: 3}.encode()
	if rp = produce(t, c, "idem", 0, next); rp.ErrorCode != 0 || rp.BaseOffset != 3 {
		t.Fatalf("in-order batch after the gap: %v at %d", kerr.ErrorForCode(rp.ErrorCode), rp.BaseOffset)
	}
}

func TestLargeFramesAndUnfinishedFrames(t *testing.T) {
	s, addr := startServer(t, Config{})
	createTopic(t, newAdmin(t, addr), "big", 1, map[string]*string{"max.message.bytes": kmsg.StringPtr("8388608")})
	// Clients that announce 100 MiB frames and stop sending cost nothing
	// and block no one.
	for i := 0; i < 20; i++ {
		stalled := dialRaw(t, addr)
		stalled.write(append(binary.BigEndian.AppendUint32(nil, 100<<20), 0, 0, 0, 3))
	}
	c := dialRaw(t, addr)
	rp := produce(t, c, "big", 0, testBatch{values: []string{strings.Repeat("v", 3<<20)}}.encode())
	wantCode(t, "3 MiB batch", rp.ErrorCode, noError)
	if got := logEnd(t, s, "big", 0); got != 1 {
		t.Fatalf("log end offset %d, want 1", got)
	}
	// A large frame cut short by the client is not answered.
	cut := dialRaw(t, addr)
	full := frame(produceRequest(-1, "big", 0, testBatch{values: []string{strings.Repeat("w", 2<<20)}}.encode()), 1)
	cut.write(full[:len(full)/2])
	cut.nc.(*net.TCPConn).CloseWrite()
	cut.expectClosed()
	if got := logEnd(t, s, "big", 0); got != 1 {
		t.Fatalf("log end offset %d after a cut frame, want 1", got)
	}
}

// flakyListener fails its first accepts the way a process out of file
// descriptors does.
type flakyListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

func TestServeSurvivesAcceptErrors(t *testing.T) {
	s, err := New(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: s.ln}
	fl.fails.Store(3)
	s.ln = fl
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	defer func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	apiVersionsOK(t, dialRaw(t, s.Addr().String()))
}

package compat

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// Hand-built requests for what franz-go's producer and consumer would refuse
// or hide: unknown partitions, corrupt or oversized batches, and a look at the
// batches the broker stores.

// codecID is the compression codec in a record batch's attributes (bits 0-2).
var codecID = map[string]int8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

// rawClient returns a client for hand-built requests. Produce and Fetch are
// capped at v12 so that requests name topics (v13+ address them by ID only).
func (b *broker) rawClient(t testing.TB) *kgo.Client {
	t.Helper()
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(0, 12) // Produce
	vs.SetMaxKeyVersion(1, 12) // Fetch
	return b.client(t, kgo.MaxVersions(vs), kgo.RequestRetries(0))
}

// seed returns the first seed broker: requests sent to it directly skip the
// client's sharding by partition leader, which would refuse unknown partitions
// before they reach the broker.
func seed(cl *kgo.Client) *kgo.Broker { return cl.SeedBrokers()[0] }

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// rawBatch encodes an uncompressed, non-idempotent v2 record batch holding
// values, with a valid CRC unless corruptCRC is set.
func rawBatch(values [][]byte, corruptCRC bool) []byte {
	now := time.Now().UnixMilli()
	var recs []byte
	for i, v := range values {
		r := kmsg.Record{OffsetDelta: int32(i), Value: v}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // Length 0 encodes as one varint byte
		recs = r.AppendTo(recs)
	}
	rb := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      int32(len(values) - 1),
		FirstTimestamp:       now,
		MaxTimestamp:         now,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(values)),
		Records:              recs,
	}
	enc := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(enc[8:12], uint32(len(enc)-12)) // batch length: all after the length field
	crc := crc32.Checksum(enc[21:], crc32c)                    // CRC covers attributes onward
	if corruptCRC {
		crc++
	}
	binary.BigEndian.PutUint32(enc[17:21], crc)
	return enc
}

// rawProduce sends one batch with acks=all and returns the partition's error code.
func rawProduce(t testing.TB, cl *kgo.Client, topic string, partition int32, batch []byte) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks = -1
	req.TimeoutMillis = 10_000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = partition
	rp.Records = batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 30*time.Second), seed(cl))
	if err != nil {
		t.Fatalf("produce %s/%d: %v", topic, partition, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce %s/%d: response has %d topics, want 1 with 1 partition: %+v", topic, partition, len(resp.Topics), resp)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// rawFetch fetches one partition from offset and returns the partition response.
func rawFetch(t testing.TB, cl *kgo.Client, topic string, partition int32, offset int64) kmsg.FetchResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = 100
	req.MaxBytes = 8 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = partition
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = 4 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 30*time.Second), seed(cl))
	if err != nil {
		t.Fatalf("fetch %s/%d: %v", topic, partition, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch %s/%d: response has %d topics, want 1 with 1 partition", topic, partition, len(resp.Topics))
	}
	return resp.Topics[0].Partitions[0]
}

// rawListOffset asks for the offset at timestamp (-1 latest, -2 earliest) and
// returns the error code and offset.
func rawListOffset(t testing.TB, cl *kgo.Client, topic string, partition int32, timestamp int64) (int16, int64) {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition = partition
	rp.Timestamp = timestamp
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 30*time.Second), seed(cl))
	if err != nil {
		t.Fatalf("list offsets %s/%d: %v", topic, partition, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("list offsets %s/%d: response has %d topics, want 1 with 1 partition", topic, partition, len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	return p.ErrorCode, p.Offset
}

// storedCodecs fetches a whole partition with raw Fetch requests and returns
// the compression codecs of the batches the broker returns.
func storedCodecs(t testing.TB, b *broker, topic string, partition int32) map[int8]bool {
	t.Helper()
	cl := b.rawClient(t)
	codecs := map[int8]bool{}
	var offset int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := rawFetch(t, cl, topic, partition, offset)
		if p.ErrorCode != 0 {
			t.Fatalf("fetch %s/%d at %d: error code %d", topic, partition, offset, p.ErrorCode)
		}
		if offset >= p.HighWatermark {
			return codecs
		}
		if time.Now().After(deadline) {
			t.Fatalf("fetch %s/%d: stuck at offset %d of %d", topic, partition, offset, p.HighWatermark)
		}
		buf := p.RecordBatches
		for len(buf) >= 61 { // a batch header is 61 bytes
			length := int(int32(binary.BigEndian.Uint32(buf[8:12])))
			if 12+length > len(buf) {
				break // truncated trailing batch (allowed)
			}
			base := int64(binary.BigEndian.Uint64(buf[0:8]))
			attrs := int16(binary.BigEndian.Uint16(buf[21:23]))
			last := int32(binary.BigEndian.Uint32(buf[23:27]))
			codecs[int8(attrs&0x07)] = true
			if next := base + int64(last) + 1; next > offset {
				offset = next
			}
			buf = buf[12+length:]
		}
	}
}

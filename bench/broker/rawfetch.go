package broker

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawFetch reads a topic from its start with plain Fetch requests and does
// not decode records: it measures how fast the broker serves stored batches
// (warm page cache), separately from the client's per-record work that
// dominates the 'consume' rows on a 2-core machine.
func (b *kafkaBench) rawFetch(ctx context.Context, topic string, partitions int, expect int64) (consumeResult, error) {
	res := consumeResult{Expected: expect}
	cl, err := kgo.NewClient(b.clientOpts()...)
	if err != nil {
		return res, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, b.o.PhaseTimeout)
	defer cancel()

	// Fetch v13+ names topics by id.
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = []kmsg.MetadataRequestTopic{mt}
	mresp, err := mreq.RequestWith(ctx, cl)
	if err != nil {
		return res, err
	}
	if len(mresp.Topics) != 1 || mresp.Topics[0].ErrorCode != 0 {
		return res, fmt.Errorf("raw fetch: no metadata for %s", topic)
	}
	topicID := mresp.Topics[0].TopicID

	offsets := make([]int64, partitions)
	hw := make([]int64, partitions)
	for i := range hw {
		hw[i] = -1
	}
	start := time.Now()
	for {
		done := true
		req := kmsg.NewPtrFetchRequest()
		req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 100, 1, 64<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, topicID
		for p := range partitions {
			if hw[p] >= 0 && offsets[p] >= hw[p] {
				continue
			}
			done = false
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = int32(p), offsets[p], 8<<20
			rt.Partitions = append(rt.Partitions, rp)
		}
		if done {
			break
		}
		req.Topics = []kmsg.FetchRequestTopic{rt}
		kresp, err := cl.Request(ctx, req)
		if err != nil {
			res.TimedOut = ctx.Err() != nil
			if res.TimedOut {
				break
			}
			return res, err
		}
		resp := kresp.(*kmsg.FetchResponse)
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					return res, fmt.Errorf("raw fetch %s[%d]: %w", topic, p.Partition, err)
				}
				hw[p.Partition] = p.HighWatermark
				next, n, bytes := wholeBatches(p.RecordBatches)
				if next > offsets[p.Partition] {
					offsets[p.Partition] = next
				}
				res.Records += n
				res.Bytes += bytes
			}
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}

// wholeBatches walks v2 batch headers: the offset after the last whole
// batch, and the records and bytes of the whole batches.
func wholeBatches(b []byte) (next, records, bytes int64) {
	for len(b) >= 61 {
		size := int64(binary.BigEndian.Uint32(b[8:])) + 12
		if size > int64(len(b)) {
			break
		}
		base := int64(binary.BigEndian.Uint64(b))
		next = base + int64(binary.BigEndian.Uint32(b[23:])) + 1
		records += int64(binary.BigEndian.Uint32(b[57:]))
		bytes += size
		b = b[size:]
	}
	return next, records, bytes
}

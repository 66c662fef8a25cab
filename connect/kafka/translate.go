package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Offset translation. A consumer group that read a topic on the source
// cluster can move to the copy on the destination cluster without loss: its
// committed source offset S becomes the offset of the first destination
// record copied from a source offset >= S. The mapping is written into the
// copies themselves (the OffsetHeader header), so it is exactly as durable
// as the data, needs no side topic and survives task restarts (a record
// copied twice after a crash simply appears twice in the mapping).

// OffsetHeader is the header each copied record carries: its offset in the
// source partition, as decimal text.
const OffsetHeader = "__sluice.replicator.offset"

// OffsetMapping pairs the offset of a destination record with the offset
// of the source record it was copied from.
type OffsetMapping struct {
	Dest, Source int64
}

// Translate returns where in the destination partition a consumer whose
// committed source offset is src resumes: the first destination record
// copied from a source offset >= src, or end (the destination's end offset)
// when no such record was copied yet. mapping is in destination order.
// Records copied twice after a restart may be read again, never skipped.
func Translate(mapping []OffsetMapping, src, end int64) int64 {
	for _, m := range mapping {
		if m.Source >= src {
			return m.Dest
		}
	}
	return end
}

// ReadMapping reads the OffsetHeader of every record of a destination
// partition and returns the mapping and the partition's end offset. Records
// without the header (not written by the replicator) are skipped. A
// partition that does not exist has an empty mapping and end 0.
func ReadMapping(ctx context.Context, seeds []string, topic string, partition int32) ([]OffsetMapping, int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, 0, fmt.Errorf("end offset of %s-%d: %w", topic, partition, err)
	}
	lo, ok := ends.Lookup(topic, partition)
	if !ok || errors.Is(lo.Err, kerr.UnknownTopicOrPartition) {
		return nil, 0, nil
	}
	if lo.Err != nil {
		return nil, 0, fmt.Errorf("end offset of %s-%d: %w", topic, partition, lo.Err)
	}
	end := lo.Offset
	var out []OffsetMapping
	for next := int64(0); next < end; {
		// The last offsets may be transaction markers, which no fetch
		// returns: a fetch that brings nothing for a while ends the read.
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fetches := cl.PollFetches(fctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("read %s-%d: %w", topic, partition, err)
		}
		if fetches.NumRecords() == 0 && fctx.Err() != nil {
			break
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				return nil, 0, fmt.Errorf("read %s-%d: %w", topic, partition, fe.Err)
			}
		}
		fetches.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			for _, h := range r.Headers {
				if h.Key == OffsetHeader {
					if n, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil {
						out = append(out, OffsetMapping{Dest: r.Offset, Source: n})
					}
				}
			}
		})
	}
	return out, end, nil
}

// TranslateGroup translates the offsets group committed on the source
// cluster (srcSeeds) into offsets of the topics copied under renameFormat
// on the destination cluster (destSeeds), ready to be committed there with
// kadm's CommitOffsets. Partitions never copied translate to offset 0.
func TranslateGroup(ctx context.Context, srcSeeds, destSeeds []string, group, renameFormat string) (kadm.Offsets, error) {
	src, err := kgo.NewClient(kgo.SeedBrokers(srcSeeds...))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	committed, err := kadm.NewClient(src).FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, err)
	}
	out := kadm.Offsets{}
	var errs []error
	committed.Each(func(o kadm.OffsetResponse) {
		if o.At < 0 {
			return
		}
		dest := DestTopic(renameFormat, o.Topic)
		mapping, end, err := ReadMapping(ctx, destSeeds, dest, o.Partition)
		if err != nil {
			errs = append(errs, err)
			return
		}
		out.AddOffset(dest, o.Partition, Translate(mapping, o.At, end), -1)
	})
	return out, errors.Join(errs...)
}

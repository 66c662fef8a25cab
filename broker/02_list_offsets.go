package broker

// ListOffsets (key 2), v1-v8. Timestamp -1 = latest (the high watermark;
// the last stable offset for read_committed, v2+),
// -2 = earliest (log start), -3 = the record with the largest timestamp
// (v7+), -4 = earliest local (v8+, the log start here: no tiered storage),
// any other value = the first offset whose record timestamp is >= it, or
// the high watermark with timestamp -1 when none is.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(2, 1, 8, handleListOffsets) }

func handleListOffsets(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewListOffsetsResponseTopic()
		ot.Topic = rt.Topic
		t := s.topics.get(rt.Topic)
		for _, rp := range rt.Partitions {
			op := kmsg.NewListOffsetsResponseTopicPartition()
			op.Partition, op.Timestamp, op.Offset, op.LeaderEpoch = rp.Partition, -1, -1, 0
			l := t.Partition(rp.Partition)
			if l == nil {
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
			switch ts := rp.Timestamp; {
			case ts == -1 && req.IsolationLevel == 1:
				op.Offset = l.LastStableOffset()
			case ts == -1:
				op.Offset = l.HighWatermark()
			case ts == -2 || ts == -4:
				op.Offset = l.LogStartOffset()
			case ts == -3:
				op.Offset, op.Timestamp = l.MaxTimestamp()
				if op.Offset < 0 {
					op.Offset = l.HighWatermark()
				}
			case ts < 0:
				op.ErrorCode = kerr.InvalidRequest.Code
			default:
				off, rts, found, err := l.OffsetForTimestamp(ts)
				switch {
				case err != nil:
					op.ErrorCode = storageErrorCode(err)
				case found:
					op.Offset, op.Timestamp = off, rts
				default:
					op.Offset = l.HighWatermark()
				}
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return ready(resp)
}

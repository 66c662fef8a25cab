package broker

// DeleteRecords (key 21), v0-v2: moves a partition's log start offset
// forward (offset -1 = the high watermark); whole segments below it are
// deleted.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(21, 0, 2, handleDeleteRecords) }

func handleDeleteRecords(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewDeleteRecordsResponseTopic()
		ot.Topic = rt.Topic
		t := s.topics.get(rt.Topic)
		for _, rp := range rt.Partitions {
			op := kmsg.NewDeleteRecordsResponseTopicPartition()
			op.Partition, op.LowWatermark = rp.Partition, -1
			if l := t.Partition(rp.Partition); l == nil {
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else if lw, err := l.DeleteRecords(rp.Offset); err != nil {
				op.ErrorCode = storageErrorCode(err)
			} else {
				op.LowWatermark = lw
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return ready(resp)
}

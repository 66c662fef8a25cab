package broker

// AddPartitionsToTxn (key 24), v0-v3: a transactional producer names the
// partitions it is about to write. v4+ (KIP-890 verification between
// brokers) is not served.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/txn"
)

func init() { register(24, 0, 3, handleAddPartitionsToTxn) }

func handleAddPartitionsToTxn(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	var parts []txn.TopicPartition
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			parts = append(parts, txn.TopicPartition{Topic: t.Topic, Partition: p})
		}
	}
	return func() kmsg.Response {
		perPartition, err := s.txns.AddPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, parts)
		for _, t := range req.Topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition = p
				if e := perPartition[txn.TopicPartition{Topic: t.Topic, Partition: p}]; e != nil {
					rp.ErrorCode = errorCode(e)
				} else {
					rp.ErrorCode = errorCode(err)
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
}

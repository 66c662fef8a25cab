package broker

// TxnOffsetCommit (key 28), v0-v5: offsets committed inside a transaction.
// They are written to the group's __consumer_offsets partition as the
// producer's transactional records and stay pending (invisible to
// OffsetFetch, UNSTABLE_OFFSET_COMMIT with RequireStable) until the
// transaction's marker commits or drops them. v3 (KIP-447) fences zombie
// consumers by generation. v5 (KIP-890 part 2) adds the group to the
// transaction itself, replacing AddOffsetsToTxn; v4 only renames an error.

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(28, 0, 5, handleTxnOffsetCommit) }

func handleTxnOffsetCommit(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.TxnOffsetCommitRequest)
	var err error
	if rc.version >= 5 {
		err = s.txns.AddOffsets(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group)
	}
	if err == nil {
		err = s.txns.InGroupTxn(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group)
	}
	if err != nil {
		resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		for _, rt := range req.Topics {
			t := kmsg.NewTxnOffsetCommitResponseTopic()
			t.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				p := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				p.Partition, p.ErrorCode = rp.Partition, errorCode(err)
				t.Partitions = append(t.Partitions, p)
			}
			resp.Topics = append(resp.Topics, t)
		}
		return ready(resp)
	}
	return s.groups.TxnOffsetCommit(rc.conn.ctx, req)
}

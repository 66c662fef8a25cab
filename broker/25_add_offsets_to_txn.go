package broker

// AddOffsetsToTxn (key 25), v0-v3: a transactional producer announces that
// it will commit a consumer group's offsets in its transaction. The group's
// __consumer_offsets partition joins the transaction, so that its marker
// commits or drops those offsets.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(25, 0, 3, handleAddOffsetsToTxn) }

func handleAddOffsetsToTxn(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	return func() kmsg.Response {
		resp.ErrorCode = errorCode(s.txns.AddOffsets(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group))
		return resp
	}
}

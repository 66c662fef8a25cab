package broker

// EndTxn (key 26), v0-v5: commit or abort. The decision is made durable in
// __transaction_state, for a commit together with the transaction's data
// (in one sync, which joins the data's sync that the Produce started:
// transactional Produce answers before the sync ends), and the markers are appended to every partition of the
// transaction before the answer; their sync, and the record of the
// outcome, follow in the background (broker/txn, settle). v5 (KIP-890 part
// 2) bumps the producer epoch on every end, also of an empty transaction,
// and answers the producer id and epoch of the next transaction; with
// Produce v12 adding partitions implicitly, the client's next transaction
// starts without a round trip. v4 only renames an error code.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(26, 0, 5, handleEndTxn) }

func handleEndTxn(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	return func() kmsg.Response {
		pid, epoch, err := s.txns.End(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit, rc.version >= 5)
		resp.ErrorCode = errorCode(err)
		if rc.version >= 5 && err == nil {
			resp.ProducerID, resp.ProducerEpoch = pid, epoch
		}
		return resp
	}
}

package broker

// EndTxn (key 26), v0-v3: commit or abort. The decision is made durable in
// __transaction_state, markers are written to every partition of the
// transaction and synced, then the transaction is complete; the answer
// comes after all of that. v5 (KIP-890 epoch bump per transaction) is not
// served, which keeps franz-go on the classic transaction path.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(26, 0, 3, handleEndTxn) }

func handleEndTxn(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	return func() kmsg.Response {
		resp.ErrorCode = errorCode(s.txns.End(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit))
		return resp
	}
}

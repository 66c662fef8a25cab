package broker

// DescribeTransactions (key 65), v0: state, producer id and epoch, timeout,
// start time and partitions of named transactional ids.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(65, 0, 0, handleDescribeTransactions) }

func handleDescribeTransactions(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.DescribeTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for i, t := range s.txns.Describe(req.TransactionalIDs) {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID = req.TransactionalIDs[i]
		if t == nil {
			st.ErrorCode = kerr.TransactionalIDNotFound.Code
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st.State, st.TimeoutMillis = t.State.String(), int32(t.Timeout.Milliseconds())
		st.StartTimestamp, st.ProducerID, st.ProducerEpoch = -1, t.ProducerID, t.Epoch
		if !t.Start.IsZero() && t.Start.UnixMilli() > 0 {
			st.StartTimestamp = t.Start.UnixMilli()
		}
		for _, tp := range t.SortedPartitions() {
			if n := len(st.Topics); n == 0 || st.Topics[n-1].Topic != tp.Topic {
				st.Topics = append(st.Topics, kmsg.DescribeTransactionsResponseTransactionStateTopic{Topic: tp.Topic})
			}
			st.Topics[len(st.Topics)-1].Partitions = append(st.Topics[len(st.Topics)-1].Partitions, tp.Partition)
		}
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return ready(resp)
}

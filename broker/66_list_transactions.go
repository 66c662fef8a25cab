package broker

// ListTransactions (key 66), v0-v1: transactional ids with their producer
// id and state, filtered by state, producer id and (v1) minimum duration.

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/txn"
)

func init() { register(66, 0, 1, handleListTransactions) }

func handleListTransactions(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	now := time.Now()
	for _, t := range s.txns.List() {
		if len(req.StateFilters) > 0 && !slices.Contains(req.StateFilters, t.State.String()) {
			continue
		}
		if len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, t.ProducerID) {
			continue
		}
		if req.DurationFilterMillis > 0 && (t.State != txn.Ongoing || now.Sub(t.Start).Milliseconds() < req.DurationFilterMillis) {
			continue
		}
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = t.ID, t.ProducerID, t.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return ready(resp)
}

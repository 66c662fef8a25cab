package broker

// InitProducerId (key 22), v0-v4. Idempotent producers get a fresh
// producer id (never reused across restarts) with epoch 0. Transactional
// producers get their id's producer id with a bumped epoch, which fences
// the previous incarnation and ends the transaction it left open (the
// coordinator in broker/txn).

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(22, 0, 4, handleInitProducerID) }

func handleInitProducerID(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		return func() kmsg.Response { // may write markers and wait for them
			pid, epoch, err := s.txns.InitProducerID(*req.TransactionalID, time.Duration(req.TransactionTimeoutMillis)*time.Millisecond, req.ProducerID, req.ProducerEpoch)
			resp.ErrorCode = errorCode(err)
			if err == nil {
				resp.ProducerID, resp.ProducerEpoch = pid, epoch
			}
			return resp
		}
	}
	id, err := s.pids.Next()
	if err != nil {
		s.logger.Error("allocating producer id", "err", err)
		resp.ErrorCode = kerr.KafkaStorageError.Code
		return ready(resp)
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return ready(resp)
}

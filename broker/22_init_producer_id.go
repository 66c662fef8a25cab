package broker

// InitProducerId (key 22), v0-v4, for idempotent producers: every call
// returns a fresh producer id (never reused across restarts) with epoch 0.
// Transactional ids are the transactions issue's job; until then they are
// refused with a clear message.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(22, 0, 4, handleInitProducerID) }

func handleInitProducerID(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return ready(resp)
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

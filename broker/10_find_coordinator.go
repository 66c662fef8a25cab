package broker

// FindCoordinator (key 10), v0-v5: this single node coordinates every group
// and transactional id (key types 0 and 1); v4+ batches several keys. It is
// served ahead of the group and transaction APIs because librdkafka only
// enables lz4 compression against brokers that list it. Share groups (key
// type 2) are refused.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(10, 0, 5, handleFindCoordinator) }

func handleFindCoordinator(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	var code int16
	var msg *string
	if req.CoordinatorType != 0 && req.CoordinatorType != 1 {
		code, msg = kerr.InvalidRequest.Code, strp(fmt.Sprintf("coordinator type %d is not supported", req.CoordinatorType))
	}
	if rc.version < 4 {
		resp.ErrorCode, resp.ErrorMessage = code, msg
		if code == 0 {
			resp.NodeID, resp.Host, resp.Port = s.cfg.NodeID, s.advHost, s.advPort
		}
		return ready(resp)
	}
	for _, key := range req.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.ErrorCode, c.ErrorMessage = key, code, msg
		if code == 0 {
			c.NodeID, c.Host, c.Port = s.cfg.NodeID, s.advHost, s.advPort
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return ready(resp)
}

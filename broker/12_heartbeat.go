package broker

// Heartbeat (key 12), v0-v4: keeps a member's session alive; answers
// REBALANCE_IN_PROGRESS while the group waits for members to rejoin.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(12, 0, 4, handleHeartbeat) }

func handleHeartbeat(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.Heartbeat(rc.conn.ctx, kreq.(*kmsg.HeartbeatRequest))
}

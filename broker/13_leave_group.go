package broker

// LeaveGroup (key 13), v0-v5: members leave (v3+: several at once, by
// member or group.instance.id) and the rest rebalance.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(13, 0, 5, handleLeaveGroup) }

func handleLeaveGroup(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.LeaveGroup(rc.conn.ctx, kreq.(*kmsg.LeaveGroupRequest))
}

package broker

// JoinGroup (key 11), v0-v9: joins a classic consumer group; the answer
// waits until the group's join phase ends (all known members rejoined, or
// the rebalance timeout; a new group first waits
// GroupInitialRebalanceDelay for more members). v4+ first joins get
// MEMBER_ID_REQUIRED with an id to come back with; v5+ carries
// group.instance.id (static membership). The logic is in broker/group.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(11, 0, 9, handleJoinGroup) }

func handleJoinGroup(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.JoinGroup(rc.conn.ctx, kreq.(*kmsg.JoinGroupRequest), rc.client())
}

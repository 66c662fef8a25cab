package broker

// OffsetDelete (key 47), v0: deletes a group's committed offsets for
// partitions of topics its members do not subscribe to
// (GROUP_SUBSCRIBED_TO_TOPIC otherwise).

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(47, 0, 0, handleOffsetDelete) }

func handleOffsetDelete(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.OffsetDelete(rc.conn.ctx, kreq.(*kmsg.OffsetDeleteRequest))
}

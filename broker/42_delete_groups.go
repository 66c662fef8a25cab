package broker

// DeleteGroups (key 42), v0-v2: deletes groups without members and their
// committed offsets (tombstones in __consumer_offsets); NON_EMPTY_GROUP for
// groups with members.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(42, 0, 2, handleDeleteGroups) }

func handleDeleteGroups(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.DeleteGroups(rc.conn.ctx, kreq.(*kmsg.DeleteGroupsRequest))
}

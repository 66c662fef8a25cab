package broker

// ListGroups (key 16), v0-v5: every group, with state (v4+ filter) and
// type (v5+ filter; all groups are "classic").

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(16, 0, 5, handleListGroups) }

func handleListGroups(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.ListGroups(rc.conn.ctx, kreq.(*kmsg.ListGroupsRequest))
}

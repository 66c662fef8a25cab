package broker

// SyncGroup (key 14), v0-v5: members wait here for the assignment the
// leader sends; v5 checks the protocol type and name.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(14, 0, 5, handleSyncGroup) }

func handleSyncGroup(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.SyncGroup(rc.conn.ctx, kreq.(*kmsg.SyncGroupRequest))
}

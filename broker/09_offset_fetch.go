package broker

// OffsetFetch (key 9), v1-v9: committed offsets (-1 where none); a null
// topic list (v2+) returns all of a group's; v8+ asks for several groups.
// RequireStable (v7+) has nothing to wait for without transactions.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(9, 1, 9, handleOffsetFetch) }

func handleOffsetFetch(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.OffsetFetch(rc.conn.ctx, kreq.(*kmsg.OffsetFetchRequest))
}

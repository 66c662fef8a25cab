package broker

// OffsetCommit (key 8), v2-v9 (v0-v1 were removed in Kafka 4; v10 addresses
// topics by id). Commits from the group's current generation, or "simple"
// commits (generation -1, no member id) for groups without members. The
// answer waits until the __consumer_offsets record is fsynced.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(8, 2, 9, handleOffsetCommit) }

func handleOffsetCommit(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.OffsetCommit(rc.conn.ctx, kreq.(*kmsg.OffsetCommitRequest))
}

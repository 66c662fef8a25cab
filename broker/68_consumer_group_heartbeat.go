package broker

// ConsumerGroupHeartbeat (key 68), v0-v1: KIP-848 consumer groups, where
// the coordinator assigns partitions (uniform or range) and members join,
// reconcile and leave through this one request (broker/group,
// consumer.go). v1 has the client choose its member id and may subscribe
// by regular expression (RE2 syntax, matched against the whole name).
// Clients opt in (franz-go: kgo.ServerSideBalancer; Java:
// group.protocol=consumer); the classic protocol stays the default.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(68, 0, 1, handleConsumerGroupHeartbeat) }

func handleConsumerGroupHeartbeat(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.ConsumerGroupHeartbeat(rc.conn.ctx, kreq.(*kmsg.ConsumerGroupHeartbeatRequest), rc.client())
}

package broker

// ConsumerGroupDescribe (key 69), v0-v1: the state of KIP-848 groups, with
// each member's epoch, subscription, assignment and target assignment.
// A classic group is GROUP_ID_NOT_FOUND here, as in Kafka.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(69, 0, 1, handleConsumerGroupDescribe) }

func handleConsumerGroupDescribe(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.ConsumerGroupDescribe(rc.conn.ctx, kreq.(*kmsg.ConsumerGroupDescribeRequest))
}

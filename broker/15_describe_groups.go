package broker

// DescribeGroups (key 15), v0-v5: state, protocol and members (with
// metadata and assignment when Stable); unknown groups are "Dead".

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(15, 0, 5, handleDescribeGroups) }

func handleDescribeGroups(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	return s.groups.DescribeGroups(rc.conn.ctx, kreq.(*kmsg.DescribeGroupsRequest))
}

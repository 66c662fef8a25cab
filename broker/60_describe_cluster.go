package broker

// DescribeCluster (key 60), v0-v1: this node as the only broker and the
// controller.

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(60, 0, 1, handleDescribeCluster) }

func handleDescribeCluster(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.ClusterID, resp.ControllerID, resp.EndpointType = s.clusterID, s.cfg.NodeID, 1
	b := kmsg.NewDescribeClusterResponseBroker()
	b.NodeID, b.Host, b.Port = s.cfg.NodeID, s.advHost, s.advPort
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{b}
	resp.ClusterAuthorizedOperations = -2147483648
	return ready(resp)
}

package broker

// CreateTopics (key 19), v2-v7. Partitions and replication factor -1 mean
// the broker defaults (v4+). A single node accepts replication factor 1
// only and replica assignments that name itself. ValidateOnly checks
// everything and creates nothing. v5+ answers with the topic's partitions,
// replication factor and configs; v7 with its id.

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(19, 2, 7, handleCreateTopics) }

func handleCreateTopics(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		ot := kmsg.NewCreateTopicsResponseTopic()
		ot.Topic = rt.Topic
		ot.NumPartitions, ot.ReplicationFactor = -1, -1
		fail := func(code int16, msg string) {
			ot.ErrorCode, ot.ErrorMessage = code, &msg
			resp.Topics = append(resp.Topics, ot)
		}
		if seen[rt.Topic] > 1 {
			fail(kerr.InvalidRequest.Code, fmt.Sprintf("topic %s is named more than once in the request", rt.Topic))
			continue
		}
		n := rt.NumPartitions
		if len(rt.ReplicaAssignment) > 0 {
			if n != -1 || rt.ReplicationFactor != -1 {
				fail(kerr.InvalidRequest.Code, "both a replica assignment and partitions/replication factor were given")
				continue
			}
			n = int32(len(rt.ReplicaAssignment))
			ok := true
			for i, a := range rt.ReplicaAssignment {
				if a.Partition != int32(i) || len(a.Replicas) != 1 || a.Replicas[0] != s.cfg.NodeID {
					ok = false
				}
			}
			if !ok {
				fail(kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("this single-node broker can only place partitions 0..n-1 on node %d", s.cfg.NodeID))
				continue
			}
		} else if rt.ReplicationFactor != -1 && rt.ReplicationFactor != 1 {
			fail(kerr.InvalidReplicationFactor.Code, fmt.Sprintf("replication factor %d is larger than the 1 available broker", rt.ReplicationFactor))
			continue
		}
		if n == -1 {
			n = s.cfg.DefaultPartitions
		}
		configs := map[string]string{}
		for _, c := range rt.Configs {
			if c.Value == nil {
				continue
			}
			configs[c.Name] = *c.Value
		}
		if isInternalTopic(rt.Topic) {
			fail(kerr.InvalidTopicException.Code, fmt.Sprintf("topic %s is reserved for the broker", rt.Topic))
			continue
		}
		t, err := s.topics.create(rt.Topic, n, configs, req.ValidateOnly)
		if err != nil {
			code := kerr.UnknownServerError.Code // an I/O failure, not the caller's fault
			switch {
			case errors.Is(err, errInvalidTopicName):
				code = kerr.InvalidTopicException.Code
			case errors.Is(err, errTopicExists):
				code = kerr.TopicAlreadyExists.Code
			case errors.Is(err, errInvalidPartitions):
				code = kerr.InvalidPartitions.Code
			case errors.Is(err, errInvalidConfig):
				code = kerr.InvalidConfig.Code
			}
			fail(code, err.Error())
			continue
		}
		ot.TopicID = t.ID
		ot.NumPartitions, ot.ReplicationFactor = int32(len(t.partitions)), 1
		for _, e := range s.describeTopicConfigs(t, configs, nil, false, false) {
			c := kmsg.NewCreateTopicsResponseTopicConfig()
			c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = e.Name, e.Value, e.ReadOnly, int8(e.Source), e.IsSensitive
			ot.Configs = append(ot.Configs, c)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return ready(resp)
}

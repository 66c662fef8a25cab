package broker

// CreatePartitions (key 37), v0-v3: grows a topic to Count partitions.
// Shrinking is INVALID_PARTITIONS, as in Kafka; assignments may only name
// this node. Internal topics keep their partition count (INVALID_REQUEST).

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(37, 0, 3, handleCreatePartitions) }

func handleCreatePartitions(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewCreatePartitionsResponseTopic()
		ot.Topic = rt.Topic
		for _, a := range rt.Assignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != s.cfg.NodeID {
				ot.ErrorCode, ot.ErrorMessage = kerr.InvalidReplicaAssignment.Code, strp("this single-node broker can only place partitions on itself")
			}
		}
		if t := s.topics.get(rt.Topic); ot.ErrorCode == 0 && t != nil && t.Internal {
			// Groups and transactions are placed by hashing over the
			// partition count; changing it would lose them.
			ot.ErrorCode, ot.ErrorMessage = kerr.InvalidRequest.Code, strp("the partition count of internal topic "+rt.Topic+" is fixed")
		}
		if ot.ErrorCode == 0 {
			err := s.topics.addPartitions(rt.Topic, rt.Count, req.ValidateOnly)
			switch {
			case err == nil:
			case errors.Is(err, errUnknownTopic):
				ot.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case errors.Is(err, errInvalidPartitions):
				ot.ErrorCode, ot.ErrorMessage = kerr.InvalidPartitions.Code, errMessage(err)
			default:
				ot.ErrorCode, ot.ErrorMessage = kerr.KafkaStorageError.Code, errMessage(err)
			}
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return ready(resp)
}

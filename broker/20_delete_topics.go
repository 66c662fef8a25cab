package broker

// DeleteTopics (key 20), v1-v6. Topics are named (all versions) or, from
// v6, given by id. Deletion removes the metadata first, then the logs, so a
// crash half-way leaves no visible topic. Internal topics cannot be deleted.
// Groups' committed offsets of a deleted topic are deleted with it.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(20, 1, 6, handleDeleteTopics) }

func handleDeleteTopics(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name *string
		id   [16]byte
	}
	var targets []target
	if rc.version >= 6 {
		for _, t := range req.Topics {
			targets = append(targets, target{t.Topic, t.TopicID})
		}
	} else {
		for _, n := range req.TopicNames {
			n := n
			targets = append(targets, target{name: &n})
		}
	}
	for _, tg := range targets {
		ot := kmsg.NewDeleteTopicsResponseTopic()
		ot.Topic, ot.TopicID = tg.name, tg.id
		var t *Topic
		if tg.name != nil {
			t = s.topics.get(*tg.name)
		} else {
			t = s.topics.getByID(tg.id)
		}
		switch {
		case t == nil && tg.name == nil:
			ot.ErrorCode = kerr.UnknownTopicID.Code
		case t == nil:
			ot.ErrorCode = kerr.UnknownTopicOrPartition.Code
		case t.Internal:
			ot.ErrorCode = kerr.InvalidTopicException.Code
			ot.ErrorMessage = strp("internal topics cannot be deleted")
		default:
			name := t.Name
			ot.Topic, ot.TopicID = &name, t.ID
			if _, err := s.topics.remove(t.Name); err != nil {
				ot.ErrorCode = kerr.UnknownTopicOrPartition.Code
				ot.ErrorMessage = errMessage(err)
			} else {
				s.metrics.forgetTopic(t.Name)
				// Committed offsets go with the topic, so a topic created
				// again under this name starts clean for every group.
				if err := s.groups.DeleteTopicOffsets(t.Name); err != nil {
					s.logger.Warn("deleting committed offsets of a deleted topic", "topic", t.Name, "err", err)
				}
			}
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return ready(resp)
}

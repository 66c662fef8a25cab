package broker

// Metadata (key 3), v0-v12. A null topic list (v1+) or an empty one (v0)
// means every topic. Unknown topics are created when the request allows it
// (v4+ AllowAutoTopicCreation, always before v4) and the broker has
// AutoCreateTopics on, with DefaultPartitions partitions. This single node
// is every partition's leader, the only replica and the controller. v10+
// carries stable topic ids. v13 is left out: it only adds a top-level error.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(3, 0, 12, handleMetadata) }

func handleMetadata(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = s.cfg.NodeID, s.advHost, s.advPort
	resp.Brokers = []kmsg.MetadataResponseBroker{b}
	cid := s.clusterID
	resp.ClusterID = &cid
	resp.ControllerID = s.cfg.NodeID

	all := req.Topics == nil || (rc.version == 0 && len(req.Topics) == 0)
	if all {
		for _, t := range s.topics.all() {
			resp.Topics = append(resp.Topics, s.metadataTopic(t))
		}
		return ready(resp)
	}
	autoCreate := s.cfg.AutoCreateTopics && (rc.version < 4 || req.AllowAutoTopicCreation)
	for _, rt := range req.Topics {
		var t *Topic
		if rt.Topic != nil {
			t = s.topics.get(*rt.Topic)
		} else if rt.TopicID != [16]byte{} {
			t = s.topics.getByID(rt.TopicID)
		}
		if t == nil && rt.Topic != nil && autoCreate {
			name := *rt.Topic
			if err := validateTopicName(name); err != nil {
				mt := kmsg.NewMetadataResponseTopic()
				mt.Topic, mt.ErrorCode = rt.Topic, kerr.InvalidTopicException.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			var err error
			if t, err = s.topics.create(name, s.cfg.DefaultPartitions, nil, false); err != nil {
				t = s.topics.get(name) // created concurrently by another request
			}
		}
		if t == nil {
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic, mt.TopicID, mt.ErrorCode = rt.Topic, rt.TopicID, kerr.UnknownTopicOrPartition.Code
			if rt.Topic == nil {
				mt.ErrorCode = kerr.UnknownTopicID.Code
			}
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		resp.Topics = append(resp.Topics, s.metadataTopic(t))
	}
	return ready(resp)
}

func (s *Server) metadataTopic(t *Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.Name
	mt.Topic, mt.TopicID, mt.IsInternal = &name, t.ID, t.Internal
	for p := range t.partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition, mp.Leader, mp.LeaderEpoch = int32(p), s.cfg.NodeID, 0
		mp.Replicas, mp.ISR = []int32{s.cfg.NodeID}, []int32{s.cfg.NodeID}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

package broker

// Wiring of the group coordinator (broker/group) into the broker: the
// __consumer_offsets topic it writes to, created through the topic registry
// on the first write (so that it appears, internal, once groups are used),
// and the topic lookups it validates commits with.

import (
	"net"
	"strconv"
	"time"

	"github.com/sluicedata/sluice/broker/group"
	"github.com/sluicedata/sluice/broker/storage"
)

func (s *Server) newGroupCoordinator() (*group.Coordinator, error) {
	c := group.New(group.Config{
		Logs: func(create bool) ([]*storage.Log, error) {
			t := s.topics.get(group.OffsetsTopic)
			if t == nil && create {
				var err error
				t, err = s.topics.create(group.OffsetsTopic, group.OffsetsPartitions, map[string]string{
					"cleanup.policy": "compact",
					"segment.bytes":  strconv.Itoa(100 << 20), // offsets.topic.segment.bytes
				}, false)
				if err != nil {
					if t = s.topics.get(group.OffsetsTopic); t == nil {
						return nil, err
					}
				}
			}
			if t == nil {
				return nil, nil
			}
			return t.Partitions(), nil
		},
		Partitions: func(topic string) int32 {
			t := s.topics.get(topic)
			if t == nil {
				return -1
			}
			return int32(len(t.Partitions()))
		},
		TopicID: func(topic string) ([16]byte, bool) {
			t := s.topics.get(topic)
			if t == nil {
				return [16]byte{}, false
			}
			return t.ID, true
		},
		TopicName: func(id [16]byte) (string, bool) {
			t := s.topics.getByID(id)
			if t == nil {
				return "", false
			}
			return t.Name, true
		},
		Topics: func() []string {
			var out []string
			for _, t := range s.topics.all() {
				if !t.Internal {
					out = append(out, t.Name)
				}
			}
			return out
		},
		ConsumerSessionTimeout:    s.cfg.ConsumerSessionTimeout,
		ConsumerHeartbeatInterval: s.cfg.ConsumerHeartbeatInterval,
		InitialRebalanceDelay:     s.cfg.GroupInitialRebalanceDelay,
		OffsetsRetention:          s.cfg.OffsetsRetention,
		MinSessionTimeout:         s.cfg.GroupMinSessionTimeout,
		Logger:                    s.logger,
	})
	start := time.Now()
	if err := c.Load(); err != nil {
		return nil, err
	}
	if d := time.Since(start); d > time.Second {
		s.logger.Info("replayed __consumer_offsets", "took", d)
	}
	c.Start()
	return c, nil
}

// client describes the request's connection for group membership.
func (rc *reqCtx) client() group.Client {
	if rc.conn.nc == nil { // fuzz tests dispatch without a socket
		return group.Client{ID: rc.clientID}
	}
	host := rc.conn.nc.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return group.Client{ID: rc.clientID, Host: "/" + host} // Kafka's form
}

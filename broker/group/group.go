package group

// A group's state and members. The classic protocol's states:
//
//	Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance ──leader's sync──▶ Stable
//	  ▲                  ▲   │ (no member left)                      │                                  │
//	  └──────────────────┼───┘                                       │                                  │
//	                     └──── a member joins, leaves, changes or times out ◀────────────────────────────┘
//
// Invariants (all state is owned by the coordinator loop):
//   - generation grows by one each time a join phase completes.
//   - In PreparingRebalance, a member with joinReply != nil has rejoined for
//     the coming generation; the phase completes when every member has
//     (and no initial delay is running) or when the rebalance timeout ends,
//     and then members that did not rejoin are removed.
//   - In CompletingRebalance, members waiting in SyncGroup have syncReply
//     set; the leader's SyncGroup carries everyone's assignment and makes
//     the group Stable.
//   - staticMembers maps each group.instance.id to the one member id that
//     may use it; every static member is in members under that id.

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type state int8

const (
	stateEmpty state = iota
	statePreparing
	stateCompleting
	stateStable
	stateDead
)

func (s state) String() string {
	return [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}[s]
}

// offset is one committed offset.
type offset struct {
	Offset      int64
	LeaderEpoch int32
	Metadata    string
	CommitTime  int64 // unix ms
}

type topicPartition struct {
	Topic     string
	Partition int32
}

type group struct {
	name         string
	state        state
	generation   int32
	protocolType string
	protocol     string
	leader       string
	stateSince   time.Time // when the group entered its state (Empty matters for retention)

	members       map[string]*member
	order         []string           // member ids in join order (leader choice, describe)
	pending       map[string]*member // v4+ members told MEMBER_ID_REQUIRED, not joined yet
	staticMembers map[string]string  // group.instance.id -> member id

	offsets map[topicPartition]offset
	// txnOffsets are offsets committed inside open transactions, by
	// producer id, until their marker (txn_offsets.go).
	txnOffsets map[int64]map[topicPartition]offset

	// consumer is the state of a KIP-848 consumer group (consumer.go);
	// nil for classic groups.
	consumer *consumerGroup

	rebalanceTimer *time.Timer
	delayUntil     time.Time // initial rebalance delay: don't complete before
	syncTimer      *time.Timer
}

type member struct {
	id         string
	instanceID *string
	clientID   string
	host       string
	session    time.Duration
	rebalance  time.Duration
	protoType  string
	protocols  []kmsg.JoinGroupRequestProtocol
	assignment []byte

	joinReply   chan<- kmsg.Response
	joinVersion int16
	syncReply   chan<- kmsg.Response
	syncVersion int16

	deadline time.Time // session expiry; renewed by every request of the member
	timer    *time.Timer
}

func newGroup(name string, now time.Time) *group {
	return &group{name: name, members: map[string]*member{}, pending: map[string]*member{},
		staticMembers: map[string]string{}, offsets: map[topicPartition]offset{}, stateSince: now}
}

func (g *group) setState(s state, now time.Time) {
	if g.state != s {
		g.state, g.stateSince = s, now
	}
}

// supports reports whether the member lists protocol name.
func (m *member) supports(name string) bool {
	for _, p := range m.protocols {
		if p.Name == name {
			return true
		}
	}
	return false
}

func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}

func sameProtocols(a, b []kmsg.JoinGroupRequestProtocol) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Metadata, b[i].Metadata) {
			return false
		}
	}
	return true
}

// compatible reports whether a joiner with these protocols can join: the
// protocol type matches and it shares a protocol with every other member.
func (g *group) compatible(skip string, protoType string, protos []kmsg.JoinGroupRequestProtocol) bool {
	if protoType == "" || len(protos) == 0 {
		return false
	}
	for id, m := range g.members {
		if id != skip && m.protoType != protoType {
			return false
		}
	}
	for _, p := range protos {
		all := true
		for id, m := range g.members {
			if id != skip && !m.supports(p.Name) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol every member supports that most
// members list first among those (Kafka's vote); ties go to the name
// sorting first, so the choice is deterministic.
func (g *group) selectProtocol() string {
	votes := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			if g.allSupport(p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best, n := "", -1
	for name, v := range votes {
		if v > n || v == n && name < best {
			best, n = name, v
		}
	}
	return best
}

func (g *group) allSupport(name string) bool {
	for _, m := range g.members {
		if !m.supports(name) {
			return false
		}
	}
	return true
}

// subscribedTopics returns the topics the members of a consumer group
// subscribe to, from their protocol metadata.
func (g *group) subscribedTopics() map[string]bool {
	out := map[string]bool{}
	if g.protocolType != "consumer" {
		return out
	}
	if g.consumer != nil { // KIP-848: the topics of the target assignment
		for _, set := range g.consumer.target {
			for tp := range set {
				out[tp.Topic] = true
			}
		}
		return out
	}
	for _, m := range g.members {
		var md kmsg.ConsumerMemberMetadata
		if err := md.ReadFrom(m.metadataFor(g.protocol)); err != nil {
			continue
		}
		for _, t := range md.Topics {
			out[t] = true
		}
	}
	return out
}

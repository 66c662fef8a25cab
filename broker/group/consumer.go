package group

// KIP-848 consumer groups (ConsumerGroupHeartbeat, ConsumerGroupDescribe):
// the coordinator assigns the partitions itself (assign.go) and hands each
// member its share through heartbeats.
//
// Epochs: the group epoch moves on whenever the members or what they
// subscribe to change; a new target assignment is then computed at that
// epoch. A member moves to the target epoch once it has given up every
// partition the target takes from it: until then it is told its current
// assignment minus those partitions and keeps its epoch. A partition is
// given to its new member only once its previous member has confirmed
// (by listing its owned partitions without it) or has left or been
// fenced, so no partition is ever owned by two members.
//
// Static members (group.instance.id) that leave with epoch -2 keep their
// target for the session timeout: a member rejoining with the same
// instance id takes it over without a new epoch. Members are not
// persisted (as for classic groups, docs/decisions/0006): after a restart
// they get UNKNOWN_MEMBER_ID and join again; the group epoch is kept in
// a ConsumerGroupMetadata record so that epochs keep growing.
//
// Everything here runs on the coordinator loop.

import (
	"context"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerGroup is the KIP-848 state of a group (group.consumer).
type consumerGroup struct {
	epoch       int32 // group epoch
	assignEpoch int32 // epoch of target
	assignor    string
	members     map[string]*cmember
	static      map[string]string // group.instance.id -> member id
	target      assignment
	owner       map[topicPartition]string // member holding a partition (assigned or revoking)
	metaHash    string                    // the subscribed topics' partition counts the target was made for
}

type cmember struct {
	id         string
	instanceID *string
	rackID     *string
	clientID   string
	host       string
	epoch      int32
	prevEpoch  int32
	topics     []string // subscribed topic names
	regex      *string
	re         *regexp.Regexp
	rebalance  time.Duration

	assigned map[topicPartition]struct{} // owned, as last told to the member
	revoking map[topicPartition]struct{} // to give up, not confirmed yet
	sent     string                      // the assignment last sent, to send only changes
	leftAt   time.Time                   // static member gone with epoch -2: kept until the session timeout
	timer    *time.Timer                 // session
	session  int                         // counts session timer arms
	revTimer *time.Timer                 // rebalance timeout while revoking
}

const (
	uniformAssignor = "uniform"
	rangeAssignor   = "range"
)

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{members: map[string]*cmember{}, static: map[string]string{}, target: assignment{},
		owner: map[topicPartition]string{}, assignor: uniformAssignor}
}

// ConsumerGroupHeartbeat serves KIP-848 members: joins (epoch 0), leaves
// (-1, -2 for static members), and the heartbeats in between.
func (c *Coordinator) ConsumerGroupHeartbeat(ctx context.Context, req *kmsg.ConsumerGroupHeartbeatRequest, cl Client) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) {
		answer(reply, c.consumerHeartbeat(req, cl))
	})
}

func (c *Coordinator) consumerHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest, cl Client) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	fail := func(err *kerr.Error, msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		resp.ErrorCode = err.Code
		if msg != "" {
			resp.ErrorMessage = &msg
		}
		return resp
	}
	now := c.cfg.Now()
	switch {
	case req.Group == "":
		return fail(kerr.InvalidRequest, "GroupId can't be empty")
	case req.MemberEpoch < -2:
		return fail(kerr.InvalidRequest, fmt.Sprintf("MemberEpoch %d is invalid", req.MemberEpoch))
	case req.MemberID == "" && (req.Version >= 1 || req.MemberEpoch != 0):
		return fail(kerr.InvalidRequest, "MemberId can't be empty")
	case req.MemberEpoch == -2 && req.InstanceID == nil:
		return fail(kerr.InvalidRequest, "InstanceId can't be null when leaving with epoch -2")
	}
	if req.ServerAssignor != nil && *req.ServerAssignor != uniformAssignor && *req.ServerAssignor != rangeAssignor {
		return fail(kerr.UnsupportedAssignor, fmt.Sprintf("assignor %q is not supported; use uniform or range", *req.ServerAssignor))
	}
	var re *regexp.Regexp
	if req.SubscribedTopicRegex != nil && *req.SubscribedTopicRegex != "" {
		var err error
		if re, err = regexp.Compile("^(?:" + *req.SubscribedTopicRegex + ")$"); err != nil {
			return fail(kerr.InvalidRegularExpression, fmt.Sprintf("SubscribedTopicRegex: %v", err))
		}
	}
	g := c.groups[req.Group]
	if g != nil && g.consumer == nil && len(g.members) > 0 {
		return fail(kerr.GroupIDNotFound, fmt.Sprintf("group %q is a classic group with members; it becomes a consumer group once it is empty", req.Group))
	}
	if req.MemberEpoch != 0 && (g == nil || g.consumer == nil) {
		return fail(kerr.UnknownMemberID, "")
	}
	if g == nil {
		g = newGroup(req.Group, now)
		c.groups[g.name] = g
	}
	if g.consumer == nil {
		g.consumer = newConsumerGroup()
		g.protocolType = "consumer"
	}
	cg := g.consumer
	resp.HeartbeatIntervalMillis = int32(c.cfg.ConsumerHeartbeatInterval.Milliseconds())

	if req.MemberEpoch < 0 { // leave
		m := cg.members[req.MemberID]
		if m == nil {
			return fail(kerr.UnknownMemberID, "")
		}
		if req.MemberEpoch == -2 {
			m.leftAt = now // keeps its partitions until its session ends or its instance rejoins
			c.armConsumerSession(g, m)
		} else {
			c.removeConsumerMember(g, m)
		}
		resp.MemberID, resp.MemberEpoch = &req.MemberID, req.MemberEpoch
		return resp
	}

	m := cg.members[req.MemberID]
	tookOver := false
	if req.MemberEpoch == 0 {
		if req.InstanceID != nil {
			if oldID, ok := cg.static[*req.InstanceID]; ok && oldID != req.MemberID {
				old := cg.members[oldID]
				if old != nil && old.leftAt.IsZero() {
					return fail(kerr.UnreleasedInstanceID, fmt.Sprintf("instance %q is still used by member %s", *req.InstanceID, oldID))
				}
				if old != nil { // take over its assignment, no new epoch
					m, tookOver = c.replaceStaticConsumer(g, old, req.MemberID), true
				}
			}
		}
		if m == nil {
			m = &cmember{id: req.MemberID, assigned: map[topicPartition]struct{}{}, revoking: map[topicPartition]struct{}{}}
			cg.members[m.id] = m
			if req.InstanceID != nil {
				cg.static[*req.InstanceID] = m.id
			}
			cg.epoch++
			g.setState(stateStable, now)
		} else if m.epoch != 0 && len(req.Topics) == 0 {
			// A rejoin of a known member (its join answer was lost):
			// it owns nothing now.
			c.releaseAll(cg, m)
		}
		m.sent = "" // a joining member gets its full assignment
	} else {
		if m == nil {
			return fail(kerr.UnknownMemberID, "")
		}
		if req.MemberEpoch != m.epoch && !(req.MemberEpoch == m.prevEpoch && ownedWithin(c, req.Topics, m)) {
			return fail(kerr.FencedMemberEpoch, fmt.Sprintf("member epoch %d, expected %d", req.MemberEpoch, m.epoch))
		}
	}
	m.leftAt = time.Time{}
	m.clientID, m.host = cl.ID, cl.Host
	if req.InstanceID != nil {
		m.instanceID = req.InstanceID
	}
	if req.RackID != nil {
		m.rackID = req.RackID
	}
	if req.RebalanceTimeoutMillis > 0 {
		m.rebalance = time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	}
	if req.ServerAssignor != nil && *req.ServerAssignor != cg.assignor && len(cg.members) == 1 {
		cg.assignor = *req.ServerAssignor // the first member's choice, as the classic protocol picks one
	}
	changed := false
	if req.SubscribedTopicNames != nil && !slices.Equal(sortedCopy(req.SubscribedTopicNames), m.topics) {
		m.topics, changed = sortedCopy(req.SubscribedTopicNames), true
	}
	if req.SubscribedTopicRegex != nil && (m.regex == nil || *m.regex != *req.SubscribedTopicRegex) {
		m.regex, m.re, changed = req.SubscribedTopicRegex, re, true
	}
	if changed && (req.MemberEpoch != 0 || tookOver) {
		cg.epoch++ // a new member's join already moved it
	}
	if req.Topics != nil {
		c.confirmOwned(g, m, req.Topics)
	}
	c.armConsumerSession(g, m)
	c.maybeNewTarget(g)
	c.reconcile(g, m)
	c.persistConsumerGroup(g)

	resp.MemberID, resp.MemberEpoch = &m.id, m.epoch
	// The assignment goes out when it changed, and in answer to every
	// full heartbeat (a joining member, or one listing what it owns), so
	// that a member whose view drifted is corrected.
	if a, key := c.assignmentOf(m.assigned); key != m.sent || req.MemberEpoch == 0 || req.Topics != nil {
		resp.Assignment = a
		m.sent = key
	}
	return resp
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// subscribedTopics returns the existing topics m subscribes to.
func (c *Coordinator) subscribedTopics(m *cmember) []string {
	var out []string
	for _, t := range m.topics {
		if c.cfg.Partitions(t) > 0 {
			out = append(out, t)
		}
	}
	if m.re != nil && c.cfg.Topics != nil {
		for _, t := range c.cfg.Topics() {
			if m.re.MatchString(t) && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out
}

// maybeNewTarget computes a new target assignment when the group epoch
// moved on or a subscribed topic's partition count changed.
func (c *Coordinator) maybeNewTarget(g *group) {
	cg := g.consumer
	in := assignInput{subscribed: map[string][]string{}, partitions: map[string]int32{}, current: cg.target}
	for id, m := range cg.members {
		in.members = append(in.members, id)
		in.subscribed[id] = c.subscribedTopics(m)
		for _, t := range in.subscribed[id] {
			in.partitions[t] = c.cfg.Partitions(t)
		}
	}
	slices.Sort(in.members)
	hash := fmt.Sprint(in.partitions)
	if cg.assignEpoch == cg.epoch && hash == cg.metaHash {
		return
	}
	if cg.assignEpoch == cg.epoch { // only the topics changed
		cg.epoch++
	}
	if cg.assignor == rangeAssignor {
		cg.target = assignRange(in)
	} else {
		cg.target = assignUniform(in)
	}
	cg.assignEpoch, cg.metaHash = cg.epoch, hash
}

// reconcile moves m toward its target: revoke first, then advance its
// epoch, then take the partitions that are free.
func (c *Coordinator) reconcile(g *group, m *cmember) {
	cg := g.consumer
	target := cg.target[m.id]
	if m.epoch < cg.assignEpoch {
		if len(m.revoking) > 0 {
			return // waiting for the member to confirm
		}
		for tp := range m.assigned {
			if _, ok := target[tp]; !ok {
				m.revoking[tp] = struct{}{}
				delete(m.assigned, tp)
			}
		}
		if len(m.revoking) > 0 {
			c.armRevocation(g, m)
			return
		}
		m.prevEpoch, m.epoch = m.epoch, cg.assignEpoch
	}
	for tp := range target {
		if _, ok := m.assigned[tp]; ok {
			continue
		}
		if owner, ok := cg.owner[tp]; !ok || owner == m.id {
			m.assigned[tp] = struct{}{}
			cg.owner[tp] = m.id
		}
	}
}

// confirmOwned applies the member's list of what it owns: revoked
// partitions it no longer lists are released.
func (c *Coordinator) confirmOwned(g *group, m *cmember, owned []kmsg.ConsumerGroupHeartbeatRequestTopic) {
	has := c.ownedSet(owned)
	for tp := range m.revoking {
		if _, ok := has[tp]; !ok {
			delete(m.revoking, tp)
			if g.consumer.owner[tp] == m.id {
				delete(g.consumer.owner, tp)
			}
		}
	}
	if len(m.revoking) == 0 {
		stopTimer(m.revTimer)
	}
	// Released partitions may complete other members' targets: they get
	// them on their next heartbeat.
}

func (c *Coordinator) ownedSet(owned []kmsg.ConsumerGroupHeartbeatRequestTopic) map[topicPartition]struct{} {
	has := map[topicPartition]struct{}{}
	for _, t := range owned {
		name, ok := c.cfg.TopicName(t.TopicID)
		if !ok {
			continue
		}
		for _, p := range t.Partitions {
			has[topicPartition{name, p}] = struct{}{}
		}
	}
	return has
}

// ownedWithin tells whether a heartbeat at the member's previous epoch
// (its answer moving it on was lost) owns nothing beyond its assignment.
func ownedWithin(c *Coordinator, owned []kmsg.ConsumerGroupHeartbeatRequestTopic, m *cmember) bool {
	if owned == nil {
		return false
	}
	for tp := range c.ownedSet(owned) {
		if _, ok := m.assigned[tp]; !ok {
			if _, ok := m.revoking[tp]; !ok {
				return false
			}
		}
	}
	return true
}

// assignmentOf builds the response assignment of set, and a key that
// identifies it.
func (c *Coordinator) assignmentOf(set map[topicPartition]struct{}) (*kmsg.ConsumerGroupHeartbeatResponseAssignment, string) {
	a := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
	a.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
	tps := sortedTPs(set)
	for _, tp := range tps {
		id, ok := c.cfg.TopicID(tp.Topic)
		if !ok {
			continue
		}
		if n := len(a.Topics); n == 0 || a.Topics[n-1].TopicID != id {
			t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
			t.TopicID = id
			a.Topics = append(a.Topics, t)
		}
		t := &a.Topics[len(a.Topics)-1]
		t.Partitions = append(t.Partitions, tp.Partition)
	}
	return &a, fmt.Sprint(tps)
}

// releaseAll drops everything m owns or is revoking.
func (c *Coordinator) releaseAll(cg *consumerGroup, m *cmember) {
	for tp := range m.assigned {
		if cg.owner[tp] == m.id {
			delete(cg.owner, tp)
		}
	}
	for tp := range m.revoking {
		if cg.owner[tp] == m.id {
			delete(cg.owner, tp)
		}
	}
	m.assigned, m.revoking = map[topicPartition]struct{}{}, map[topicPartition]struct{}{}
	stopTimer(m.revTimer)
}

// removeConsumerMember takes m out of the group: its partitions are free
// for the new target.
func (c *Coordinator) removeConsumerMember(g *group, m *cmember) {
	cg := g.consumer
	c.releaseAll(cg, m)
	stopTimer(m.timer)
	delete(cg.members, m.id)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	delete(cg.target, m.id)
	cg.epoch++
	if len(cg.members) == 0 {
		g.setState(stateEmpty, c.cfg.Now())
	}
	c.maybeNewTarget(g)
	c.persistConsumerGroup(g)
}

// replaceStaticConsumer gives a static member's place, epoch and
// partitions to the new member id of the same instance: no new epoch.
func (c *Coordinator) replaceStaticConsumer(g *group, old *cmember, id string) *cmember {
	cg := g.consumer
	stopTimer(old.timer)
	oldID := old.id
	delete(cg.members, oldID)
	old.id, old.leftAt, old.sent = id, time.Time{}, ""
	cg.members[id] = old
	cg.static[*old.instanceID] = id
	for tp, owner := range cg.owner {
		if owner == oldID {
			cg.owner[tp] = id
		}
	}
	if t, ok := cg.target[oldID]; ok {
		cg.target[id] = t
		delete(cg.target, oldID)
	}
	return old
}

// armConsumerSession (re)starts m's session timer: a member that stops
// heartbeating (or a static member that left) is removed when it fires.
func (c *Coordinator) armConsumerSession(g *group, m *cmember) {
	stopTimer(m.timer)
	m.session++ // a timer that fired before it was stopped sees it moved on
	seq, id := m.session, m.id
	m.timer = c.after(c.cfg.ConsumerSessionTimeout, func() {
		if g.consumer == nil || c.groups[g.name] != g {
			return
		}
		if cur := g.consumer.members[id]; cur == m && cur.session == seq {
			c.log.Info("consumer group member session expired", "group", g.name, "member", id)
			c.removeConsumerMember(g, m)
		}
	})
}

// armRevocation fences m if it has not given up its revoked partitions
// within its rebalance timeout.
func (c *Coordinator) armRevocation(g *group, m *cmember) {
	stopTimer(m.revTimer)
	d := m.rebalance
	if d <= 0 {
		d = c.cfg.ConsumerSessionTimeout
	}
	id := m.id
	m.revTimer = c.after(d, func() {
		if g.consumer == nil || g.consumer.members[id] != m || len(m.revoking) == 0 {
			return
		}
		c.log.Info("consumer group member did not revoke in time; fenced", "group", g.name, "member", id)
		c.removeConsumerMember(g, m)
	})
}

// checkConsumerCommit validates an offset commit of a KIP-848 member:
// the generation is its member epoch (the previous one is accepted while
// the member moves on).
func checkConsumerCommit(g *group, memberID string, epoch int32) int16 {
	m := g.consumer.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case epoch > m.epoch:
		return kerr.FencedMemberEpoch.Code
	case epoch != m.epoch && (epoch != m.prevEpoch || epoch <= 0):
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// consumerGroupKey and consumerGroupValue are Kafka's ConsumerGroupMetadata
// record (key version 3; the value is flexible from version 0).
func consumerGroupKey(group string) []byte {
	b := binary.BigEndian.AppendUint16(nil, 3)
	b = binary.BigEndian.AppendUint16(b, uint16(len(group)))
	return append(b, group...)
}

func consumerGroupValue(epoch int32) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(epoch))
	return append(b, 0) // no tagged fields
}

func parseConsumerGroupKey(key []byte) (string, bool) {
	if len(key) < 4 {
		return "", false
	}
	n := int(binary.BigEndian.Uint16(key[2:]))
	if len(key) < 4+n {
		return "", false
	}
	return string(key[4 : 4+n]), true
}

// persistConsumerGroup records the group epoch when it moved on. Nothing
// waits for it: members rejoin after a restart anyway.
func (c *Coordinator) persistConsumerGroup(g *group) {
	cg := g.consumer
	if cg.epoch == g.generation {
		return
	}
	g.generation = cg.epoch
	if _, err := c.write(g.name, []kv{{consumerGroupKey(g.name), consumerGroupValue(cg.epoch)}}); err != nil {
		c.log.Warn("persisting consumer group", "group", g.name, "err", err)
	}
}

// ConsumerGroupDescribe describes KIP-848 groups.
func (c *Coordinator) ConsumerGroupDescribe(ctx context.Context, req *kmsg.ConsumerGroupDescribeRequest) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) {
		resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
		for _, name := range req.Groups {
			rg := kmsg.NewConsumerGroupDescribeResponseGroup()
			rg.Group, rg.AuthorizedOperations = name, -2147483648
			g := c.groups[name]
			if g == nil || g.consumer == nil {
				rg.ErrorCode = kerr.GroupIDNotFound.Code
				msg := fmt.Sprintf("group %s is not a consumer group", name)
				rg.ErrorMessage = &msg
				resp.Groups = append(resp.Groups, rg)
				continue
			}
			cg := g.consumer
			rg.Epoch, rg.AssignmentEpoch, rg.AssignorName = cg.epoch, cg.assignEpoch, cg.assignor
			rg.State = cg.state()
			ids := make([]string, 0, len(cg.members))
			for id := range cg.members {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				m := cg.members[id]
				rm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
				rm.MemberID, rm.InstanceID, rm.RackID, rm.MemberEpoch = m.id, m.instanceID, m.rackID, m.epoch
				rm.ClientID, rm.ClientHost, rm.SubscribedTopicRegex = m.clientID, m.host, m.regex
				rm.SubscribedTopics = slices.Clone(m.topics)
				rm.MemberType = 1 // consumer (not upgraded from classic)
				rm.Assignment = c.describeAssignment(m.assigned)
				rm.TargetAssignment = c.describeAssignment(cg.target[id])
				rg.Members = append(rg.Members, rm)
			}
			resp.Groups = append(resp.Groups, rg)
		}
		answer(reply, resp)
	})
}

func (c *Coordinator) describeAssignment(set map[topicPartition]struct{}) kmsg.Assignment {
	a := kmsg.NewAssignment()
	for _, tp := range sortedTPs(set) {
		if n := len(a.TopicPartitions); n == 0 || a.TopicPartitions[n-1].Topic != tp.Topic {
			t := kmsg.NewAssignmentTopicPartition()
			t.Topic = tp.Topic
			t.TopicID, _ = c.cfg.TopicID(tp.Topic)
			a.TopicPartitions = append(a.TopicPartitions, t)
		}
		t := &a.TopicPartitions[len(a.TopicPartitions)-1]
		t.Partitions = append(t.Partitions, tp.Partition)
	}
	return a
}

// state is the group state as Kafka names it for consumer groups.
func (cg *consumerGroup) state() string {
	switch {
	case len(cg.members) == 0:
		return "Empty"
	case cg.assignEpoch < cg.epoch:
		return "Assigning"
	}
	for _, m := range cg.members {
		if m.epoch != cg.assignEpoch || len(m.revoking) > 0 || len(m.assigned) != len(cg.target[m.id]) {
			return "Reconciling"
		}
	}
	return "Stable"
}

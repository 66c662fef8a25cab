package group

// JoinGroup, SyncGroup, Heartbeat and LeaveGroup: the classic protocol's
// membership and rebalance, following Kafka's GroupCoordinator (KIP-394
// member ids, KIP-345 static members, KIP-814 SkipAssignment).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup answers when the join phase the member takes part in ends.
func (c *Coordinator) JoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest, cl Client) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) { c.join(req, cl, reply) })
}

func joinError(req *kmsg.JoinGroupRequest, code int16) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.ErrorCode, resp.Generation, resp.MemberID = code, -1, req.MemberID
	return resp
}

func newMemberID(clientID string) string {
	var b [16]byte
	rand.Read(b[:])
	return clientID + "-" + hex.EncodeToString(b[:])
}

func (c *Coordinator) join(req *kmsg.JoinGroupRequest, cl Client, reply chan<- kmsg.Response) {
	now := c.cfg.Now()
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	rebalance := time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	if req.GetVersion() == 0 {
		rebalance = session
	}
	switch {
	case req.Group == "":
		answer(reply, joinError(req, kerr.InvalidGroupID.Code))
		return
	case session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout:
		answer(reply, joinError(req, kerr.InvalidSessionTimeout.Code))
		return
	}
	g := c.groups[req.Group]
	if g != nil && g.consumer != nil {
		if len(g.consumer.members) > 0 {
			answer(reply, joinError(req, kerr.InconsistentGroupProtocol.Code)) // a KIP-848 group with members
			return
		}
		g.consumer = nil // an empty KIP-848 group becomes classic again
	}
	if g == nil {
		if req.MemberID != "" {
			answer(reply, joinError(req, kerr.UnknownMemberID.Code))
			return
		}
		g = newGroup(req.Group, now)
	}
	skip := req.MemberID
	if req.InstanceID != nil && req.MemberID == "" {
		skip = g.staticMembers[*req.InstanceID] // a static member replacing itself
	}
	if !g.compatible(skip, req.ProtocolType, req.Protocols) {
		answer(reply, joinError(req, kerr.InconsistentGroupProtocol.Code))
		return
	}
	c.groups[g.name] = g // a group exists from its first valid join

	if req.MemberID == "" {
		if req.InstanceID != nil {
			if old, ok := g.staticMembers[*req.InstanceID]; ok && g.members[old] != nil {
				c.replaceStatic(g, g.members[old], req, cl, reply, now)
				return
			}
		}
		m := &member{id: newMemberID(cl.ID), instanceID: req.InstanceID, clientID: cl.ID, host: cl.Host}
		if req.GetVersion() >= 4 && req.InstanceID == nil {
			// KIP-394: the member must come back with this id, so that a
			// client that times out in its first join leaves no ghost.
			g.pending[m.id] = m
			m.deadline = now.Add(session)
			c.armSession(g, m, session)
			resp := joinError(req, kerr.MemberIDRequired.Code)
			resp.MemberID = m.id
			answer(reply, resp)
			return
		}
		if req.InstanceID != nil {
			g.staticMembers[*req.InstanceID] = m.id
		}
		c.addMember(g, m, req, cl, reply, session, rebalance, now)
		return
	}
	if req.InstanceID != nil {
		if id, ok := g.staticMembers[*req.InstanceID]; ok && id != req.MemberID {
			answer(reply, joinError(req, kerr.FencedInstanceID.Code))
			return
		}
	}
	if m := g.pending[req.MemberID]; m != nil {
		delete(g.pending, m.id)
		stopTimer(m.timer)
		c.addMember(g, m, req, cl, reply, session, rebalance, now)
		return
	}
	m := g.members[req.MemberID]
	if m == nil {
		answer(reply, joinError(req, kerr.UnknownMemberID.Code))
		return
	}
	c.touch(m, now)
	switch g.state {
	case stateCompleting, stateStable:
		if sameProtocols(m.protocols, req.Protocols) && (g.state == stateCompleting || m.id != g.leader) {
			// Nothing changed: answer with the current generation.
			answer(reply, c.joinResponse(g, m, req.GetVersion()))
			return
		}
	}
	c.updateMember(m, req, reply, session, rebalance)
	c.prepareRebalance(g, now)
}

func (c *Coordinator) addMember(g *group, m *member, req *kmsg.JoinGroupRequest, cl Client, reply chan<- kmsg.Response, session, rebalance time.Duration, now time.Time) {
	m.clientID, m.host = cl.ID, cl.Host
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	c.updateMember(m, req, reply, session, rebalance)
	m.deadline = now.Add(session)
	c.armSession(g, m, session)
	if g.state == stateEmpty && c.cfg.InitialRebalanceDelay > 0 {
		g.delayUntil = now.Add(c.cfg.InitialRebalanceDelay)
	} else if g.state == statePreparing && now.Before(g.delayUntil) {
		// Each new member of a new group extends the delay, as Kafka's
		// InitialDelayedJoin does, within the rebalance timeout.
		g.delayUntil = now.Add(c.cfg.InitialRebalanceDelay)
	}
	c.prepareRebalance(g, now)
}

func (c *Coordinator) updateMember(m *member, req *kmsg.JoinGroupRequest, reply chan<- kmsg.Response, session, rebalance time.Duration) {
	if m.joinReply != nil && m.joinReply != reply {
		// A second join replaces the first, which gets an error.
		answer(m.joinReply, joinError(req, kerr.RebalanceInProgress.Code))
	}
	m.protoType, m.protocols = req.ProtocolType, req.Protocols
	m.session, m.rebalance = session, rebalance
	m.joinReply, m.joinVersion = reply, req.GetVersion()
}

// replaceStatic handles a static member coming back with a new client
// (KIP-345): the old member id is fenced, the new one takes its place and
// its assignment, and a stable group whose protocol choice is unchanged
// does not rebalance.
func (c *Coordinator) replaceStatic(g *group, old *member, req *kmsg.JoinGroupRequest, cl Client, reply chan<- kmsg.Response, now time.Time) {
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	rebalance := time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	m := &member{id: newMemberID(cl.ID), instanceID: req.InstanceID, clientID: cl.ID, host: cl.Host,
		session: session, rebalance: rebalance, protoType: req.ProtocolType, protocols: req.Protocols, assignment: old.assignment}
	fence(old)
	stopTimer(old.timer)
	delete(g.members, old.id)
	for i, id := range g.order {
		if id == old.id {
			g.order[i] = m.id
		}
	}
	g.members[m.id] = m
	g.staticMembers[*req.InstanceID] = m.id
	if g.leader == old.id {
		g.leader = m.id
	}
	m.deadline = now.Add(session)
	c.armSession(g, m, session)
	// As Kafka: a stable group stays as it is when the protocol it would
	// select is unchanged; the member's metadata may differ (a restarted
	// consumer owns no partitions yet) without a rebalance.
	if g.state == stateStable && g.selectProtocol() == g.protocol {
		resp := c.joinResponse(g, m, req.GetVersion())
		resp.SkipAssignment = m.id == g.leader
		answer(reply, resp)
		return
	}
	c.updateMember(m, req, reply, session, rebalance)
	c.prepareRebalance(g, now)
}

// fence answers a replaced static member's waiting requests.
func fence(m *member) {
	if m.joinReply != nil {
		r := kmsg.NewPtrJoinGroupResponse()
		r.SetVersion(m.joinVersion)
		r.ErrorCode, r.Generation, r.MemberID = kerr.FencedInstanceID.Code, -1, m.id
		answer(m.joinReply, r)
		m.joinReply = nil
	}
	if m.syncReply != nil {
		r := kmsg.NewPtrSyncGroupResponse()
		r.ErrorCode = kerr.FencedInstanceID.Code
		answer(m.syncReply, r)
		m.syncReply = nil
	}
}

// prepareRebalance moves the group to PreparingRebalance (failing members
// waiting in SyncGroup) and completes the join phase if it can.
func (c *Coordinator) prepareRebalance(g *group, now time.Time) {
	if g.state == stateCompleting {
		for _, m := range g.members {
			m.assignment = nil
			if m.syncReply != nil {
				r := kmsg.NewPtrSyncGroupResponse()
				r.ErrorCode = kerr.RebalanceInProgress.Code
				answer(m.syncReply, r)
				m.syncReply = nil
			}
		}
		stopTimer(g.syncTimer)
	}
	if g.state != statePreparing {
		g.setState(statePreparing, now)
		stopTimer(g.rebalanceTimer)
		var timeout time.Duration
		for _, m := range g.members {
			timeout = max(timeout, m.rebalance)
		}
		gen := g.generation
		g.rebalanceTimer = c.after(timeout, func() {
			if c.groups[g.name] == g && g.state == statePreparing && g.generation == gen {
				c.completeJoin(g)
			}
		})
	}
	c.maybeCompleteJoin(g)
}

func (c *Coordinator) maybeCompleteJoin(g *group) {
	if g.state != statePreparing {
		return
	}
	for _, m := range g.members {
		if m.joinReply == nil {
			return
		}
	}
	if now := c.cfg.Now(); now.Before(g.delayUntil) {
		gen := g.generation
		c.after(g.delayUntil.Sub(now), func() {
			if c.groups[g.name] == g && g.generation == gen {
				c.maybeCompleteJoin(g)
			}
		})
		return
	}
	c.completeJoin(g)
}

// completeJoin ends the join phase: members that did not rejoin are
// removed, the generation advances, a protocol and a leader are chosen and
// every joined member gets its answer (the leader with all members'
// metadata).
func (c *Coordinator) completeJoin(g *group) {
	now := c.cfg.Now()
	stopTimer(g.rebalanceTimer)
	g.delayUntil = time.Time{}
	for _, m := range g.members {
		if m.joinReply == nil {
			c.removeMember(g, m)
		}
	}
	g.generation++
	if len(g.members) == 0 {
		g.setState(stateEmpty, now)
		g.leader, g.protocol = "", ""
		c.persistGroup(g)
		return
	}
	g.protocol = g.selectProtocol()
	for _, m := range g.members {
		g.protocolType = m.protoType
		break
	}
	if g.members[g.leader] == nil {
		g.leader = g.order[0]
	}
	g.setState(stateCompleting, now)
	for _, m := range g.members {
		answer(m.joinReply, c.joinResponse(g, m, m.joinVersion))
		m.joinReply = nil
		m.deadline = now.Add(m.session)
	}
	c.persistGroup(g)
	gen := g.generation
	var timeout time.Duration
	for _, m := range g.members {
		timeout = max(timeout, m.rebalance)
	}
	// Members that never send SyncGroup are dropped after the rebalance
	// timeout so that the others are not stuck.
	g.syncTimer = c.after(timeout, func() {
		if c.groups[g.name] != g || g.state != stateCompleting || g.generation != gen {
			return
		}
		for _, m := range g.members {
			if m.syncReply == nil {
				c.removeMember(g, m)
			}
		}
		c.prepareRebalance(g, c.cfg.Now())
	})
}

func (c *Coordinator) joinResponse(g *group, m *member, version int16) *kmsg.JoinGroupResponse {
	r := kmsg.NewPtrJoinGroupResponse()
	r.SetVersion(version)
	r.Generation, r.MemberID, r.LeaderID = g.generation, m.id, g.leader
	pt, p := g.protocolType, g.protocol
	r.ProtocolType, r.Protocol = &pt, &p
	if m.id == g.leader {
		for _, id := range g.order {
			o := g.members[id]
			jm := kmsg.NewJoinGroupResponseMember()
			jm.MemberID, jm.InstanceID, jm.ProtocolMetadata = o.id, o.instanceID, o.metadataFor(g.protocol)
			r.Members = append(r.Members, jm)
		}
	}
	return r
}

// removeMember drops a member without starting a rebalance.
func (c *Coordinator) removeMember(g *group, m *member) {
	stopTimer(m.timer)
	delete(g.members, m.id)
	for i, id := range g.order {
		if id == m.id {
			g.order = append(g.order[:i:i], g.order[i+1:]...)
			break
		}
	}
	if m.instanceID != nil && g.staticMembers[*m.instanceID] == m.id {
		delete(g.staticMembers, *m.instanceID)
	}
	if m.joinReply != nil {
		answer(m.joinReply, &kmsg.JoinGroupResponse{Version: m.joinVersion, ErrorCode: kerr.UnknownMemberID.Code, Generation: -1})
		m.joinReply = nil
	}
	if m.syncReply != nil {
		answer(m.syncReply, &kmsg.SyncGroupResponse{Version: m.syncVersion, ErrorCode: kerr.UnknownMemberID.Code})
		m.syncReply = nil
	}
}

// touch renews a member's session.
func (c *Coordinator) touch(m *member, now time.Time) {
	if m.session > 0 {
		m.deadline = now.Add(m.session)
	}
}

// armSession starts a member's session timer; when it fires after the
// member's deadline (renewed by each of its requests) and the member is not
// waiting on us, the member is removed and the group rebalances.
func (c *Coordinator) armSession(g *group, m *member, d time.Duration) {
	stopTimer(m.timer)
	m.timer = c.after(d, func() { c.sessionCheck(g, m) })
}

func (c *Coordinator) sessionCheck(g *group, m *member) {
	if c.groups[g.name] != g {
		return
	}
	now := c.cfg.Now()
	if g.pending[m.id] == m {
		if !now.Before(m.deadline) {
			delete(g.pending, m.id)
		} else {
			m.timer = c.after(m.deadline.Sub(now), func() { c.sessionCheck(g, m) })
		}
		return
	}
	if g.members[m.id] != m {
		return
	}
	if m.joinReply != nil || now.Before(m.deadline) {
		// A member waiting for its join answer is alive by definition.
		wait := m.deadline.Sub(now)
		if wait <= 0 {
			wait = m.session
		}
		m.timer = c.after(wait, func() { c.sessionCheck(g, m) })
		return
	}
	c.log.Info("group member session expired", "group", g.name, "member", m.id)
	c.removeMember(g, m)
	c.prepareRebalance(g, now)
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// sortedNames returns the groups' names in order (ListGroups).
func (c *Coordinator) sortedNames() []string {
	names := make([]string, 0, len(c.groups))
	for n := range c.groups {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

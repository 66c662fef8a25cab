package group

// SyncGroup, Heartbeat and LeaveGroup: the requests of members that have
// joined. checkMember is the validation they share with OffsetCommit.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup answers once the leader has sent the assignment.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) { c.sync(req, reply) })
}

func (c *Coordinator) sync(req *kmsg.SyncGroupRequest, reply chan<- kmsg.Response) {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	g := c.groups[req.Group]
	code := c.checkMember(g, req.Group, req.MemberID, req.InstanceID, req.Generation)
	if code == 0 && (req.ProtocolType != nil && *req.ProtocolType != g.protocolType || req.Protocol != nil && *req.Protocol != g.protocol) {
		code = kerr.InconsistentGroupProtocol.Code
	}
	if code != 0 {
		resp.ErrorCode = code
		answer(reply, resp)
		return
	}
	m := g.members[req.MemberID]
	c.touch(m, c.cfg.Now())
	switch g.state {
	case statePreparing:
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	case stateCompleting:
		m.syncReply, m.syncVersion = reply, req.GetVersion()
		if m.id == g.leader {
			for _, a := range req.GroupAssignment {
				if o := g.members[a.MemberID]; o != nil {
					o.assignment = a.MemberAssignment
				}
			}
			stopTimer(g.syncTimer)
			g.setState(stateStable, c.cfg.Now())
			for _, o := range g.members {
				if o.syncReply != nil {
					answer(o.syncReply, c.syncResponse(g, o, o.syncVersion))
					o.syncReply = nil
				}
			}
			c.persistGroup(g)
		}
		return
	case stateStable:
		resp = c.syncResponse(g, m, req.GetVersion())
	}
	answer(reply, resp)
}

func (c *Coordinator) syncResponse(g *group, m *member, version int16) *kmsg.SyncGroupResponse {
	r := kmsg.NewPtrSyncGroupResponse()
	r.SetVersion(version)
	pt, p := g.protocolType, g.protocol
	r.ProtocolType, r.Protocol = &pt, &p
	r.MemberAssignment = m.assignment
	if r.MemberAssignment == nil {
		r.MemberAssignment = []byte{}
	}
	return r
}

// checkCommitter validates the member of an offset commit: a classic
// member and generation, or a KIP-848 member and its epoch.
func (c *Coordinator) checkCommitter(g *group, name, memberID string, instanceID *string, generation int32) int16 {
	if name != "" && g != nil && g.consumer != nil {
		return checkConsumerCommit(g, memberID, generation)
	}
	return c.checkMember(g, name, memberID, instanceID, generation)
}

// checkMember validates a member's request against the group: unknown
// group or member, fenced static instance, stale generation.
func (c *Coordinator) checkMember(g *group, name, memberID string, instanceID *string, generation int32) int16 {
	switch {
	case name == "":
		return kerr.InvalidGroupID.Code
	case g == nil:
		return kerr.UnknownMemberID.Code
	}
	if instanceID != nil {
		if id, ok := g.staticMembers[*instanceID]; ok && id != memberID {
			return kerr.FencedInstanceID.Code
		}
	}
	if g.members[memberID] == nil {
		return kerr.UnknownMemberID.Code
	}
	if generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	return 0
}

// Heartbeat renews a member's session and tells it when to rejoin.
func (c *Coordinator) Heartbeat(ctx context.Context, req *kmsg.HeartbeatRequest) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) {
		resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
		g := c.groups[req.Group]
		resp.ErrorCode = c.checkMember(g, req.Group, req.MemberID, req.InstanceID, req.Generation)
		if resp.ErrorCode == 0 {
			c.touch(g.members[req.MemberID], c.cfg.Now())
			if g.state == statePreparing {
				resp.ErrorCode = kerr.RebalanceInProgress.Code
			}
		}
		answer(reply, resp)
	})
}

// LeaveGroup removes members (v3+: several, by member or instance id) and
// rebalances the rest.
func (c *Coordinator) LeaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) {
		resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
		leaving := req.Members
		if req.GetVersion() < 3 {
			leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
		}
		g := c.groups[req.Group]
		if req.Group == "" {
			resp.ErrorCode = kerr.InvalidGroupID.Code
			answer(reply, resp)
			return
		}
		if g == nil {
			resp.ErrorCode = kerr.UnknownMemberID.Code
			answer(reply, resp)
			return
		}
		removed := false
		for _, l := range leaving {
			rm := kmsg.NewLeaveGroupResponseMember()
			rm.MemberID, rm.InstanceID = l.MemberID, l.InstanceID
			id := l.MemberID
			if l.InstanceID != nil {
				known, ok := g.staticMembers[*l.InstanceID]
				switch {
				case !ok:
					rm.ErrorCode = kerr.UnknownMemberID.Code
				case id != "" && id != known:
					rm.ErrorCode = kerr.FencedInstanceID.Code
				}
				id = known
			}
			if rm.ErrorCode == 0 {
				if p := g.pending[id]; p != nil {
					stopTimer(p.timer)
					delete(g.pending, id)
				} else if m := g.members[id]; m != nil {
					c.removeMember(g, m)
					removed = true
				} else {
					rm.ErrorCode = kerr.UnknownMemberID.Code
				}
			}
			resp.Members = append(resp.Members, rm)
		}
		if req.GetVersion() < 3 {
			resp.ErrorCode, resp.Members = resp.Members[0].ErrorCode, nil
		}
		if removed {
			c.prepareRebalance(g, c.cfg.Now())
		}
		answer(reply, resp)
	})
}

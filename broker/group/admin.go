package group

// Group tooling: ListGroups, DescribeGroups, DeleteGroups.

import (
	"context"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups lists every group, filtered by state (v4+) and type (v5+:
// "classic", or "consumer" for KIP-848 groups).
func (c *Coordinator) ListGroups(ctx context.Context, req *kmsg.ListGroupsRequest) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) {
		resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
		for _, name := range c.sortedNames() {
			g := c.groups[name]
			typ, state := "classic", g.state.String()
			if g.consumer != nil {
				typ, state = "consumer", g.consumer.state()
			}
			if len(req.StatesFilter) > 0 && !containsFold(req.StatesFilter, state) {
				continue
			}
			if len(req.TypesFilter) > 0 && !containsFold(req.TypesFilter, typ) {
				continue
			}
			lg := kmsg.NewListGroupsResponseGroup()
			lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = name, g.protocolType, state, typ
			resp.Groups = append(resp.Groups, lg)
		}
		answer(reply, resp)
	})
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// DescribeGroups reports state, protocol and members; an unknown group is
// reported as Dead, as Kafka does up to v5.
func (c *Coordinator) DescribeGroups(ctx context.Context, req *kmsg.DescribeGroupsRequest) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) {
		resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
		for _, name := range req.Groups {
			dg := kmsg.NewDescribeGroupsResponseGroup()
			dg.Group = name
			dg.AuthorizedOperations = -2147483648
			g := c.groups[name]
			switch {
			case name == "":
				dg.ErrorCode = kerr.InvalidGroupID.Code
			case g == nil:
				dg.State = stateDead.String()
			default:
				dg.State, dg.ProtocolType = g.state.String(), g.protocolType
				if g.state == stateStable || g.state == stateCompleting {
					dg.Protocol = g.protocol
				}
				for _, id := range g.order {
					m := g.members[id]
					dm := kmsg.NewDescribeGroupsResponseGroupMember()
					dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.id, m.instanceID, m.clientID, m.host
					if g.state == stateStable {
						dm.ProtocolMetadata, dm.MemberAssignment = m.metadataFor(g.protocol), m.assignment
					}
					dg.Members = append(dg.Members, dm)
				}
			}
			resp.Groups = append(resp.Groups, dg)
		}
		answer(reply, resp)
	})
}

// DeleteGroups deletes empty groups and their offsets (tombstones).
func (c *Coordinator) DeleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) func() kmsg.Response {
	var waits []func() error
	f := c.call(ctx, func(reply chan<- kmsg.Response) {
		resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
		for _, name := range req.Groups {
			r := kmsg.NewDeleteGroupsResponseGroup()
			r.Group = name
			g := c.groups[name]
			switch {
			case name == "":
				r.ErrorCode = kerr.InvalidGroupID.Code
			case g == nil:
				r.ErrorCode = kerr.GroupIDNotFound.Code
			case len(g.members) > 0 || g.state != stateEmpty:
				r.ErrorCode = kerr.NonEmptyGroup.Code
			default:
				recs := []kv{}
				tps := make([]topicPartition, 0, len(g.offsets))
				for tp := range g.offsets {
					tps = append(tps, tp)
				}
				sort.Slice(tps, func(i, j int) bool {
					return tps[i].Topic < tps[j].Topic || tps[i].Topic == tps[j].Topic && tps[i].Partition < tps[j].Partition
				})
				for _, tp := range tps {
					recs = append(recs, kv{offsetKey(name, tp), nil})
				}
				recs = append(recs, kv{groupKey(name), nil})
				for _, p := range g.pending {
					stopTimer(p.timer)
				}
				delete(c.groups, name)
				w, err := c.write(name, recs)
				if err != nil {
					c.log.Warn("deleting group", "group", name, "err", err)
					r.ErrorCode = kerr.CoordinatorNotAvailable.Code
				} else {
					waits = append(waits, w)
				}
			}
			resp.Groups = append(resp.Groups, r)
		}
		answer(reply, resp)
	})
	return func() kmsg.Response {
		r := f()
		if r == nil {
			return nil // waits may still be written by the loop
		}
		for _, w := range waits {
			if err := w(); err != nil {
				for i := range r.(*kmsg.DeleteGroupsResponse).Groups {
					r.(*kmsg.DeleteGroupsResponse).Groups[i].ErrorCode = kerr.CoordinatorNotAvailable.Code
				}
			}
		}
		return r
	}
}

func sortStrings(s []string) { sort.Strings(s) }
func sortInt32s(s []int32)   { sort.Slice(s, func(i, j int) bool { return s[i] < s[j] }) }

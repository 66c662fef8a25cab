package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// joinRaw sends a JoinGroup v5 and returns the answer.
func joinRaw(c *rawConn, grp, member, protoType string, protos ...string) *kmsg.JoinGroupResponse {
	req := kmsg.NewPtrJoinGroupRequest()
	req.SetVersion(5)
	req.Group, req.MemberID, req.ProtocolType = grp, member, protoType
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
	for _, p := range protos {
		jp := kmsg.NewJoinGroupRequestProtocol()
		jp.Name, jp.Metadata = p, []byte{0, 1}
		req.Protocols = append(req.Protocols, jp)
	}
	return c.roundTrip(req).(*kmsg.JoinGroupResponse)
}

func TestGroupBadInput(t *testing.T) {
	_, addr := startServer(t, groupTestConfig())
	c := dialRaw(t, addr)
	adm := newAdmin(t, addr)
	createTopic(t, adm, "known", 2, nil)

	expect := func(what string, got int16, want *kerr.Error) {
		t.Helper()
		if got != want.Code {
			t.Errorf("%s: error %v, want %v", what, kerr.ErrorForCode(got), want)
		}
	}

	// KIP-394: the first join gets an id to come back with.
	r := joinRaw(c, "g", "", "consumer", "range")
	expect("first join v5", r.ErrorCode, kerr.MemberIDRequired)
	id := r.MemberID
	if id == "" {
		t.Fatal("MEMBER_ID_REQUIRED without a member id")
	}
	r = joinRaw(c, "g", id, "consumer", "range")
	expect("second join", r.ErrorCode, nil0)
	if r.LeaderID != id || r.Generation != 1 || len(r.Members) != 1 || r.Protocol == nil || *r.Protocol != "range" {
		t.Fatalf("join answer: leader %q gen %d members %d protocol %v", r.LeaderID, r.Generation, len(r.Members), r.Protocol)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.MemberID, sync.Generation = "g", id, 1
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: id, MemberAssignment: []byte("assignment")}}
	sr := c.roundTrip(sync).(*kmsg.SyncGroupResponse)
	expect("sync", sr.ErrorCode, nil0)
	if string(sr.MemberAssignment) != "assignment" {
		t.Errorf("sync assignment %q", sr.MemberAssignment)
	}

	// A protocol type or protocols the group does not share.
	expect("other protocol type", joinRaw(c, "g", "", "connect", "range").ErrorCode, kerr.InconsistentGroupProtocol)
	expect("no common protocol", joinRaw(c, "g", "", "consumer", "roundrobin").ErrorCode, kerr.InconsistentGroupProtocol)
	expect("no protocols", joinRaw(c, "fresh", "", "consumer").ErrorCode, kerr.InconsistentGroupProtocol)
	expect("unknown member", joinRaw(c, "g", "nobody", "consumer", "range").ErrorCode, kerr.UnknownMemberID)
	expect("empty group id", joinRaw(c, "", "", "consumer", "range").ErrorCode, kerr.InvalidGroupID)
	bad := kmsg.NewPtrJoinGroupRequest()
	bad.SetVersion(5)
	bad.Group, bad.ProtocolType, bad.SessionTimeoutMillis = "g", "consumer", 1
	bad.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	expect("session timeout too small", c.roundTrip(bad).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InvalidSessionTimeout)

	hb := func(member string, gen int32) int16 {
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.MemberID, req.Generation = "g", member, gen
		return c.roundTrip(req).(*kmsg.HeartbeatResponse).ErrorCode
	}
	expect("heartbeat", hb(id, 1), nil0)
	expect("heartbeat wrong generation", hb(id, 7), kerr.IllegalGeneration)
	expect("heartbeat unknown member", hb("nobody", 1), kerr.UnknownMemberID)

	commit := func(member string, gen int32, topic string, p int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.SetVersion(8)
		req.Group, req.MemberID, req.Generation = "g", member, gen
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: p, Offset: 3, LeaderEpoch: -1}}}}
		return c.roundTrip(req).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
	}
	expect("commit", commit(id, 1, "known", 1), nil0)
	expect("commit unknown topic", commit(id, 1, "unknown", 0), kerr.UnknownTopicOrPartition)
	expect("commit unknown partition", commit(id, 1, "known", 9), kerr.UnknownTopicOrPartition)
	expect("commit wrong generation", commit(id, 4, "known", 0), kerr.IllegalGeneration)
	expect("simple commit to an active group", commit("", -1, "known", 0), kerr.UnknownMemberID)

	// Static membership: a second member with the same instance id but
	// another member id is fenced.
	inst := "i1"
	sj := kmsg.NewPtrJoinGroupRequest()
	sj.SetVersion(5)
	sj.Group, sj.InstanceID, sj.ProtocolType, sj.SessionTimeoutMillis, sj.RebalanceTimeoutMillis = "s", &inst, "consumer", 10000, 10000
	sj.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{1}}}
	sr1 := c.roundTrip(sj).(*kmsg.JoinGroupResponse)
	expect("static join", sr1.ErrorCode, nil0)
	sj2 := *sj
	sj2.MemberID = "someone-else"
	expect("fenced static member", c.roundTrip(&sj2).(*kmsg.JoinGroupResponse).ErrorCode, kerr.FencedInstanceID)

	// A second member makes the group rebalance: the first member's
	// heartbeat says so.
	r2 := joinRaw(c, "g", "", "consumer", "range")
	c2 := dialRaw(t, addr)
	corr := c2.send(func() kmsg.Request {
		req := kmsg.NewPtrJoinGroupRequest()
		req.SetVersion(5)
		req.Group, req.MemberID, req.ProtocolType, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = "g", r2.MemberID, "consumer", 10000, 10000
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{2}}}
		return req
	}())
	eventually(t, 10*time.Second, "rebalance to start", func() bool {
		d, err := adm.DescribeGroups(testCtx(t), "g")
		return err == nil && d["g"].State == "PreparingRebalance"
	})
	expect("heartbeat during rebalance", hb(id, 1), kerr.RebalanceInProgress)
	r = joinRaw(c, "g", id, "consumer", "range")
	expect("rejoin", r.ErrorCode, nil0)
	jr := kmsg.NewPtrJoinGroupResponse()
	jr.SetVersion(5)
	c2.recv(jr, corr)
	if jr.ErrorCode != 0 || jr.Generation != 2 || r.Generation != 2 || len(r.Members) != 2 {
		t.Errorf("second generation: %v gen %d/%d, leader saw %d members", kerr.ErrorForCode(jr.ErrorCode), jr.Generation, r.Generation, len(r.Members))
	}

	// Group tooling on unknown groups.
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"nope", "g"}
	dr := c.roundTrip(del).(*kmsg.DeleteGroupsResponse)
	expect("delete unknown group", dr.Groups[0].ErrorCode, kerr.GroupIDNotFound)
	expect("delete active group", dr.Groups[1].ErrorCode, kerr.NonEmptyGroup)
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "nope"
	expect("offset delete unknown group", c.roundTrip(od).(*kmsg.OffsetDeleteResponse).ErrorCode, kerr.GroupIDNotFound)
}

// nil0 stands for "no error" in expect.
var nil0 = &kerr.Error{Message: "NONE", Code: 0}

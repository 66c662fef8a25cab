package broker

import (
	"context"
	"fmt"

	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeConsumerGroup returns the KIP-848 description of group.
func describeConsumerGroup(t *testing.T, addr, group string) kmsg.ConsumerGroupDescribeResponseGroup {
	t.Helper()
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{group}
	resp := dialRaw(t, addr).roundTrip(req).(*kmsg.ConsumerGroupDescribeResponse)
	return resp.Groups[0]
}

// TestKIP848ConsumersJoinAndLeaveWhileRecordsFlow runs three franz-go
// consumers with KIP-848 (kgo.ServerSideBalancer) while a producer writes:
// the second and third join, the second leaves, and every record is
// consumed (at least once). The group is a consumer group served by
// ConsumerGroupHeartbeat, its members' assignments never overlap and
// cover every partition.
func TestKIP848ConsumersJoinAndLeaveWhileRecordsFlow(t *testing.T) {
	cfg := groupTestConfig()
	cfg.ConsumerHeartbeatInterval = 100 * time.Millisecond
	_, addr := startServer(t, cfg)
	const topic, grp, partitions, total = "kip848", "g848", 6, 3000
	createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), topic, partitions, nil)

	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	consume := func(ctx context.Context, cl *kgo.Client) {
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				mu.Lock()
				seen[string(r.Value)] = true
				mu.Unlock()
			})
		}
	}
	newConsumer := func(name string) (*kgo.Client, context.CancelFunc) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(grp), kgo.ConsumeTopics(topic),
			kgo.ServerSideBalancer(), kgo.ClientID(name), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.AutoCommitInterval(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go consume(ctx, cl)
		return cl, cancel
	}
	prod := mustClient(t, kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic))
	produced := make(chan int, total)
	go func() {
		for i := 0; i < total; i++ {
			if err := prod.ProduceSync(context.Background(), &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
				t.Errorf("produce %d: %v", i, err)
				return
			}
			produced <- i
		}
	}()
	waitProduced := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			select {
			case <-produced:
			case <-time.After(20 * time.Second):
				t.Fatalf("producer stalled")
			}
		}
	}

	c1, stop1 := newConsumer("c1")
	defer func() { stop1(); c1.Close() }()
	waitProduced(500)
	c2, stop2 := newConsumer("c2")
	waitProduced(500)
	c3, stop3 := newConsumer("c3")
	defer func() { stop3(); c3.Close() }()
	waitForMembers(t, addr, grp, 3)
	waitProduced(700)
	stop2()
	c2.Close() // leaves the group: its partitions go to the others
	waitProduced(total - 1700)

	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == total {
			break
		}
		if time.Now().After(deadline) {
			var missing []int
			mu.Lock()
			for i := 0; i < total && len(missing) < 10; i++ {
				if !seen[strconv.Itoa(i)] {
					missing = append(missing, i)
				}
			}
			mu.Unlock()
			t.Fatalf("consumed %d of %d records; first missing %v", n, total, missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d := waitForMembers(t, addr, grp, 2)
	if d.AssignorName != "uniform" {
		t.Errorf("assignor %q, want uniform (franz-go's sticky balancer)", d.AssignorName)
	}
	owned := map[string]string{}
	for _, m := range d.Members {
		for _, tp := range m.Assignment.TopicPartitions {
			for _, p := range tp.Partitions {
				k := fmt.Sprintf("%s/%d", tp.Topic, p)
				if other, ok := owned[k]; ok {
					t.Fatalf("%s assigned to %s and %s", k, other, m.MemberID)
				}
				owned[k] = m.MemberID
			}
		}
	}
	if len(owned) != partitions {
		t.Fatalf("assigned partitions %v, want all %d", owned, partitions)
	}
}

// waitForMembers waits until the consumer group has n members, all at
// the assignment epoch with their target assignment, and returns its
// description.
func waitForMembers(t *testing.T, addr, grp string, n int) kmsg.ConsumerGroupDescribeResponseGroup {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d := describeConsumerGroup(t, addr, grp)
		if d.ErrorCode == 0 && len(d.Members) == n && d.State == "Stable" {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s: %d members in state %q (error %d), want %d Stable", grp, len(d.Members), d.State, d.ErrorCode, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cgMember drives a KIP-848 member by hand.
type cgMember struct {
	t         *testing.T
	c         *rawConn
	group     string
	id        string
	instance  *string
	topicID   [16]byte
	topic     string
	epoch     int32
	owned     []int32 // the last assignment received
	rebalance int32   // rebalance timeout (ms) sent on join; default 10s
}

func (m *cgMember) lastOwned() []int32 { return m.owned }

// hb sends a heartbeat; owned nil is a keepalive, else the full list of
// owned partitions. It returns the response.
func (m *cgMember) hb(epoch int32, owned []int32) *kmsg.ConsumerGroupHeartbeatResponse {
	m.t.Helper()
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version, req.Group, req.MemberID, req.MemberEpoch, req.InstanceID = 1, m.group, m.id, epoch, m.instance
	req.RebalanceTimeoutMillis = -1
	if epoch == 0 {
		req.SubscribedTopicNames, req.RebalanceTimeoutMillis = []string{m.topic}, 10000
		if m.rebalance > 0 {
			req.RebalanceTimeoutMillis = m.rebalance
		}
		a := "uniform"
		req.ServerAssignor = &a
	}
	if owned != nil {
		rt := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		rt.TopicID, rt.Partitions = m.topicID, owned
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{rt}
	}
	resp := m.c.roundTrip(req).(*kmsg.ConsumerGroupHeartbeatResponse)
	if resp.ErrorCode == 0 {
		m.epoch = resp.MemberEpoch
	}
	return resp
}

func assigned(resp *kmsg.ConsumerGroupHeartbeatResponse) []int32 {
	if resp.Assignment == nil {
		return nil
	}
	out := []int32{}
	for _, t := range resp.Assignment.Topics {
		out = append(out, t.Partitions...)
	}
	return out
}

// TestKIP848RevocationFencingStaticRestart checks the protocol by hand: a
// partition moves to a new member only after its owner confirmed giving it
// up; wrong epochs are fenced; offset commits carry the member epoch; a
// static member that leaves with -2 is replaced by its instance without a
// new epoch; the group epoch survives a restart while members rejoin.
func TestKIP848RevocationFencingStaticRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", Logger: quietLogger, GroupInitialRebalanceDelay: -1}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	addr := s.Addr().String()
	createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), "rev", 4, nil)
	tid := s.topics.get("rev").ID
	member := func(id string, instance *string) *cgMember {
		return &cgMember{t: t, c: dialRaw(t, addr), group: "g", id: id, instance: instance, topicID: tid, topic: "rev"}
	}
	expect := func(what string, resp *kmsg.ConsumerGroupHeartbeatResponse, epoch int32, parts []int32) {
		t.Helper()
		if resp.ErrorCode != 0 {
			t.Fatalf("%s: error %d", what, resp.ErrorCode)
		}
		if resp.MemberEpoch != epoch {
			t.Fatalf("%s: epoch %d, want %d", what, resp.MemberEpoch, epoch)
		}
		if got := assigned(resp); parts != nil && !equalInt32s(got, parts) || parts == nil && got != nil {
			t.Fatalf("%s: assignment %v, want %v", what, got, parts)
		}
	}

	a := member("member-a", nil)
	expect("a joins", a.hb(0, []int32{}), 1, []int32{0, 1, 2, 3})
	expect("a confirms", a.hb(1, []int32{0, 1, 2, 3}), 1, []int32{0, 1, 2, 3}) // full heartbeats are answered in full
	b := member("member-b", nil)
	expect("b joins", b.hb(0, []int32{}), 2, []int32{}) // its partitions are still a's
	expect("a is told to revoke", a.hb(1, nil), 1, []int32{0, 1})
	expect("b waits for a", b.hb(2, nil), 2, nil)
	if code := commitAt(t, addr, "a-commit", "g", "member-a", 0); code != kerr.StaleMemberEpoch.Code {
		t.Fatalf("commit at an old epoch: error %d, want STALE_MEMBER_EPOCH", code)
	}
	if code := commitAt(t, addr, "a-commit", "g", "member-a", 1); code != 0 {
		t.Fatalf("commit at the member epoch: error %d", code)
	}
	expect("a confirms the revocation", a.hb(1, []int32{0, 1}), 2, []int32{0, 1})
	expect("b gets them", b.hb(2, nil), 2, []int32{2, 3})
	if resp := a.hb(7, nil); resp.ErrorCode != kerr.FencedMemberEpoch.Code {
		t.Fatalf("wrong epoch: error %d, want FENCED_MEMBER_EPOCH", resp.ErrorCode)
	}

	// Static membership.
	inst := "instance-1"
	st := member("static-1", &inst)
	if resp := b.hb(-1, nil); resp.ErrorCode != 0 { // b leaves
		t.Fatalf("leave: %d", resp.ErrorCode)
	}
	a.hb(2, []int32{0, 1})
	st.owned = assigned(st.hb(0, []int32{}))
	for i := 0; i < 4 && len(st.lastOwned()) < 2; i++ {
		resp := st.hb(st.epoch, nil)
		if p := assigned(resp); p != nil {
			st.owned = p
		}
		a.hb(a.epoch, []int32{0, 1})
	}
	stEpoch, stParts := st.epoch, st.lastOwned()
	if len(stParts) != 2 {
		t.Fatalf("static member owns %v, want two partitions", stParts)
	}
	again := member("static-2", &inst)
	if resp := again.hb(0, []int32{}); resp.ErrorCode != kerr.UnreleasedInstanceID.Code {
		t.Fatalf("second member with a live instance id: error %d, want UNRELEASED_INSTANCE_ID", resp.ErrorCode)
	}
	if resp := st.hb(-2, nil); resp.ErrorCode != 0 || resp.MemberEpoch != -2 {
		t.Fatalf("static leave: %+v", resp)
	}
	epochBefore := describeConsumerGroup(t, addr, "g").Epoch
	expect("the instance comes back", again.hb(0, []int32{}), stEpoch, stParts)
	if d := describeConsumerGroup(t, addr, "g"); d.Epoch != epochBefore || len(d.Members) != 2 {
		t.Fatalf("after the static rejoin: epoch %d (was %d), %d members", d.Epoch, epochBefore, len(d.Members))
	}

	s.Close()
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	addr = s.Addr().String()
	d := describeConsumerGroup(t, addr, "g")
	if d.ErrorCode != 0 || d.Epoch != epochBefore || d.State != "Empty" {
		t.Fatalf("after restart: %+v, want an empty group at epoch %d", d, epochBefore)
	}
	a = member("member-a", nil)
	if resp := a.hb(2, nil); resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("member after restart: error %d, want UNKNOWN_MEMBER_ID", resp.ErrorCode)
	}
	if resp := a.hb(0, []int32{}); resp.ErrorCode != 0 || resp.MemberEpoch <= epochBefore {
		t.Fatalf("rejoin after restart: %+v, want an epoch above %d", resp, epochBefore)
	}
}

// commitAt commits offset 1 of rev/0 for member at epoch and returns the
// partition's error code.
func commitAt(t *testing.T, addr, client, group, member string, epoch int32) int16 {
	t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID, req.Generation = 9, group, member, epoch
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "rev"
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return dialRaw(t, addr).roundTrip(req).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
}

func equalInt32s(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKIP848Timeouts: a member that does not give up its revoked
// partitions within its rebalance timeout is fenced, and one that stops
// heartbeating is removed after the session timeout; either way the
// others get its partitions.
func TestKIP848Timeouts(t *testing.T) {
	cfg := groupTestConfig()
	cfg.ConsumerSessionTimeout = 3 * time.Second // well above the steps below, on a loaded machine
	s, addr := startServer(t, cfg)
	createTopic(t, kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr))), "tmo", 2, nil)
	tid := s.topics.get("tmo").ID
	member := func(id string) *cgMember {
		return &cgMember{t: t, c: dialRaw(t, addr), group: "gt", id: id, topicID: tid, topic: "tmo", rebalance: 300}
	}
	a, b := member("a"), member("b")
	a.hb(0, []int32{})
	a.hb(a.epoch, []int32{0, 1})
	b.hb(0, []int32{})
	if resp := a.hb(a.epoch, nil); resp.ErrorCode != 0 || len(assigned(resp)) != 1 {
		t.Fatalf("a told to keep %v (error %d), want one partition", assigned(resp), resp.ErrorCode)
	}
	// a never confirms: after 300 ms it is fenced and b gets both, as
	// long as b keeps its session.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := b.hb(b.epoch, nil)
		if resp.ErrorCode != 0 {
			t.Fatalf("b: error %d", resp.ErrorCode)
		}
		if p := assigned(resp); len(p) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b never got a's partitions after a's rebalance timeout")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp := a.hb(a.epoch, nil); resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("fenced member: error %d, want UNKNOWN_MEMBER_ID", resp.ErrorCode)
	}
	// b stops heartbeating: the group empties after the session timeout.
	for deadline = time.Now().Add(10 * time.Second); ; {
		if d := describeConsumerGroup(t, addr, "gt"); len(d.Members) == 0 && d.State == "Empty" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("member not removed after its session timeout")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

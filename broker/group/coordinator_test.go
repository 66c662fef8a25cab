package group

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/storage"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openLogs opens n partition logs under dir, closed with the test.
func openLogs(t *testing.T, dir string, n int) []*storage.Log {
	t.Helper()
	cfg := storage.DefaultConfig()
	cfg.Compact, cfg.Delete = true, false
	var logs []*storage.Log
	for i := 0; i < n; i++ {
		l, err := storage.Open(filepath.Join(dir, strconv.Itoa(i)), cfg, quiet, storage.Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, l)
	}
	return logs
}

func newTestCoordinator(t *testing.T, logs []*storage.Log, mod func(*Config)) *Coordinator {
	t.Helper()
	cfg := Config{
		Logs: func(bool) ([]*storage.Log, error) { return logs, nil },
		Partitions: func(topic string) int32 {
			if topic == "t" {
				return 4
			}
			return -1
		},
		InitialRebalanceDelay: -1,
		MinSessionTimeout:     time.Millisecond,
		Logger:                quiet,
	}
	if logs == nil {
		cfg.Logs = nil
	}
	if mod != nil {
		mod(&cfg)
	}
	c := New(cfg)
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

type joinOpts struct {
	member             string
	session, rebalance time.Duration
	protos             []string
	version            int16
}

// join sends a JoinGroup and returns a func that waits for its answer.
func join(c *Coordinator, grp string, o joinOpts) func() *kmsg.JoinGroupResponse {
	req := kmsg.NewPtrJoinGroupRequest()
	req.SetVersion(o.version)
	if o.session == 0 {
		o.session = 10 * time.Second
	}
	if o.rebalance == 0 {
		o.rebalance = 10 * time.Second
	}
	if o.protos == nil {
		o.protos = []string{"range"}
	}
	req.Group, req.MemberID, req.ProtocolType = grp, o.member, "consumer"
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = int32(o.session.Milliseconds()), int32(o.rebalance.Milliseconds())
	for _, p := range o.protos {
		req.Protocols = append(req.Protocols, kmsg.JoinGroupRequestProtocol{Name: p, Metadata: []byte(p)})
	}
	f := c.JoinGroup(context.Background(), req, Client{ID: "test"})
	return func() *kmsg.JoinGroupResponse { return f().(*kmsg.JoinGroupResponse) }
}

func heartbeat(c *Coordinator, grp, member string, gen int32) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.MemberID, req.Generation = grp, member, gen
	return c.Heartbeat(context.Background(), req)().(*kmsg.HeartbeatResponse).ErrorCode
}

func syncGroup(c *Coordinator, grp, member string, gen int32, assign map[string]string) func() *kmsg.SyncGroupResponse {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.MemberID, req.Generation = grp, member, gen
	for m, a := range assign {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m, MemberAssignment: []byte(a)})
	}
	f := c.SyncGroup(context.Background(), req)
	return func() *kmsg.SyncGroupResponse { return f().(*kmsg.SyncGroupResponse) }
}

// waitCode polls fn until it returns want.
func waitCode(t *testing.T, what string, want int16, fn func() int16) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := fn()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v, want %v", what, kerr.ErrorForCode(got), kerr.ErrorForCode(want))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestJoinSyncAndSessionExpiry(t *testing.T) {
	c := newTestCoordinator(t, nil, nil)
	a := join(c, "g", joinOpts{version: 3})()
	if a.ErrorCode != 0 || a.Generation != 1 || a.LeaderID != a.MemberID || len(a.Members) != 1 {
		t.Fatalf("first join: %+v", a)
	}
	if s := syncGroup(c, "g", a.MemberID, 1, map[string]string{a.MemberID: "all"})(); s.ErrorCode != 0 || string(s.MemberAssignment) != "all" {
		t.Fatalf("sync: %+v", s)
	}
	// b (short session) joins: a learns of the rebalance from its heartbeat.
	bWait := join(c, "g", joinOpts{version: 3, session: 100 * time.Millisecond})
	waitCode(t, "a's heartbeat", kerr.RebalanceInProgress.Code, func() int16 { return heartbeat(c, "g", a.MemberID, 1) })
	a2 := join(c, "g", joinOpts{version: 3, member: a.MemberID})()
	b := bWait()
	if a2.Generation != 2 || b.Generation != 2 || a2.LeaderID != a.MemberID || len(a2.Members) != 2 || len(b.Members) != 0 {
		t.Fatalf("second generation: a %+v b %+v", a2, b)
	}
	// The follower's sync waits for the leader's.
	bSync := syncGroup(c, "g", b.MemberID, 2, nil)
	if s := syncGroup(c, "g", a.MemberID, 2, map[string]string{a.MemberID: "A", b.MemberID: "B"})(); string(s.MemberAssignment) != "A" {
		t.Fatalf("leader sync: %+v", s)
	}
	if s := bSync(); s.ErrorCode != 0 || string(s.MemberAssignment) != "B" {
		t.Fatalf("follower sync: %+v", s)
	}
	// b stops heartbeating: its session expires and a is told to rejoin.
	waitCode(t, "a's heartbeat after b's expiry", kerr.RebalanceInProgress.Code, func() int16 { return heartbeat(c, "g", a.MemberID, 2) })
	a3 := join(c, "g", joinOpts{version: 3, member: a.MemberID})()
	if a3.Generation != 3 || len(a3.Members) != 1 {
		t.Fatalf("after expiry: %+v", a3)
	}
	if code := heartbeat(c, "g", b.MemberID, 3); code != kerr.UnknownMemberID.Code {
		t.Errorf("expired member's heartbeat: %v", kerr.ErrorForCode(code))
	}
}

func TestRebalanceTimeoutDropsMembersThatDoNotRejoin(t *testing.T) {
	c := newTestCoordinator(t, nil, nil)
	o := joinOpts{version: 3, rebalance: 150 * time.Millisecond}
	a := join(c, "g", o)()
	bWait := join(c, "g", o)
	waitCode(t, "rebalance", kerr.RebalanceInProgress.Code, func() int16 { return heartbeat(c, "g", a.MemberID, 1) })
	ao := o
	ao.member = a.MemberID
	a2 := join(c, "g", ao)
	b := bWait()
	if a2().Generation != 2 || b.Generation != 2 {
		t.Fatal("no second generation")
	}
	// c joins; a rejoins but b never does: after the rebalance timeout the
	// generation completes without b.
	cWait := join(c, "g", o)
	waitCode(t, "rebalance", kerr.RebalanceInProgress.Code, func() int16 { return heartbeat(c, "g", a.MemberID, 2) })
	a3 := join(c, "g", ao)()
	cj := cWait()
	if a3.Generation != 3 || cj.Generation != 3 || len(a3.Members) != 2 {
		t.Fatalf("third generation: a %+v c %+v", a3, cj)
	}
	if code := heartbeat(c, "g", b.MemberID, 3); code != kerr.UnknownMemberID.Code {
		t.Errorf("dropped member's heartbeat: %v", kerr.ErrorForCode(code))
	}
}

func TestInitialRebalanceDelayGathersMembers(t *testing.T) {
	c := newTestCoordinator(t, nil, func(cfg *Config) { cfg.InitialRebalanceDelay = 300 * time.Millisecond })
	aWait := join(c, "g", joinOpts{version: 3})
	bWait := join(c, "g", joinOpts{version: 3})
	a, b := aWait(), bWait()
	if a.Generation != 1 || b.Generation != 1 {
		t.Fatalf("generations %d %d, want both 1 (%v %v)", a.Generation, b.Generation, kerr.ErrorForCode(a.ErrorCode), kerr.ErrorForCode(b.ErrorCode))
	}
	if n := len(a.Members) + len(b.Members); n != 2 {
		t.Fatalf("leader saw %d members, want 2", n)
	}
}

func TestMemberIDRequiredAndProtocolChoice(t *testing.T) {
	c := newTestCoordinator(t, nil, nil)
	r := join(c, "g", joinOpts{version: 4})()
	if r.ErrorCode != kerr.MemberIDRequired.Code || r.MemberID == "" {
		t.Fatalf("first v4 join: %+v", r)
	}
	r = join(c, "g", joinOpts{version: 4, member: r.MemberID, protos: []string{"cooperative-sticky", "range"}})()
	if r.ErrorCode != 0 || *r.Protocol != "cooperative-sticky" {
		t.Fatalf("join: %v protocol %v", kerr.ErrorForCode(r.ErrorCode), *r.Protocol)
	}

	g := newGroup("x", time.Now())
	for i, ps := range [][]string{{"a", "b"}, {"b", "a"}, {"b", "c", "a"}} {
		m := &member{id: strconv.Itoa(i)}
		for _, p := range ps {
			m.protocols = append(m.protocols, kmsg.JoinGroupRequestProtocol{Name: p})
		}
		g.members[m.id] = m
	}
	if p := g.selectProtocol(); p != "b" {
		t.Errorf("selected %q, want b (two votes)", p)
	}
}

func TestOffsetsReplayedAndExpired(t *testing.T) {
	dir := t.TempDir()
	logs := openLogs(t, dir, 3)
	now := time.Now()
	clock := func() time.Time { return now }
	c := newTestCoordinator(t, logs, func(cfg *Config) { cfg.Now = clock })
	commit := func(grp string, p int32, off int64) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.Generation = grp, -1
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: p, Offset: off}}}}
		return c.OffsetCommit(context.Background(), req)().(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
	}
	for i, grp := range []string{"a", "b", "c", "a"} {
		if code := commit(grp, int32(i%4), int64(10+i)); code != 0 {
			t.Fatalf("commit: %v", kerr.ErrorForCode(code))
		}
	}
	if code := commit("a", 9, 1); code != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("commit to a missing partition: %v", kerr.ErrorForCode(code))
	}
	c.Close()

	fetch := func(c *Coordinator, grp string) map[int32]int64 {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.SetVersion(7)
		req.Group = grp
		resp := c.OffsetFetch(context.Background(), req)().(*kmsg.OffsetFetchResponse)
		out := map[int32]int64{}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				out[p.Partition] = p.Offset
			}
		}
		return out
	}
	c2 := newTestCoordinator(t, logs, func(cfg *Config) { cfg.Now = clock; cfg.OffsetsRetention = time.Hour })
	if got := fetch(c2, "a"); len(got) != 2 || got[0] != 10 || got[3] != 13 {
		t.Fatalf("group a after replay: %v", got)
	}
	if got := fetch(c2, "b"); got[1] != 11 {
		t.Fatalf("group b after replay: %v", got)
	}
	now = now.Add(2 * time.Hour)
	if err := c2.ExpireNow(); err != nil {
		t.Fatal(err)
	}
	if got := fetch(c2, "a"); len(got) != 0 {
		t.Fatalf("group a after expiry: %v", got)
	}
	c2.Close()
	c3 := newTestCoordinator(t, logs, func(cfg *Config) { cfg.Now = clock })
	if got := fetch(c3, "b"); len(got) != 0 {
		t.Fatalf("expired offsets came back after replay: %v", got)
	}
}

func TestPartitionForMatchesJavaHash(t *testing.T) {
	// "a".hashCode() = 97; "ab".hashCode() = 97*31+98 = 3105.
	for grp, want := range map[string]int32{"a": 97 % 50, "ab": 3105 % 50, "": 0} {
		if got := PartitionFor(grp, 50); got != want {
			t.Errorf("PartitionFor(%q) = %d, want %d", grp, got, want)
		}
	}
}

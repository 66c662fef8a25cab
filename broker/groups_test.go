package broker

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupTestConfig makes groups form at once (no initial delay).
func groupTestConfig() Config {
	return Config{GroupInitialRebalanceDelay: -1}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seenSet records which produced values consumers saw.
type seenSet struct {
	mu   sync.Mutex
	seen map[string]int
}

func (s *seenSet) add(v string) {
	s.mu.Lock()
	s.seen[v]++
	s.mu.Unlock()
}

func (s *seenSet) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// groupConsumer runs a kgo group consumer until stopped.
type groupConsumer struct {
	cl   *kgo.Client
	done chan struct{}
}

func startConsumer(t *testing.T, addr, grp, topic string, seen *seenSet, opts ...kgo.Opt) *groupConsumer {
	t.Helper()
	base := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumerGroup(grp), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.HeartbeatInterval(100 * time.Millisecond),
		kgo.SessionTimeout(6 * time.Second), kgo.AutoCommitInterval(100 * time.Millisecond), kgo.FetchMaxWait(100 * time.Millisecond)}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	gc := &groupConsumer{cl: cl, done: make(chan struct{})}
	go func() {
		defer close(gc.done)
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
			fs.EachRecord(func(r *kgo.Record) { seen.add(string(r.Value)) })
		}
	}()
	return gc
}

// stop leaves the group (committing what was polled) and closes the client.
func (gc *groupConsumer) stop() {
	gc.cl.Close()
	<-gc.done
}

// watchCommits polls the group's committed offsets and fails the test if
// one goes backward.
func watchCommits(t *testing.T, adm *kadm.Client, grp string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := map[string]int64{}
		for ctx.Err() == nil {
			os, err := adm.FetchOffsets(ctx, grp)
			if err == nil {
				os.Each(func(o kadm.OffsetResponse) {
					k := o.Topic + "/" + strconv.Itoa(int(o.Partition))
					if o.At < last[k] {
						t.Errorf("committed offset of %s went back from %d to %d", k, last[k], o.At)
					}
					last[k] = o.At
				})
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}

func TestGroupConsumersShareAndResume(t *testing.T) {
	for _, tc := range []struct {
		name     string
		balancer kgo.GroupBalancer
	}{
		{"range", kgo.RangeBalancer()},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startServer(t, groupTestConfig())
			adm := newAdmin(t, addr)
			const topic, grp = "events", "workers"
			createTopic(t, adm, topic, 12, nil)
			prod, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic))
			if err != nil {
				t.Fatal(err)
			}
			defer prod.Close()
			produced := 0
			produce := func(n int) {
				for i := 0; i < n; i++ {
					v := fmt.Sprintf("r%05d", produced)
					produced++
					prod.Produce(context.Background(), &kgo.Record{Key: []byte(v), Value: []byte(v)}, func(_ *kgo.Record, err error) {
						if err != nil {
							t.Errorf("produce: %v", err)
						}
					})
				}
				if err := prod.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			seen := &seenSet{seen: map[string]int{}}
			stopWatch := watchCommits(t, adm, grp)
			opt := kgo.Balancers(tc.balancer)

			c1 := startConsumer(t, addr, grp, topic, seen, opt)
			c2 := startConsumer(t, addr, grp, topic, seen, opt)
			c3 := startConsumer(t, addr, grp, topic, seen, opt)
			produce(600)
			eventually(t, 30*time.Second, "first records", func() bool { return seen.count() >= 300 })
			c2.stop() // a member leaves while records flow
			produce(600)
			c4 := startConsumer(t, addr, grp, topic, seen, opt) // and another joins
			produce(600)
			eventually(t, 60*time.Second, "all records by the group", func() bool { return seen.count() == produced })
			c1.stop()
			c3.stop()
			c4.stop()

			// A new member resumes from the committed offsets: everything
			// produced from now on is seen, and little of the old.
			resumed := &seenSet{seen: map[string]int{}}
			produce(300)
			c5 := startConsumer(t, addr, grp, topic, resumed, opt)
			eventually(t, 30*time.Second, "records after resume", func() bool {
				resumed.mu.Lock()
				defer resumed.mu.Unlock()
				for i := produced - 300; i < produced; i++ {
					if resumed.seen[fmt.Sprintf("r%05d", i)] == 0 {
						return false
					}
				}
				return true
			})
			c5.stop()
			stopWatch()
			if n := resumed.count(); n > 300+12*50 {
				t.Errorf("the resumed member saw %d records: committed offsets were not used", n)
			}
			if seen.count() != produced-300 {
				t.Errorf("saw %d distinct records of %d", seen.count(), produced-300)
			}
		})
	}
}

func TestGroupStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	_, addr := startServer(t, groupTestConfig())
	adm := newAdmin(t, addr)
	const topic, grp = "static", "static-group"
	createTopic(t, adm, topic, 4, nil)
	seen := &seenSet{seen: map[string]int{}}
	var mu sync.Mutex
	revokedA := 0
	assigned := map[string]map[string][]int32{}
	track := func(name string) []kgo.Opt {
		return []kgo.Opt{
			kgo.InstanceID(name), kgo.Balancers(kgo.RangeBalancer()),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				assigned[name] = m
				mu.Unlock()
			}),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				if name == "a" && len(m) > 0 {
					revokedA++
				}
				mu.Unlock()
			}),
		}
	}
	a := startConsumer(t, addr, grp, topic, seen, track("a")...)
	defer a.stop()
	b := startConsumer(t, addr, grp, topic, seen, track("b")...)
	stable := func() bool {
		d, err := adm.DescribeGroups(context.Background(), grp)
		if err != nil {
			return false
		}
		g := d[grp]
		return g.State == "Stable" && len(g.Members) == 2
	}
	eventually(t, 30*time.Second, "two static members", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(assigned["a"][topic]) == 2 && len(assigned["b"][topic]) == 2 && stable()
	})
	mu.Lock()
	revokedBefore, bWas := revokedA, fmt.Sprint(assigned["b"])
	delete(assigned, "b")
	mu.Unlock()
	b.stop() // a static member does not leave on close
	b2 := startConsumer(t, addr, grp, topic, seen, track("b")...)
	defer b2.stop()
	eventually(t, 30*time.Second, "b back", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return assigned["b"] != nil
	})
	mu.Lock()
	defer mu.Unlock()
	if got := fmt.Sprint(assigned["b"]); got != bWas {
		t.Errorf("b came back with %s, had %s", got, bWas)
	}
	if revokedA != revokedBefore {
		t.Errorf("a was revoked %d times after b's return: the group rebalanced", revokedA-revokedBefore)
	}
}

func TestGroupOffsetsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	start := func() (*Server, string, chan error) {
		s, err := New(Config{DataDir: dir, Listen: "127.0.0.1:0", Logger: quietLogger, GroupInitialRebalanceDelay: -1})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Serve() }()
		return s, s.Addr().String(), done
	}
	s, addr, done := start()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "t", 3, nil)
	ctx := context.Background()
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "t", Partition: 0, At: 42, LeaderEpoch: -1, Metadata: "m0"})
	os.Add(kadm.Offset{Topic: "t", Partition: 2, At: 7, LeaderEpoch: -1})
	if resp, err := adm.CommitOffsets(ctx, "keep", os); err != nil || resp.Error() != nil {
		t.Fatalf("commit: %v %v", err, resp.Error())
	}
	var gone kadm.Offsets
	gone.Add(kadm.Offset{Topic: "t", Partition: 1, At: 5, LeaderEpoch: -1})
	if resp, err := adm.CommitOffsets(ctx, "gone", gone); err != nil || resp.Error() != nil {
		t.Fatalf("commit: %v %v", err, resp.Error())
	}
	if resp, err := adm.DeleteGroups(ctx, "gone"); err != nil || resp.Error() != nil {
		t.Fatalf("delete group: %v %v", err, resp.Error())
	}
	cl.Close()
	s.Close()
	<-done

	s, addr, done = start()
	defer func() { s.Close(); <-done }()
	cl, err = kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm = kadm.NewClient(cl)
	got, err := adm.FetchOffsets(ctx, "keep")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := got.Lookup("t", 0); o.At != 42 || o.Metadata != "m0" {
		t.Errorf("t/0 after restart: %+v", o)
	}
	if o, _ := got.Lookup("t", 2); o.At != 7 {
		t.Errorf("t/2 after restart: %+v", o)
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := groups["gone"]; ok {
		t.Errorf("deleted group came back after restart: %v", groups.Groups())
	}
	if _, ok := groups["keep"]; !ok {
		t.Errorf("group keep missing after restart: %v", groups.Groups())
	}
	md, err := adm.Metadata(ctx, "__consumer_offsets")
	if err != nil {
		t.Fatal(err)
	}
	if d := md.Topics["__consumer_offsets"]; !d.IsInternal || len(d.Partitions) != 50 {
		t.Errorf("__consumer_offsets: internal %v, %d partitions", d.IsInternal, len(d.Partitions))
	}
}

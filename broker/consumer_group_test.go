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

package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestCompactedTopicEndToEnd writes several values per key to a
// cleanup.policy=compact topic through the Kafka protocol, lets the
// broker's background loop compact it, and reads back only the latest value
// of each key at its original offset.
func TestCompactedTopicEndToEnd(t *testing.T) {
	_, addr := startServer(t, Config{RetentionCheck: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topic := "compacted"
	segBytes, dirty := "1024", "0.01"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"), "segment.bytes": &segBytes, "min.cleanable.dirty.ratio": &dirty,
	}, topic); err != nil {
		t.Fatal(err)
	}
	latest := map[string]int64{}
	for round := 0; round < 5; round++ {
		for k := 0; k < 10; k++ {
			key := fmt.Sprintf("k%d", k)
			r := &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(fmt.Sprintf("%s-v%d", key, round))}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
			latest[key] = r.Offset
		}
	}
	read := func() map[string]*kgo.Record {
		c, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		out := map[string]*kgo.Record{}
		first := time.Now().Add(15 * time.Second) // the first fetch may be slow on a loaded machine
		for {
			pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
			fs := c.PollFetches(pctx)
			pcancel()
			n := 0
			fs.EachRecord(func(r *kgo.Record) { out[string(r.Key)] = r; n++ })
			if n == 0 && (len(out) > 0 || time.Now().After(first)) {
				return out
			}
		}
	}
	// Wait until compaction has removed the overwritten values.
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := 0
		c, _ := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		for {
			fs := c.PollFetches(pctx)
			if pctx.Err() != nil {
				break
			}
			fs.EachRecord(func(*kgo.Record) { n++ })
		}
		pcancel()
		c.Close()
		if n > 0 && n < 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no compaction after 20s: still %d records", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := read()
	for key, off := range latest {
		r := got[key]
		want := fmt.Sprintf("%s-v4", key)
		if r == nil || string(r.Value) != want || r.Offset != off {
			t.Fatalf("key %s: got %+v, want %s at offset %d", key, r, want, off)
		}
	}
}

package topictool

import (
	"github.com/sluicedata/sluice/testkit"

	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestIntegration runs the whole `sluice topic` round trip against the Kafka
// broker named by SLUICE_TEST_BROKERS, or an embedded Sluice broker when it
// is empty: create, list, describe, produce three lines, consume them from
// the beginning, delete.
func TestIntegration(t *testing.T) {
	addr := os.Getenv("SLUICE_TEST_BROKERS")
	if addr == "" {
		addr = testkit.StartBroker(t).Addr()
	}
	brokers, err := ParseBrokers(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	newClient := func(opts ...kgo.Opt) *kgo.Client {
		t.Helper()
		cl, err := NewClient(ctx, brokers, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	adm := NewAdmin(newClient())
	topic := fmt.Sprintf("topictool-it-%d", time.Now().UnixNano())

	// create, with one config override that describe must show.
	cfg, err := ParseConfigs([]string{"retention.ms=3600000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(ctx, adm, topic, CreateOptions{Partitions: 2, ReplicationFactor: -1, Configs: cfg}); err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = Delete(context.Background(), adm, topic) })
	if _, err := Create(ctx, adm, topic, CreateOptions{Partitions: 1, ReplicationFactor: -1}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second create: got %v, want 'already exists'", err)
	}

	// list
	names, err := List(ctx, adm)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if !slices.Contains(names, topic) {
		t.Errorf("list: %q not in %q", topic, names)
	}

	// produce three lines with keys, all to partition 1.
	pcl := newClient(ProducerOpts(ProduceOptions{Partition: 1})...)
	in := "k1:one\nk2:two\nk3:three\n"
	n, err := Produce(ctx, pcl, topic, strings.NewReader(in), ProduceOptions{KeySeparator: ":", Partition: 1})
	if err != nil || n != 3 {
		t.Fatalf("produce: %d records, err %v; want 3, nil", n, err)
	}

	// describe: two partitions, the three records in partition 1, the override.
	d, err := Describe(ctx, adm, topic)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if len(d.Partitions) != 2 {
		t.Fatalf("describe: %d partitions, want 2", len(d.Partitions))
	}
	if p := d.Partitions[1]; p.LogStart != 0 || p.LogEnd != 3 {
		t.Errorf("describe: partition 1 offsets %d..%d, want 0..3", p.LogStart, p.LogEnd)
	}
	if p := d.Partitions[0]; p.LogEnd != 0 {
		t.Errorf("describe: partition 0 end offset %d, want 0", p.LogEnd)
	}
	if !slices.Contains(d.Configs, ConfigEntry{"retention.ms", "3600000"}) {
		t.Errorf("describe: configs %v lack retention.ms=3600000", d.Configs)
	}

	// consume from the beginning, stopping after three records.
	f, err := ParseFormat("%k=%v p%p o%o")
	if err != nil {
		t.Fatal(err)
	}
	// TODO(groups issue): consume in a group (Group: topic + "-group") once
	// the broker has consumer groups.
	copts := ConsumeOptions{FromBeginning: true, Count: 3, Idle: 20 * time.Second, Format: f}
	var out bytes.Buffer
	n, err = Consume(ctx, newClient(ConsumerOpts(topic, copts)...), topic, &out, copts)
	if err != nil || n != 3 {
		t.Fatalf("consume: %d records, err %v; want 3, nil", n, err)
	}
	want := "k1=one p1 o0\nk2=two p1 o1\nk3=three p1 o2\n"
	if out.String() != want {
		t.Errorf("consume output:\n%s\nwant:\n%s", out.String(), want)
	}

	// errors name the missing topic.
	if _, err := Describe(ctx, adm, topic+"-missing"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("describe missing topic: got %v, want 'not found'", err)
	}

	// delete; deleting again reports the topic as not found.
	if err := Delete(ctx, adm, topic); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := Delete(ctx, adm, topic); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("second delete: got %v, want 'not found'", err)
	}
}

package topictool

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ParseConfigs turns repeated `--config key=value` arguments into the map
// that CreateTopics takes. The value may be empty and may contain '=' and
// ',' (e.g. cleanup.policy=compact,delete); the key may not be empty and may
// not be given twice.
func ParseConfigs(args []string) (map[string]*string, error) {
	out := make(map[string]*string, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok:
			return nil, fmt.Errorf("--config %q: want key=value, e.g. retention.ms=86400000", a)
		case k == "":
			return nil, fmt.Errorf("--config %q: empty key before '='", a)
		case out[k] != nil:
			return nil, fmt.Errorf("--config %q: key %q given twice", a, k)
		}
		out[k] = &v
	}
	return out, nil
}

// CreateOptions are the settings of a new topic.
type CreateOptions struct {
	// Partitions is the partition count; it must be at least 1.
	Partitions int32
	// ReplicationFactor is the number of replicas; -1 asks the broker for
	// its default (needs CreateTopics v4+, which Sluice and Kafka 2.4+ serve).
	ReplicationFactor int16
	// Configs are topic-level config overrides, as from ParseConfigs.
	Configs map[string]*string
}

// Create creates one topic and returns the partition count the broker
// reports (0 when the broker is too old to say).
func Create(ctx context.Context, adm *kadm.Client, topic string, o CreateOptions) (int32, error) {
	if o.Partitions < 1 {
		return 0, fmt.Errorf("topic %q: --partitions must be at least 1, got %d", topic, o.Partitions)
	}
	resp, err := adm.CreateTopic(ctx, o.Partitions, o.ReplicationFactor, o.Configs, topic)
	if err != nil {
		return 0, withBrokerMessage(topicErr(topic, err), resp.ErrMessage)
	}
	return resp.NumPartitions, nil
}

// List returns the names of all non-internal topics, sorted.
func List(ctx context.Context, adm *kadm.Client) ([]string, error) {
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	return topics.Names(), nil
}

// Delete deletes the named topics. It tries every topic and returns one error
// naming each topic that could not be deleted, so `delete a b c` with a
// missing b still deletes a and c.
func Delete(ctx context.Context, adm *kadm.Client, topics ...string) error {
	resps, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	var errs []string
	for _, t := range topics {
		r, ok := resps[t]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("topic %q: missing from the broker's reply", t))
		case r.Err != nil:
			errs = append(errs, withBrokerMessage(topicErr(t, r.Err), r.ErrMessage).Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Description is what `sluice topic describe` shows about one topic.
type Description struct {
	Topic      string
	ID         string // Kafka's textual form: URL-safe base64, no padding; "" if the broker has no IDs
	Partitions []PartitionInfo
	// Configs holds the configs set on the topic itself (source
	// DYNAMIC_TOPIC_CONFIG), sorted by key. Broker defaults are left out so
	// that the output shows what makes this topic different.
	Configs []ConfigEntry
}

// PartitionInfo is one partition's leader and offsets. LogStart is the first
// offset still stored; LogEnd is the offset the next record will get, so
// LogEnd-LogStart records are readable.
type PartitionInfo struct {
	Partition int32
	Leader    int32
	Replicas  []int32
	LogStart  int64
	LogEnd    int64
}

// ConfigEntry is one topic config override. Sensitive values are shown as
// "[hidden]".
type ConfigEntry struct {
	Key, Value string
}

// Describe gathers metadata, log start and end offsets, and the topic-level
// configs of one topic.
func Describe(ctx context.Context, adm *kadm.Client, topic string) (Description, error) {
	td, err := requireTopic(ctx, adm, topic)
	if err != nil {
		return Description{}, err
	}
	d := Description{Topic: topic}
	if td.ID != (kadm.TopicID{}) {
		d.ID = base64.RawURLEncoding.EncodeToString(td.ID[:])
	}

	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return Description{}, fmt.Errorf("topic %q: list start offsets: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return Description{}, fmt.Errorf("topic %q: list end offsets: %w", topic, err)
	}
	for _, p := range td.Partitions.Sorted() {
		pi := PartitionInfo{Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, LogStart: -1, LogEnd: -1}
		if o, ok := starts.Lookup(topic, p.Partition); ok && o.Err == nil {
			pi.LogStart = o.Offset
		}
		if o, ok := ends.Lookup(topic, p.Partition); ok && o.Err == nil {
			pi.LogEnd = o.Offset
		}
		d.Partitions = append(d.Partitions, pi)
	}

	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return Description{}, fmt.Errorf("topic %q: describe configs: %w", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return Description{}, fmt.Errorf("topic %q: describe configs: %w", topic, err)
	}
	for _, c := range rc.Configs {
		if c.Source != kmsg.ConfigSourceDynamicTopicConfig {
			continue
		}
		v := c.MaybeValue()
		if c.Sensitive {
			v = "[hidden]"
		}
		d.Configs = append(d.Configs, ConfigEntry{Key: c.Key, Value: v})
	}
	sort.Slice(d.Configs, func(i, j int) bool { return d.Configs[i].Key < d.Configs[j].Key })
	return d, nil
}

// Write prints d for a human: a header, one row per partition, then the
// config overrides. Offsets the broker did not return print as "-".
func (d Description) Write(w io.Writer) error {
	id := d.ID
	if id == "" {
		id = "-"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Topic:\t%s\nTopicId:\t%s\nPartitions:\t%d\n\n", d.Topic, id, len(d.Partitions))
	fmt.Fprintln(tw, "PARTITION\tLEADER\tREPLICAS\tLOG-START\tLOG-END")
	for _, p := range d.Partitions {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", p.Partition, p.Leader, joinInt32(p.Replicas), offsetText(p.LogStart), offsetText(p.LogEnd))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.Configs) == 0 {
		_, err := fmt.Fprintln(w, "\nConfigs: (all defaults)")
		return err
	}
	fmt.Fprintln(w, "\nConfigs:")
	for _, c := range d.Configs {
		if _, err := fmt.Fprintf(w, "  %s=%s\n", c.Key, c.Value); err != nil {
			return err
		}
	}
	return nil
}

func offsetText(o int64) string {
	if o < 0 {
		return "-"
	}
	return fmt.Sprint(o)
}

func joinInt32(xs []int32) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// withBrokerMessage appends the broker's free-text error message, which
// often says exactly which config value was rejected.
func withBrokerMessage(err error, msg string) error {
	if err == nil || msg == "" || strings.Contains(err.Error(), msg) {
		return err
	}
	return fmt.Errorf("%w: %s", err, msg)
}

// NewAdmin wraps cl for admin requests. Closing the admin client closes cl.
func NewAdmin(cl *kgo.Client) *kadm.Client { return kadm.NewClient(cl) }

// requireTopic fails with "topic not found" when topic does not exist, so
// that produce and consume do not wait on a topic that will never appear.
// It returns the topic's metadata.
func requireTopic(ctx context.Context, adm *kadm.Client, topic string) (kadm.TopicDetail, error) {
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return kadm.TopicDetail{}, topicErr(topic, err)
	}
	td, ok := topics[topic]
	if !ok {
		return kadm.TopicDetail{}, topicErr(topic, kerr.UnknownTopicOrPartition)
	}
	return td, topicErr(topic, td.Err)
}

// Package kafka holds the Kafka replicator: a source connector that copies
// topics from another Kafka cluster, byte for byte, compatible with the keys
// of Confluent Replicator.
//
// Example (POST /connectors):
//
//	{"name": "dc1-mirror", "config": {
//	  "connector.class": "io.confluent.connect.replicator.ReplicatorSourceConnector",
//	  "src.kafka.bootstrap.servers": "dc1-kafka:9092",
//	  "dest.kafka.bootstrap.servers": "localhost:9092",
//	  "topic.regex": "orders.*", "topic.rename.format": "dc1.${topic}",
//	  "key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
//	  "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
//	  "header.converter": "org.apache.kafka.connect.converters.ByteArrayConverter"}}
package kafka

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
)

// Source partition and offset keys, as Confluent Replicator names them.
const (
	keyTopic     = "topic"
	keyPartition = "partition"
	keyOffset    = "offset"
)

// Task keys the connector adds to divide partitions among tasks.
const (
	keyTaskIndex = connect.TaskIndexKey
	keyTaskCount = connect.TaskCountKey
)

// Spec declares the replicator's configuration.
var Spec = connect.Spec{
	Name:    "kafka-replicator",
	Aliases: []string{"io.confluent.connect.replicator.ReplicatorSourceConnector", "ReplicatorSourceConnector", "ReplicatorSource", "replicator"},
	Kind:    connect.SourceKind,
	Version: "1.0.0",
	Doc: "Copies topics from another Kafka cluster: keys, values and headers as bytes (use ByteArrayConverter " +
		"for key.converter, value.converter and header.converter for a byte-exact copy), timestamps, and by default " +
		"the partition of each record. The source offset of a partition is the next offset to copy, so a restarted " +
		"task resumes where the runtime last committed. Each copied record carries the header " + OffsetHeader +
		" with its source offset, from which TranslateGroup computes a consumer group's destination offsets. " +
		"Topics whose names start with _ are skipped unless listed in topic.whitelist.",
	Fields: slices.Concat([]connect.FieldSpec{
		{Name: "src.kafka.bootstrap.servers", Type: connect.TypeList, Required: true, Importance: "HIGH", Group: "Source cluster",
			Doc: "host:port pairs of the cluster to copy from."},
		{Name: "topic.whitelist", Type: connect.TypeList, Importance: "HIGH", Group: "Topics",
			Doc: "Topics to copy. With topic.regex, topics matching either are copied."},
		{Name: "topic.regex", Type: connect.TypeString, Importance: "HIGH", Group: "Topics",
			Doc: "Regular expression (RE2, matching the whole name) of topics to copy.",
			Validate: func(v string) error {
				_, err := regexp.Compile(v)
				return err
			}},
		{Name: "topic.blacklist", Type: connect.TypeList, Importance: "MEDIUM", Group: "Topics",
			Doc: "Topics never to copy, even when they match."},
		{Name: "topic.rename.format", Type: connect.TypeString, Default: "${topic}", Importance: "HIGH", Group: "Topics",
			Doc: "Name of the destination topic; ${topic} is the source topic's name (${topic}.replica, dc1.${topic}).",
			Validate: func(v string) error {
				if !strings.Contains(v, "${topic}") {
					return errors.New("must contain ${topic}, or every topic would be copied into one")
				}
				return nil
			}},
		{Name: "topic.preserve.partitions", Type: connect.TypeBoolean, Default: "true", Importance: "MEDIUM", Group: "Topics",
			Doc: "Write each record to the partition it has in the source. The destination topic needs at least as many " +
				"partitions (topic.auto.create sees to that). false: the producer's partitioner chooses."},
		{Name: "topic.poll.interval.ms", Type: connect.TypeLong, Default: "120000", Importance: "LOW", Group: "Topics",
			Doc: "How often to look for new topics and partitions on the source cluster.", Validate: positive},
		{Name: "topic.auto.create", Type: connect.TypeBoolean, Default: "true", Importance: "MEDIUM", Group: "Destination cluster",
			Doc: "Create destination topics, with the source's partition count, before copying to them (and add partitions " +
				"when the source has more). Needs dest.kafka.bootstrap.servers."},
		{Name: "dest.kafka.bootstrap.servers", Type: connect.TypeList, Importance: "MEDIUM", Group: "Destination cluster",
			Doc: "host:port pairs of the destination cluster, for topic.auto.create. Empty: topics are created as the " +
				"runtime's producer would (broker auto-creation)."},
		{Name: "src.consumer.group.id", Type: connect.TypeString, Importance: "MEDIUM", Group: "Source cluster",
			Doc: "Group the copied offsets are committed to on the source cluster (for lag monitoring; the runtime's " +
				"offsets decide where a task resumes). Default: the connector's name."},
		{Name: "offset.topic.commit", Type: connect.TypeBoolean, Default: "true", Importance: "LOW", Group: "Source cluster",
			Doc: "Commit the copied offsets to src.consumer.group.id on the source cluster once the runtime committed them."},
		{Name: "src.consumer.auto.offset.reset", Type: connect.TypeString, Default: "earliest", Importance: "MEDIUM", Group: "Source cluster",
			Recommended: []string{"earliest", "latest"},
			Doc:         "Where to start in a partition with no stored offset (or when the stored one is out of range)."},
		{Name: "src.consumer.max.poll.records", Type: connect.TypeInt, Default: "1000", Importance: "LOW", Group: "Source cluster",
			Doc: "Maximum records returned by one poll.", Validate: positive},
		{Name: "tasks.max", Type: connect.TypeInt, Default: "1", Importance: "HIGH", Group: "Common",
			Doc: "Number of tasks; partitions are spread over them by a hash of topic and partition.", Validate: positive},
	}, securityFields("src.kafka.", "Source cluster"), securityFields("dest.kafka.", "Destination cluster")),
}

func positive(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

func init() {
	connect.Register(connect.Plugin{Spec: Spec, NewSource: func() connect.SourceConnector { return connector{} }})
}

func validate(cfg connect.Config) error {
	errs := Spec.Validate(cfg)
	if cfg["topic.whitelist"] == "" && cfg["topic.regex"] == "" {
		errs = append(errs, connect.FieldError{Field: "topic.whitelist", Message: "set topic.whitelist or topic.regex to choose the topics to copy"})
	}
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return fmt.Errorf("%s: %w", Spec.Name, errors.Join(out...))
}

type connector struct{}

func (connector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	return connect.SplitByIndex(cfg, maxTasks), nil
}

func (connector) NewTask() connect.SourceTask { return &task{} }

type tp struct {
	topic     string
	partition int32
}

type task struct {
	whitelist    []string
	blacklist    []string
	regex        *regexp.Regexp
	rename       string
	preserve     bool
	interval     time.Duration
	autoCreate   bool
	group        string
	commit       bool
	resetLatest  bool
	maxPoll      int
	index, count uint32

	tc         connect.TaskContext
	src        *kgo.Client
	srcAdm     *kadm.Client
	dst        *kgo.Client // nil without dest.kafka.bootstrap.servers
	dstAdm     *kadm.Client
	assigned   map[tp]bool
	partitions map[tp]map[string]any // source partition maps, shared by the records
	mu         sync.Mutex            // guards polled: Commit may run beside Poll
	polled     map[tp]int64          // next offset after the records returned by Poll
	lastScan   time.Time
}

func (t *task) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	if err := validate(cfg); err != nil {
		return err
	}
	t.tc = tc
	t.whitelist = cfg.List(&Spec, "topic.whitelist")
	t.blacklist = cfg.List(&Spec, "topic.blacklist")
	if r := cfg["topic.regex"]; r != "" {
		t.regex = regexp.MustCompile("^(?:" + r + ")$")
	}
	t.rename = cfg.String(&Spec, "topic.rename.format")
	t.preserve = cfg.Bool(&Spec, "topic.preserve.partitions")
	t.interval = time.Duration(cfg.Int(&Spec, "topic.poll.interval.ms")) * time.Millisecond
	t.group = cfg["src.consumer.group.id"]
	if t.group == "" {
		t.group = tc.Connector()
	}
	t.commit = cfg.Bool(&Spec, "offset.topic.commit")
	t.resetLatest = strings.EqualFold(cfg.String(&Spec, "src.consumer.auto.offset.reset"), "latest")
	t.maxPoll = int(cfg.Int(&Spec, "src.consumer.max.poll.records"))
	idx, _ := strconv.ParseUint(cfg[keyTaskIndex], 10, 32)
	cnt, _ := strconv.ParseUint(cfg[keyTaskCount], 10, 32)
	t.index, t.count = uint32(idx), uint32(max(cnt, 1))
	t.assigned, t.partitions, t.polled = map[tp]bool{}, map[tp]map[string]any{}, map[tp]int64{}

	reset := kgo.NewOffset().AtStart()
	if t.resetLatest {
		reset = kgo.NewOffset().AtEnd()
	}
	srcSec, err := securityOpts(cfg, "src.kafka.")
	if err != nil {
		return fmt.Errorf("kafka-replicator: %w", err)
	}
	destSec, err := securityOpts(cfg, "dest.kafka.")
	if err != nil {
		return fmt.Errorf("kafka-replicator: %w", err)
	}
	t.src, err = kgo.NewClient(append(srcSec,
		kgo.SeedBrokers(cfg.List(&Spec, "src.kafka.bootstrap.servers")...),
		kgo.ClientID("sluice-replicator-"+tc.Connector()),
		kgo.ConsumeResetOffset(reset),
		kgo.FetchMaxWait(500*time.Millisecond),
		// Partitions found by a scan are consumed at once, not after the
		// default 5s between metadata refreshes.
		kgo.MetadataMinAge(250*time.Millisecond),
	)...)
	if err != nil {
		return fmt.Errorf("kafka-replicator: source client: %w", err)
	}
	t.srcAdm = kadm.NewClient(t.src)
	if dest := cfg.List(&Spec, "dest.kafka.bootstrap.servers"); len(dest) > 0 {
		t.dst, err = kgo.NewClient(append(destSec, kgo.SeedBrokers(dest...), kgo.ClientID("sluice-replicator-admin-"+tc.Connector()))...)
		if err != nil {
			t.src.Close()
			return fmt.Errorf("kafka-replicator: destination client: %w", err)
		}
		t.dstAdm = kadm.NewClient(t.dst)
		t.autoCreate = cfg.Bool(&Spec, "topic.auto.create")
	}
	// The first scan runs in Poll: Start must not wait for a cluster that
	// may be unreachable for a while.
	return nil
}

// DestTopic is the destination name of a source topic under a
// topic.rename.format.
func DestTopic(format, topic string) string { return strings.ReplaceAll(format, "${topic}", topic) }

func (t *task) matches(topic string) bool {
	if slices.Contains(t.blacklist, topic) {
		return false
	}
	if slices.Contains(t.whitelist, topic) {
		return true
	}
	// Internal topics (__consumer_offsets, _schemas, _connect-offsets ...)
	// are copied only when named explicitly.
	return t.regex != nil && !strings.HasPrefix(topic, "_") && t.regex.MatchString(topic)
}

func (t *task) owns(p tp) bool {
	if t.count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(p.topic))
	h.Write([]byte{0, byte(p.partition >> 24), byte(p.partition >> 16), byte(p.partition >> 8), byte(p.partition)})
	return h.Sum32()%t.count == t.index
}

// scan finds the source partitions this task copies and starts consuming
// new ones at their stored offsets.
func (t *task) scan(ctx context.Context) error {
	t.lastScan = time.Now()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	topics, err := t.srcAdm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("kafka-replicator: list source topics: %w", err)
	}
	add := map[string]map[int32]kgo.Offset{}
	for _, td := range topics.Sorted() {
		if td.Err != nil || !t.matches(td.Topic) {
			continue
		}
		if t.autoCreate && t.preserve {
			if err := t.ensureDest(ctx, td.Topic, len(td.Partitions)); err != nil {
				return err
			}
		}
		for _, pd := range td.Partitions.Sorted() {
			p := tp{td.Topic, pd.Partition}
			if t.assigned[p] || !t.owns(p) {
				continue
			}
			part := map[string]any{keyTopic: p.topic, keyPartition: int64(p.partition)}
			off, err := t.tc.Offset(part)
			if err != nil {
				return fmt.Errorf("kafka-replicator: offset of %s-%d: %w", p.topic, p.partition, err)
			}
			at, from := kgo.NewOffset().AtStart(), "earliest"
			if t.resetLatest {
				at, from = kgo.NewOffset().AtEnd(), "latest"
			}
			if off != nil {
				n, err := offsetInt(off, keyOffset)
				if err != nil {
					return fmt.Errorf("kafka-replicator: stored offset of %s-%d: %w", p.topic, p.partition, err)
				}
				at, from = kgo.NewOffset().At(n), strconv.FormatInt(n, 10)
			}
			if add[p.topic] == nil {
				add[p.topic] = map[int32]kgo.Offset{}
			}
			add[p.topic][p.partition] = at
			t.assigned[p] = true
			t.partitions[p] = part
			t.tc.Logger().Info("copying partition", "topic", p.topic, "partition", p.partition,
				"to", DestTopic(t.rename, p.topic), "from", from)
		}
	}
	if len(add) > 0 {
		t.src.AddConsumePartitions(add)
	}
	return nil
}

// ensureDest creates the destination topic with n partitions, or grows it
// to n.
func (t *task) ensureDest(ctx context.Context, topic string, n int) error {
	dest := DestTopic(t.rename, topic)
	resp, err := t.dstAdm.CreateTopic(ctx, int32(n), -1, nil, dest)
	if err == nil {
		err = resp.Err
	}
	if err == nil {
		t.tc.Logger().Info("created destination topic", "topic", dest, "partitions", n)
		return nil
	}
	if !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("kafka-replicator: create destination topic %s: %w", dest, err)
	}
	details, err := t.dstAdm.ListTopics(ctx, dest)
	if err != nil {
		return fmt.Errorf("kafka-replicator: describe destination topic %s: %w", dest, err)
	}
	if have := len(details[dest].Partitions); have < n {
		r, err := t.dstAdm.UpdatePartitions(ctx, n, dest)
		if err == nil {
			err = r.Error()
		}
		if err != nil {
			return fmt.Errorf("kafka-replicator: grow destination topic %s from %d to %d partitions: %w", dest, have, n, err)
		}
		t.tc.Logger().Info("added partitions to destination topic", "topic", dest, "partitions", n)
	}
	return nil
}

func offsetInt(off map[string]any, key string) (int64, error) {
	switch v := off[key].(type) {
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case float64:
		return int64(v), nil
	case interface{ Int64() (int64, error) }:
		return v.Int64()
	case nil:
		return 0, fmt.Errorf("%s is missing", key)
	default:
		return 0, fmt.Errorf("%s is a %T, not a number", key, v)
	}
}

var bytesSchema = &connect.Schema{Type: connect.Bytes, Optional: true}

func (t *task) Poll(ctx context.Context) ([]*connect.Record, error) {
	for {
		if t.lastScan.IsZero() || time.Since(t.lastScan) >= t.interval {
			if err := t.scan(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, nil
				}
				// Unreachable cluster, missing rights ...: say so and try
				// again at the next interval; partitions found so far go on.
				retry := min(t.interval, 5*time.Second)
				t.lastScan = time.Now().Add(retry - t.interval)
				t.tc.Logger().Warn("scanning topics failed; retrying", "err", err, "in", retry)
			}
		}
		pctx, cancel := context.WithTimeout(ctx, t.interval-time.Since(t.lastScan))
		fetches := t.src.PollRecords(pctx, t.maxPoll)
		cancel()
		if ctx.Err() != nil {
			return nil, nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			t.tc.Logger().Warn("fetch from source cluster failed", "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		out := make([]*connect.Record, 0, fetches.NumRecords())
		recs := make([]connect.Record, fetches.NumRecords())
		fetches.EachRecord(func(r *kgo.Record) {
			rec := &recs[len(out)]
			t.convert(r, rec)
			out = append(out, rec)
		})
		t.mu.Lock()
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 {
				t.polled[tp{p.Topic, p.Partition}] = p.Records[n-1].Offset + 1
			}
		})
		t.mu.Unlock()
		return out, nil
	}
}

// convert copies source record r into rec.
func (t *task) convert(r *kgo.Record, rec *connect.Record) {
	p := tp{r.Topic, r.Partition}
	rec.Topic = DestTopic(t.rename, r.Topic)
	rec.Partition = -1
	if t.preserve {
		rec.Partition = r.Partition
	}
	if r.Key != nil {
		rec.Key, rec.KeySchema = r.Key, bytesSchema
	}
	rec.ValueSchema = bytesSchema
	if r.Value != nil {
		rec.Value = r.Value
	}
	rec.Timestamp = r.Timestamp
	rec.Headers = make([]connect.Header, 0, len(r.Headers)+1)
	for _, h := range r.Headers {
		rec.Headers = append(rec.Headers, connect.Header{Key: h.Key, Value: h.Value, Schema: bytesSchema})
	}
	rec.Headers = append(rec.Headers, connect.Header{Key: OffsetHeader,
		Value: strconv.AppendInt(nil, r.Offset, 10), Schema: bytesSchema})
	rec.SourcePartition = t.partitions[p]
	rec.SourceOffset = map[string]any{keyOffset: r.Offset + 1}
}

// Commit commits the copied offsets to the source group, for monitoring.
// Failures are logged: the runtime's offsets are what a restart uses.
func (t *task) Commit(ctx context.Context) error {
	if !t.commit || len(t.polled) == 0 {
		return nil
	}
	offs := kadm.Offsets{}
	t.mu.Lock()
	for p, o := range t.polled {
		offs.AddOffset(p.topic, p.partition, o, -1)
	}
	t.mu.Unlock()
	resp, err := t.srcAdm.CommitOffsets(ctx, t.group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.tc.Logger().Warn("commit to the source group failed", "group", t.group, "err", err)
	}
	return nil
}

func (t *task) Stop() error {
	if t.src != nil {
		t.src.Close()
	}
	if t.dst != nil {
		t.dst.Close()
	}
	return nil
}

package broker

// Topic configuration: the keys a topic accepts, their Kafka defaults and
// documentation, validation, and how they map onto the storage log's
// settings. Keys that have no effect on a single node (replication, flush
// tuning) are accepted and stored so that tools which set them keep working.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/broker/storage"
)

type configType int8

// Config types as DescribeConfigs v3+ reports them.
const (
	typeBoolean  configType = 1
	typeString   configType = 2
	typeInt      configType = 3
	typeLong     configType = 5
	typeDouble   configType = 6
	typeList     configType = 7
	typePassword configType = 8
)

type configDef struct {
	name  string
	def   string
	typ   configType
	doc   string
	check func(string) error
	apply func(*storage.Config, string) // nil: stored only
}

func longRange(minV, maxV int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		if n < minV || n > maxV {
			return fmt.Errorf("%d is outside [%d, %d]", n, minV, maxV)
		}
		return nil
	}
}

func oneOf(vals ...string) func(string) error {
	return func(v string) error {
		for _, x := range vals {
			if strings.EqualFold(v, x) {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(vals, ", "))
	}
}

func listOf(vals ...string) func(string) error {
	one := oneOf(vals...)
	return func(v string) error {
		for _, part := range strings.Split(v, ",") {
			if err := one(strings.TrimSpace(part)); err != nil {
				return err
			}
		}
		return nil
	}
}

func isBool(v string) error { return oneOf("true", "false")(v) }

func isRatio(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("%q is not a number in [0, 1]", v)
	}
	return nil
}

func ms(v string) time.Duration {
	n, _ := strconv.ParseInt(v, 10, 64)
	if n < 0 {
		return -1
	}
	return time.Duration(n) * time.Millisecond
}

func i64(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }

const maxInt = 1<<31 - 1

var topicConfigDefs = []configDef{
	{"cleanup.policy", "delete", typeList, "delete: drop old segments by retention.ms/retention.bytes; compact: keep the latest record per key; both may be combined.",
		listOf("delete", "compact"), func(c *storage.Config, v string) {
			c.Delete, c.Compact = strings.Contains(v, "delete"), strings.Contains(v, "compact")
		}},
	{"retention.ms", "604800000", typeLong, "How long a closed segment is kept after its newest record; -1 keeps forever.",
		longRange(-1, 1<<62), func(c *storage.Config, v string) { c.RetentionAge = ms(v) }},
	{"retention.bytes", "-1", typeLong, "Largest size of a partition before its oldest segments are deleted; -1 for no limit.",
		longRange(-1, 1<<62), func(c *storage.Config, v string) { c.RetentionBytes = i64(v) }},
	{"segment.bytes", "1073741824", typeInt, "Size at which the active segment is closed and a new one started.",
		longRange(14, maxInt), func(c *storage.Config, v string) { c.SegmentBytes = i64(v) }},
	{"segment.ms", "604800000", typeLong, "Age at which the active segment is closed even if not full.",
		longRange(1, 1<<62), func(c *storage.Config, v string) { c.SegmentAge = ms(v) }},
	{"max.message.bytes", "1048588", typeInt, "Largest record batch the topic accepts.",
		longRange(0, maxInt), func(c *storage.Config, v string) { c.MaxMessageBytes = int32(i64(v)) }},
	{"message.timestamp.type", "CreateTime", typeString, "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock.",
		oneOf("CreateTime", "LogAppendTime"), func(c *storage.Config, v string) { c.LogAppendTime = strings.EqualFold(v, "LogAppendTime") }},
	{"min.compaction.lag.ms", "0", typeLong, "Records younger than this are never compacted.",
		longRange(0, 1<<62), func(c *storage.Config, v string) { c.MinCompactionLag = ms(v) }},
	{"delete.retention.ms", "86400000", typeLong, "How long tombstones are kept on a compacted topic.",
		longRange(0, 1<<62), func(c *storage.Config, v string) { c.DeleteRetention = ms(v) }},
	{"min.cleanable.dirty.ratio", "0.5", typeDouble, "Share of not-yet-compacted bytes that triggers compaction.",
		isRatio, func(c *storage.Config, v string) { c.MinCleanableDirty, _ = strconv.ParseFloat(v, 64) }},
	// Broker-side schema validation (schema_validation.go).
	{"confluent.key.schema.validation", "false", typeBoolean, "Refuse records whose key does not carry a schema id registered under <topic>-key.", isBool, nil},
	{"confluent.value.schema.validation", "false", typeBoolean, "Refuse records whose value does not carry a schema id registered under <topic>-value.", isBool, nil},
	// Accepted and reported, without effect on one node.
	{"compression.type", "producer", typeString, "Batches are stored as the producer compressed them.", oneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"), nil},
	{"min.insync.replicas", "1", typeInt, "Single node: always satisfied.", longRange(1, maxInt), nil},
	{"unclean.leader.election.enable", "false", typeBoolean, "Single node: no effect.", isBool, nil},
	{"segment.index.bytes", "10485760", typeInt, "Accepted for compatibility; indexes grow as needed.", longRange(4, maxInt), nil},
	{"index.interval.bytes", "4096", typeInt, "Accepted for compatibility; the index interval is 4096 bytes.", longRange(0, maxInt), nil},
	{"segment.jitter.ms", "0", typeLong, "Accepted for compatibility.", longRange(0, 1<<62), nil},
	{"file.delete.delay.ms", "60000", typeLong, "Accepted for compatibility; deleted segments stay readable for a minute.", longRange(0, 1<<62), nil},
	{"flush.messages", "9223372036854775807", typeLong, "Accepted for compatibility; every acknowledged acks=all batch is fsynced.", longRange(1, 1<<63-1), nil},
	{"flush.ms", "9223372036854775807", typeLong, "Accepted for compatibility; every acknowledged acks=all batch is fsynced.", longRange(0, 1<<63-1), nil},
	{"max.compaction.lag.ms", "9223372036854775807", typeLong, "Accepted for compatibility.", longRange(1, 1<<63-1), nil},
	{"message.timestamp.difference.max.ms", "9223372036854775807", typeLong, "Accepted for compatibility.", longRange(0, 1<<63-1), nil},
	{"message.timestamp.before.max.ms", "9223372036854775807", typeLong, "Accepted for compatibility.", longRange(0, 1<<63-1), nil},
	{"message.timestamp.after.max.ms", "9223372036854775807", typeLong, "Accepted for compatibility.", longRange(0, 1<<63-1), nil},
	{"message.downconversion.enable", "true", typeBoolean, "Accepted for compatibility; only v2 batches exist.", isBool, nil},
	{"preallocate", "false", typeBoolean, "Accepted for compatibility.", isBool, nil},
	{"local.retention.ms", "-2", typeLong, "Accepted for compatibility (no tiered storage).", longRange(-2, 1<<62), nil},
	{"local.retention.bytes", "-2", typeLong, "Accepted for compatibility (no tiered storage).", longRange(-2, 1<<62), nil},
	{"remote.storage.enable", "false", typeBoolean, "Accepted for compatibility (no tiered storage).", isBool, nil},
	{"follower.replication.throttled.replicas", "", typeList, "Single node: no effect.", func(string) error { return nil }, nil},
	{"leader.replication.throttled.replicas", "", typeList, "Single node: no effect.", func(string) error { return nil }, nil},
}

var topicConfigIndex = func() map[string]*configDef {
	m := make(map[string]*configDef, len(topicConfigDefs))
	for i := range topicConfigDefs {
		m[topicConfigDefs[i].name] = &topicConfigDefs[i]
	}
	return m
}()

// validateTopicConfig checks one key and value.
func validateTopicConfig(name string, value *string) error {
	def, ok := topicConfigIndex[name]
	if !ok {
		return fmt.Errorf("unknown topic config name: %s", name)
	}
	if value == nil {
		return fmt.Errorf("null value not allowed for %s", name)
	}
	if err := def.check(*value); err != nil {
		return fmt.Errorf("invalid value for %s: %v", name, err)
	}
	return nil
}

// effectiveConfig folds a topic's overrides into Kafka's defaults.
func effectiveConfig(overrides map[string]string) storage.Config {
	c := storage.DefaultConfig()
	for _, def := range topicConfigDefs {
		if def.apply == nil {
			continue
		}
		v, ok := overrides[def.name]
		if !ok {
			v = def.def
		}
		def.apply(&c, v)
	}
	return c
}

func sortedConfigNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

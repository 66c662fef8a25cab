package storage

import "time"

// Config holds the per-topic settings the log obeys. The broker validates
// and persists them; the log reads the current value on every decision, so
// changes apply without reopening the log.
type Config struct {
	SegmentBytes      int64         // segment.bytes: roll when the active segment would exceed this
	SegmentAge        time.Duration // segment.ms: roll when the active segment is older than this
	RetentionAge      time.Duration // retention.ms: delete closed segments older than this (<0: forever)
	RetentionBytes    int64         // retention.bytes: delete oldest segments while the log is larger (<0: no limit)
	Compact           bool          // cleanup.policy includes compact
	Delete            bool          // cleanup.policy includes delete
	MaxMessageBytes   int32         // max.message.bytes: largest batch accepted
	LogAppendTime     bool          // message.timestamp.type=LogAppendTime
	MinCompactionLag  time.Duration // min.compaction.lag.ms
	DeleteRetention   time.Duration // delete.retention.ms: how long tombstones survive compaction
	MinCleanableDirty float64       // min.cleanable.dirty.ratio
}

// DefaultConfig is Kafka's default topic configuration.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:      1 << 30,
		SegmentAge:        7 * 24 * time.Hour,
		RetentionAge:      7 * 24 * time.Hour,
		RetentionBytes:    -1,
		Delete:            true,
		MaxMessageBytes:   1048588,
		DeleteRetention:   24 * time.Hour,
		MinCleanableDirty: 0.5,
	}
}

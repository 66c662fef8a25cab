// Package broker benchmarks the Sluice broker against two baselines on the
// same machine: the raw disk (sequential writes with fdatasync per group, the
// physical limit of a group commit) and NATS JetStream with per-write sync.
//
// Run starts `sluice dev` as a subprocess, drives it as any Kafka client
// would (franz-go, acks=all, no compression), and prints a table for the
// terminal plus a Markdown table for docs/benchmarks.md. It measures; it
// asserts nothing.
package broker

import (
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Options says what to run. Zero fields take the values of DefaultOptions,
// except LatencyRate and TxnE2ERate, whose zero skips their run (start from
// DefaultOptions to have them).
type Options struct {
	// SluiceBinary is the sluice executable started as `sluice dev`.
	// Empty means os.Executable().
	SluiceBinary string
	// Brokers, if set, benchmarks an already running Kafka-compatible
	// broker at these addresses instead of starting sluice dev; no RSS is
	// reported then.
	Brokers []string

	// Records is the count produced in each throughput run (one per entry
	// of Partitions).
	Records int
	// RecordSize is the value size in bytes; records have no key.
	RecordSize int
	// Partitions lists the partition counts of the throughput topics.
	Partitions []int
	// PhaseTimeout bounds each timed broker phase (a throughput run, the
	// consume of one topic): a phase that has not finished by then stops
	// and reports what it did.
	PhaseTimeout time.Duration

	// BaselineTimeout bounds each baseline phase (one disk chunk size,
	// the NATS run) the way PhaseTimeout bounds the broker's: their rates
	// settle within seconds, and a slow disk would otherwise take minutes.
	BaselineTimeout time.Duration

	// LatencyRate is the paced produce rate of the latency run, records/s;
	// zero skips it.
	LatencyRate int
	// LatencyDuration is how long the latency run produces.
	LatencyDuration time.Duration
	// LatencyPartitions is the partition count of the latency run's
	// topic; zero means the largest of Partitions.
	LatencyPartitions int

	// TxnSizes are the transaction sizes (records per transaction) of the
	// transactional produce runs; empty skips them.
	TxnSizes []int
	// TxnE2ERate is the paced rate, records/s, of the end-to-end run
	// (transactions of the first TxnSizes size, read_committed consumer);
	// zero skips it.
	TxnE2ERate int
	// TxnRounds is how many rounds the transactional comparison runs: each
	// round is one idempotent run and one transactional run per TxnSizes
	// entry, every phase on a fresh topic after the disk settled, the
	// order alternating between rounds; the ratio is of the medians.
	TxnRounds int

	// Producers is the number of producer clients (each its own
	// connection and goroutine) in the throughput runs.
	Producers int
	// Linger is the producer linger (kgo.ProducerLinger); zero means
	// DefaultOptions' and a negative value none.
	Linger time.Duration
	// BatchMaxBytes is the producer's maximum batch size.
	BatchMaxBytes int
	// DisableIdempotence turns off the idempotent producer (it is on by
	// default, as in Kafka clients since 3.0).
	DisableIdempotence bool

	// DiskChunkSizes are the write sizes of the raw disk baseline; each
	// size writes up to DiskBytes with an fdatasync after every write.
	DiskChunkSizes []int
	// DiskBytes is the total written per chunk size. Zero means
	// Records*RecordSize, the same bytes as one throughput run.
	DiskBytes int64

	// NATSServer is the nats-server executable.
	NATSServer string
	// NATSMaxPending bounds the JetStream async publishes awaiting an ack.
	NATSMaxPending int

	// SkipSluice, SkipDisk and SkipNATS leave a part out.
	SkipSluice, SkipDisk, SkipNATS bool

	// TempDir is where data directories go; empty means os.TempDir().
	// The disk baseline writes here, so it measures this filesystem.
	TempDir string
	// Logger receives progress lines; nil discards them.
	Logger *slog.Logger
}

// DefaultOptions is the full run: about four minutes on two cores, most of
// it bounded by PhaseTimeout rather than by the counts.
func DefaultOptions() Options {
	return Options{
		Records:         1_000_000,
		RecordSize:      1024,
		Partitions:      []int{1, 8},
		PhaseTimeout:    30 * time.Second,
		BaselineTimeout: 10 * time.Second,
		LatencyRate:     150_000,
		LatencyDuration: 5 * time.Second,
		TxnSizes:        []int{100, 1000},
		TxnE2ERate:      10_000,
		TxnRounds:       4,
		Producers:       2,
		Linger:          1 * time.Millisecond,
		BatchMaxBytes:   1 << 20,
		DiskChunkSizes:  []int{16 << 10, 64 << 10, 256 << 10, 1 << 20},
		NATSServer:      "/usr/sbin/nats-server",
		NATSMaxPending:  4096,
	}
}

// QuickOptions is a run small enough for CI, about 20 seconds: it shows the
// whole path works and gives rough figures, not ones to publish.
func QuickOptions() Options {
	o := DefaultOptions()
	o.Records = 100_000
	o.PhaseTimeout = 5 * time.Second
	o.BaselineTimeout = 3 * time.Second
	o.LatencyRate = 20_000
	o.LatencyDuration = 2 * time.Second
	o.TxnE2ERate = 2_000
	o.TxnRounds = 1
	o.DiskChunkSizes = []int{64 << 10, 1 << 20}
	o.DiskBytes = 32 << 20
	return o
}

// withDefaults fills zero fields from DefaultOptions and checks the rest.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.Records == 0 {
		o.Records = d.Records
	}
	if o.RecordSize == 0 {
		o.RecordSize = d.RecordSize
	}
	if len(o.Partitions) == 0 {
		o.Partitions = d.Partitions
	}
	if o.PhaseTimeout == 0 {
		o.PhaseTimeout = d.PhaseTimeout
	}
	if o.BaselineTimeout == 0 {
		o.BaselineTimeout = d.BaselineTimeout
	}
	if o.LatencyDuration == 0 {
		o.LatencyDuration = d.LatencyDuration
	}
	if o.LatencyPartitions == 0 {
		o.LatencyPartitions = slices.Max(o.Partitions)
	}
	if o.TxnRounds == 0 {
		o.TxnRounds = d.TxnRounds
	}
	if o.Producers == 0 {
		o.Producers = d.Producers
	}
	switch {
	case o.Linger == 0:
		o.Linger = d.Linger
	case o.Linger < 0:
		o.Linger = 0 // none, said with a negative value
	}
	if o.BatchMaxBytes == 0 {
		o.BatchMaxBytes = d.BatchMaxBytes
	}
	if len(o.DiskChunkSizes) == 0 {
		o.DiskChunkSizes = d.DiskChunkSizes
	}
	if o.DiskBytes == 0 {
		o.DiskBytes = int64(o.Records) * int64(o.RecordSize)
	}
	if o.NATSServer == "" {
		o.NATSServer = d.NATSServer
	}
	if o.NATSMaxPending == 0 {
		o.NATSMaxPending = d.NATSMaxPending
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}

	switch {
	case o.Records < 0:
		return o, fmt.Errorf("records must be positive, got %d", o.Records)
	case o.RecordSize < 1 || o.RecordSize > 1<<20:
		return o, fmt.Errorf("record size must be between 1 and 1048576 bytes, got %d", o.RecordSize)
	case o.LatencyRate < 0:
		return o, fmt.Errorf("latency rate must be positive, got %d", o.LatencyRate)
	case o.LatencyPartitions < 0:
		return o, fmt.Errorf("latency partitions must be positive, got %d", o.LatencyPartitions)
	case o.TxnE2ERate < 0:
		return o, fmt.Errorf("transactional end-to-end rate must be positive, got %d", o.TxnE2ERate)
	case o.TxnRounds < 0:
		return o, fmt.Errorf("transactional rounds must be positive, got %d", o.TxnRounds)
	case o.Producers < 0:
		return o, fmt.Errorf("producers must be positive, got %d", o.Producers)
	case o.BatchMaxBytes < o.RecordSize+100:
		return o, fmt.Errorf("batch max bytes %d cannot hold one %d-byte record", o.BatchMaxBytes, o.RecordSize)
	}
	for _, p := range o.Partitions {
		if p < 1 {
			return o, fmt.Errorf("partition counts must be at least 1, got %d", p)
		}
	}
	for _, n := range o.TxnSizes {
		if n < 1 {
			return o, fmt.Errorf("transaction sizes must be at least 1, got %d", n)
		}
	}
	for _, c := range o.DiskChunkSizes {
		if c < 512 {
			return o, fmt.Errorf("disk chunk sizes must be at least 512 bytes, got %d", c)
		}
	}
	return o, nil
}

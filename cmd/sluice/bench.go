package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	benchbroker "github.com/sluicedata/sluice/bench/broker"
	"github.com/sluicedata/sluice/bench/connectpipe"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run benchmarks on this machine",
	}
	cmd.AddCommand(newBenchBrokerCmd(), newBenchConnectCmd(), newBenchNexmarkCmd())
	return cmd
}

func newBenchBrokerCmd() *cobra.Command {
	var (
		o     = benchbroker.DefaultOptions()
		quick bool
	)
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Benchmark the broker against the raw disk and NATS JetStream",
		Long: `Starts 'sluice dev' on free loopback ports with a temporary data directory,
produces 1 KiB records with acks=all to a 1- and an 8-partition topic, measures
produce latency at a fixed rate, consumes everything back, and compares with
two baselines on the same filesystem: sequential writes with fdatasync per
write (the limit of group commit) and NATS JetStream with per-write sync.

Prints a table, then the same figures as Markdown for docs/benchmarks.md.
The default run takes about four minutes; --quick about twenty seconds.`,
		Example: `  sluice bench broker
  sluice bench broker --quick --skip-nats
  go build -o /tmp/sluice ./cmd/sluice && sluice bench broker --sluice-binary /tmp/sluice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if quick {
				// Start from the quick sizes; flags given explicitly win.
				q := benchbroker.QuickOptions()
				f := cmd.Flags()
				keep := func(name string) bool { return f.Changed(name) }
				if !keep("records") {
					o.Records = q.Records
				}
				if !keep("phase-timeout") {
					o.PhaseTimeout = q.PhaseTimeout
				}
				if !keep("baseline-timeout") {
					o.BaselineTimeout = q.BaselineTimeout
				}
				if !keep("latency-rate") {
					o.LatencyRate = q.LatencyRate
				}
				if !keep("txn-e2e-rate") {
					o.TxnE2ERate = q.TxnE2ERate
				}
				if !keep("txn-rounds") {
					o.TxnRounds = q.TxnRounds
				}
				if !keep("latency-duration") {
					o.LatencyDuration = q.LatencyDuration
				}
				if !keep("disk-chunk-sizes") {
					o.DiskChunkSizes = q.DiskChunkSizes
				}
				if !keep("disk-bytes") {
					o.DiskBytes = q.DiskBytes
				}
			}
			if cmd.Flags().Changed("linger") && o.Linger == 0 {
				o.Linger = -1 // Options' way to say none
			}
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return benchbroker.Run(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&quick, "quick", false, "small counts and short phases (about 20s), for CI")
	f.StringVar(&o.SluiceBinary, "sluice-binary", "", "sluice executable to start as 'sluice dev' (default: this one)")
	f.StringSliceVar(&o.Brokers, "brokers", nil, "benchmark this running Kafka-compatible broker instead of starting sluice dev")
	f.IntVar(&o.Records, "records", o.Records, "records per throughput run (and NATS messages)")
	f.IntVar(&o.RecordSize, "record-size", o.RecordSize, "record value size in bytes")
	f.IntSliceVar(&o.Partitions, "partitions", o.Partitions, "partition counts of the throughput topics, one run each")
	f.DurationVar(&o.PhaseTimeout, "phase-timeout", o.PhaseTimeout, "longest a single phase may run before it stops and reports")
	f.DurationVar(&o.BaselineTimeout, "baseline-timeout", o.BaselineTimeout, "longest each baseline phase (a disk write size, NATS) may run")
	f.IntVar(&o.LatencyRate, "latency-rate", o.LatencyRate, "records/s of the paced latency run (0 skips it)")
	f.DurationVar(&o.LatencyDuration, "latency-duration", o.LatencyDuration, "length of the latency run")
	f.IntVar(&o.LatencyPartitions, "latency-partitions", 0, "partitions of the latency run's topic (default the largest of --partitions)")
	f.IntSliceVar(&o.TxnSizes, "txn-sizes", o.TxnSizes, "records per transaction of the transactional produce runs (empty skips them)")
	f.IntVar(&o.TxnRounds, "txn-rounds", o.TxnRounds, "rounds of the transactional comparison (idempotent and transactional runs, alternating, each after the disk settled; medians reported)")
	f.IntVar(&o.TxnE2ERate, "txn-e2e-rate", o.TxnE2ERate, "records/s of the transactional end-to-end latency run (0 skips it)")
	f.IntVar(&o.Producers, "producers", o.Producers, "producer clients in the throughput runs")
	f.DurationVar(&o.Linger, "linger", o.Linger, "producer linger (0: none)")
	f.IntVar(&o.BatchMaxBytes, "batch-max-bytes", o.BatchMaxBytes, "producer batch size limit in bytes")
	f.BoolVar(&o.DisableIdempotence, "disable-idempotence", false, "produce without the idempotent producer")
	f.IntSliceVar(&o.DiskChunkSizes, "disk-chunk-sizes", o.DiskChunkSizes, "write sizes in bytes of the disk baseline")
	f.Int64Var(&o.DiskBytes, "disk-bytes", 0, "bytes written per disk chunk size (default records x record size)")
	f.StringVar(&o.NATSServer, "nats-server", o.NATSServer, "nats-server executable of the NATS baseline (2.10+ syncs every write)")
	f.BoolVar(&o.SkipSluice, "skip-sluice", false, "leave out the broker runs")
	f.BoolVar(&o.SkipDisk, "skip-disk", false, "leave out the raw disk baseline")
	f.BoolVar(&o.SkipNATS, "skip-nats", false, "leave out the NATS JetStream baseline")
	f.StringVar(&o.TempDir, "temp-dir", "", "directory for data (default the system temp dir); the disk figures are of its filesystem")
	return cmd
}

func newBenchConnectCmd() *cobra.Command {
	o := connectpipe.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Benchmark Connect pipelines against kcat",
		Long: `Starts 'sluice dev' on free loopback ports with a temporary data directory and
runs, through the Kafka Connect REST API:

  datagen (orders) -> topic -> file sink, against kcat -P -l producing the
  sink's output file into a topic, and against the same kcat -P with a
  kcat -C writing that topic to a file at once (kcat must be in PATH);
  two JSON-lines file sources -> a sink whose chain drops one topic's records
  (Filter + TopicNameMatches) and maps the others (ReplaceField, InsertField,
  Cast) -> file sink, in records per CPU second of the sluice process.

Prints a table, then the same figures as Markdown for docs/benchmarks.md.`,
		Example: `  sluice bench connect
  sluice bench connect --records 200000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return connectpipe.Run(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Records, "records", o.Records, "records per pipeline")
	f.StringVar(&o.SluiceBinary, "sluice-binary", "", "sluice executable to start as 'sluice dev' (default: this one)")
	f.StringVar(&o.Kcat, "kcat", "", "kcat executable (default: kcat in PATH)")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "limit for each pipeline")
	f.BoolVar(&o.SkipFilterMap, "skip-filter-map", false, "leave out the JSON file source -> filter + map -> file sink row")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the sluice process over the first --profile-seconds of the datagen -> topic -> file sink row")
	f.StringVar(&o.AllocProfile, "allocprofile", "", "write the allocations of the sluice process over the same span as --cpuprofile")
	f.IntVar(&o.ProfileSeconds, "profile-seconds", o.ProfileSeconds, "length of the --cpuprofile and --allocprofile profiles")
	return cmd
}

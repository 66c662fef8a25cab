package main

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/bench/nexmark"
)

func newBenchNexmarkCmd() *cobra.Command {
	o := nexmark.DefaultOptions()
	var baseTime, cpuProfile string
	cmd := &cobra.Command{
		Use:   "nexmark",
		Short: "Benchmark the SQL engine with Nexmark q3, q5, q7 and q8 (q0 and q1 as baselines)",
		Long: `Generates Nexmark events with the standard generator (people, auctions and bids
in proportion 1:3:46, the suite's ids, skew, prices and sizes; seeded), then runs
each query twice:

  in process: the exec pipelines driven directly, stateful operators on Local
  state; CPU of this process, with the events already encoded: what the
  operators cost;

  in sluice dev: a subprocess on free loopback ports with a temporary data
  directory; the events are loaded into the topics nexmark-person,
  nexmark-auction and nexmark-bid (JSON values), and each query runs as
  persistent queries from the earliest offset through the ksqlDB REST API until
  their consumer groups have caught up. Events per core divides the events
  consumed by the CPU time of the sluice process (/proc utime+stime).

Then restores a key-value store from a changelog on the same broker and prints
the restore rate in MB/s and seconds per GB. A query the engine cannot run yet
is reported with the reason. Prints a table, then Markdown for
docs/benchmarks.md.`,
		Example: `  sluice bench nexmark
  sluice bench nexmark --in-process --events 2000000
  sluice bench nexmark --queries q0,q3 --events 200000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Generator.BaseTime = time.Now().Truncate(time.Minute).UnixMilli()
			if baseTime != "" {
				t, err := time.Parse(time.RFC3339, baseTime)
				if err != nil {
					return err
				}
				o.Generator.BaseTime = t.UnixMilli()
			}
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			if o.InProcess && o.ServerOnly {
				return errors.New("--in-process and --server-only exclude each other")
			}
			if cpuProfile != "" {
				stopProfile, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return nexmark.Run(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Events, "events", o.Events, "events to generate (people, auctions and bids together)")
	f.StringSliceVar(&o.Queries, "queries", nil, "queries to run (default q0,q1,q3,q5,q7,q8)")
	f.BoolVar(&o.InProcess, "in-process", false, "run only the in-process mode (no sluice dev)")
	f.BoolVar(&o.ServerOnly, "server-only", false, "run only the sluice dev mode (A/B runs of server binaries with --sluice-binary)")
	f.Int64Var(&o.Generator.Seed, "seed", o.Generator.Seed, "generator seed")
	f.Int64Var(&o.Generator.EventRate, "event-rate", o.Generator.EventRate, "events per second of event time (the published Flink runs: 10000000 over 8 generators)")
	f.StringVar(&baseTime, "base-time", "", "event time of the first event, RFC 3339 (default: now, to the minute; old times fall to topic retention)")
	f.StringVar(&o.SluiceBinary, "sluice-binary", "", "sluice executable to start as 'sluice dev' (default: this one)")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "longest a query may take to catch up in sluice dev")
	f.Int64Var(&o.RestoreBytes, "restore-bytes", o.RestoreBytes, "changelog bytes of the restore measurement (0 skips it)")
	f.StringVar(&o.TempDir, "temp-dir", "", "directory for data (default the system temp dir)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process to the file (covers --in-process runs; "+
		"sluice dev runs in its own process)")
	f.StringVar(&o.ServerCPUProfile, "server-cpuprofile", "", "write a CPU profile of the sluice dev process to the file (from its start to its stop, "+
		"loading included: run one query to see its costs; the --sluice-binary must know --cpuprofile)")
	return cmd
}

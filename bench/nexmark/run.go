package nexmark

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options configure `sluice bench nexmark`.
type Options struct {
	Events       int      // events generated (all kinds)
	Queries      []string // names from Queries; empty: all
	InProcess    bool     // only the in-process mode
	ServerOnly   bool     // only the sluice dev mode
	Generator    Config
	SluiceBinary string        // started as `sluice dev`
	Timeout      time.Duration // per query in the server
	RestoreBytes int64         // changelog size of the restore measurement; 0 skips it
	TempDir      string
	// ServerCPUProfile, when set, is passed to sluice dev as --cpuprofile:
	// a CPU profile of the whole server process (loading included),
	// written when it stops.
	ServerCPUProfile string
	Logger           *slog.Logger
}

// DefaultOptions: 1M events at the generator's defaults, every query.
func DefaultOptions() Options {
	return Options{Events: 1_000_000, Generator: DefaultConfig(), Timeout: 10 * time.Minute, RestoreBytes: 256 << 20}
}

// Report is what a run measured.
type Report struct {
	Events    *Events
	InProcess []Result
	Server    []Result
	ServerErr error // the server could not be started or loaded
	Restore   *RestoreResult
	Load      string
}

// Run generates the events, runs the queries in process and then in a
// `sluice dev` subprocess (unless o.InProcess), and writes the tables.
func Run(ctx context.Context, o Options, out io.Writer) error {
	if o.Events < 1 {
		return fmt.Errorf("--events must be at least 1, got %d", o.Events)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var qs []Query
	for _, name := range o.Queries {
		q, ok := QueryByName(strings.ToLower(strings.TrimSpace(name)))
		if !ok {
			var names []string
			for _, q := range Queries {
				names = append(names, q.Name)
			}
			return fmt.Errorf("unknown query %q: the benchmark has %s", name, strings.Join(names, ", "))
		}
		qs = append(qs, q)
	}
	if len(qs) == 0 {
		qs = Queries
	}
	if o.SluiceBinary == "" && !o.InProcess {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the sluice binary: %w", err)
		}
		o.SluiceBinary = exe
	}
	dir, err := os.MkdirTemp(o.TempDir, "sluice-bench-nexmark-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	o.Logger.Info("generating events", "events", o.Events)
	ev, err := Generate(o.Generator, o.Events)
	if err != nil {
		return err
	}
	rep := &Report{Events: ev}
	for _, q := range qs {
		if o.ServerOnly {
			break
		}
		o.Logger.Info("in process", "query", q.Name)
		r := RunInProcess(ctx, q, ev, dir)
		rep.InProcess = append(rep.InProcess, r)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if !o.InProcess {
		rep.ServerErr = runAllServer(ctx, o, qs, ev, dir, rep)
	}
	rep.Load = loadAverage()
	writeReport(out, o, rep)
	return nil
}

func runAllServer(ctx context.Context, o Options, qs []Query, ev *Events, dir string, rep *Report) error {
	s, err := startSluice(ctx, o.SluiceBinary, dir, o.ServerCPUProfile)
	if err != nil {
		return err
	}
	defer s.stop()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	o.Logger.Info("loading events", "events", len(ev.Records), "addr", s.addr)
	if err := load(ctx, cl, ev); err != nil {
		return fmt.Errorf("loading the events: %w", err)
	}
	if _, err := s.execute(ctx, DDL); err != nil {
		return fmt.Errorf("declaring the sources: %w", err)
	}
	for _, q := range qs {
		o.Logger.Info("in sluice dev", "query", q.Name)
		rep.Server = append(rep.Server, runServer(ctx, s, adm, q, ev, o.Timeout))
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if o.RestoreBytes > 0 {
		o.Logger.Info("restore", "bytes", o.RestoreBytes)
		r := measureRestore(ctx, s, o.RestoreBytes, dir)
		rep.Restore = &r
	}
	return nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func writeReport(w io.Writer, o Options, rep *Report) {
	ev := rep.Events
	cfg := o.Generator.withDefaults()
	fmt.Fprintf(w, "Nexmark: %d events (%d people, %d auctions, %d bids; %.1f MB of JSON), seed %d, %d events/s of event time (%s of event time)\n",
		len(ev.Records), ev.Count[KindPerson], ev.Count[KindAuction], ev.Count[KindBid], float64(ev.Bytes)/1e6,
		cfg.Seed, cfg.EventRate, ev.Span.Round(time.Millisecond))
	fmt.Fprintf(w, "Load average %s on %d CPUs.\n", rep.Load, runtime.NumCPU())
	table := func(title, cpuOf string, rs []Result) {
		fmt.Fprintf(w, "\n%s (CPU: %s)\n", title, cpuOf)
		fmt.Fprintf(w, "%-4s %10s %10s %9s %12s %8s %14s  %s\n", "q", "events", "outputs", "wall", "events/s", "cpu", "events/s/core", "")
		for _, r := range rs {
			if r.Err != nil {
				fmt.Fprintf(w, "%-4s cannot run: %s\n", r.Query, indent(r.Err.Error()))
				continue
			}
			fmt.Fprintf(w, "%-4s %10d %10d %9s %12.0f %8s %14.0f\n", r.Query, r.Events, r.Outputs,
				r.Wall.Round(time.Millisecond), r.PerSec(), r.CPU.Round(10*time.Millisecond), r.PerCore())
		}
	}
	table("In process: exec pipelines with Local state, no broker", "this process, events already encoded", rep.InProcess)
	if !o.InProcess {
		if rep.ServerErr != nil {
			fmt.Fprintf(w, "\nsluice dev: %v\n", rep.ServerErr)
		}
		if len(rep.Server) > 0 {
			table("sluice dev: persistent queries from the earliest offset, through the ksqlDB REST API", "the sluice process, broker included", rep.Server)
		}
		if r := rep.Restore; r != nil {
			if r.Err != nil {
				fmt.Fprintf(w, "\nState restore: %v\n", r.Err)
			} else {
				fmt.Fprintf(w, "\nState restore: %.1f MB of changelog (%d records) in %s: %.1f MB/s, %.1f s per GB; CPU %s (restorer and broker), %.0f MB per CPU second\n",
					float64(r.Bytes)/1e6, r.Records, r.Wall.Round(time.Millisecond), r.MBPerSec(), r.SecondsPerGB(),
					r.CPU.Round(10*time.Millisecond), r.MBPerCPUSecond())
			}
		}
	}

	fmt.Fprintf(w, "\nMarkdown (load average %s on %d CPUs, %d events):\n\n", rep.Load, runtime.NumCPU(), len(ev.Records))
	fmt.Fprintln(w, "| Query | mode | events | outputs | events/s | CPU s | events/s per core |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|")
	md := func(mode string, rs []Result) {
		for _, r := range rs {
			if r.Err != nil {
				fmt.Fprintf(w, "| %s | %s | cannot run yet | | | | |\n", r.Query, mode)
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %d | %d | %.0f | %.2f | %.0f |\n", r.Query, mode, r.Events, r.Outputs, r.PerSec(), r.CPU.Seconds(), r.PerCore())
		}
	}
	md("in process", rep.InProcess)
	md("sluice dev", rep.Server)
	if r := rep.Restore; r != nil && r.Err == nil {
		fmt.Fprintf(w, "\nState restore: %.0f MB/s of changelog, %.1f s per GB (%.0f MB per CPU second).\n", r.MBPerSec(), r.SecondsPerGB(), r.MBPerCPUSecond())
	}
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n     ") }

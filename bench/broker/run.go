package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sluicedata/sluice/bench/devproc"
)

// Run measures what o asks for and writes the report to w, first as a
// table for the terminal, then as Markdown. A part that fails does not stop
// the others: Run reports what it measured and returns the failures joined.
func Run(ctx context.Context, o Options, w io.Writer) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp(o.TempDir, "sluice-bench-*")
	if err != nil {
		return fmt.Errorf("make a temporary directory (set --temp-dir): %w", err)
	}
	defer os.RemoveAll(root)
	o.TempDir = root

	rep := &Report{
		Started: time.Now(),
		Machine: machine(root),
		Setup: fmt.Sprintf("%d-byte records without keys, acks=all, no compression, idempotent=%t, linger %s, batches up to %s, %d producer clients; MB = 10^6 bytes",
			o.RecordSize, !o.DisableIdempotence, o.Linger, fmtSize(float64(o.BatchMaxBytes)), o.Producers),
	}
	if fsType(root) == "tmpfs" {
		rep.Notes = append(rep.Notes, "the temporary directory is on tmpfs: fsync costs nothing there, so no figure says anything about a disk; use --temp-dir")
	}

	var errs []error
	var value []byte
	if !o.SkipSluice {
		kb, err := runKafka(ctx, o, rep)
		if err != nil {
			errs = append(errs, fmt.Errorf("sluice broker: %w", err))
			rep.failed("sluice broker", err)
		}
		if kb != nil {
			value = kb.value
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !o.SkipDisk {
		if err := runDisk(ctx, o, rep); err != nil {
			errs = append(errs, fmt.Errorf("disk baseline: %w", err))
			rep.failed("disk baseline", err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !o.SkipNATS {
		if value == nil {
			kb, err := newKafkaBench(o, nil)
			if err != nil {
				return err
			}
			value = kb.value
		}
		if err := runNATS(ctx, o, value, rep); err != nil {
			errs = append(errs, fmt.Errorf("NATS baseline: %w", err))
			rep.failed("NATS baseline", err)
		}
	}

	if err := rep.WriteText(w); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nMarkdown for docs/benchmarks.md:")
	fmt.Fprintln(w)
	if err := rep.WriteMarkdown(w); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// runKafka starts sluice dev (unless o.Brokers names a running broker) and
// runs the produce, latency and consume phases against it.
func runKafka(ctx context.Context, o Options, rep *Report) (*kafkaBench, error) {
	brokers := o.Brokers
	var srv *process
	var metricsURL string
	system := "sluice"
	if len(brokers) == 0 {
		var err error
		srv, brokers, metricsURL, err = startSluiceWithMetrics(ctx, o)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		// If the broker dies, stop waiting on it at once.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-srv.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		time.Sleep(time.Second) // let start-up work settle before "idle"
		if m, err := readMemory(srv.pid()); err == nil {
			rep.Memory = append(rep.Memory, MemoryRow{Process: "sluice dev", When: "idle after start", Memory: m})
		}
	} else {
		system = "broker " + strings.Join(brokers, ",")
	}
	// A dead broker explains any error better than the client does.
	wrap := func(err error) error {
		if srv != nil && srv.exited() {
			return fmt.Errorf("sluice dev exited (%v) during the run: %w; its output:\n%s", srv.err, err, indent(srv.out.String()))
		}
		return err
	}

	kb, err := newKafkaBench(o, brokers)
	if err != nil {
		return nil, err
	}
	// What the broker spent on a phase, when it is ours: CPU time (the
	// figure that the other processes on a shared machine disturb least)
	// and syncs.
	usage := func() brokerUsage {
		var u brokerUsage
		if srv == nil {
			return u
		}
		cpu, err := devproc.CPUTime(srv.pid())
		u.cpu, u.ok = cpu, err == nil
		waits, err := brokerWaits(metricsURL)
		syncs, found := waits["sync"]
		if err != nil || !found {
			u.ok = false
		}
		u.syncs, u.waits = syncs.count, waits
		return u
	}
	suffix := ""
	if srv == nil { // someone else's broker: do not collide with earlier runs
		suffix = fmt.Sprintf("-%d", time.Now().Unix())
	}
	type written struct {
		topic      string
		partitions int
		records    int64
	}
	var topics []written
	if srv == nil {
		defer func() {
			names := make([]string, len(topics))
			for i, t := range topics {
				names[i] = t.topic
			}
			if err := kb.deleteTopics(context.WithoutCancel(ctx), names); err != nil {
				o.Logger.Warn("could not delete the benchmark topics", "topics", names, "err", err)
			}
		}()
	}

	for _, parts := range o.Partitions {
		topic := fmt.Sprintf("bench-%dp%s", parts, suffix)
		if err := kb.createTopic(ctx, topic, parts); err != nil {
			return kb, wrap(err)
		}
		topics = append(topics, written{topic: topic, partitions: parts})
		o.Logger.Info("producing", "topic", topic, "records", o.Records, "timeout", o.PhaseTimeout)
		u0 := usage()
		res, err := kb.produce(ctx, topic, o.Records)
		if err != nil {
			return kb, wrap(err)
		}
		topics[len(topics)-1].records = res.Records + int64(o.Producers) // and the warm-up records
		note := fmt.Sprintf("mean batch %s, mean request %s", fmtSize(res.BatchSize), fmtSize(res.ReqSize))
		note += u0.note(usage(), res.Records, 0)
		if res.TimedOut {
			note += fmt.Sprintf("; stopped at the %s phase limit", o.PhaseTimeout)
		}
		if res.Failed > 0 {
			note += fmt.Sprintf("; %d records failed: %v", res.Failed, res.FirstErr)
		}
		rep.Rows = append(rep.Rows, Row{System: system, Test: fmt.Sprintf("produce, %d %s", parts, plural(parts, "partition")),
			Throughput: res.Throughput, Note: note})
		rep.requestSizes = append(rep.requestSizes, res.ReqSize)
	}

	// Read back what the throughput runs wrote, before the transactional
	// comparison deletes their topics.
	for _, t := range topics {
		o.Logger.Info("consuming from the start", "topic", t.topic, "records", t.records)
		res, err := kb.consume(ctx, t.topic, t.partitions, t.records)
		if err != nil {
			return kb, wrap(err)
		}
		note := ""
		if res.TimedOut {
			note = fmt.Sprintf("stopped at the %s phase limit, %s of %s records read",
				o.PhaseTimeout, fmtInt(float64(res.Records)), fmtInt(float64(res.Expected)))
		}
		rep.Rows = append(rep.Rows, Row{System: system, Test: fmt.Sprintf("consume, %d %s", t.partitions, plural(t.partitions, "partition")),
			Throughput: res.Throughput, Note: note})

		raw, err := kb.rawFetch(ctx, t.topic, t.partitions, t.records)
		if err != nil {
			return kb, wrap(err)
		}
		note = "Fetch requests without record decoding: the broker's serving rate (MB/s counts whole batches)"
		if raw.TimedOut {
			note += fmt.Sprintf("; stopped at the %s phase limit", o.PhaseTimeout)
		}
		rep.Rows = append(rep.Rows, Row{System: system, Test: fmt.Sprintf("raw fetch, %d %s", t.partitions, plural(t.partitions, "partition")),
			Throughput: raw.Throughput, Note: note})
	}

	// Transactions: the same records as idempotent produce on the largest
	// partition count, compared in rounds on equal footing (compare.go).
	if len(o.TxnSizes) > 0 {
		parts := slices.Max(o.Partitions)
		var phases []comparePhase
		phase := func(round, size int) error {
			// Every phase starts with no benchmark data on the disk: the
			// earlier topics (read back already) are deleted.
			if len(topics) > 0 {
				names := make([]string, len(topics))
				for i, t := range topics {
					names[i] = t.topic
				}
				if err := kb.deleteTopics(ctx, names); err != nil {
					return fmt.Errorf("delete %v before the next phase: %w", names, err)
				}
				topics = topics[:0]
			}
			took, dirty := settle(ctx)
			topic := fmt.Sprintf("bench-cmp%d-idem-%dp%s", round, parts, suffix)
			if size > 0 {
				topic = fmt.Sprintf("bench-cmp%d-txn%d-%dp%s", round, size, parts, suffix)
			}
			if err := kb.createTopic(ctx, topic, parts); err != nil {
				return err
			}
			topics = append(topics, written{topic: topic, partitions: parts})
			o.Logger.Info("comparison phase", "round", round, "per_txn", size, "topic", topic, "records", o.Records,
				"settled_in", took.Round(time.Millisecond), "dirty_bytes", dirty)
			u0 := usage()
			var res produceResult
			var err error
			if size > 0 {
				res, err = kb.transactional(ctx, topic, o.Records, size)
			} else {
				res, err = kb.produce(ctx, topic, o.Records)
			}
			if err != nil {
				return err
			}
			phases = append(phases, comparePhase{round: round, size: size, res: res, usage: u0.note(usage(), res.Records, res.Txns)})
			return nil
		}
		for round := 1; round <= o.TxnRounds; round++ {
			order := append([]int{0}, o.TxnSizes...)
			if round%2 == 0 {
				slices.Reverse(order)
			}
			for _, size := range order {
				if err := phase(round, size); err != nil {
					return kb, wrap(err)
				}
			}
		}
		for _, p := range phases {
			res := p.res
			test := fmt.Sprintf("produce, %d %s, round %d", parts, plural(parts, "partition"), p.round)
			note := "idempotent"
			if p.size > 0 {
				test = fmt.Sprintf("transactions of %d, %d %s, round %d", p.size, parts, plural(parts, "partition"), p.round)
				note = "commit after each transaction"
				if res.TxnPhases != (txnPhases{}) {
					note += "; " + res.TxnPhases.String()
				}
			}
			note += p.usage
			if res.TimedOut {
				note += fmt.Sprintf("; stopped at the %s phase limit", o.PhaseTimeout)
			}
			if res.FirstErr != nil {
				note += fmt.Sprintf("; stopped by an error: %v", res.FirstErr)
			}
			rep.Rows = append(rep.Rows, Row{System: system, Test: test, Throughput: res.Throughput, Note: note})
		}
		for _, size := range o.TxnSizes {
			txnRate, _, note := compareSummary(phases, size)
			var t Throughput
			if txnRate > 0 {
				t = Throughput{Records: int64(o.Records), Bytes: int64(o.Records) * int64(o.RecordSize),
					Duration: time.Duration(float64(o.Records) / txnRate * float64(time.Second))}
			}
			rep.Rows = append(rep.Rows, Row{System: system, Test: fmt.Sprintf("transactions of %d vs idempotent, %d %s", size, parts, plural(parts, "partition")),
				Throughput: t, Note: note})
		}
		if o.TxnE2ERate > 0 {
			topic := "bench-txn-e2e" + suffix
			if err := kb.createTopic(ctx, topic, parts); err != nil {
				return kb, wrap(err)
			}
			topics = append(topics, written{topic: topic, partitions: parts})
			size := o.TxnSizes[0]
			o.Logger.Info("end-to-end through transactions", "topic", topic, "rate", o.TxnE2ERate, "per_txn", size)
			lat, err := kb.endToEnd(ctx, topic, o.TxnE2ERate, size, o.LatencyDuration)
			if err != nil {
				return kb, wrap(err)
			}
			rep.Rows = append(rep.Rows, Row{System: system, Test: fmt.Sprintf("end-to-end, transactions of %d", size), Latency: lat,
				Note: fmt.Sprintf("paced at %s records/s; Produce call to read_committed consumer", fmtInt(float64(o.TxnE2ERate)))})
		}
	}

	if o.LatencyRate > 0 && o.LatencyDuration > 0 {
		parts := o.LatencyPartitions
		topic := "bench-latency" + suffix
		if err := kb.createTopic(ctx, topic, parts); err != nil {
			return kb, wrap(err)
		}
		topics = append(topics, written{topic: topic, partitions: parts})
		o.Logger.Info("producing at a fixed rate", "topic", topic, "rate", o.LatencyRate, "duration", o.LatencyDuration)
		var before map[float64]uint64
		if metricsURL != "" {
			before, _ = produceHistogram(metricsURL)
		}
		res, err := kb.latency(ctx, topic)
		if err != nil {
			return kb, wrap(err)
		}
		if before != nil {
			if after, err := produceHistogram(metricsURL); err == nil {
				defer func() {
					rep.Rows = append(rep.Rows, Row{System: system, Test: fmt.Sprintf("broker-side produce latency, %d %s", parts, plural(parts, "partition")),
						Latency: histogramSummary(before, after),
						Note:    "same run, from the broker's request histogram (read to response written, incl. fsync); bucket upper bounds"})
				}()
			}
		}
		note := fmt.Sprintf("paced at %s records/s; latency from Produce call to ack", fmtInt(float64(o.LatencyRate)))
		if res.Failed > 0 {
			note += fmt.Sprintf("; %d records failed: %v", res.Failed, res.FirstErr)
		}
		rep.Rows = append(rep.Rows, Row{System: system, Test: fmt.Sprintf("produce latency, %d %s", parts, plural(parts, "partition")),
			Throughput: res.Throughput, Latency: res.Latency, Note: note})
	}

	if srv != nil {
		if m, err := readMemory(srv.pid()); err == nil {
			rep.Memory = append(rep.Memory, MemoryRow{Process: "sluice dev", When: "after the run", Memory: m})
		}
	}
	return kb, nil
}

// startSluice runs `sluice dev` on free loopback ports with a fresh data
// directory and waits until its Kafka listener accepts connections.
func startSluice(ctx context.Context, o Options) (*process, []string, error) {
	p, brokers, _, err := startSluiceWithMetrics(ctx, o)
	return p, brokers, err
}

// startSluiceWithMetrics is startSluice that also returns the /metrics URL.
func startSluiceWithMetrics(ctx context.Context, o Options) (*process, []string, string, error) {
	bin := o.SluiceBinary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, nil, "", fmt.Errorf("find the sluice binary (pass --sluice-binary): %w", err)
		}
	}
	kafka, err := freeAddr()
	if err != nil {
		return nil, nil, "", err
	}
	web, err := freeAddr()
	if err != nil {
		return nil, nil, "", err
	}
	data := filepath.Join(o.TempDir, "sluice-data")
	args := []string{"dev", "--data-dir", data, "--listen", kafka, "--http-listen", web}
	o.Logger.Info("starting the broker", "cmd", bin+" "+strings.Join(args, " "))
	p, err := startProcess(ctx, "sluice dev", bin, args, kafka, 30*time.Second)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%w\n(the benchmark runs `%s dev`; build a binary with the broker and pass it with --sluice-binary, or use --skip-sluice)", err, bin)
	}
	return p, []string{kafka}, "http://" + web + "/metrics", nil
}

// runDisk runs the raw disk baseline at each chunk size, plus the mean
// produce request sizes the broker runs saw, rounded to 4 KiB.
func runDisk(ctx context.Context, o Options, rep *Report) error {
	sizes := slices.Clone(o.DiskChunkSizes)
	for _, s := range rep.requestSizes {
		r := max(4<<10, min(16<<20, int(s+2048)/4096*4096))
		close := slices.ContainsFunc(sizes, func(have int) bool {
			return float64(r) > 0.9*float64(have) && float64(r) < 1.1*float64(have)
		})
		if s > 0 && !close {
			sizes = append(sizes, r)
		}
	}
	slices.Sort(sizes)
	for _, size := range sizes {
		o.Logger.Info("writing to disk with fdatasync", "chunk", fmtSize(float64(size)), "bytes", o.DiskBytes)
		res, err := diskBaseline(ctx, o.TempDir, size, o.DiskBytes, o.RecordSize, o.BaselineTimeout)
		if err != nil {
			return err
		}
		note := fmt.Sprintf("fdatasync after each %s write; latency is the fdatasync", fmtSize(float64(size)))
		if !slices.Contains(o.DiskChunkSizes, size) {
			note += " (a mean produce request size above)"
		}
		if res.TimedOut {
			note += fmt.Sprintf("; stopped at the %s phase limit", o.BaselineTimeout)
		}
		rep.Rows = append(rep.Rows, Row{System: "disk", Test: "write+fdatasync " + fmtSize(float64(size)),
			Throughput: res.Throughput, Latency: res.Sync, Note: note})
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("disk records/s counts %d-byte records per write: the group-commit limit of this filesystem at that group size", o.RecordSize))
	return nil
}

// runNATS runs the NATS JetStream baseline.
func runNATS(ctx context.Context, o Options, value []byte, rep *Report) error {
	o.Logger.Info("publishing to NATS JetStream", "server", o.NATSServer, "messages", o.Records)
	res, err := natsBaseline(ctx, o, value, o.Records)
	if err != nil {
		return err
	}
	note := fmt.Sprintf("nats-server %s, file storage, async publish, %d pending", res.Version, o.NATSMaxPending)
	if res.SyncEach {
		note += ", sync_interval: always"
	} else {
		note += ", NO per-write sync (this server lacks sync_interval; default is every 2 min)"
	}
	if res.TimedOut {
		note += fmt.Sprintf("; stopped at the %s phase limit", o.BaselineTimeout)
	}
	if res.Failed > 0 {
		note += fmt.Sprintf("; %d publishes failed: %v", res.Failed, res.FirstErr)
	}
	rep.Rows = append(rep.Rows, Row{System: "nats", Test: "publish, 1 stream", Throughput: res.Throughput, Note: note})
	if res.Memory.RSS > 0 {
		rep.Memory = append(rep.Memory, MemoryRow{Process: "nats-server", When: "after the run", Memory: res.Memory})
	}
	return nil
}

// machine describes this machine for the report.
func machine(dir string) string {
	var u unix.Utsname
	kernel := "unknown kernel"
	if unix.Uname(&u) == nil {
		kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return fmt.Sprintf("%d cores, %s/%s, %s, %s filesystem", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, kernel, fsType(dir))
}

// fsType names the filesystem dir is on, for the kinds a benchmark may
// meet.
func fsType(dir string) string {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return "unknown"
	}
	switch uint32(st.Type) {
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return fmt.Sprintf("type %#x", st.Type)
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// brokerUsage is the broker's CPU time and sync count at one moment.
type brokerUsage struct {
	cpu   time.Duration
	syncs uint64
	waits map[string]histSum // brokerWaits; nil when unknown
	ok    bool
}

// note describes what the broker spent from u to after on records records
// (and txns transactions, if any), for a row's note; empty when unknown.
func (u brokerUsage) note(after brokerUsage, records, txns int64) string {
	if !u.ok || !after.ok || records <= 0 {
		return ""
	}
	s := fmt.Sprintf("; broker CPU %.2f µs/record", float64((after.cpu-u.cpu).Microseconds())/float64(records))
	if syncs := after.syncs - u.syncs; txns > 0 {
		s += fmt.Sprintf(", %.1f syncs/transaction", float64(syncs)/float64(txns))
		s += u.waitsNote(after)
	} else {
		s += fmt.Sprintf(", %.1f syncs/1000 records", 1000*float64(syncs)/float64(records))
	}
	return s
}

// waitsNote gives the broker's mean time per Produce and EndTxn request,
// of EndTxn(commit) the mean of its two parallel waits (data and decision
// durable), and the mean length of the broker's syncs, from u to after;
// empty when unknown.
func (u brokerUsage) waitsNote(after brokerUsage) string {
	mean := func(key string) (time.Duration, bool) {
		a, b := after.waits[key], u.waits[key]
		if a.count <= b.count {
			return 0, false
		}
		return time.Duration((a.sum - b.sum) / float64(a.count-b.count) * float64(time.Second)), true
	}
	var parts []string
	for _, k := range []struct{ key, name string }{{"Produce", "Produce"}, {"EndTxn", "EndTxn"}, {"commit data", "its data sync"}, {"commit decision", "decision sync"}, {"sync", "each sync"}} {
		if d, ok := mean(k.key); ok {
			parts = append(parts, fmt.Sprintf("%s %s", k.name, fmtDuration(d)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; broker mean per request: " + strings.Join(parts, ", ")
}

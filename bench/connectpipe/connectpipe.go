// Package connectpipe benchmarks whole Connect pipelines inside a real
// `sluice dev` process, driven through the Kafka Connect REST API:
//
//   - datagen -> topic -> file sink, in records/s and MB/s, against kcat
//     producing the sink's output file into a topic (kcat -P -l) in the
//     same run: what the Connect runtime costs over a plain producer; and
//     against kcat -P with a kcat -C writing the topic to a file at the
//     same time, which, as the pipeline, both produces and consumes;
//   - file source of JSON lines -> Filter (TopicNameMatches predicate) ->
//     ReplaceField -> InsertField -> Cast -> file sink, in records/s per
//     core: input records divided by the CPU time (utime+stime from /proc)
//     the sluice process spent, broker included.
package connectpipe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/bench/devproc"
	connectruntime "github.com/sluicedata/sluice/connect/runtime"
)

// Options configure a run.
type Options struct {
	SluiceBinary string        // sluice executable started as `sluice dev`
	Kcat         string        // kcat executable; empty: looked up in PATH
	Records      int           // records per pipeline
	Timeout      time.Duration // limit for each pipeline
	// SkipFilterMap leaves out the JSON file source -> filter + map row.
	SkipFilterMap bool
	// CPUProfile, when set, is a file for a CPU profile of the sluice
	// process during the first row (datagen -> topic -> file sink), taken
	// through /debug/pprof/profile on its --http-listen address.
	CPUProfile string
	// AllocProfile, when set, is a file for the allocations (pprof
	// allocs, as a delta) of the same span.
	AllocProfile   string
	ProfileSeconds int // length of those profiles
	Logger         *slog.Logger
}

// DefaultOptions returns a run of 1M records per pipeline.
func DefaultOptions() Options {
	return Options{Records: 1_000_000, Timeout: 5 * time.Minute, ProfileSeconds: 2}
}

// Result is one measured pipeline.
type Result struct {
	Name    string
	Records int           // records read at the start of the pipeline
	Bytes   int64         // bytes written at its end (sink file or kcat input)
	Elapsed time.Duration // wall time from start to the last record committed
	CPU     time.Duration // CPU time of the sluice process in that time
	// ClientCPU is the CPU time of the kcat processes of a kcat row.
	ClientCPU time.Duration
	// FirstRecord is the time from the start to the first record seen in
	// the pipeline's topic, for the rows that create connectors: what
	// starting the tasks and creating the topic cost.
	FirstRecord time.Duration
	// TopicFull is the time from the start until the driver saw every
	// record in the pipeline's topic, for the rows with a sink: the rest
	// of Elapsed is the sink catching up and committing.
	TopicFull time.Duration
}

// RecordsPerSec is the wall-clock throughput.
func (r Result) RecordsPerSec() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

// MBPerSec is Bytes per wall-clock second, in MB (10^6 bytes).
func (r Result) MBPerSec() float64 { return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds() }

// PerCore is records per CPU second of the sluice process.
func (r Result) PerCore() float64 {
	if r.CPU <= 0 {
		return 0
	}
	return float64(r.Records) / r.CPU.Seconds()
}

// Run starts sluice dev in a temporary directory, measures the pipelines
// and writes a table and its Markdown to out.
func Run(ctx context.Context, o Options, out io.Writer) error {
	if o.Records < 1 {
		return fmt.Errorf("records must be at least 1, got %d", o.Records)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.SluiceBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the sluice binary: %w", err)
		}
		o.SluiceBinary = exe
	}
	if o.Kcat == "" {
		p, err := exec.LookPath("kcat")
		if err != nil {
			return fmt.Errorf("kcat not found in PATH (Debian package kcat; .ci/run installs it): %w", err)
		}
		o.Kcat = p
	}
	dir, err := os.MkdirTemp("", "sluice-bench-connect-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	s, err := startSluice(ctx, o.SluiceBinary, dir, o.CPUProfile != "" || o.AllocProfile != "")
	if err != nil {
		return err
	}
	defer s.stop()
	r := &runner{o: o, s: s, dir: dir}
	// The driver asks for end offsets of topics that do not exist yet;
	// with franz-go's default metadata min age (5 s) it kept seeing them
	// missing for 5 s, which the timed rows counted.
	if r.cl, err = kgo.NewClient(kgo.SeedBrokers(s.addr), kgo.MetadataMinAge(10*time.Millisecond)); err != nil {
		return err
	}
	defer r.cl.Close()
	r.adm = kadm.NewClient(r.cl)
	// The REST API answers before the worker has joined its group (and,
	// as the first group, had the broker create __consumer_offsets): the
	// first row alone used to pay for that start, 100-300 ms on a 2-CPU
	// machine. Wait for it, as the other rows do.
	if err := r.waitWorker(ctx); err != nil {
		return fmt.Errorf("%w\nsluice output:\n%s", err, s.proc.Output())
	}

	var results []Result
	// The first two rows are the comparison; the two after them
	// time each half of the datagen pipeline alone, to show which side
	// holds it back.
	// The third, kcat producing and consuming to a file at once, is the
	// fairer baseline: the pipeline also consumes and writes a file.
	steps := []func(context.Context) (Result, error){r.datagenToFile, r.kcatProduce, r.kcatProduceConsume, r.datagenOnly, r.sinkOnly}
	if !o.SkipFilterMap {
		steps = append(steps, r.jsonFilterMap)
	}
	for i, step := range steps {
		var profiles []func() error
		if i == 0 && o.CPUProfile != "" {
			profiles = append(profiles, s.startProfile(ctx, "profile", o.CPUProfile, o.ProfileSeconds))
		}
		if i == 0 && o.AllocProfile != "" {
			profiles = append(profiles, s.startProfile(ctx, "allocs", o.AllocProfile, o.ProfileSeconds))
		}
		res, err := step(ctx)
		for _, wait := range profiles {
			if perr := wait(); perr != nil && err == nil {
				err = perr
			}
		}
		if err != nil {
			return fmt.Errorf("%w\nsluice output:\n%s", err, s.proc.Output())
		}
		o.Logger.Info("pipeline done", "name", res.Name, "records", res.Records, "elapsed", res.Elapsed, "cpu", res.CPU)
		results = append(results, res)
	}
	report(out, results, load())
	return nil
}

type runner struct {
	o   Options
	s   *sluice
	dir string
	cl  *kgo.Client
	adm *kadm.Client
}

const stringConv = "org.apache.kafka.connect.storage.StringConverter"

// datagenToFile: datagen (orders quickstart, no pauses) -> topic -> file
// sink writing the values as JSON lines.
func (r *runner) datagenToFile(ctx context.Context) (Result, error) {
	out := filepath.Join(r.dir, "datagen.jsonl")
	start, cpu0 := time.Now(), r.s.cpu()
	if err := r.s.create("gen", map[string]string{
		"connector.class": "datagen", "kafka.topic": "bench-gen", "quickstart": "orders",
		"max.interval": "0", "iterations": strconv.Itoa(r.o.Records), "random.seed": "1",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"key.converter": stringConv,
	}); err != nil {
		return Result{}, err
	}
	if err := r.s.create("gen-sink", map[string]string{
		"connector.class": "FileStreamSink", "topics": "bench-gen", "file": out,
		"key.converter": stringConv, "value.converter": stringConv,
	}); err != nil {
		return Result{}, err
	}
	first, full, err := r.waitSink(ctx, start, "gen-sink", map[string]int64{"bench-gen": int64(r.o.Records)})
	if err != nil {
		return Result{}, err
	}
	res := Result{Name: "datagen -> topic -> file sink", Records: r.o.Records, Elapsed: time.Since(start), CPU: r.s.cpu() - cpu0, FirstRecord: first, TopicFull: full}
	st, err := os.Stat(out)
	if err != nil {
		return Result{}, err
	}
	res.Bytes = st.Size()
	return res, nil
}

// kcatProduce: kcat -P -l of the file the datagen pipeline wrote.
func (r *runner) kcatProduce(ctx context.Context) (Result, error) {
	in := filepath.Join(r.dir, "datagen.jsonl")
	st, err := os.Stat(in)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	start, cpu0 := time.Now(), r.s.cpu()
	cmd := exec.CommandContext(ctx, r.o.Kcat, "-P", "-b", r.s.addr, "-t", "bench-kcat", "-l", in)
	if b, err := cmd.CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("kcat -P -l %s: %w: %s", in, err, b)
	}
	res := Result{Name: "kcat -P -l (same file)", Records: r.o.Records, Bytes: st.Size(), Elapsed: time.Since(start), CPU: r.s.cpu() - cpu0,
		ClientCPU: processCPU(cmd)}
	n, err := r.endSum(ctx, "bench-kcat")
	if err != nil {
		return Result{}, err
	}
	if n != int64(r.o.Records) {
		return Result{}, fmt.Errorf("kcat produced %d records to bench-kcat, want %d", n, r.o.Records)
	}
	return res, nil
}

// kcatProduceConsume: kcat -P -l of the file the datagen pipeline wrote
// and, started with it, kcat -C writing the topic's values as lines to a
// file until it has every record: a producer and a consumer writing a
// file, as the pipeline has (kcat does not fsync its output; the file
// sink does, about once a second).
func (r *runner) kcatProduceConsume(ctx context.Context) (Result, error) {
	in := filepath.Join(r.dir, "datagen.jsonl")
	out := filepath.Join(r.dir, "kcat-consumed.jsonl")
	const topic = "bench-kcat-pc"
	// The consumer starts before the producer's first record: the topic
	// exists first, with the broker's default partitions as the others.
	if _, err := r.adm.CreateTopic(ctx, -1, -1, nil, topic); err != nil {
		return Result{}, fmt.Errorf("creating %s: %w", topic, err)
	}
	f, err := os.Create(out)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	start, cpu0 := time.Now(), r.s.cpu()
	cons := exec.CommandContext(ctx, r.o.Kcat, "-C", "-b", r.s.addr, "-t", topic, "-o", "beginning", "-c", strconv.Itoa(r.o.Records), "-q")
	cons.Stdout = f
	var consErr bytes.Buffer
	cons.Stderr = &consErr
	if err := cons.Start(); err != nil {
		return Result{}, fmt.Errorf("kcat -C: %w", err)
	}
	prod := exec.CommandContext(ctx, r.o.Kcat, "-P", "-b", r.s.addr, "-t", topic, "-l", in)
	if b, err := prod.CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("kcat -P -l %s: %w: %s", in, err, b)
	}
	if err := cons.Wait(); err != nil {
		return Result{}, fmt.Errorf("kcat -C: %w: %s", err, consErr.Bytes())
	}
	res := Result{Name: "kcat -P -l + kcat -C to a file, at once", Records: r.o.Records, Elapsed: time.Since(start), CPU: r.s.cpu() - cpu0,
		ClientCPU: processCPU(prod) + processCPU(cons)}
	n, size, err := countLines(out)
	if err != nil {
		return Result{}, err
	}
	if n != r.o.Records {
		return Result{}, fmt.Errorf("kcat -C wrote %d lines, want %d", n, r.o.Records)
	}
	res.Bytes = size
	return res, nil
}

// processCPU is the user+system CPU time of a command that has exited.
func processCPU(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// datagenOnly: the source half of datagenToFile alone, timed until the
// topic holds every record.
func (r *runner) datagenOnly(ctx context.Context) (Result, error) {
	start, cpu0 := time.Now(), r.s.cpu()
	if err := r.s.create("gen-only", map[string]string{
		"connector.class": "datagen", "kafka.topic": "bench-gen-only", "quickstart": "orders",
		"max.interval": "0", "iterations": strconv.Itoa(r.o.Records), "random.seed": "1",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"key.converter": stringConv,
	}); err != nil {
		return Result{}, err
	}
	first, err := r.waitTopic(ctx, start, "bench-gen-only", int64(r.o.Records))
	if err != nil {
		return Result{}, err
	}
	return Result{Name: "  datagen -> topic (source half only)", Records: r.o.Records, Elapsed: time.Since(start), CPU: r.s.cpu() - cpu0, FirstRecord: first}, nil
}

// sinkOnly: the sink half of datagenToFile alone, reading the topic kcat
// filled with the same lines.
func (r *runner) sinkOnly(ctx context.Context) (Result, error) {
	out := filepath.Join(r.dir, "sink-only.jsonl")
	start, cpu0 := time.Now(), r.s.cpu()
	if err := r.s.create("sink-only", map[string]string{
		"connector.class": "FileStreamSink", "topics": "bench-kcat", "file": out,
		"key.converter": stringConv, "value.converter": stringConv,
	}); err != nil {
		return Result{}, err
	}
	if _, _, err := r.waitSink(ctx, start, "sink-only", map[string]int64{"bench-kcat": int64(r.o.Records)}); err != nil {
		return Result{}, err
	}
	res := Result{Name: "  topic -> file sink (sink half only)", Records: r.o.Records, Elapsed: time.Since(start), CPU: r.s.cpu() - cpu0}
	st, err := os.Stat(out)
	if err != nil {
		return Result{}, err
	}
	res.Bytes = st.Size()
	return res, nil
}

// connectGroup is the group of sluice dev's Connect worker.
const connectGroup = connectruntime.DefaultGroupID

// waitWorker waits until the Connect worker's group is stable.
func (r *runner) waitWorker(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		groups, err := r.adm.DescribeGroups(ctx, connectGroup)
		if err == nil {
			if g, ok := groups[connectGroup]; ok && g.Err == nil && g.State == "Stable" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the Connect worker's group %s to be stable: %w", connectGroup, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitTopic waits until topic holds n records. It returns when the first
// was seen, as a time since start.
func (r *runner) waitTopic(ctx context.Context, start time.Time, topic string, n int64) (first time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	for {
		got, err := r.endSum(ctx, topic)
		if err == nil && got > 0 && first == 0 {
			first = time.Since(start)
		}
		if err == nil && got >= n {
			return first, nil
		}
		select {
		case <-ctx.Done():
			return first, fmt.Errorf("waiting for %d records in %s: %w", n, topic, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// jsonFilterMap: two file sources of JSON lines (orders and, as many,
// returns, to another topic) -> one sink whose chain drops the returns
// (Filter + TopicNameMatches), then maps the orders: ReplaceField (drop
// two fields, rename one), InsertField (topic, timestamp), Cast (two
// fields) -> file sink of JSON lines.
func (r *runner) jsonFilterMap(ctx context.Context) (Result, error) {
	half := r.o.Records / 2
	orders, returns := filepath.Join(r.dir, "orders.jsonl"), filepath.Join(r.dir, "returns.jsonl")
	if err := writeOrders(orders, half, 0); err != nil {
		return Result{}, err
	}
	if err := writeOrders(returns, r.o.Records-half, half); err != nil {
		return Result{}, err
	}
	out := filepath.Join(r.dir, "orders-out.jsonl")
	jsonConv := map[string]string{
		"key.converter": stringConv, "value.converter": "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	with := func(m map[string]string) map[string]string {
		for k, v := range jsonConv {
			m[k] = v
		}
		return m
	}
	start, cpu0 := time.Now(), r.s.cpu()
	for name, cfg := range map[string]map[string]string{
		"orders-src":  {"connector.class": "FileStreamSource", "file": orders, "topic": "bench-orders", "format": "json"},
		"returns-src": {"connector.class": "FileStreamSource", "file": returns, "topic": "bench-returns", "format": "json"},
		"orders-sink": {"connector.class": "FileStreamSink", "topics": "bench-orders,bench-returns", "file": out, "format": "json",
			"transforms":                       "returns,drop,stamp,cast",
			"transforms.returns.type":          "org.apache.kafka.connect.transforms.Filter",
			"transforms.returns.predicate":     "isReturn",
			"predicates":                       "isReturn",
			"predicates.isReturn.type":         "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
			"predicates.isReturn.pattern":      "bench-returns",
			"transforms.drop.type":             "org.apache.kafka.connect.transforms.ReplaceField$Value",
			"transforms.drop.exclude":          "email,coupon",
			"transforms.drop.renames":          "customer:customer_name",
			"transforms.stamp.type":            "org.apache.kafka.connect.transforms.InsertField$Value",
			"transforms.stamp.topic.field":     "source_topic",
			"transforms.stamp.timestamp.field": "ingested_at",
			"transforms.cast.type":             "org.apache.kafka.connect.transforms.Cast$Value",
			"transforms.cast.spec":             "amount:string,items:int32",
		},
	} {
		if err := r.s.create(name, with(cfg)); err != nil {
			return Result{}, err
		}
	}
	first, full, err := r.waitSink(ctx, start, "orders-sink", map[string]int64{"bench-orders": int64(half), "bench-returns": int64(r.o.Records - half)})
	if err != nil {
		return Result{}, err
	}
	res := Result{Name: "JSON file source -> filter + map -> file sink", Records: r.o.Records, Elapsed: time.Since(start), CPU: r.s.cpu() - cpu0, FirstRecord: first, TopicFull: full}
	n, size, err := countLines(out)
	if err != nil {
		return Result{}, err
	}
	if n != half {
		return Result{}, fmt.Errorf("the filter+map sink wrote %d lines, want %d (the orders, not the returns)", n, half)
	}
	res.Bytes = size
	return res, nil
}

// writeOrders writes n 20-field orders as JSON lines, ids from first.
func writeOrders(path string, n, first int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		id := first + i
		fmt.Fprintf(w, `{"id":%d,"customer":"Customer %d","email":"c%d@example.com","city":"London","country":"GB",`+
			`"items":%d,"amount":%d.95,"tax":21.66,"paid":true,"status":"SHIPPED","channel":"web","currency":"GBP",`+
			`"coupon":null,"warehouse":7,"weight":2.5,"priority":1,"note":"leave at the door","created":1795680000000,`+
			`"updated":1795680100000,"version":4}`+"\n", id, id%1000, id, id%9+1, id%500)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func countLines(path string) (int, int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	return bytes.Count(data, []byte("\n")), int64(len(data)), nil
}

// endSum is the sum of the end offsets of topic's partitions.
func (r *runner) endSum(ctx context.Context, topic string) (int64, error) {
	ends, err := r.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n, nil
}

// waitSink waits until each topic holds want records and the sink
// connector has committed offsets to the end of each.
// It returns when the first record was seen in any of them and when every
// topic first held its records, as times since start.
func (r *runner) waitSink(ctx context.Context, start time.Time, sink string, want map[string]int64) (first, full time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	for {
		done := true
		for topic, n := range want {
			got, err := r.endSum(ctx, topic)
			if err != nil && ctx.Err() == nil {
				done = false // not created yet
				continue
			}
			if got > 0 && first == 0 {
				first = time.Since(start)
			}
			if got < n {
				done = false
			}
		}
		if done {
			if full == 0 {
				full = time.Since(start)
			}
			committed, err := r.s.sinkOffsets(ctx, sink)
			if err != nil {
				return first, full, err
			}
			for topic, n := range want {
				if committed[topic] < n {
					done = false
				}
			}
			if done {
				return first, full, nil
			}
		}
		select {
		case <-ctx.Done():
			return first, full, fmt.Errorf("waiting for %s to write %v records: %w", sink, want, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// sluice is the sluice dev process under test.
type sluice struct {
	proc    *devproc.Proc
	addr    string
	connect string
	http    string // metrics and pprof; "" when not started
}

// startSluice starts sluice dev; with httpListen, also its HTTP server
// (metrics and pprof) on a free port.
func startSluice(ctx context.Context, bin, dir string, httpListen bool) (*sluice, error) {
	addr, err := devproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	rest, err := devproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr := ""
	if httpListen {
		if httpAddr, err = devproc.FreeAddr(); err != nil {
			return nil, err
		}
	}
	args := []string{"dev", "--data-dir", filepath.Join(dir, "data"), "--listen", addr,
		"--connect-listen", rest, "--http-listen", httpAddr, "--registry-listen", "", "--ksql-listen", "",
		"--group-initial-rebalance-delay", "0"}
	p, err := devproc.Start(ctx, bin, args, 16<<10, "Connect REST API", devproc.HTTPReady("http://"+rest+"/connectors"))
	if err != nil {
		return nil, err
	}
	return &sluice{proc: p, addr: addr, connect: rest, http: httpAddr}, nil
}

// startProfile starts a profile of the process over the next seconds
// (through /debug/pprof/<kind>: "profile" for CPU, "allocs" for
// allocations) and returns a wait for it, which writes the profile to
// path. A profile shorter than the row shows its steady state without the
// idle tail after it.
func (s *sluice) startProfile(ctx context.Context, kind, path string, seconds int) (wait func() error) {
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", s.http, kind, seconds)
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("%s profile: %w", kind, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				return fmt.Errorf("%s profile: status %d: %s", kind, resp.StatusCode, b)
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return fmt.Errorf("%s profile: %w", kind, err)
			}
			return os.WriteFile(path, b, 0o644)
		}()
	}()
	return func() error { return <-done }
}

func (s *sluice) stop() { s.proc.Stop(10 * time.Second) }

// cpu is the process's user+system CPU time so far.
func (s *sluice) cpu() time.Duration {
	d, err := devproc.CPUTime(s.proc.PID())
	if err != nil {
		return 0
	}
	return d
}

func (s *sluice) create(name string, cfg map[string]string) error {
	body, _ := json.Marshal(map[string]any{"name": name, "config": cfg})
	resp, err := http.Post("http://"+s.connect+"/connectors", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("creating connector %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("creating connector %s: status %d: %s", name, resp.StatusCode, b)
	}
	return nil
}

// sinkOffsets sums a sink connector's committed offsets per topic.
func (s *sluice) sinkOffsets(ctx context.Context, name string) (map[string]int64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.connect+"/connectors/"+name+"/offsets", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("offsets of %s: %w", name, err)
	}
	defer resp.Body.Close()
	var body struct {
		Offsets []struct {
			Partition struct {
				Topic string `json:"kafka_topic"`
			} `json:"partition"`
			Offset struct {
				Offset int64 `json:"kafka_offset"`
			} `json:"offset"`
		} `json:"offsets"`
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("offsets of %s: status %d: %s", name, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("offsets of %s: %w", name, err)
	}
	out := map[string]int64{}
	for _, o := range body.Offsets {
		out[o.Partition.Topic] += o.Offset.Offset
	}
	return out, nil
}

// load returns the 1-minute load average, or "" when unknown.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.Fields(string(b))[0]
}

func report(w io.Writer, results []Result, loadavg string) {
	fmt.Fprintf(w, "%-48s %10s %10s %8s %9s %8s %10s %14s %9s %9s\n", "pipeline", "records", "records/s", "MB/s", "elapsed", "cpu", "kcat cpu", "records/s/core", "first", "all in")
	for _, r := range results {
		fmt.Fprintf(w, "%-48s %10d %10.0f %8.1f %9s %8s %10s %14.0f %9s %9s\n", r.Name, r.Records, r.RecordsPerSec(), r.MBPerSec(),
			r.Elapsed.Round(time.Millisecond), r.CPU.Round(10*time.Millisecond), clientCPU(r), r.PerCore(), since(r.FirstRecord), since(r.TopicFull))
	}
	if len(results) >= 3 && results[1].Elapsed > 0 && results[2].Elapsed > 0 {
		p := results[0]
		fmt.Fprintf(w, "\nConnect pipeline time / kcat time: %.2f (kcat -P), %.2f (kcat -P + kcat -C)\n",
			p.Elapsed.Seconds()/results[1].Elapsed.Seconds(), p.Elapsed.Seconds()/results[2].Elapsed.Seconds())
		fmt.Fprintf(w, "CPU per record, all processes: pipeline %.2f us, kcat -P %.2f us, kcat -P + kcat -C %.2f us\n",
			usPerRecord(p), usPerRecord(results[1]), usPerRecord(results[2]))
	}
	fmt.Fprintf(w, "\nMarkdown (load average %s on %d CPUs):\n\n", loadavg, runtime.NumCPU())
	fmt.Fprintln(w, "| Pipeline | records | records/s | MB/s | CPU s (sluice) | CPU s (kcat) | records/s per core |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %d | %.0f | %.1f | %.2f | %s | %.0f |\n", r.Name, r.Records, r.RecordsPerSec(), r.MBPerSec(), r.CPU.Seconds(), clientCPU(r), r.PerCore())
	}
}

// firstRecord prints the time to a row's first record, "" when not known.

// since prints a time since a row's start, "" when not known.
func since(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.Round(time.Millisecond).String()
}

// clientCPU prints a kcat row's kcat CPU seconds, "" for other rows.
func clientCPU(r Result) string {
	if r.ClientCPU == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", r.ClientCPU.Seconds())
}

// usPerRecord is the CPU time of every process of a row (sluice, and
// kcat for kcat rows) per record, in microseconds.
func usPerRecord(r Result) float64 {
	return float64((r.CPU + r.ClientCPU).Microseconds()) / float64(r.Records)
}

package nexmark

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sluicedata/sluice/engine/queries"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/state"
)

// Plan parses and plans DDL and the query's statements as the engine
// would, and returns its persistent queries in statement order. An error
// names the statement the planner refused: with the stateful operators
// still missing, that is how a query that cannot run yet says so.
func Plan(ctx context.Context, q Query) ([]*plan.Query, error) {
	stmts, err := parser.ParseScript(DDL+q.SQL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: parse: %w", q.Name, err)
	}
	cat := plan.NewCatalog()
	var out []*plan.Query
	for _, s := range stmts {
		res, err := plan.Execute(ctx, cat, s.Statement, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n  in: %s", q.Name, err, oneLine(s.Text))
		}
		if res.Kind == plan.PersistentQuery {
			out = append(out, res.Query)
		}
	}
	return out, nil
}

// Events is a generated event stream as Kafka records, in event order.
type Events struct {
	Records []exec.Record
	Count   [3]int64 // per Kind
	Bytes   int64    // key and value bytes
	Span    time.Duration
}

// Generate encodes n events of cfg as records.
func Generate(cfg Config, n int) (*Events, error) {
	g, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	ev := &Events{Records: make([]exec.Record, n)}
	var first int64
	for i := range ev.Records {
		e := g.Next()
		if i == 0 {
			first = e.Time()
		}
		r := &ev.Records[i]
		r.Topic, r.Timestamp = Topic(e.Kind), e.Time()
		if k, ok := AppendKey(nil, e); ok {
			r.Key = k
		}
		r.Value = AppendValue(make([]byte, 0, 128), e)
		ev.Count[e.Kind]++
		ev.Bytes += int64(len(r.Key) + len(r.Value))
		if i == n-1 {
			ev.Span = time.Duration(e.Time()-first) * time.Millisecond
		}
	}
	return ev, nil
}

// Inputs counts the events of the given kinds.
func (e *Events) Inputs(kinds []Kind) int64 {
	var n int64
	for _, k := range kinds {
		n += e.Count[k]
	}
	return n
}

// Result is one measured run of a query.
type Result struct {
	Query   string
	Events  int64         // input records the query consumed
	Outputs int64         // records written to its sink
	Wall    time.Duration // until every input was processed (caught up)
	CPU     time.Duration // CPU time of the process doing the work
	Err     error         // the query could not run: why
	// Digest is an FNV-1a hash of the sink records (key, value, timestamp,
	// in order), in process only: two builds that write the same outputs
	// have the same digest.
	Digest uint64
}

// PerSec is events per wall-clock second.
func (r Result) PerSec() float64 { return perSec(r.Events, r.Wall) }

// PerCore is events per CPU second: throughput per core.
func (r Result) PerCore() float64 { return perSec(r.Events, r.CPU) }

func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// commitEvery is the batch after which state is committed, as the
// engine's runner commits after each poll of up to this many records.
const commitEvery = queries.DefaultMaxBatch

// RunInProcess drives the query's exec pipelines directly, without broker
// or engine: each event goes through the queries reading its topic, and
// each output record on to the queries reading the output's topic, depth
// first. Stateful queries get Local stores (pebble under dir, no
// changelog). It isolates what the operators cost: CPU is this process's,
// with the events already generated and encoded.
func RunInProcess(ctx context.Context, q Query, ev *Events, dir string) Result {
	res := Result{Query: q.Name}
	planned, err := Plan(ctx, q)
	if err != nil {
		res.Err = err
		return res
	}
	readers := map[string][]exec.Query{}
	// internal are each query's own repartition topics: what it writes
	// there it reads back at once, as the test runner and Kafka Streams'
	// TopologyTestDriver do; those records are neither results nor input
	// of other queries.
	internal := map[exec.Query]map[string]bool{}
	var stores []*state.Stores
	defer func() {
		for _, s := range stores {
			s.Close()
		}
	}()
	sinkTopic := ""
	for _, p := range planned {
		if sq, ok := p.Exec.(exec.StatefulQuery); ok && sq.Stateful() {
			s, err := state.NewStores(state.Options{Local: true, Dir: filepath.Join(dir, p.ID), QueryID: p.ID, Partitions: 1,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				res.Err = fmt.Errorf("%s: state for %s: %w", q.Name, p.ID, err)
				return res
			}
			stores = append(stores, s)
			sq.UseState(s)
		}
		for _, t := range p.Exec.SourceTopics() {
			readers[t] = append(readers[t], p.Exec)
		}
		internal[p.Exec] = map[string]bool{}
		for _, t := range p.RepartitionTopics {
			internal[p.Exec][t.Name] = true
		}
		if p.Sink != nil && p.Sink.Name == q.Sink {
			sinkTopic = p.SinkTopic.Name
		}
	}
	if sinkTopic == "" {
		res.Err = fmt.Errorf("%s: no persistent query writes %s", q.Name, q.Sink)
		return res
	}
	inputs := map[string]bool{}
	for _, k := range q.Inputs {
		inputs[Topic(k)] = true
	}

	offsets := map[string]int64{}
	digest := fnv.New64a()
	var feed func(r exec.Record, depth int) error
	var run func(qq exec.Query, r exec.Record, depth int) error
	feed = func(r exec.Record, depth int) error {
		if depth > 8 {
			return fmt.Errorf("%s: queries feed each other in a loop through %s", q.Name, r.Topic)
		}
		for _, qq := range readers[r.Topic] {
			if err := run(qq, r, depth); err != nil {
				return err
			}
		}
		return nil
	}
	run = func(qq exec.Query, r exec.Record, depth int) error {
		out, err := qq.Process(ctx, r)
		if err != nil {
			return err
		}
		for _, o := range out {
			o.Offset = offsets[o.Topic]
			offsets[o.Topic]++
			if internal[qq][o.Topic] {
				if err := run(qq, o, depth+1); err != nil {
					return err
				}
				continue
			}
			if o.Topic == sinkTopic {
				res.Outputs++
				digest.Write(o.Key)
				digest.Write([]byte{0})
				digest.Write(o.Value)
				digest.Write(binary.BigEndian.AppendUint64(nil, uint64(o.Timestamp)))
			}
			if err := feed(o, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	commit := func() error {
		for _, s := range stores {
			if err := s.Commit(); err != nil {
				return err
			}
		}
		return nil
	}

	start, cpu0 := time.Now(), processCPU()
	for i := range ev.Records {
		r := ev.Records[i]
		if !inputs[r.Topic] {
			continue
		}
		r.Offset = res.Events
		if err := feed(r, 0); err != nil {
			res.Err = fmt.Errorf("%s: %w", q.Name, err)
			return res
		}
		res.Events++
		if res.Events%commitEvery == 0 {
			if err := commit(); err != nil {
				res.Err = fmt.Errorf("%s: commit state: %w", q.Name, err)
				return res
			}
		}
		if res.Events%4096 == 0 && ctx.Err() != nil {
			res.Err = ctx.Err()
			return res
		}
	}
	if err := commit(); err != nil {
		res.Err = fmt.Errorf("%s: commit state: %w", q.Name, err)
		return res
	}
	res.Wall, res.CPU = time.Since(start), processCPU()-cpu0
	res.Digest = digest.Sum64()
	return res
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func oneLine(s string) string {
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' || c == '\t' || c == ' ' {
			if !space {
				b = append(b, ' ')
			}
			space = true
			continue
		}
		space = false
		b = append(b, c)
	}
	return string(b)
}

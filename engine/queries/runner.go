// Package queries runs persistent SQL queries against Kafka: each query is a
// consumer-group member that reads its source topics, hands every record to
// its exec.Query and writes what comes out.
//
// Delivery:
//   - at-least-once (default): outputs of a polled batch are produced and
//     acknowledged (acks=all) before the batch's offsets are committed; a crash
//     in between replays the batch, so outputs may repeat but are never lost.
//   - exactly-once (processing.guarantee=exactly_once_v2): franz-go's
//     GroupTransactSession puts the outputs and the input offsets in one
//     transaction; read_committed consumers see each result once.
//
// The runner does not know SQL: the same code runs queries against the
// embedded broker and against any Kafka cluster.
package queries

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/state"
)

// State is a query's state as ksqlDB reports it.
type State string

// Query states.
const (
	Running State = "RUNNING"
	Paused  State = "PAUSED"
	Error   State = "ERROR"
	Stopped State = "STOPPED"
)

// Config says how to run one query.
type Config struct {
	Brokers []string
	Query   exec.Query
	// GroupID is the consumer group; it keeps the committed offsets, so a
	// restarted query continues where it stopped.
	GroupID string
	// ExactlyOnce selects exactly_once_v2.
	ExactlyOnce bool
	// FromEarliest starts a group without committed offsets at the start of
	// the topics (auto.offset.reset=earliest); otherwise at the end.
	FromEarliest bool
	// MaxBatch bounds the records handled per poll, the unit of commit:
	// one state commit and offset commit (at-least-once) or one
	// transaction (exactly-once) per batch. Default DefaultMaxBatch.
	MaxBatch int
	Logger   *slog.Logger
	Metrics  *Metrics
	// ClientOptions are added to the franz-go client (tests, TLS, SASL).
	ClientOptions []kgo.Opt

	// StateDir holds the state stores of stateful queries (required for
	// them); ServiceID (ksql.service.id) prefixes their changelog topics.
	StateDir     string
	ServiceID    string
	StateMetrics *state.Metrics

	// beforeEnd, in tests, runs after a batch is processed and before its
	// transaction ends (exactly_once_v2 only).
	beforeEnd func()
}

// DefaultMaxBatch is the default Config.MaxBatch. A poll returns what the
// client has buffered, up to this many records, so a query that keeps up
// handles small batches; a query catching up on a backlog commits about
// every 5000 records, at this engine's rates 100-200 ms of one core, near
// Kafka Streams' commit interval under exactly_once_v2 (100 ms; ksqlDB's
// at-least-once default is 2 s). Each commit has a fixed cost (producer
// flush, pebble batch, offset commit) and merges the batch's store writes
// per key, so larger batches cost less per record.
const DefaultMaxBatch = 5000

// Runner is one running query.
type Runner struct {
	cfg     Config
	cancel  context.CancelFunc
	done    chan struct{}
	m       *queryMetrics
	mu      sync.Mutex
	state   State
	err     error
	paused  bool
	resume  chan struct{}
	records int64

	// stores is the query's state (nil when stateless); revoked holds the
	// partitions whose stores must close.
	stores   *state.Stores
	revoked  partitionSet
	assigned partitionSet
	// merge orders each batch's records by timestamp; used by the
	// processing goroutine only.
	merge Merger
	// killed makes the loop return at the next batch boundary without
	// ending its transaction or committing anything: a crash, for tests.
	killed atomic.Bool
}

// Start starts the query in the background. It returns once the Kafka client
// is built; errors later show in State and Err.
func Start(cfg Config) (*Runner, error) {
	if cfg.Query == nil || cfg.GroupID == "" || len(cfg.Brokers) == 0 {
		return nil, errors.New("queries: Config needs Query, GroupID and Brokers")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = DefaultMetrics()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeTopics(cfg.Query.SourceTopics()...),
		kgo.DisableAutoCommit(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		// Kafka's producer default (compression.type=none), which Kafka
		// Streams keeps: outputs, repartition and changelog records are
		// not compressed by the query, decompressed by the broker to
		// validate them and again by the readers. ClientOptions may set
		// another codec (the query's compression.type property).
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.AllowAutoTopicCreation(),
	}
	if cfg.FromEarliest {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	} else {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	}
	r := &Runner{cfg: cfg, done: make(chan struct{}), state: Running, resume: make(chan struct{})}
	sq, stateful := statefulQuery(cfg.Query)
	var partitions int32
	if stateful {
		if cfg.StateDir == "" {
			return nil, fmt.Errorf("query %s keeps state: Config.StateDir is empty", cfg.Query.ID())
		}
		if cfg.StateMetrics == nil {
			cfg.StateMetrics = state.DefaultMetrics()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		n, err := sourcePartitions(ctx, &cfg)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", cfg.Query.ID(), err)
		}
		partitions = n
		// Changelog records name their partition (the input partition
		// of their store); outputs keep the default key hashing.
		opts = append(opts, kgo.RecordPartitioner(state.Partitioner(kgo.StickyKeyPartitioner(nil))),
			kgo.OnPartitionsRevoked(r.revoked.add), kgo.OnPartitionsLost(r.revoked.add),
			kgo.OnPartitionsAssigned(r.assigned.add))
	}
	opts = append(opts, cfg.ClientOptions...)
	r.cfg = cfg
	r.m = cfg.Metrics.forQuery(cfg.Query.ID())
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	fail := func(err error) (*Runner, error) {
		cancel()
		r.m.unregister()
		return nil, fmt.Errorf("query %s: %w", cfg.Query.ID(), err)
	}
	if cfg.ExactlyOnce {
		opts = append(opts, kgo.TransactionalID(cfg.GroupID), kgo.RequireStableFetchOffsets(),
			kgo.TransactionTimeout(60*time.Second))
		sess, err := kgo.NewGroupTransactSession(opts...)
		if err != nil {
			return fail(err)
		}
		// Fence the previous incarnation now, as Kafka Streams'
		// initTransactions does: its open transaction is aborted before
		// this one reads committed offsets (which stay unstable while a
		// transactional offset commit is pending) or restores state.
		ictx, icancel := context.WithTimeout(context.Background(), 60*time.Second)
		_, _, err = sess.Client().ProducerID(ictx)
		icancel()
		if err != nil {
			sess.Close()
			return fail(fmt.Errorf("init producer id: %w", err))
		}
		if stateful {
			if r.stores, err = newStores(&cfg, partitions, sess); err != nil {
				sess.Close()
				return fail(err)
			}
			sq.UseState(r.stores)
		}
		go r.runTransactional(ctx, sess)
		return r, nil
	}
	opts = append(opts, kgo.BlockRebalanceOnPoll())
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fail(err)
	}
	if stateful {
		if r.stores, err = newStores(&cfg, partitions, cl); err != nil {
			cl.Close()
			return fail(err)
		}
		sq.UseState(r.stores)
	}
	go r.runAtLeastOnce(ctx, cl)
	return r, nil
}

// Query is the query the runner runs.
func (r *Runner) Query() exec.Query { return r.cfg.Query }

// ID is the query's id.
func (r *Runner) ID() string { return r.cfg.Query.ID() }

// State returns the query's state and, in Error, why.
func (r *Runner) State() (State, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state, r.err
}

// Processed is the number of input records handled so far.
func (r *Runner) Processed() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records
}

// Pause stops consuming; the group membership and offsets stay.
func (r *Runner) Pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == Running {
		r.state, r.paused = Paused, true
	}
}

// Resume continues a paused query.
func (r *Runner) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == Paused {
		r.state, r.paused = Running, false
		close(r.resume)
		r.resume = make(chan struct{})
	}
}

// Stop ends the query: the current batch finishes (its offsets committed or
// its transaction ended), the member leaves its group, the query is closed.
func (r *Runner) Stop() error {
	r.cancel()
	<-r.done
	r.mu.Lock()
	if r.state != Error {
		r.state = Stopped
	}
	r.mu.Unlock()
	r.m.unregister()
	return r.closeQuery()
}

// closeQuery closes the query, then its stores (the query's operators may
// still hold store handles until it is closed).
func (r *Runner) closeQuery() error {
	err := r.cfg.Query.Close()
	if r.stores != nil {
		err = errors.Join(err, r.stores.Close())
	}
	return err
}

// Stores is the query's state (nil for a stateless query), for pull
// queries. Stores serves reads concurrently with processing.
func (r *Runner) Stores() *state.Stores { return r.stores }

// kill stops the query as a crash would: the batch in flight is neither
// committed nor ended, stores keep only what was committed before it.
func (r *Runner) kill() {
	r.killed.Store(true)
	r.cancel()
	<-r.done
	r.m.unregister()
	_ = r.closeQuery()
}

// waitIfPaused blocks while the query is paused; false when ctx ended.
func (r *Runner) waitIfPaused(ctx context.Context) bool {
	for {
		r.mu.Lock()
		paused, ch := r.paused, r.resume
		r.mu.Unlock()
		if !paused {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (r *Runner) fail(err error) {
	r.cfg.Logger.Error("query failed", "query", r.ID(), "err", err)
	r.mu.Lock()
	r.state, r.err = Error, err
	r.mu.Unlock()
}

// process runs the batch through the query and calls emit for each output.
// The records go in timestamp order across the batch's partitions (see
// Merger); the offsets committed after the batch are still, per partition,
// its last record + 1.
func (r *Runner) process(ctx context.Context, fs kgo.Fetches, emit func(*kgo.Record)) error {
	var err error
	n := int64(0)
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 {
			last := p.Records[len(p.Records)-1]
			r.m.lag(p.Topic, p.Partition, p.HighWatermark-last.Offset-1)
		}
	})
	r.merge.Reset(fs)
	for rec := r.merge.Next(); rec != nil; rec = r.merge.Next() {
		start := time.Now()
		var outs []exec.Record
		outs, err = r.cfg.Query.Process(ctx, toExec(rec))
		r.m.latency.Observe(time.Since(start).Seconds())
		r.m.in.Inc()
		n++
		for i := range outs {
			emit(fromExec(&outs[i]))
		}
		r.m.out.Add(float64(len(outs)))
		if err != nil {
			break
		}
	}
	r.merge.Clear()
	if err != nil {
		r.m.errors.Inc()
	}
	r.mu.Lock()
	r.records += n
	r.mu.Unlock()
	return err
}

func (r *Runner) runAtLeastOnce(ctx context.Context, cl *kgo.Client) {
	defer close(r.done)
	defer cl.Close() // leaves the group
	for ctx.Err() == nil {
		if !r.waitIfPaused(ctx) {
			return
		}
		pctx, pcancel := r.pollContext(ctx)
		fs := cl.PollRecords(pctx, r.cfg.MaxBatch)
		pcancel()
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return
		}
		if err := fetchError(fs); err != nil {
			r.fail(err)
			cl.AllowRebalance()
			return
		}
		if err := r.syncPartitions(ctx); err != nil {
			r.fail(err)
			cl.AllowRebalance()
			return
		}
		if fs.NumRecords() == 0 {
			cl.AllowRebalance()
			continue
		}
		// A polled batch is always finished, even when Stop comes in the
		// middle: its outputs are flushed and its offsets committed, so a
		// clean stop leaves nothing to replay and nothing duplicated.
		finish, cancelFinish := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		var produceErr error
		var mu sync.Mutex
		err := r.process(finish, fs, func(out *kgo.Record) {
			cl.Produce(finish, out, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					produceErr = errors.Join(produceErr, err)
					mu.Unlock()
				}
			})
		})
		if err == nil && r.stores != nil {
			// One changelog record per store key written by the batch.
			r.stores.FlushChangelogs()
		}
		if ferr := cl.Flush(finish); ferr != nil && err == nil {
			err = ferr
		}
		cancelFinish()
		mu.Lock()
		if err == nil {
			err = produceErr
		}
		mu.Unlock()
		if r.killed.Load() {
			cl.AllowRebalance()
			return // a crash: no commit of state or offsets
		}
		if err != nil {
			r.fail(err)
			cl.AllowRebalance()
			return
		}
		// Outputs and changelog writes are acknowledged: the state may
		// commit, then the offsets that produced it.
		if r.stores != nil {
			if err := r.stores.Commit(); err != nil {
				r.fail(fmt.Errorf("commit state: %w", err))
				cl.AllowRebalance()
				return
			}
		}
		if err := cl.CommitRecords(context.WithoutCancel(ctx), fs.Records()...); err != nil {
			r.fail(fmt.Errorf("commit offsets: %w", err))
			cl.AllowRebalance()
			return
		}
		cl.AllowRebalance()
	}
}

func (r *Runner) runTransactional(ctx context.Context, sess *kgo.GroupTransactSession) {
	defer close(r.done)
	defer sess.Close()
	for ctx.Err() == nil {
		if !r.waitIfPaused(ctx) {
			return
		}
		pctx, pcancel := r.pollContext(ctx)
		fs := sess.PollRecords(pctx, r.cfg.MaxBatch)
		pcancel()
		if ctx.Err() != nil {
			return
		}
		if err := fetchError(fs); err != nil {
			r.fail(err)
			return
		}
		if err := r.syncPartitions(ctx); err != nil {
			r.fail(err)
			return
		}
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			r.fail(fmt.Errorf("begin transaction: %w", err))
			return
		}
		// The outputs are produced with a context that a Stop does not
		// cancel: franz-go fails a buffered record whose context ends
		// before it is sent, and a transaction committed without it would
		// commit the input offsets of an output that was never written.
		// Every produce error is collected and turns the commit into an
		// abort.
		outCtx := context.WithoutCancel(ctx)
		var produceErr error
		var mu sync.Mutex
		perr := r.process(ctx, fs, func(out *kgo.Record) {
			sess.Produce(outCtx, out, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					produceErr = errors.Join(produceErr, err)
					mu.Unlock()
				}
			})
		})
		commit := kgo.TryCommit
		if perr != nil || ctx.Err() != nil {
			commit = kgo.TryAbort
		} else if r.stores != nil {
			// In the transaction: one changelog record per store key
			// written by the batch.
			r.stores.FlushChangelogs()
		}
		if r.cfg.beforeEnd != nil {
			r.cfg.beforeEnd()
		}
		if r.killed.Load() {
			return // a crash: the open transaction is aborted when the next session fences it
		}
		if commit == kgo.TryCommit {
			// Every output and changelog record must be acknowledged
			// before the transaction commits the batch's offsets.
			if err := sess.Client().Flush(outCtx); err != nil {
				perr = fmt.Errorf("flush the transaction's records: %w", err)
			}
			mu.Lock()
			if produceErr != nil {
				perr = errors.Join(perr, fmt.Errorf("produce: %w", produceErr))
			}
			mu.Unlock()
			if r.stores != nil {
				if err := r.stores.ChangelogErr(); err != nil {
					perr = errors.Join(perr, err)
				}
			}
			if perr != nil {
				commit = kgo.TryAbort
			}
		}
		// End with a context that outlives a Stop, so the transaction is
		// always finished one way or the other.
		committed, err := sess.End(context.WithoutCancel(ctx), commit)
		if r.stores != nil {
			// The state follows the transaction that carried its
			// changelog records.
			if committed && err == nil {
				if cerr := r.stores.Commit(); cerr != nil {
					r.fail(fmt.Errorf("commit state: %w", cerr))
					return
				}
			} else {
				r.stores.Abort()
			}
		}
		if err != nil {
			r.fail(fmt.Errorf("end transaction: %w", err))
			return
		}
		if perr != nil {
			r.fail(perr)
			return
		}
	}
}

func fetchError(fs kgo.Fetches) error {
	var out error
	fs.EachError(func(t string, p int32, err error) {
		// Canceled: Stop; DeadlineExceeded: a bounded poll ended quietly.
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		out = errors.Join(out, fmt.Errorf("fetch %s[%d]: %w", t, p, err))
	})
	return out
}

func toExec(r *kgo.Record) exec.Record {
	out := exec.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value,
		Timestamp: r.Timestamp.UnixMilli()}
	if len(r.Headers) > 0 {
		out.Headers = make([]exec.Header, len(r.Headers))
		for i, h := range r.Headers {
			out.Headers[i] = exec.Header{Key: h.Key, Value: h.Value}
		}
	}
	return out
}

func fromExec(r *exec.Record) *kgo.Record {
	// The partition is left to franz-go's default partitioner: murmur2 of the
	// key, as Kafka Streams (and so ksqlDB) partitions.
	out := &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Timestamp: time.UnixMilli(r.Timestamp)}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return out
}

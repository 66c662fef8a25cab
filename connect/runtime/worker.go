// Package runtime runs Kafka-Connect-compatible connectors: it keeps their
// configs, offsets and statuses in the internal topics (connect/storage),
// starts one goroutine per task, moves records between tasks and Kafka
// through transforms and converters, and handles errors, retries and the
// dead-letter queue. Worker's methods are what the REST API (connect/rest)
// calls.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/cluster"
	"github.com/sluicedata/sluice/connect/storage"
)

// Options configure a Worker. Zero values take Kafka Connect's sample
// distributed-worker defaults.
type Options struct {
	// Brokers is the bootstrap address list of the Kafka cluster.
	Brokers []string
	// GroupID names the Connect cluster (group.id, default connect-cluster);
	// it prefixes exactly-once transactional ids.
	GroupID string
	// Internal topics (defaults _connect-configs, _connect-offsets,
	// _connect-status) and their partitions when created (25 and 5).
	ConfigTopic, OffsetTopic, StatusTopic string
	OffsetPartitions, StatusPartitions    int32
	// WorkerID is reported as worker_id in statuses (default: the host name).
	WorkerID string
	// WorkerConfig holds worker-level connector defaults: key.converter,
	// value.converter, header.converter and their prefixed keys.
	WorkerConfig connect.Config
	// ExactlyOnceSource enables exactly.once.source.support: source
	// connectors with exactly.once.support requested or required write
	// records and offsets in one transaction per poll.
	ExactlyOnceSource bool
	// Distributed makes the worker share connectors and tasks with the other
	// workers of GroupID through the group protocol (connect/cluster); a
	// worker alone is assigned everything. Without it the worker runs every
	// connector of the internal topics itself.
	Distributed bool
	// URL is this worker's REST address, told to the other workers.
	URL string
	// TaskShutdownTimeout bounds how long stopping a task waits for it
	// (task.shutdown.graceful.timeout.ms, default 5s).
	TaskShutdownTimeout time.Duration
	Logger              *slog.Logger
	// Registerer receives the runtime's metrics (default: a private registry).
	Registerer prometheus.Registerer
}

// Worker runs connectors and their tasks.
type Worker struct {
	opts      Options
	logger    *slog.Logger
	metrics   *metrics
	validator validator
	admin     *kadm.Client
	adminCl   *kgo.Client
	clusterID string

	configs  *storage.Configs
	offsets  *storage.Offsets
	statuses *storage.Statuses

	kick chan struct{}

	mu           sync.Mutex // guards the fields below
	conns        map[string]*connRun
	restarts     []storage.Restart
	taskRestarts []taskKey
	synced       []chan struct{} // closed after the next reconcile

	hooks testHooks

	member     *cluster.Member
	assignment *cluster.Assignment // nil: standalone, this worker owns everything

	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup // task goroutines
}

type taskKey struct {
	connector string
	task      int
}

// testHooks let in-package tests stop a task at a precise point.
type testHooks struct {
	// beforeTxnCommit runs in an exactly-once task after a poll's records
	// and offsets were produced, before the transaction is committed. If it
	// returns true the task exits without committing or aborting, as a
	// crashed process would.
	beforeTxnCommit func(connector string, task int) (abandon bool)
}

// DefaultGroupID is the workers' group when Options.GroupID is empty: Kafka
// Connect's default group.id.
const DefaultGroupID = "connect-cluster"

// New opens the internal topics (creating them when missing), rebuilds the
// state from them and starts the connectors they describe.
func New(ctx context.Context, opts Options) (*Worker, error) {
	if len(opts.Brokers) == 0 {
		return nil, errors.New("connect: no bootstrap brokers")
	}
	if opts.GroupID == "" {
		opts.GroupID = DefaultGroupID
	}
	if opts.ConfigTopic == "" {
		opts.ConfigTopic = "_connect-configs"
	}
	if opts.OffsetTopic == "" {
		opts.OffsetTopic = "_connect-offsets"
	}
	if opts.StatusTopic == "" {
		opts.StatusTopic = "_connect-status"
	}
	if opts.OffsetPartitions == 0 {
		opts.OffsetPartitions = 25
	}
	if opts.StatusPartitions == 0 {
		opts.StatusPartitions = 5
	}
	if opts.WorkerID == "" {
		h, _ := os.Hostname()
		opts.WorkerID = h
	}
	if opts.TaskShutdownTimeout == 0 {
		opts.TaskShutdownTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.WorkerConfig == nil {
		opts.WorkerConfig = connect.Config{}
	}
	w := &Worker{opts: opts, logger: opts.Logger, metrics: newMetrics(opts.Registerer),
		validator: validator{exactlyOnceEnabled: opts.ExactlyOnceSource, workerConfig: opts.WorkerConfig},
		kick:      make(chan struct{}, 1), conns: map[string]*connRun{}, done: make(chan struct{})}

	cl, err := kgo.NewClient(kgo.SeedBrokers(opts.Brokers...))
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	w.adminCl, w.admin = cl, kadm.NewClient(cl)
	meta, err := w.admin.BrokerMetadata(ctx)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("connect: cluster metadata: %w", err)
	}
	w.clusterID = meta.Cluster

	fail := func(err error) (*Worker, error) {
		w.closeStores()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if w.statuses, err = storage.OpenStatuses(ctx, opts.Brokers, opts.StatusTopic, opts.StatusPartitions, opts.WorkerID, w.logger); err != nil {
		return fail(err)
	}
	if w.offsets, err = storage.OpenOffsets(ctx, opts.Brokers, opts.OffsetTopic, opts.OffsetPartitions, w.logger); err != nil {
		return fail(err)
	}
	if w.configs, err = storage.OpenConfigs(ctx, opts.Brokers, opts.ConfigTopic, w.logger, func(string) { w.poke() }, w.onRestart); err != nil {
		return fail(err)
	}
	hctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	if opts.Distributed {
		// Own nothing until the group assigns something.
		w.assignment = &cluster.Assignment{}
		w.member, err = cluster.Join(cluster.Options{Brokers: opts.Brokers, Group: opts.GroupID, URL: opts.URL,
			Work: w.work, OnAssign: w.onAssign, Logger: w.logger})
		if err != nil {
			cancel()
			return fail(err)
		}
	}
	go w.herd(hctx)
	w.poke()
	w.logger.Info("connect worker started", "worker_id", opts.WorkerID, "connectors", len(w.configs.Names()),
		"exactly_once_source", opts.ExactlyOnceSource)
	return w, nil
}

func (w *Worker) closeStores() {
	if w.configs != nil {
		w.configs.Close()
	}
	if w.offsets != nil {
		w.offsets.Close()
	}
	if w.statuses != nil {
		w.statuses.Close()
	}
	w.adminCl.Close()
}

// Close stops every task (recording them UNASSIGNED) and closes the worker.
func (w *Worker) Close() {
	w.cancel()
	<-w.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.mu.Lock()
	for _, cr := range w.conns {
		for id, tr := range cr.tasks {
			w.stopTask(tr)
			delete(cr.tasks, id)
			tr.mu.Lock()
			tr.putStatusLocked(ctx, storage.StateUnassigned, "")
			tr.mu.Unlock()
		}
		if cr.failed == nil && w.owns(cr.name) {
			w.putConnectorStatus(ctx, cr, storage.StateUnassigned, "")
		}
	}
	w.mu.Unlock()
	// Leave the group once our tasks stopped, so their next owner does not
	// start them while they still run here.
	if w.member != nil {
		w.member.Close()
	}
	// Tasks were stopped above (or abandoned after TaskShutdownTimeout);
	// do not let an abandoned one hold the process.
	waited := make(chan struct{})
	go func() { w.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(w.opts.TaskShutdownTimeout):
	}
	w.closeStores()
}

// ClusterID is the Kafka cluster's id (GET / reports it).
func (w *Worker) ClusterID() string { return w.clusterID }

// WorkerID is this worker's id in statuses.
func (w *Worker) WorkerID() string { return w.opts.WorkerID }

// work is the cluster's work as this worker's configs view has it.
func (w *Worker) work() cluster.Work {
	out := cluster.Work{}
	for _, cs := range w.configs.All() {
		out[cs.Name] = len(cs.Tasks)
	}
	return out
}

func (w *Worker) onAssign(a cluster.Assignment) {
	w.logger.Info("connect: assignment", "generation", a.Generation, "connectors", a.Connectors, "tasks", len(a.Tasks))
	w.mu.Lock()
	w.assignment = &a
	w.mu.Unlock()
	w.poke()
}

// generation is the group generation of the current assignment (w.mu held).
func (w *Worker) generation() int {
	if w.assignment == nil {
		return 0
	}
	return int(w.assignment.Generation)
}

// owns reports whether this worker runs connector name (w.mu held).
func (w *Worker) owns(name string) bool { return w.assignment == nil || w.assignment.Owns(name) }

// ownsTask reports whether this worker runs a task (w.mu held).
func (w *Worker) ownsTask(name string, task int) bool {
	return w.assignment == nil || w.assignment.OwnsTask(name, task)
}

// needsRebalance reports whether the assignment was made for other work
// than the configs now describe (w.mu held).
func (w *Worker) needsRebalance() bool {
	if w.member == nil || w.assignment == nil || w.assignment.Generation == 0 && w.assignment.Leader == "" {
		return false
	}
	return !w.assignment.Work.Equal(w.work())
}

func (w *Worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *Worker) onRestart(r storage.Restart) {
	w.mu.Lock()
	w.restarts = append(w.restarts, r)
	w.mu.Unlock()
	w.poke()
}

// sync waits until the herder has reconciled after everything applied so far.
func (w *Worker) sync(ctx context.Context) error {
	ch := make(chan struct{})
	w.mu.Lock()
	w.synced = append(w.synced, ch)
	w.mu.Unlock()
	w.poke()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// herd reconciles the running connectors with the configs whenever
// something changed. It is the only goroutine that starts and stops tasks.
func (w *Worker) herd(ctx context.Context) {
	defer close(w.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		}
		w.mu.Lock()
		w.reconcile(ctx)
		synced := w.synced
		w.synced = nil
		w.mu.Unlock()
		for _, ch := range synced {
			close(ch)
		}
	}
}

// connRun is a connector instance on this worker.
type connRun struct {
	name      string
	cfg       connect.Config
	plugin    *connect.Plugin
	cc        *connectorConfig
	target    storage.TargetState
	generated bool // task configs generated since the instance started
	failed    error
	state     string // last status written
	tasks     map[int]*taskRun
}

func equalConfig(a, b connect.Config) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func equalTasks(a, b []connect.Config) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalConfig(a[i], b[i]) {
			return false
		}
	}
	return true
}

// reconcile runs with w.mu held.
func (w *Worker) reconcile(ctx context.Context) {
	restarts, taskRestarts := w.restarts, w.taskRestarts
	w.restarts, w.taskRestarts = nil, nil
	for _, r := range restarts {
		w.applyRestart(ctx, r)
	}
	for _, tk := range taskRestarts {
		if cr := w.conns[tk.connector]; cr != nil {
			if tr := cr.tasks[tk.task]; tr != nil {
				w.stopTask(tr)
				delete(cr.tasks, tk.task)
			}
		}
	}

	present := map[string]bool{}
	for _, cs := range w.configs.All() {
		present[cs.Name] = true
		cr := w.conns[cs.Name]
		if cr != nil && !equalConfig(cr.cfg, cs.Config) {
			w.stopConnector(ctx, cr)
			cr = nil
		}
		if cr == nil {
			cr = w.newConnRun(cs)
			w.conns[cs.Name] = cr
			if cr.failed != nil && w.owns(cs.Name) {
				w.putConnectorStatus(ctx, cr, storage.StateFailed, trace(cr.failed))
			}
		}
		if !w.owns(cs.Name) {
			cr.state = "" // written again if it comes back
		}
		if cr.failed != nil {
			continue
		}
		w.reconcileConnector(ctx, cr, cs)
	}
	if w.needsRebalance() {
		w.member.Rebalance()
	}
	for name, cr := range w.conns {
		if !present[name] {
			w.stopConnector(ctx, cr)
			delete(w.conns, name)
			if err := w.statuses.DeleteConnector(ctx, name); err != nil {
				w.logger.Warn("connect: deleting status", "connector", name, "err", err)
			}
		}
	}
}

func (w *Worker) newConnRun(cs storage.ConnectorState) *connRun {
	cr := &connRun{name: cs.Name, cfg: cs.Config, tasks: map[int]*taskRun{}}
	class := cs.Config["connector.class"]
	p, ok := connect.Lookup(class)
	if !ok || (p.NewSource == nil && p.NewSink == nil) {
		cr.failed = fmt.Errorf("connector class %q is not installed on this worker", class)
		return cr
	}
	cr.plugin = p
	cr.cc = parseConfig(cs.Config, p)
	return cr
}

func (w *Worker) reconcileConnector(ctx context.Context, cr *connRun, cs storage.ConnectorState) {
	cr.target = cs.Target
	owner := w.owns(cr.name)
	if cs.Target == storage.Stopped {
		for id, tr := range cr.tasks {
			w.stopTask(tr)
			delete(cr.tasks, id)
		}
		cr.generated = false
		if !owner {
			return
		}
		if len(cs.Tasks) > 0 || !cs.Committed {
			if err := w.configs.PutTasks(ctx, cr.name, nil); err != nil {
				w.logger.Warn("connect: writing empty task configs", "connector", cr.name, "err", err)
			}
			for i := range cs.Tasks {
				w.statuses.DeleteTask(ctx, cr.name, i)
			}
		}
		w.putConnectorStatus(ctx, cr, storage.StateStopped, "")
		return
	}
	if !owner {
		cr.generated = false
	}
	if owner && !cr.generated {
		var tcs []connect.Config
		err := safe(func() error {
			var e error
			if cr.plugin.NewSource != nil {
				tcs, e = cr.plugin.NewSource().TaskConfigs(cr.cfg, cr.cc.tasksMax)
			} else {
				tcs, e = cr.plugin.NewSink().TaskConfigs(cr.cfg, cr.cc.tasksMax)
			}
			return e
		})
		if err == nil && len(tcs) > cr.cc.tasksMax {
			err = fmt.Errorf("connector returned %d task configs, more than tasks.max=%d", len(tcs), cr.cc.tasksMax)
		}
		if err != nil {
			cr.failed = err
			w.putConnectorStatus(ctx, cr, storage.StateFailed, trace(err))
			return
		}
		cr.generated = true
		if !cs.Committed || !equalTasks(tcs, cs.Tasks) {
			if err := w.configs.PutTasks(ctx, cr.name, tcs); err != nil {
				w.logger.Warn("connect: writing task configs", "connector", cr.name, "err", err)
				cr.generated = false
			}
			return // applying the commit record runs reconcile again
		}
	}
	paused := cs.Target == storage.Paused
	if owner && paused {
		w.putConnectorStatus(ctx, cr, storage.StatePaused, "")
	} else if owner {
		w.putConnectorStatus(ctx, cr, storage.StateRunning, "")
	}
	for i, tc := range cs.Tasks {
		tr := cr.tasks[i]
		if !w.ownsTask(cr.name, i) {
			if tr != nil {
				w.stopTask(tr)
				delete(cr.tasks, i)
			}
			continue
		}
		if tr != nil && !equalConfig(tr.cfg, tc) {
			w.stopTask(tr)
			tr = nil
		}
		if tr == nil {
			tr = w.startTask(cr, i, tc, paused)
			cr.tasks[i] = tr
		} else {
			tr.setPaused(ctx, paused)
		}
	}
	for i, tr := range cr.tasks {
		if i >= len(cs.Tasks) {
			w.stopTask(tr)
			delete(cr.tasks, i)
			w.statuses.DeleteTask(ctx, cr.name, i)
		}
	}
}

func (w *Worker) putConnectorStatus(ctx context.Context, cr *connRun, state, tr string) {
	if cr.state == state && state != storage.StateFailed {
		return
	}
	cr.state = state
	if err := w.statuses.PutConnector(ctx, cr.name, storage.Status{State: state, Trace: tr, WorkerID: w.opts.WorkerID, Generation: w.generation()}); err != nil {
		w.logger.Warn("connect: writing status", "connector", cr.name, "err", err)
	}
}

func (w *Worker) stopConnector(ctx context.Context, cr *connRun) {
	for id, tr := range cr.tasks {
		w.stopTask(tr)
		delete(cr.tasks, id)
	}
}

// applyRestart handles a restart-connector request (w.mu held): the
// connector instance (unless onlyFailed and it is healthy) and, with
// includeTasks, its tasks (only the failed ones with onlyFailed). Restarted
// instances are started again by the reconcile that follows.
func (w *Worker) applyRestart(ctx context.Context, r storage.Restart) {
	cr := w.conns[r.Connector]
	if cr == nil {
		return
	}
	if cr.failed != nil {
		// A failed instance is replaced: its plugin is looked up again.
		w.stopConnector(ctx, cr)
		delete(w.conns, r.Connector)
		return
	}
	if !r.OnlyFailed {
		cr.generated = false // regenerate task configs
		cr.state = ""        // and report the state again
	}
	if r.IncludeTasks {
		for id, tr := range cr.tasks {
			if !r.OnlyFailed || tr.state() == storage.StateFailed {
				w.stopTask(tr)
				delete(cr.tasks, id)
			}
		}
	}
}

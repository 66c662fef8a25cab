package runtime

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/storage"
)

// gate holds a task while its connector is paused.
type gate struct {
	mu      sync.Mutex
	paused  bool
	resumed chan struct{} // closed when paused turns false
}

func newGate(paused bool) *gate {
	g := &gate{paused: paused, resumed: make(chan struct{})}
	if !paused {
		close(g.resumed)
	}
	return g
}

// set changes the state and reports whether it changed.
func (g *gate) set(paused bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused == paused {
		return false
	}
	g.paused = paused
	if paused {
		g.resumed = make(chan struct{})
	} else {
		close(g.resumed)
	}
	return true
}

func (g *gate) isPaused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// wait returns once not paused, or ctx's error.
func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	ch := g.resumed
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// taskRun is one task goroutine.
type taskRun struct {
	w      *Worker
	cr     *connRun
	id     int
	cfg    connect.Config
	gate   *gate
	cancel context.CancelFunc
	done   chan struct{}
	logger *slog.Logger

	gen int // group generation the task was started under (status records carry it)

	mu      sync.Mutex // orders status writes of the task and the herder
	started bool
	st      string
}

func (t *taskRun) state() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

// putStatus writes the task's status; a FAILED task stays FAILED.
func (t *taskRun) putStatusLocked(ctx context.Context, state, tr string) {
	if t.st == storage.StateFailed {
		return
	}
	t.st = state
	if err := t.w.statuses.PutTask(ctx, t.cr.name, t.id, storage.Status{State: state, Trace: tr, WorkerID: t.w.opts.WorkerID, Generation: t.gen}); err != nil {
		t.logger.Warn("connect: writing task status", "err", err)
	}
}

// running is called by the task once started.
func (t *taskRun) running(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.started = true
	if t.gate.isPaused() {
		t.putStatusLocked(ctx, storage.StatePaused, "")
	} else {
		t.putStatusLocked(ctx, storage.StateRunning, "")
	}
}

func (t *taskRun) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.logger.Error("connect: task failed", "err", err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t.putStatusLocked(ctx, storage.StateFailed, trace(err))
}

// setPaused pauses or resumes the task (herder).
func (t *taskRun) setPaused(ctx context.Context, paused bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.gate.set(paused) || !t.started {
		return
	}
	if paused {
		t.putStatusLocked(ctx, storage.StatePaused, "")
	} else {
		t.putStatusLocked(ctx, storage.StateRunning, "")
	}
}

// startTask starts a task goroutine (w.mu held).
func (w *Worker) startTask(cr *connRun, id int, cfg connect.Config, paused bool) *taskRun {
	ctx, cancel := context.WithCancel(context.Background())
	t := &taskRun{w: w, cr: cr, id: id, cfg: cfg, gate: newGate(paused), cancel: cancel, done: make(chan struct{}),
		logger: w.logger.With("connector", cr.name, "task", id), gen: w.generation()}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(t.done)
		var err error
		if cr.plugin.NewSource != nil {
			err = w.runSource(ctx, t)
		} else {
			err = w.runSink(ctx, t)
		}
		if err != nil && ctx.Err() == nil {
			t.fail(err)
		}
	}()
	return t
}

// stopTask cancels a task and waits for it, at most TaskShutdownTimeout
// (a task that does not return is abandoned, as Kafka Connect does).
func (w *Worker) stopTask(t *taskRun) {
	t.cancel()
	select {
	case <-t.done:
	case <-time.After(w.opts.TaskShutdownTimeout):
		t.logger.Warn("connect: task did not stop in time; abandoning it", "timeout", w.opts.TaskShutdownTimeout)
	}
	w.metrics.forget(t.cr.name, strconv.Itoa(t.id))
}

// taskContext is what a task sees of the runtime.
type taskContext struct {
	w    *Worker
	name string
	id   int
	log  *slog.Logger
}

func (c *taskContext) Connector() string    { return c.name }
func (c *taskContext) TaskID() int          { return c.id }
func (c *taskContext) Logger() *slog.Logger { return c.log }
func (c *taskContext) Offset(partition map[string]any) (map[string]any, error) {
	return c.w.offsets.Get(c.name, partition), nil
}

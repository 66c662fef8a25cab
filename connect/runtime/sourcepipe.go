package runtime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect/storage"
)

// Without exactly-once, a source task does not wait for each batch to be
// acknowledged before it polls the next: batches are produced
// asynchronously, and a committer goroutine stores their offsets in poll
// order once every record of a batch was acknowledged, as Kafka Connect's
// offset flushing does. Waiting per batch left the producer idle for a
// round trip and an offset write per poll.
const (
	// maxInFlightBatches bounds the batches produced but not yet settled.
	// With 8, datagen's poll loop spent half of the pipeline waiting: a
	// batch is settled after the broker's fsync of the data (acks=all)
	// and the committer's fsynced offset write, and 8 batches of 1000
	// records are two of franz-go's 1 MB produce requests. 32 batches
	// hold at most about 16 MB of records not yet acknowledged (Kafka's
	// producer buffer.memory is 32 MB); an acknowledged batch keeps only
	// its offsets and topics.
	maxInFlightBatches = 32
	// sourceCommitInterval bounds how long SourceTask.Commit may wait
	// while batches keep coming: after it, the task waits until every
	// batch polled is stored, then calls Commit. A
	// connect.CheckpointingSourceTask is never made to wait: it hears of
	// each stored prefix of its polls.
	sourceCommitInterval = time.Second
)

// checkpoint is a CheckpointingSourceTask's checkpoint taken after the
// poll'th poll (poll 0: none).
type checkpoint struct {
	poll int64
	cp   any
}

// inflight is one batch being produced.
type inflight struct {
	n       int      // records
	topics  []string // their topics, each once
	offsets []storage.SourceOffset
	cp      checkpoint    // after the poll that returned the batch
	done    chan struct{} // closed when every record has its result
	mu      sync.Mutex
	pending int
	failed  int
	err     error // the first failure that is not tolerated
}

// pipeline is the committer's side of a source task.
type pipeline struct {
	batches chan *inflight
	exited  chan struct{}
	cancel  context.CancelFunc

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced when settled or err change
	sent     int           // batches handed to the committer (task goroutine only)
	settled  int           // batches whose offsets are stored
	stored   checkpoint    // of the last batch stored
	err      error         // fatal: the task fails
	lastDone time.Time     // when Commit was last called (task goroutine only)
}

func (s *sourceRun) startPipeline(ctx context.Context) {
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p := &pipeline{
		batches: make(chan *inflight, maxInFlightBatches),
		exited:  make(chan struct{}),
		cancel:  cancel,
		changed: make(chan struct{}),
	}
	p.lastDone = time.Now()
	s.pipe = p
	go s.commitLoop(cctx, p)
}

// produceAsync starts producing a batch and hands it to the committer. It
// blocks while maxInFlightBatches are in flight. Produce uses a context
// that survives the task's stop, so a graceful stop still delivers it.
func (s *sourceRun) produceAsync(ctx context.Context, recs []*kgo.Record, offsets []storage.SourceOffset, cp checkpoint, ar *arena, mem *batchMem) error {
	b := &inflight{n: len(recs), topics: topicsOf(recs), offsets: offsets, cp: cp, done: make(chan struct{}), pending: len(recs)}
	if len(recs) == 0 {
		close(b.done)
		ar.release()
		putBatchMem(mem)
	}
	// The value says no partition was chosen, answering the partitioner's
	// lookup at once: a lookup through WithoutCancel's context allocates.
	pctx := context.WithValue(context.WithoutCancel(ctx), manualPartition{}, int32(-1))
	// One promise for the whole batch: a closure per record was one of a
	// datagen record's dozen allocations.
	promise := func(r *kgo.Record, err error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if err != nil {
			b.failed++
			f := failure{stage: StageKafkaProduce, class: s.cc.class, err: err}
			s.w.metrics.errors.WithLabelValues(s.label[0], s.label[1], f.stage).Inc()
			if s.cc.logErrors {
				logFailure(s.t.logger, f, s.cc.logMessages)
			}
			if b.err == nil && (!s.cc.tolerateAll || err == kgo.ErrClientClosed) {
				b.err = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
		}
		if b.pending--; b.pending == 0 {
			// Every record has its result: franz-go is done with the
			// records and their bytes, and the committer reads only the
			// batch's topics and offsets.
			ar.release()
			putBatchMem(mem)
			close(b.done)
		}
	}
	for _, r := range recs {
		s.cl.Produce(pctx, r, promise)
	}
	select {
	case s.pipe.batches <- b:
		s.pipe.sent++
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitLoop stores the offsets of acknowledged batches in order, several
// batches in one write when they are ready together.
func (s *sourceRun) commitLoop(ctx context.Context, p *pipeline) {
	defer close(p.exited)
	for b := range p.batches {
		batch := []*inflight{b}
		for more := true; more; {
			select {
			case nb, ok := <-p.batches:
				if !ok {
					more = false
					break
				}
				batch = append(batch, nb)
			default:
				more = false
			}
		}
		var offsets []storage.SourceOffset
		var err error
		for _, b := range batch {
			select {
			case <-b.done:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				err = b.err
				break
			}
			s.w.metrics.written.WithLabelValues(s.label...).Add(float64(b.n - b.failed))
			offsets = append(offsets, b.offsets...)
		}
		if err == nil {
			for _, b := range batch {
				s.noteTopics(ctx, b.topics)
			}
			start := time.Now()
			if werr := s.w.offsets.Write(ctx, s.t.cr.name, offsets); werr != nil {
				err = fmt.Errorf("store offsets: %w", werr)
			} else {
				s.w.metrics.commitTime.WithLabelValues(s.label...).Observe(time.Since(start).Seconds())
			}
		}
		p.mu.Lock()
		if err != nil {
			p.err = err
		} else {
			p.settled += len(batch)
			if cp := batch[len(batch)-1].cp; cp.poll > 0 {
				p.stored = cp
			}
		}
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// state returns what the committer has done so far.
func (p *pipeline) state() (settled int, stored checkpoint, err error, changed chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settled, p.stored, p.err, p.changed
}

// settle returns the committer's error, if any, and calls the task's
// Commit once every batch polled so far is stored. With wait it waits for
// that first. Without, a checkpointing task's last stored checkpoint is
// committed.
func (s *sourceRun) settle(ctx context.Context, wait bool) error {
	p := s.pipe
	for {
		settled, stored, err, changed := p.state()
		if err != nil {
			return err
		}
		if settled == p.sent {
			break
		}
		if !wait {
			if stored.poll > s.committedPoll {
				s.committedPoll = stored.poll
				if err := safe(func() error { return s.cpTask.CommitCheckpoint(context.WithoutCancel(ctx), stored.cp) }); err != nil {
					return fmt.Errorf("commit: %w", err)
				}
			}
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
	if s.uncommitted {
		s.uncommitted = false
		s.committedPoll = s.polls
		p.lastDone = time.Now()
		if err := safe(func() error { return s.task.Commit(context.WithoutCancel(ctx)) }); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	return nil
}

// stopPipeline lets the committer store what is acknowledged, for up to 30
// seconds, when the task stops. Batches not acknowledged by then keep
// their offsets unstored: they are produced again after a restart
// (at-least-once).
func (s *sourceRun) stopPipeline() {
	p := s.pipe
	close(p.batches)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		s.t.logger.Warn("connect: gave up storing the offsets of the last batches")
		p.cancel()
		<-p.exited
	}
	p.cancel()
}

// batchMem is the memory of a batch's Kafka records: the records, the
// pointers to them handed to franz-go, and their headers. Allocating it
// for every batch of 1000 datagen records was a third of a megabyte a
// batch, a fifth of what the datagen pipeline allocated.
type batchMem struct {
	recs    []kgo.Record
	ptrs    []*kgo.Record
	headers []kgo.RecordHeader
}

// batchMems holds the memory of batches whose records were all
// acknowledged, for the next batches of any task.
var batchMems = sync.Pool{New: func() any { return &batchMem{} }}

// getBatchMem returns memory for n records with nh headers: recs of
// length at least n (not cleared), ptrs and headers empty with room for n
// and nh.
func getBatchMem(n, nh int) *batchMem {
	m := batchMems.Get().(*batchMem)
	if cap(m.recs) < n {
		m.recs = make([]kgo.Record, n)
		m.ptrs = make([]*kgo.Record, 0, n)
	}
	m.recs = m.recs[:cap(m.recs)]
	m.ptrs = m.ptrs[:0]
	if cap(m.headers) < nh {
		m.headers = make([]kgo.RecordHeader, 0, nh)
	}
	m.headers = m.headers[:0]
	return m
}

// putBatchMem gives back memory that nothing refers to any more.
func putBatchMem(m *batchMem) {
	if m != nil {
		batchMems.Put(m)
	}
}

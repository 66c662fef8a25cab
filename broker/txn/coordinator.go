package txn

// The transaction coordinator (KIP-98): transactional ids, their producer
// id and epoch, the partitions and groups each open transaction touches,
// and the two-phase end: the decision (PrepareCommit/PrepareAbort) is made
// durable first, then markers go to every partition, then the transaction
// is complete. After a restart, prepared transactions are completed and
// open ones aborted (Recover).
//
// See Coordinator for the locking.

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// State is a transaction's state, numbered as in Kafka's transaction log.
type State int8

const (
	Empty State = iota
	Ongoing
	PrepareCommit
	PrepareAbort
	CompleteCommit
	CompleteAbort
	Dead
)

func (s State) String() string {
	names := [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead"}
	if int(s) < len(names) && s >= 0 {
		return names[s]
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Txn is one transactional id's state.
type Txn struct {
	ID         string
	ProducerID int64
	Epoch      int16
	Timeout    time.Duration
	State      State
	Partitions map[TopicPartition]struct{}
	Groups     map[string]struct{}
	Start      time.Time // when the current transaction began (Ongoing)
	LastUpdate time.Time
}

// SortedPartitions returns the transaction's partitions in a stable order.
func (t *Txn) SortedPartitions() []TopicPartition {
	out := make([]TopicPartition, 0, len(t.Partitions))
	for tp := range t.Partitions {
		out = append(out, tp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

func (t *Txn) clone() *Txn {
	c := *t
	c.Partitions = make(map[TopicPartition]struct{}, len(t.Partitions))
	for k := range t.Partitions {
		c.Partitions[k] = struct{}{}
	}
	c.Groups = make(map[string]struct{}, len(t.Groups))
	for k := range t.Groups {
		c.Groups[k] = struct{}{}
	}
	return &c
}

// Backend is what the coordinator needs from the broker.
type Backend interface {
	// Persist writes a transaction's state to the transaction log; with
	// durable it returns only once the write is synced.
	Persist(t *Txn, durable bool) error
	// WriteMarkers writes a commit or abort marker for pid at epoch to
	// every partition and returns once they are durable.
	WriteMarkers(pid int64, epoch int16, commit bool, parts []TopicPartition) error
	// EndGroupTxn applies (commit) or drops the offsets that pid committed
	// to group inside its transaction. May be nil-safe no-op until groups
	// exist.
	EndGroupTxn(group string, pid int64, commit bool) error
	// PartitionExists tells whether a topic partition exists.
	PartitionExists(tp TopicPartition) bool
	// OffsetsPartition is the __consumer_offsets partition of a group,
	// which joins a transaction that commits the group's offsets, so that
	// the markers decide them (created when needed).
	OffsetsPartition(group string) (TopicPartition, error)
}

// MaxTimeout is transaction.max.timeout.ms.
const MaxTimeout = 15 * time.Minute

// Coordinator runs transactions for one broker.
//
// Locking: an operation on a transactional id holds that id's lock for its
// whole run, writes and syncs included, so operations on one id happen one
// at a time; mu guards only the maps and is never held during I/O, so one
// id's slow commit never stalls another id or the produce path. A *Txn in
// txns is never modified once published: changes are made on a clone and
// published with set. Lock order: id lock, then mu.
type Coordinator struct {
	pids   *ProducerIDs
	b      Backend
	logger *slog.Logger
	now    func() time.Time

	mu    sync.Mutex
	txns  map[string]*Txn
	locks map[string]*sync.Mutex
}

// NewCoordinator returns a coordinator; Load and Recover restore its state.
func NewCoordinator(pids *ProducerIDs, b Backend, logger *slog.Logger) *Coordinator {
	return &Coordinator{pids: pids, b: b, logger: logger, now: time.Now, txns: map[string]*Txn{}, locks: map[string]*sync.Mutex{}}
}

// lock takes id's operation lock and returns its unlock.
func (c *Coordinator) lock(id string) func() {
	c.mu.Lock()
	l := c.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		c.locks[id] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (c *Coordinator) get(id string) *Txn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.txns[id]
}

func (c *Coordinator) set(t *Txn) {
	c.mu.Lock()
	c.txns[t.ID] = t
	c.mu.Unlock()
}

// Load installs a transaction read back from the transaction log (the last
// record for its id wins; nil deletes).
func (c *Coordinator) Load(id string, t *Txn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t == nil {
		delete(c.txns, id)
		return
	}
	c.txns[id] = t
}

// Recover finishes what a crash interrupted: prepared transactions get
// their markers, open ones are aborted with a bumped epoch (fencing the
// producer that opened them).
func (c *Coordinator) Recover() error {
	for _, t := range c.List() {
		unlock := c.lock(t.ID)
		t := c.get(t.ID)
		var err error
		switch t.State {
		case PrepareCommit, PrepareAbort:
			err = c.complete(t, t.State == PrepareCommit)
		case Ongoing:
			err = c.abortFenced(t)
		}
		unlock()
		if err != nil {
			return fmt.Errorf("transaction %q: %w", t.ID, err)
		}
	}
	return nil
}

// persist writes t to the transaction log, synced, then publishes it.
func (c *Coordinator) persist(t *Txn) error { return c.persistSync(t, true) }

func (c *Coordinator) persistSync(t *Txn, durable bool) error {
	t.LastUpdate = c.now()
	if err := c.b.Persist(t, durable); err != nil {
		return kerr.CoordinatorNotAvailable // retriable for the client
	}
	c.set(t)
	return nil
}

// InitProducerID gives transactional id its producer id and a new epoch,
// ending whatever transaction the previous incarnation left: a prepared
// one completes, an open one aborts. With pid/epoch >= 0 (KIP-360) the
// caller must be the current incarnation.
func (c *Coordinator) InitProducerID(id string, timeout time.Duration, pid int64, epoch int16) (int64, int16, error) {
	if timeout <= 0 || timeout > MaxTimeout {
		return -1, -1, kerr.InvalidTransactionTimeout
	}
	defer c.lock(id)()
	t := c.get(id)
	if t == nil {
		npid, err := c.pids.Next()
		if err != nil {
			return -1, -1, kerr.CoordinatorNotAvailable
		}
		t = &Txn{ID: id, ProducerID: npid, Epoch: 0, Timeout: timeout, State: Empty,
			Partitions: map[TopicPartition]struct{}{}, Groups: map[string]struct{}{}}
		if err := c.persist(t); err != nil {
			return -1, -1, err
		}
		return t.ProducerID, t.Epoch, nil
	}
	if pid >= 0 && (pid != t.ProducerID || epoch != t.Epoch) {
		if pid == t.ProducerID && epoch < t.Epoch {
			return -1, -1, kerr.ProducerFenced
		}
		return -1, -1, kerr.InvalidProducerIDMapping
	}
	switch t.State {
	case PrepareCommit, PrepareAbort:
		if err := c.complete(t, t.State == PrepareCommit); err != nil {
			return -1, -1, err
		}
	case Ongoing:
		if err := c.abortFenced(t); err != nil {
			return -1, -1, err
		}
	}
	next := c.get(id).clone()
	if err := c.bumpEpoch(next); err != nil {
		return -1, -1, err
	}
	next.Timeout, next.State = timeout, Empty
	if err := c.persist(next); err != nil {
		return -1, -1, err
	}
	return next.ProducerID, next.Epoch, nil
}

// bumpEpoch moves t (a clone) to the next epoch, or to a new producer id
// when the epoch space is used up.
func (c *Coordinator) bumpEpoch(t *Txn) error {
	if t.Epoch >= 1<<15-2 {
		npid, err := c.pids.Next()
		if err != nil {
			return kerr.CoordinatorNotAvailable
		}
		t.ProducerID, t.Epoch = npid, 0
		return nil
	}
	t.Epoch++
	return nil
}

// abortFenced aborts an open transaction with a bumped epoch, so that the
// producer that opened it is fenced on every partition it wrote. Called
// with t's id lock held.
func (c *Coordinator) abortFenced(t *Txn) error {
	next := t.clone()
	if err := c.bumpEpoch(next); err != nil {
		return err
	}
	next.State = PrepareAbort
	if err := c.persist(next); err != nil {
		return err
	}
	return c.complete(next, false)
}

// complete writes the markers of a prepared transaction and records the
// outcome. Called with t's id lock held.
func (c *Coordinator) complete(t *Txn, commit bool) error {
	if err := c.b.WriteMarkers(t.ProducerID, t.Epoch, commit, t.SortedPartitions()); err != nil {
		c.logger.Warn("writing transaction markers", "txn", t.ID, "err", err)
		return kerr.CoordinatorNotAvailable
	}
	for g := range t.Groups {
		if err := c.b.EndGroupTxn(g, t.ProducerID, commit); err != nil {
			c.logger.Warn("ending group offsets of transaction", "txn", t.ID, "group", g, "err", err)
			return kerr.CoordinatorNotAvailable
		}
	}
	done := t.clone()
	done.State = CompleteAbort
	if commit {
		done.State = CompleteCommit
	}
	done.Partitions, done.Groups = map[TopicPartition]struct{}{}, map[string]struct{}{}
	// The outcome needs no sync of its own: if a crash loses it, Recover
	// finds the durable Prepare state and writes the markers again, which
	// is harmless. The next durable write covers it anyway.
	return c.persistSync(done, false)
}

// check validates a request's producer id and epoch against t.
func check(t *Txn, pid int64, epoch int16) error {
	switch {
	case t == nil || t.ProducerID != pid:
		return kerr.InvalidProducerIDMapping
	case epoch < t.Epoch:
		return kerr.ProducerFenced
	case epoch > t.Epoch:
		return kerr.InvalidProducerEpoch
	case t.State == PrepareCommit || t.State == PrepareAbort:
		return kerr.ConcurrentTransactions
	}
	return nil
}

func (c *Coordinator) begin(t *Txn) {
	if t.State != Ongoing {
		t.State, t.Start = Ongoing, c.now()
	}
}

// AddPartitions adds partitions to id's transaction. Unknown partitions
// fail alone with UNKNOWN_TOPIC_OR_PARTITION and the rest with
// OPERATION_NOT_ATTEMPTED, as in Kafka; otherwise one error covers all.
func (c *Coordinator) AddPartitions(id string, pid int64, epoch int16, parts []TopicPartition) (map[TopicPartition]error, error) {
	defer c.lock(id)()
	t := c.get(id)
	if err := check(t, pid, epoch); err != nil {
		return nil, err
	}
	var unknown map[TopicPartition]error
	for _, tp := range parts {
		if !c.b.PartitionExists(tp) {
			if unknown == nil {
				unknown = map[TopicPartition]error{}
			}
			unknown[tp] = kerr.UnknownTopicOrPartition
		}
	}
	if unknown != nil {
		for _, tp := range parts {
			if unknown[tp] == nil {
				unknown[tp] = kerr.OperationNotAttempted
			}
		}
		return unknown, nil
	}
	next := t.clone()
	c.begin(next)
	for _, tp := range parts {
		next.Partitions[tp] = struct{}{}
	}
	// No need to wait for the sync: the commit decision, synced later in
	// the same log, makes this record durable before anything can commit,
	// and data left open by a crash before that is aborted at start
	// (OwnsOpen, the broker's dangling-transaction sweep).
	return nil, c.persistSync(next, false)
}

// OwnsOpen tells whether a transaction of producer pid that is open or
// being decided includes tp. A partition's open transaction that none owns
// is dangling (its AddPartitionsToTxn record was lost in a crash) and is
// aborted by the broker at start.
func (c *Coordinator) OwnsOpen(pid int64, tp TopicPartition) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.txns {
		if t.ProducerID != pid {
			continue
		}
		if _, ok := t.Partitions[tp]; ok && (t.State == Ongoing || t.State == PrepareCommit || t.State == PrepareAbort) {
			return true
		}
	}
	return false
}

// AddOffsets adds a consumer group to id's transaction, so that the
// offsets committed with TxnOffsetCommit are applied or dropped at its end.
func (c *Coordinator) AddOffsets(id string, pid int64, epoch int16, group string) error {
	defer c.lock(id)()
	t := c.get(id)
	if err := check(t, pid, epoch); err != nil {
		return err
	}
	tp, err := c.b.OffsetsPartition(group)
	if err != nil {
		return kerr.CoordinatorNotAvailable
	}
	next := t.clone()
	c.begin(next)
	next.Groups[group] = struct{}{}
	next.Partitions[tp] = struct{}{}
	return c.persistSync(next, false) // as in AddPartitions
}

// CheckProduce tells whether pid at epoch may write transactional records
// to tp: the partition must have been added to its open transaction. It
// takes no id lock: it never waits for another id's I/O.
func (c *Coordinator) CheckProduce(id string, pid int64, epoch int16, tp TopicPartition) error {
	t := c.get(id)
	if err := check(t, pid, epoch); err != nil {
		if err == kerr.ProducerFenced {
			return kerr.InvalidProducerEpoch // Produce answers fencing this way
		}
		return err
	}
	if _, ok := t.Partitions[tp]; !ok || t.State != Ongoing {
		return kerr.InvalidTxnState
	}
	return nil
}

// InGroupTxn tells whether pid's open transaction includes group (for
// TxnOffsetCommit).
func (c *Coordinator) InGroupTxn(id string, pid int64, epoch int16, group string) error {
	t := c.get(id)
	if err := check(t, pid, epoch); err != nil {
		return err
	}
	if _, ok := t.Groups[group]; !ok || t.State != Ongoing {
		return kerr.InvalidTxnState
	}
	return nil
}

// End commits or aborts id's transaction. It answers once the decision
// (PrepareCommit or PrepareAbort) is durable, as Kafka does: the markers are
// then written in the background while the id stays locked, so the
// producer's next transaction waits for them, and Recover redoes them
// after a crash. Ending an empty transaction, or repeating the end that
// already happened (a retry), succeeds.
func (c *Coordinator) End(id string, pid int64, epoch int16, commit bool) error {
	unlock := c.lock(id)
	t := c.get(id)
	if t != nil && t.ProducerID == pid && t.Epoch == epoch {
		switch {
		case t.State == PrepareCommit && commit, t.State == PrepareAbort && !commit:
			defer unlock()
			return c.complete(t, commit) // markers failed before: try again
		case t.State == CompleteCommit && commit, t.State == CompleteAbort && !commit, t.State == Empty:
			unlock()
			return nil
		case t.State == CompleteCommit || t.State == CompleteAbort:
			unlock()
			return kerr.InvalidTxnState
		}
	}
	if err := check(t, pid, epoch); err != nil {
		unlock()
		return err
	}
	next := t.clone()
	next.State = PrepareAbort
	if commit {
		next.State = PrepareCommit
	}
	if err := c.persist(next); err != nil {
		unlock()
		return err
	}
	go func() {
		defer unlock()
		if err := c.complete(next, commit); err != nil {
			c.logger.Warn("completing transaction; it stays prepared until retried or recovered", "txn", id, "err", err)
		}
	}()
	return nil
}

// ExpireTimedOut aborts transactions open longer than their timeout,
// fencing their producers. Call it periodically.
func (c *Coordinator) ExpireTimedOut() {
	now := c.now()
	for _, t := range c.List() {
		if t.State != Ongoing || now.Sub(t.Start) <= t.Timeout {
			continue
		}
		unlock := c.lock(t.ID)
		if cur := c.get(t.ID); cur.State == Ongoing && now.Sub(cur.Start) > cur.Timeout {
			c.logger.Info("aborting timed-out transaction", "txn", cur.ID, "producer_id", cur.ProducerID, "open_for", now.Sub(cur.Start).Round(time.Millisecond))
			if err := c.abortFenced(cur); err != nil {
				c.logger.Warn("aborting timed-out transaction", "txn", cur.ID, "err", err)
			}
		}
		unlock()
	}
}

// Describe returns copies of the named transactions (nil for unknown ids).
func (c *Coordinator) Describe(ids []string) []*Txn {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Txn, len(ids))
	for i, id := range ids {
		if t := c.txns[id]; t != nil {
			out[i] = t.clone()
		}
	}
	return out
}

// List returns copies of all transactions, sorted by id.
func (c *Coordinator) List() []*Txn {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Txn, 0, len(c.txns))
	for _, t := range c.txns {
		out = append(out, t.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

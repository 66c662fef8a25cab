package txn

// The transaction coordinator (KIP-98): transactional ids, their producer
// id and epoch, the partitions and groups each open transaction touches,
// and the two-phase end: the decision (PrepareCommit/PrepareAbort) is made
// durable first, then markers go to every partition, then the transaction
// is complete. After a restart, prepared transactions are completed and
// open ones aborted (Recover).
//
// Two client generations are served. Classic clients (KIP-98) add
// partitions with AddPartitionsToTxn and keep their epoch across
// transactions. KIP-890 part 2 clients (EndTxn v5+, Produce v12+) add
// partitions implicitly by producing to them, and every EndTxn bumps the
// epoch and hands the next one back, so a late write of an ended
// transaction is fenced and the client needs no round trip before its next
// transaction.
//
// Ending a transaction is answered once its decision is durable, with a
// commit's data (transactional produce is answered before its sync;
// data_ends.go). Its markers are appended before the answer and made
// durable in the background (settle). Until they are, the id's state
// records carry them (unsettled.go), so that Recover can redo those a
// crash took back; a KIP-890 producer's next transaction begins at once,
// its end waits for them only before writing its own markers, and
// InitProducerId, a timeout abort and a classic client's
// AddPartitionsToTxn wait for them first (lockSettled). Classic clients keep
// their epoch, so a redone marker would end their next transaction's data
// too: the transaction log must hold the outcome before that transaction
// begins.
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
	// PrevProducerID and PrevEpoch are, after a KIP-890 end (prepared or
	// complete), the producer id and epoch the ended transaction's data
	// carry, ProducerID and Epoch being already the next transaction's;
	// -1 otherwise. A retried EndTxn names them.
	PrevProducerID int64
	PrevEpoch      int16
	// DataEnds is, in a PrepareCommit, the log end offset of each
	// partition when the commit was decided: the transaction's data lies
	// below it. Transactional produce is answered before its data is
	// synced, so the commit answers only once the data is durable too, and
	// Recover commits a prepared transaction only if its data survived
	// (data_ends.go). Nil otherwise.
	DataEnds map[TopicPartition]int64
	// Unsettled are the markers of the last ended transaction while they
	// may not be durable yet; every state record written meanwhile carries
	// them, so that Recover can redo the ones a crash took back
	// (unsettled.go). Nil once they are durable.
	Unsettled *Markers
}

// dataIDs returns the producer id and epoch that t's transactional data
// and markers carry.
func (t *Txn) dataIDs() (int64, int16) {
	if t.PrevProducerID >= 0 {
		return t.PrevProducerID, t.PrevEpoch
	}
	return t.ProducerID, t.Epoch
}

// Bumped tells whether t's last end bumped its epoch (KIP-890 part 2).
func (t *Txn) Bumped() bool { return t.PrevProducerID >= 0 }

// PrevEpochAfterBump is the epoch a KIP-890 end bumped from, given the
// producer ids before and after and the epoch after: the epoch is one
// higher on the same producer id, or the id changed because the epoch
// space was used up, which bumpEpoch does at exactly lastEpoch.
func PrevEpochAfterBump(prevPID, pid int64, epoch int16) int16 {
	if prevPID == pid {
		return epoch - 1
	}
	return lastEpoch
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
	if t.DataEnds != nil {
		c.DataEnds = make(map[TopicPartition]int64, len(t.DataEnds))
		for k, v := range t.DataEnds {
			c.DataEnds[k] = v
		}
	}
	return &c
}

// Backend is what the coordinator needs from the broker.
type Backend interface {
	// Persist writes a transaction's state to the transaction log; with
	// durable it returns only once the write is synced.
	Persist(t *Txn, durable bool) error
	// WriteMarkers appends a commit or abort marker for pid at epoch to
	// every partition and returns, per partition, the log end offset just
	// after its marker (WaitDurable waits for them). A partition where the
	// producer already wrote at a later epoch (a later transaction, so
	// this marker is there already) is skipped and left out.
	WriteMarkers(pid int64, epoch int16, commit bool, parts []TopicPartition) (ends map[TopicPartition]int64, err error)
	// EndGroupTxn applies (commit) or drops the offsets that pid committed
	// to group inside its transaction. May be nil-safe no-op until groups
	// exist.
	EndGroupTxn(group string, pid int64, commit bool) error
	// LogEnds returns the log end offset (written, maybe not yet durable)
	// of each partition that exists.
	LogEnds(parts []TopicPartition) map[TopicPartition]int64
	// WaitDurable makes every partition durable up to its offset in
	// ends, syncing them at once, and returns when they are.
	WaitDurable(ends map[TopicPartition]int64) error
	// AwaitDurable waits until every partition is durable up to its
	// offset in ends without syncing anything itself (the broker's
	// flusher syncs appended data anyway, and the next commit's sync of
	// the same partitions covers what lies before its data) until hurry
	// is closed; then it syncs what is left at once, as WaitDurable. For
	// markers nobody waits on yet (settle).
	AwaitDurable(ends map[TopicPartition]int64, hurry <-chan struct{}) error
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
	// OnCommitWaits, when set before use, observes each commit's two
	// waits, which run in parallel: for its data to be durable and for its
	// decision (the PrepareCommit record) to be (data_ends.go).
	OnCommitWaits func(data, decision time.Duration)

	mu    sync.Mutex
	txns  map[string]*Txn
	locks map[string]*sync.Mutex
	// settling holds, per id whose ended transaction's markers are not yet
	// durable, their settlement. Operations that must not overtake the
	// markers wait for it (lockSettled); a KIP-890 producer's next
	// transaction does not, and its end waits only before its own markers
	// replace them in the state (awaitMarkers).
	settling map[string]*settlement
}

// settlement is an ended transaction's markers on their way to disk.
type settlement struct {
	hurry     chan struct{} // closed when an operation waits for the markers
	hurryOnce sync.Once
	durable   chan struct{} // closed once the markers' sync is over
	err       error         // the sync's outcome, set before durable is closed
	done      chan struct{} // closed once the state is written without them
}

// wait tells settle that an operation now waits for the markers: they are
// synced at once rather than left to the flusher or the next commit.
func (st *settlement) wait() { st.hurryOnce.Do(func() { close(st.hurry) }) }

// NewCoordinator returns a coordinator; Load and Recover restore its state.
func NewCoordinator(pids *ProducerIDs, b Backend, logger *slog.Logger) *Coordinator {
	return &Coordinator{pids: pids, b: b, logger: logger, now: time.Now, txns: map[string]*Txn{}, locks: map[string]*sync.Mutex{},
		settling: map[string]*settlement{}}
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

// lockSettled takes id's operation lock once no ended transaction of id
// has markers still on their way to disk: for operations that write a
// durable record, which must not overtake those markers.
func (c *Coordinator) lockSettled(id string) func() {
	for {
		unlock := c.lock(id)
		c.mu.Lock()
		st := c.settling[id]
		c.mu.Unlock()
		if st == nil {
			return unlock
		}
		unlock()
		st.wait()
		<-st.done
	}
}

// awaitMarkers waits, with id's lock held, until the markers of id's last
// ended transaction are durable: before a new end replaces them in the
// id's state (Txn.Unsettled). It cannot deadlock with settle, which takes
// the lock only after that.
func (c *Coordinator) awaitMarkers(id string) error {
	c.mu.Lock()
	st := c.settling[id]
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	st.wait()
	<-st.durable
	return st.err
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
//
// A prepared commit whose data a crash took back is aborted instead
// (data_ends.go); markers of an ended transaction that a crash took back
// are written again first (unsettled.go).
func (c *Coordinator) Recover() error {
	all := c.List()
	missing, lost := c.missingData(all), c.lostMarkers(all)
	for _, t := range all {
		unlock := c.lock(t.ID)
		t := c.get(t.ID)
		var err error
		if t.Unsettled != nil {
			if err = c.redoMarkers(t, lost[t.ID]); err != nil {
				unlock()
				return fmt.Errorf("transaction %q: %w", t.ID, err)
			}
			t = c.get(t.ID)
		}
		switch {
		case t.State == PrepareCommit && len(missing[t.ID]) > 0:
			err = c.abortPrepared(t, missing[t.ID])
		case t.State == PrepareCommit:
			err = c.completeSync(t, true)
		case t.State == PrepareAbort:
			err = c.completeSync(t, false)
		case t.State == Ongoing:
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
	// A published transaction is read by List and Describe under c.mu
	// only: never write to it, write a copy and publish that.
	c.mu.Lock()
	published := c.txns[t.ID] == t
	c.mu.Unlock()
	if published {
		t = t.clone()
	}
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
	defer c.lockSettled(id)()
	t := c.get(id)
	if t == nil {
		npid, err := c.pids.Next()
		if err != nil {
			return -1, -1, kerr.CoordinatorNotAvailable
		}
		t = &Txn{ID: id, ProducerID: npid, Epoch: 0, Timeout: timeout, State: Empty,
			Partitions: map[TopicPartition]struct{}{}, Groups: map[string]struct{}{}, PrevProducerID: -1, PrevEpoch: -1}
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
		if err := c.completeSync(t, t.State == PrepareCommit); err != nil {
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
	next.PrevProducerID, next.PrevEpoch = -1, -1
	if err := c.persist(next); err != nil {
		return -1, -1, err
	}
	return next.ProducerID, next.Epoch, nil
}

// lastEpoch is the highest epoch a producer id is given; the next bump
// moves to a new producer id (32767 stays free, as in Kafka).
const lastEpoch = 1<<15 - 2

// bumpEpoch moves t (a clone) to the next epoch, or to a new producer id
// when the epoch space is used up.
func (c *Coordinator) bumpEpoch(t *Txn) error {
	if t.Epoch >= lastEpoch {
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
	next.PrevProducerID, next.PrevEpoch = -1, -1 // the markers carry the bumped epoch
	if err := c.persist(next); err != nil {
		return err
	}
	return c.completeSync(next, false)
}

// complete appends the markers of a prepared transaction, settles its
// consumer groups' offsets and publishes the outcome; it returns, per
// partition, the log end just after its marker (for the wait for the
// markers' durability). Called with t's id lock held. The markers
// carry the data's producer id and epoch.
func (c *Coordinator) complete(t *Txn, commit bool) (ends map[TopicPartition]int64, err error) {
	pid, epoch := t.dataIDs()
	ends, err = c.b.WriteMarkers(pid, epoch, commit, t.SortedPartitions())
	if err != nil {
		c.logger.Warn("writing transaction markers", "txn", t.ID, "err", err)
		return nil, kerr.CoordinatorNotAvailable
	}
	// The group offsets are settled now, before the producer can start its
	// next transaction and commit offsets to the same group again; their
	// markers are already in the offsets partition's log.
	for g := range t.Groups {
		if err := c.b.EndGroupTxn(g, pid, commit); err != nil {
			c.logger.Warn("ending group offsets of transaction", "txn", t.ID, "group", g, "err", err)
			return nil, kerr.CoordinatorNotAvailable
		}
	}
	done := t.clone()
	done.State = CompleteAbort
	if commit {
		done.State = CompleteCommit
	}
	done.Unsettled = &Markers{ProducerID: pid, Epoch: epoch, Commit: commit, Ends: ends, Groups: sortedKeys(t.Groups)}
	done.Partitions, done.Groups, done.DataEnds = map[TopicPartition]struct{}{}, map[string]struct{}{}, nil
	done.LastUpdate = c.now()
	c.set(done)
	return ends, nil
}

// completeSync completes t and writes the outcome once its markers are
// durable. Called with t's id lock held.
func (c *Coordinator) completeSync(t *Txn, commit bool) error {
	ends, err := c.complete(t, commit)
	if err != nil {
		return err
	}
	if err := c.b.WaitDurable(ends); err != nil {
		c.logger.Warn("syncing transaction markers", "txn", t.ID, "err", err)
		return kerr.CoordinatorNotAvailable
	}
	// The outcome needs no sync of its own: if a crash loses it, Recover
	// finds the durable Prepare state and writes the markers again, which
	// is harmless. The next durable write covers it anyway.
	return c.persistSync(settled(c.get(t.ID)), false)
}

// completeAsync completes t and leaves the markers' sync to settle, in the
// background. Called with t's id lock held.
func (c *Coordinator) completeAsync(t *Txn, commit bool) error {
	ends, err := c.complete(t, commit)
	if err != nil {
		return err
	}
	st := &settlement{hurry: make(chan struct{}), durable: make(chan struct{}), done: make(chan struct{})}
	wait := func() error { return c.b.AwaitDurable(ends, st.hurry) }
	c.mu.Lock()
	c.settling[t.ID] = st
	m := c.txns[t.ID].Unsettled
	c.mu.Unlock()
	go c.settle(t.ID, m, wait, st)
	return nil
}

// settle waits for an ended transaction's markers m to be durable, then
// writes the id's state without them and lets the writes that wait for
// that go on. Until then the id's state records carry m, so that a crash
// cannot leave the ended transaction half marked (unsettled.go).
func (c *Coordinator) settle(id string, m *Markers, wait func() error, st *settlement) {
	werr := wait()
	st.err = werr
	close(st.durable)
	unlock := c.lock(id)
	defer unlock()
	c.mu.Lock()
	if c.settling[id] == st {
		delete(c.settling, id)
	}
	cur := c.txns[id]
	c.mu.Unlock()
	defer close(st.done)
	if werr != nil {
		// The partition refuses writes after a failed sync; the durable
		// decision is redone by Recover after a restart.
		c.logger.Error("syncing transaction markers", "txn", id, "err", werr)
		return
	}
	if cur.Unsettled != m {
		return // settled meanwhile, or replaced by a later end's markers
	}
	if err := c.persistSync(settled(cur), false); err != nil {
		c.logger.Warn("writing transaction state", "txn", id, "err", err)
	}
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
		t.PrevProducerID, t.PrevEpoch = -1, -1
	}
}

// AddPartitions adds partitions to id's transaction. Unknown partitions
// fail alone with UNKNOWN_TOPIC_OR_PARTITION and the rest with
// OPERATION_NOT_ATTEMPTED, as in Kafka; otherwise one error covers all.
func (c *Coordinator) AddPartitions(id string, pid int64, epoch int16, parts []TopicPartition) (map[TopicPartition]error, error) {
	defer c.lockSettled(id)()
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
	return nil, c.addLocked(t, parts)
}

// addLocked adds parts to t's transaction, beginning it. Called with t's
// id lock held, after check.
func (c *Coordinator) addLocked(t *Txn, parts []TopicPartition) error {
	next := t.clone()
	c.begin(next)
	for _, tp := range parts {
		next.Partitions[tp] = struct{}{}
	}
	// No need to wait for the sync: the commit decision, synced later in
	// the same log, makes this record durable before anything can commit,
	// and data left open by a crash before that is aborted at start
	// (OwnsOpen, the broker's dangling-transaction sweep).
	return c.persistSync(next, false)
}

// AddOnProduce is the implicit AddPartitionsToTxn of KIP-890 part 2
// (Produce v12+): the partitions a transactional produce writes join the
// producer's transaction, which begins if it was not open. A transaction
// whose markers failed before is completed first.
func (c *Coordinator) AddOnProduce(id string, pid int64, epoch int16, parts []TopicPartition) error {
	if t := c.get(id); t != nil && t.State == Ongoing && check(t, pid, epoch) == nil && t.hasAll(parts) {
		return nil // the common case: nothing new, no lock
	} else if t != nil {
		if err := check(t, pid, epoch); err == kerr.ProducerFenced || err == kerr.InvalidProducerIDMapping {
			return err // fenced: no need to wait for anything
		}
	}
	// No wait for the previous transaction's markers: the records written
	// meanwhile carry them (unsettled.go).
	defer c.lock(id)()
	t := c.get(id)
	if t != nil && t.ProducerID == pid && t.Epoch == epoch && (t.State == PrepareCommit || t.State == PrepareAbort) {
		if err := c.completeAsync(t, t.State == PrepareCommit); err != nil {
			return kerr.ConcurrentTransactions // retriable: the client tries again
		}
		t = c.get(id)
	}
	if err := check(t, pid, epoch); err != nil {
		return err
	}
	if t.State == Ongoing && t.hasAll(parts) {
		return nil
	}
	return c.addLocked(t, parts)
}

func (t *Txn) hasAll(parts []TopicPartition) bool {
	for _, tp := range parts {
		if _, ok := t.Partitions[tp]; !ok {
			return false
		}
	}
	return true
}

// OwnsOpen tells whether a transaction of producer pid that is open or
// being decided includes tp. A partition's open transaction that none owns
// is dangling (its AddPartitionsToTxn record was lost in a crash) and is
// aborted by the broker at start.
func (c *Coordinator) OwnsOpen(pid int64, tp TopicPartition) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.txns {
		if dpid, _ := t.dataIDs(); dpid != pid && t.ProducerID != pid {
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
	defer c.lockSettled(id)()
	t := c.get(id)
	if err := check(t, pid, epoch); err != nil {
		return err
	}
	tp, err := c.b.OffsetsPartition(group)
	if err != nil {
		return kerr.CoordinatorNotAvailable
	}
	if _, ok := t.Groups[group]; ok && t.State == Ongoing {
		return nil
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

// End commits or aborts id's transaction and returns the producer id and
// epoch of the producer's next transaction. It answers once the decision
// (PrepareCommit or PrepareAbort) is durable and the markers are appended,
// as Kafka does; their sync completes in the background (settle), and
// Recover redoes them after a crash. With bump (EndTxn v5+, KIP-890 part
// 2) the epoch moves on, also for an empty transaction. Ending an empty
// transaction, or repeating the end that already happened (a retry),
// succeeds.
//
// The previous end's markers may still be on their way to disk: the
// decision records carry them, and End waits for them only before writing
// its own markers (awaitMarkers), so that their sync overlaps this
// commit's.
func (c *Coordinator) End(id string, pid int64, epoch int16, commit, bump bool) (int64, int16, error) {
	defer c.lock(id)()
	t := c.get(id)
	same := func(s State) bool {
		return commit && (s == PrepareCommit || s == CompleteCommit) || !commit && (s == PrepareAbort || s == CompleteAbort)
	}
	if t != nil && t.Bumped() && t.PrevProducerID == pid && t.PrevEpoch == epoch && t.State != Ongoing {
		// A retry of the KIP-890 end that already happened.
		if !same(t.State) {
			return -1, -1, kerr.InvalidTxnState
		}
		if t.State == PrepareCommit || t.State == PrepareAbort {
			if err := c.awaitMarkers(id); err != nil {
				return -1, -1, kerr.KafkaStorageError
			}
			if err := c.completeAsync(t, commit); err != nil { // markers failed before: try again
				return -1, -1, err
			}
		}
		return t.ProducerID, t.Epoch, nil
	}
	if t != nil && t.ProducerID == pid && t.Epoch == epoch {
		switch {
		case t.State == PrepareCommit || t.State == PrepareAbort:
			if !same(t.State) {
				return -1, -1, kerr.InvalidTxnState
			}
			if err := c.awaitMarkers(id); err != nil {
				return -1, -1, kerr.KafkaStorageError
			}
			return t.ProducerID, t.Epoch, c.completeAsync(t, commit) // markers failed before: try again
		case t.State == Empty || (t.State == CompleteCommit || t.State == CompleteAbort) && (bump || same(t.State)):
			if !bump {
				return t.ProducerID, t.Epoch, nil
			}
			// KIP-890: ending with nothing open still moves the epoch on,
			// durably, since the client takes the new one.
			next := t.clone()
			next.PrevProducerID, next.PrevEpoch = t.ProducerID, t.Epoch
			if err := c.bumpEpoch(next); err != nil {
				return -1, -1, err
			}
			next.State = CompleteAbort
			if commit {
				next.State = CompleteCommit
			}
			if err := c.persist(next); err != nil {
				return -1, -1, err
			}
			return next.ProducerID, next.Epoch, nil
		case t.State == CompleteCommit || t.State == CompleteAbort:
			return -1, -1, kerr.InvalidTxnState
		}
	}
	if err := check(t, pid, epoch); err != nil {
		return -1, -1, err
	}
	next := t.clone()
	next.State = PrepareAbort
	if commit {
		next.State = PrepareCommit
	}
	if bump {
		next.PrevProducerID, next.PrevEpoch = t.ProducerID, t.Epoch
		if err := c.bumpEpoch(next); err != nil {
			return -1, -1, err
		}
	}
	if commit {
		if err := c.prepareCommit(next); err != nil {
			return -1, -1, err
		}
	} else if err := c.persist(next); err != nil {
		return -1, -1, err
	}
	if err := c.awaitMarkers(id); err != nil {
		// The previous markers failed to sync (their partition is now
		// read-only); this decision is durable and stays prepared until
		// retried or recovered.
		c.logger.Warn("previous transaction markers failed; this one stays prepared", "txn", id, "err", err)
		return next.ProducerID, next.Epoch, nil
	}
	if err := c.completeAsync(next, commit); err != nil {
		// The decision is durable: it is redone by a retry, the next
		// produce (KIP-890), InitProducerId or Recover.
		c.logger.Warn("completing transaction; it stays prepared until retried or recovered", "txn", id, "err", err)
	}
	return next.ProducerID, next.Epoch, nil
}

// ExpireTimedOut aborts transactions open longer than their timeout,
// fencing their producers. Call it periodically.
func (c *Coordinator) ExpireTimedOut() {
	now := c.now()
	for _, t := range c.List() {
		if t.State != Ongoing || now.Sub(t.Start) <= t.Timeout {
			continue
		}
		unlock := c.lockSettled(t.ID)
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

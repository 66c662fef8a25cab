package txn

// Committing with the data synced in the same round as the decision.
//
// A transactional Produce is answered once its batches are appended, before
// they are synced: its records are invisible to read_committed consumers
// until the commit marker, and the producer's application learns that they
// are kept only when EndTxn(commit) succeeds. So the commit carries the
// durability of the data: EndTxn records each partition's log end offset
// in the PrepareCommit record (DataEnds) and waits for that record's sync
// and for every partition's data to be durable up to its end. It answers
// only when both are done. The broker's Backend does both in one sync
// (CommitPersister; storage.Flusher.SyncLogs), which joins the data's sync
// that the Produce started as soon as it had appended (decision 0052);
// another Backend gets the two waits in parallel.
//
// A crash between the two syncs may leave a durable PrepareCommit whose
// data is partly lost. Recover then compares each partition's log end with
// DataEnds and aborts, durably, a prepared commit whose data did not all
// survive: its client was never told that it committed, and committing
// what is left would make a partial transaction visible.
//
// Invariant: a published PrepareCommit (in the coordinator's map) always
// has its data durable; a PrepareCommit on disk may not, and Recover
// checks it.

import (
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// CommitPersister is a Backend that makes a PrepareCommit durable together
// with its transaction's data in one step (one sync for both, say): the
// same as Persist(t, true) alongside WaitDurable(ends), with the two
// outcomes apart. prepareCommit uses it when the Backend has it.
type CommitPersister interface {
	PersistCommit(t *Txn, ends map[TopicPartition]int64) (dataErr, decisionErr error)
}

// prepareCommit makes next (a PrepareCommit, on a clone) durable together
// with its transaction's data, then publishes it. Called with the id lock
// held. If the data cannot be made durable the commit cannot be promised:
// the transaction is turned into an abort.
func (c *Coordinator) prepareCommit(next *Txn) error {
	next.DataEnds = c.b.LogEnds(next.SortedPartitions())
	next.LastUpdate = c.now()
	var (
		derr, perr             error
		dataWait, decisionWait time.Duration
	)
	start := time.Now()
	if cp, ok := c.b.(CommitPersister); ok {
		derr, perr = cp.PersistCommit(next, next.DataEnds)
		dataWait = time.Since(start)
		decisionWait = dataWait
	} else {
		dataErr := make(chan error, 1)
		go func() {
			err := c.b.WaitDurable(next.DataEnds)
			dataWait = time.Since(start)
			dataErr <- err
		}()
		perr = c.b.Persist(next, true)
		decisionWait = time.Since(start)
		derr = <-dataErr
	}
	if c.OnCommitWaits != nil {
		c.OnCommitWaits(dataWait, decisionWait)
	}
	if derr != nil {
		c.logger.Error("transaction data could not be synced: aborting instead of committing", "txn", next.ID, "err", derr)
		abort := next.clone()
		abort.State, abort.DataEnds = PrepareAbort, nil
		if err := c.persist(abort); err != nil {
			// Published anyway, so that nothing in this process commits
			// it; a PrepareCommit that reached the disk is checked by
			// Recover.
			c.set(abort)
			return kerr.KafkaStorageError
		}
		if err := c.completeAsync(abort, false); err != nil {
			c.logger.Warn("aborting transaction; it stays prepared until retried or recovered", "txn", next.ID, "err", err)
		}
		return kerr.KafkaStorageError
	}
	if perr != nil {
		return kerr.CoordinatorNotAvailable // retriable for the client
	}
	c.set(next)
	return nil
}

// missingData lists the prepared commits among txns whose data a crash
// took back: a partition's log now ends before the end recorded with the
// decision. All are checked before Recover writes anything, since the
// markers it writes move log ends.
func (c *Coordinator) missingData(txns []*Txn) map[string][]TopicPartition {
	out := map[string][]TopicPartition{}
	for _, t := range txns {
		if t.State != PrepareCommit || len(t.DataEnds) == 0 {
			continue
		}
		parts := make([]TopicPartition, 0, len(t.DataEnds))
		for tp := range t.DataEnds {
			parts = append(parts, tp)
		}
		ends := c.b.LogEnds(parts)
		for _, tp := range parts {
			// A partition gone with its topic has nothing to commit.
			if end, ok := ends[tp]; ok && end < t.DataEnds[tp] {
				out[t.ID] = append(out[t.ID], tp)
			}
		}
		sort.Slice(out[t.ID], func(i, j int) bool {
			a, b := out[t.ID][i], out[t.ID][j]
			return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
		})
	}
	return out
}

// abortPrepared turns a prepared commit whose data is incomplete into an
// abort, durably first (so that a later restart, when more writes have
// moved the log ends past DataEnds, cannot commit it), and completes it.
// Called with t's id lock held.
func (c *Coordinator) abortPrepared(t *Txn, missing []TopicPartition) error {
	c.logger.Warn("prepared commit lost data in a crash: aborting it", "txn", t.ID, "partitions", missing)
	abort := t.clone()
	abort.State, abort.DataEnds = PrepareAbort, nil
	if err := c.persist(abort); err != nil {
		return err
	}
	return c.completeSync(abort, false)
}

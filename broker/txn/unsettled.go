package txn

// Markers not yet durable, carried in the transaction log.
//
// EndTxn answers once the decision is durable and the markers appended;
// the markers are synced in the background (settle). A KIP-890 producer's
// next transaction may begin meanwhile (AddOnProduce does not wait for
// them): its state records are written while the previous markers may
// still be lost in a crash, and a durable record of the next transaction
// would hide the previous decision from Recover, leaving its data open on
// the partitions whose marker was lost, to be aborted as dangling.
//
// So until the markers are durable every state record of the id carries
// them (Txn.Unsettled: producer id, epoch, outcome, and per partition the
// log end just after the marker), and Recover writes again each marker
// whose partition now ends before it. That is safe: a partition log keeps a
// prefix of what was appended, and the next transaction's data on a
// partition come after the marker there, so where a marker was lost no
// later write of the producer survived either.
//
// The next end writes its decision (carrying them too) while they sync,
// and waits for them only before writing its own markers, which replace
// them in the state (awaitMarkers). InitProducerId, timeout aborts and
// classic clients' AddPartitionsToTxn wait for them first (lockSettled):
// classic clients keep their epoch across transactions, so a redone marker
// would end their next transaction's data too.

import (
	"fmt"
	"sort"
)

// Markers are the markers of an ended transaction.
type Markers struct {
	ProducerID int64
	Epoch      int16
	Commit     bool
	// Ends is, per partition marked, the log end offset just after the
	// marker.
	Ends map[TopicPartition]int64
	// Groups whose offsets the markers decide.
	Groups []string
}

// settled returns t (published, so not modified) without unsettled
// markers, on a clone when it has them.
func settled(t *Txn) *Txn {
	if t.Unsettled == nil {
		return t
	}
	c := t.clone()
	c.Unsettled = nil
	return c
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lostMarkers lists, per transactional id, the partitions whose unsettled
// marker a crash took back. Checked for all ids before Recover writes
// anything, since the markers it writes move log ends.
func (c *Coordinator) lostMarkers(txns []*Txn) map[string][]TopicPartition {
	out := map[string][]TopicPartition{}
	for _, t := range txns {
		m := t.Unsettled
		if m == nil {
			continue
		}
		parts := make([]TopicPartition, 0, len(m.Ends))
		for tp := range m.Ends {
			parts = append(parts, tp)
		}
		have := c.b.LogEnds(parts)
		for _, tp := range (&Txn{Partitions: toSet(parts)}).SortedPartitions() {
			if end, ok := have[tp]; ok && end < m.Ends[tp] {
				out[t.ID] = append(out[t.ID], tp)
			}
		}
	}
	return out
}

func toSet(parts []TopicPartition) map[TopicPartition]struct{} {
	s := make(map[TopicPartition]struct{}, len(parts))
	for _, tp := range parts {
		s[tp] = struct{}{}
	}
	return s
}

// redoMarkers writes again the markers of t.Unsettled that a crash took
// back (on lost), settles the groups' offsets, and records t without them,
// durably. Called with t's id lock held, from Recover.
func (c *Coordinator) redoMarkers(t *Txn, lost []TopicPartition) error {
	m := t.Unsettled
	if len(lost) > 0 {
		c.logger.Warn("transaction markers lost in a crash: writing them again", "txn", t.ID, "producer_id", m.ProducerID, "commit", m.Commit, "partitions", lost)
		ends, err := c.b.WriteMarkers(m.ProducerID, m.Epoch, m.Commit, lost)
		if err != nil {
			return fmt.Errorf("redo markers: %w", err)
		}
		if err := c.b.WaitDurable(ends); err != nil {
			return fmt.Errorf("redo markers: %w", err)
		}
	}
	for _, g := range m.Groups {
		// Only where the marker was lost: elsewhere the group applied it
		// when it loaded, and the producer's offsets still pending there
		// belong to its next transaction.
		tp, err := c.b.OffsetsPartition(g)
		if err != nil {
			return fmt.Errorf("redo markers: group %s: %w", g, err)
		}
		if _, ok := toSet(lost)[tp]; !ok {
			continue
		}
		if err := c.b.EndGroupTxn(g, m.ProducerID, m.Commit); err != nil {
			return fmt.Errorf("redo markers: group %s: %w", g, err)
		}
	}
	return c.persist(settled(t))
}

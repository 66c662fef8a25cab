package group

// Transactional offset commits (KIP-98, KIP-447): TxnOffsetCommit writes
// the offsets to the group's __consumer_offsets partition as a
// transactional batch of the producer, and keeps them pending; the
// transaction's marker on that partition (written by the transaction
// coordinator) makes them committed or drops them. Replay does the same
// from the log, so pending offsets survive restarts until their marker.
//
// Invariant: g.txnOffsets[pid] holds exactly the offsets of pid's
// transactional batches on the group's partition that no marker of pid
// follows.

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit stores offsets inside a transaction. The caller has
// checked that the transaction includes the group.
func (c *Coordinator) TxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) func() kmsg.Response {
	return c.callDurable(ctx, "transactional offset commit", req.Group,
		func() (kmsg.Response, func() error) { return c.txnCommit(req) },
		func(r kmsg.Response) {
			setTxnCommitErrors(r.(*kmsg.TxnOffsetCommitResponse), kerr.CoordinatorNotAvailable.Code)
		})
}

func setTxnCommitErrors(resp *kmsg.TxnOffsetCommitResponse, code int16) {
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			if p := &resp.Topics[i].Partitions[j]; p.ErrorCode == 0 {
				p.ErrorCode = code
			}
		}
	}
}

func (c *Coordinator) txnCommit(req *kmsg.TxnOffsetCommitRequest) (*kmsg.TxnOffsetCommitResponse, func() error) {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewTxnOffsetCommitResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			p.Partition = rp.Partition
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if req.Group == "" {
		setTxnCommitErrors(resp, kerr.InvalidGroupID.Code)
		return resp, nil
	}
	g := c.groups[req.Group]
	// v3+ (KIP-447) carries the member's generation: a zombie consumer
	// from an older generation must not commit.
	if req.Generation >= 0 && req.MemberID != "" {
		if code := c.checkCommitter(g, req.Group, req.MemberID, req.InstanceID, req.Generation); code != 0 {
			setTxnCommitErrors(resp, code)
			return resp, nil
		}
	}
	if g == nil {
		g = newGroup(req.Group, c.cfg.Now())
		c.groups[g.name] = g
	}
	now := c.cfg.Now().UnixMilli()
	var recs []kv
	pending := map[topicPartition]offset{}
	for i, rt := range req.Topics {
		n := c.cfg.Partitions(rt.Topic)
		for j, rp := range rt.Partitions {
			out := &resp.Topics[i].Partitions[j]
			o, code := c.newOffset(rp.Partition, n, rp.Offset, rp.LeaderEpoch, rp.Metadata, now)
			if code != 0 {
				out.ErrorCode = code
				continue
			}
			tp := topicPartition{rt.Topic, rp.Partition}
			pending[tp] = o
			recs = append(recs, kv{offsetKey(g.name, tp), offsetValue(o)})
		}
	}
	if len(recs) == 0 {
		return resp, nil
	}
	wait, err := c.writeTxn(g.name, recs, req.ProducerID, req.ProducerEpoch)
	if err != nil {
		c.log.Warn("transactional offset commit", "group", g.name, "err", err)
		setTxnCommitErrors(resp, kerr.CoordinatorNotAvailable.Code)
		return resp, nil
	}
	g.addTxnOffsets(req.ProducerID, pending)
	return resp, wait
}

func (g *group) addTxnOffsets(pid int64, offs map[topicPartition]offset) {
	if g.txnOffsets == nil {
		g.txnOffsets = map[int64]map[topicPartition]offset{}
	}
	m := g.txnOffsets[pid]
	if m == nil {
		m = map[topicPartition]offset{}
		g.txnOffsets[pid] = m
	}
	for tp, o := range offs {
		m[tp] = o
	}
}

// endTxn applies (commit) or drops pid's pending offsets in g.
func (g *group) endTxn(pid int64, commit bool) {
	m := g.txnOffsets[pid]
	if m == nil {
		return
	}
	if commit {
		for tp, o := range m {
			g.offsets[tp] = o
		}
	}
	delete(g.txnOffsets, pid)
}

// EndTxn applies or drops the offsets producer pid committed to group in
// its transaction, once the transaction's marker is on the group's
// partition. It returns after the change.
func (c *Coordinator) EndTxn(groupName string, pid int64, commit bool) error {
	done := make(chan struct{})
	if !c.do(func() {
		defer close(done)
		if g := c.groups[groupName]; g != nil {
			g.endTxn(pid, commit)
		}
	}) {
		return errors.New("group coordinator is closed")
	}
	<-done
	return nil
}

// hasPendingTxnOffset tells whether a transaction has an undecided offset
// for tp (OffsetFetch RequireStable answers UNSTABLE_OFFSET_COMMIT then).
func (g *group) hasPendingTxnOffset(tp topicPartition) bool {
	for _, m := range g.txnOffsets {
		if _, ok := m[tp]; ok {
			return true
		}
	}
	return false
}

// OffsetsPartition is the __consumer_offsets partition of a group.
func OffsetsPartition(group string) int32 { return PartitionFor(group, OffsetsPartitions) }

// DropTxn drops producer pid's pending offsets in every group (an abort
// marker written outside a transaction's normal end).
func (c *Coordinator) DropTxn(pid int64) { c.EndTxnAll(pid, false) }

// EndTxnAll applies (commit) or drops producer pid's pending offsets in
// every group: a marker on an offsets partition decides them whichever
// groups they belong to. Recovery after a restart needs this, since the
// reloaded transaction no longer knows its groups.
func (c *Coordinator) EndTxnAll(pid int64, commit bool) {
	done := make(chan struct{})
	if c.do(func() { defer close(done); c.applyMarker(pid, commit) }) {
		<-done
	}
}

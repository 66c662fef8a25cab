package broker

// The transaction coordinator's footing in the broker: its state lives in
// the internal compacted topic __transaction_state (Kafka's key and value
// formats, 50 partitions, the partition chosen by the Java hash of the
// transactional id as Kafka does), markers are appended to partition logs,
// and on start the topic is replayed before prepared transactions are
// completed and open ones aborted.

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/group"
	"github.com/sluicedata/sluice/broker/storage"
	"github.com/sluicedata/sluice/broker/txn"
)

const (
	txnStateTopic      = "__transaction_state"
	txnStatePartitions = 50
	txnExpiryInterval  = time.Second
)

type txnBackend struct{ s *Server }

// internalTopic returns the named internal topic, creating it compacted
// with n partitions on first use.
func (s *Server) internalTopic(name string, n int32) (*Topic, error) {
	if t := s.topics.get(name); t != nil {
		return t, nil
	}
	t, err := s.topics.create(name, n, map[string]string{"cleanup.policy": "compact", "segment.bytes": "104857600"}, false)
	if err != nil {
		if t := s.topics.get(name); t != nil {
			return t, nil // created concurrently
		}
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return t, nil
}

func (b txnBackend) Persist(t *txn.Txn, durable bool) error {
	l, end, err := b.appendState(t, durable)
	if err != nil || !durable {
		return err
	}
	// A decision a client waits for: synced at once, on its own (a few
	// hundred bytes), rather than in the flusher's next round.
	return l.SyncNow(end, durableWaitLimit)
}

// PersistCommit writes a PrepareCommit and makes it durable together with
// the transaction's data up to ends, in one sync for all their logs
// (storage.Flusher.SyncLogs): a commit's decision and data reach the disk
// in one journal commit and device flush instead of one per partition and
// one more for the decision. dataErr is the first partition that could
// not be made durable, decisionErr the PrepareCommit's failure.
func (b txnBackend) PersistCommit(t *txn.Txn, ends map[txn.TopicPartition]int64) (dataErr, decisionErr error) {
	sl, send, err := b.appendState(t, true)
	if err != nil {
		return nil, err
	}
	return b.syncEnds(ends, sl, send)
}

// syncEnds makes each partition of ends durable up to its end, and the log
// extra (when not nil) up to extraEnd with them, in one
// storage.Flusher.SyncLogs. dataErr names the first partition that could
// not be made durable; extraErr is extra's outcome. A partition deleted
// meanwhile has nothing left to sync.
func (b txnBackend) syncEnds(ends map[txn.TopicPartition]int64, extra *storage.Log, extraEnd int64) (dataErr, extraErr error) {
	logs := make([]*storage.Log, 0, len(ends)+1)
	upto := make([]int64, 0, len(ends)+1)
	parts := make([]txn.TopicPartition, 0, len(ends))
	for tp, end := range ends {
		if l := b.s.topics.get(tp.Topic).Partition(tp.Partition); l != nil {
			logs, upto, parts = append(logs, l), append(upto, end), append(parts, tp)
		}
	}
	if extra != nil {
		logs, upto = append(logs, extra), append(upto, extraEnd)
	}
	errs := b.s.flusher.SyncLogs(logs, upto, durableWaitLimit)
	for i, tp := range parts {
		if errs[i] != nil {
			dataErr = fmt.Errorf("%s[%d]: %w", tp.Topic, tp.Partition, errs[i])
			break
		}
	}
	if extra != nil {
		extraErr = errs[len(errs)-1]
	}
	return dataErr, extraErr
}

// appendState appends t's state to its __transaction_state partition and
// returns that log and the offset after the record. With syncing, the
// caller syncs it at once, and the flusher is not woken for it.
func (b txnBackend) appendState(t *txn.Txn, syncing bool) (*storage.Log, int64, error) {
	topic, err := b.s.internalTopic(txnStateTopic, txnStatePartitions)
	if err != nil {
		return nil, 0, err
	}
	key := kmsg.NewTxnMetadataKey()
	key.TransactionalID = t.ID
	val := kmsg.NewTxnMetadataValue()
	val.ProducerID, val.ProducerEpoch, val.TimeoutMillis = t.ProducerID, t.Epoch, int32(t.Timeout.Milliseconds())
	val.State = kmsg.TransactionState(t.State)
	val.LastUpdateTimestamp, val.StartTimestamp = t.LastUpdate.UnixMilli(), t.Start.UnixMilli()
	if t.Bumped() {
		// KIP-890 ends use the flexible value (Kafka 4's tagged fields):
		// the previous producer id says whose data the markers are for.
		val.Version, val.ClientTransactionVersion, val.PreviousProducerID = 1, 2, t.PrevProducerID
	}
	putDataEnds(&val, t.DataEnds)
	putUnsettled(&val, t.Unsettled)
	var cur *kmsg.TxnMetadataValueTopic
	for _, tp := range t.SortedPartitions() {
		if cur == nil || cur.Topic != tp.Topic {
			val.Topics = append(val.Topics, kmsg.TxnMetadataValueTopic{Topic: tp.Topic})
			cur = &val.Topics[len(val.Topics)-1]
		}
		cur.Partitions = append(cur.Partitions, tp.Partition)
	}
	// Groups are not in Kafka's value format: their __consumer_offsets
	// partitions are among the partitions, and the markers there decide
	// the pending offsets, across restarts too.
	l := topic.Partition(group.PartitionFor(t.ID, txnStatePartitions))
	batch := storage.EncodeBatch(time.Now().UnixMilli(), storage.KV{Key: key.AppendTo(nil), Value: val.AppendTo(nil)})
	var res storage.AppendResult
	if syncing {
		res, err = l.AppendSyncing(batch)
	} else {
		res, err = l.AppendDeferred(batch)
	}
	if err != nil {
		return nil, 0, err
	}
	return l, res.LastOffset + 1, nil
}

func (b txnBackend) WriteMarkers(pid int64, epoch int16, commit bool, parts []txn.TopicPartition) (map[txn.TopicPartition]int64, error) {
	ends := make(map[txn.TopicPartition]int64, len(parts))
	for _, tp := range parts {
		l := b.s.topics.get(tp.Topic).Partition(tp.Partition)
		if l == nil {
			continue // the topic was deleted meanwhile: nothing to mark
		}
		res, err := l.AppendMarker(pid, epoch, commit, 0)
		if errors.Is(err, storage.ErrInvalidProducerEpoch) {
			// The producer wrote here at a later epoch: a later
			// transaction, which began after this marker was written
			// (a redo after a crash).
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("marker on %s[%d]: %w", tp.Topic, tp.Partition, err)
		}
		if tp.Topic == group.OffsetsTopic {
			// The marker decides pid's pending offsets; after a restart
			// the transaction's groups are unknown, so in every group.
			b.s.groups.EndTxnAll(pid, commit)
		}
		ends[tp] = res.LastOffset + 1
	}
	return ends, nil
}

func (b txnBackend) EndGroupTxn(group string, pid int64, commit bool) error {
	return b.s.groups.EndTxn(group, pid, commit)
}

func (b txnBackend) OffsetsPartition(g string) (txn.TopicPartition, error) {
	if _, err := b.s.internalTopic(group.OffsetsTopic, group.OffsetsPartitions); err != nil {
		return txn.TopicPartition{}, err
	}
	return txn.TopicPartition{Topic: group.OffsetsTopic, Partition: group.OffsetsPartition(g)}, nil
}

func (b txnBackend) PartitionExists(tp txn.TopicPartition) bool {
	return b.s.topics.get(tp.Topic).Partition(tp.Partition) != nil
}

// loadTransactions replays __transaction_state into the coordinator and
// finishes the transactions a crash interrupted.
func (s *Server) loadTransactions() error {
	t := s.topics.get(txnStateTopic)
	if t != nil {
		for p, l := range t.partitions {
			if err := storage.Replay(l, func(h *storage.BatchHeader, r storage.Record) error {
				key, value := r.Key, r.Value
				if h.IsControl() {
					return nil
				}
				k := kmsg.NewTxnMetadataKey()
				if err := k.ReadFrom(key); err != nil {
					return fmt.Errorf("%s[%d]: bad key: %w", txnStateTopic, p, err)
				}
				if value == nil {
					s.txns.Load(k.TransactionalID, nil)
					return nil
				}
				v := kmsg.NewTxnMetadataValue()
				if err := v.ReadFrom(value); err != nil {
					return fmt.Errorf("%s[%d]: bad value for %q: %w", txnStateTopic, p, k.TransactionalID, err)
				}
				tx := &txn.Txn{ID: k.TransactionalID, ProducerID: v.ProducerID, Epoch: v.ProducerEpoch,
					Timeout: time.Duration(v.TimeoutMillis) * time.Millisecond, State: txn.State(v.State),
					Partitions: map[txn.TopicPartition]struct{}{}, Groups: map[string]struct{}{},
					Start: time.UnixMilli(v.StartTimestamp), LastUpdate: time.UnixMilli(v.LastUpdateTimestamp),
					PrevProducerID: -1, PrevEpoch: -1}
				if v.ClientTransactionVersion >= 2 && v.PreviousProducerID >= 0 && v.State != kmsg.TransactionState(txn.Ongoing) && v.State != kmsg.TransactionState(txn.Empty) {
					tx.PrevProducerID = v.PreviousProducerID
					tx.PrevEpoch = txn.PrevEpochAfterBump(v.PreviousProducerID, v.ProducerID, v.ProducerEpoch)
				}
				ends, err := dataEnds(&v)
				if err != nil {
					return fmt.Errorf("%s[%d]: value for %q: %w", txnStateTopic, p, k.TransactionalID, err)
				}
				tx.DataEnds = ends
				if tx.Unsettled, err = unsettled(&v); err != nil {
					return fmt.Errorf("%s[%d]: value for %q: %w", txnStateTopic, p, k.TransactionalID, err)
				}
				for _, vt := range v.Topics {
					for _, vp := range vt.Partitions {
						tx.Partitions[txn.TopicPartition{Topic: vt.Topic, Partition: vp}] = struct{}{}
					}
				}
				s.txns.Load(k.TransactionalID, tx)
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if err := s.txns.Recover(); err != nil {
		return err
	}
	return s.abortDanglingTransactions()
}

// abortDanglingTransactions aborts transactions open on a partition that
// no transaction of the coordinator owns: their data was written but the
// record adding the partition to the transaction was lost in a crash, so
// they can never be committed, and left open they would hold the last
// stable offset back forever.
func (s *Server) abortDanglingTransactions() error {
	for _, t := range s.topics.all() {
		for p, l := range t.partitions {
			for _, o := range l.OpenTransactions() {
				if s.txns.OwnsOpen(o.ProducerID, txn.TopicPartition{Topic: t.Name, Partition: int32(p)}) {
					continue
				}
				s.logger.Warn("aborting dangling transaction", "topic", t.Name, "partition", p, "producer_id", o.ProducerID, "first_offset", o.FirstOffset)
				res, err := l.AppendMarker(o.ProducerID, o.Epoch, false, 0)
				if err != nil {
					return fmt.Errorf("abort dangling transaction on %s[%d]: %w", t.Name, p, err)
				}
				if err := l.SyncNow(res.LastOffset+1, durableWaitLimit); err != nil {
					return err
				}
				if t.Name == group.OffsetsTopic {
					s.groups.DropTxn(o.ProducerID)
				}
			}
		}
	}
	return nil
}

func (s *Server) txnExpiryLoop() {
	defer s.wg.Done()
	t := time.NewTicker(txnExpiryInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.txns.ExpireTimedOut()
		}
	}
}

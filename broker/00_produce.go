package broker

// Produce (key 0), v0-v11 advertised, v3-v11 served. v0-v2 (message
// formats 0 and 1) are answered UNSUPPORTED_VERSION per partition; they are
// advertised because librdkafka only compresses with gzip, snappy and lz4
// when the broker lists Produce from v0 (Kafka 4 does the same,
// KAFKA-18659). Each partition's batch is validated and appended
// by the reader goroutine in request order; with acks=-1 the response waits
// until every appended batch is fsynced (group commit in storage.Log), with
// acks=1 it answers once written, with acks=0 it sends nothing. A
// transactional produce is answered once written whatever its acks: its
// commit waits for the data's sync instead (broker/txn/data_ends.go), which
// the Produce starts as soon as it has appended, one sync for its
// partitions and without the flusher (decision 0052). v12
// (KIP-890 part 2): a transactional batch adds its partition to the
// producer's transaction, which replaces AddPartitionsToTxn; below v12 the
// partition must have been added. v13 (topic ids) is not advertised.

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/storage"
	"github.com/sluicedata/sluice/broker/txn"
)

func init() { register(0, 0, 12, handleProduce) }

// durableWaitLimit bounds how long an acks=all produce waits for fsync
// before answering REQUEST_TIMED_OUT.
const durableWaitLimit = 30 * time.Second

func handleProduce(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	type pending struct {
		log  *storage.Log
		upto int64
		rp   *kmsg.ProduceResponseTopicPartition
	}
	var waits []pending
	var txnLogs []*storage.Log // transactional data appended, synced ahead of the commit
	var txnEnds []int64
	badAcks := req.Acks != 0 && req.Acks != 1 && req.Acks != -1
	var addErr error
	if req.TransactionID != nil && rc.version >= 12 && !badAcks {
		addErr = s.addOnProduce(*req.TransactionID, req)
	}
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		ot := &resp.Topics[i]
		*ot = kmsg.NewProduceResponseTopic()
		ot.Topic = rt.Topic
		t := s.topics.get(rt.Topic)
		ot.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			op := &ot.Partitions[j]
			*op = kmsg.NewProduceResponseTopicPartition()
			op.Partition, op.BaseOffset, op.LogAppendTime, op.LogStartOffset = rp.Partition, -1, -1, -1
			switch {
			case rc.version < 3:
				op.ErrorCode = kerr.UnsupportedVersion.Code
				op.ErrorMessage = strp("Produce v0-v2 (message format v0/v1) is not supported; use a client that sends record batches (Kafka 0.11+)")
				continue
			case badAcks:
				op.ErrorCode = kerr.InvalidRequiredAcks.Code
				continue
			case t == nil:
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			case t.Internal:
				op.ErrorCode = kerr.InvalidTopicException.Code
				op.ErrorMessage = strp(fmt.Sprintf("topic %s is internal: clients cannot produce to it", t.Name))
				continue
			}
			l := t.Partition(rp.Partition)
			if l == nil {
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			if req.TransactionID != nil {
				// Transactional writes must come from the id's current
				// producer, to a partition added to its open transaction.
				h, err := storage.ParseHeader(rp.Records)
				if err == nil && !h.IsTransactional() {
					err = fmt.Errorf("%w: a transactional producer sent a non-transactional batch", storage.ErrInvalidRecord)
				}
				if err != nil {
					op.ErrorCode, op.ErrorMessage = storageErrorCode(err), errMessage(err)
					continue
				}
				if addErr != nil {
					op.ErrorCode = errorCode(produceTxnError(addErr))
					continue
				}
				if err := s.txns.CheckProduce(*req.TransactionID, h.ProducerID, h.ProducerEpoch, txn.TopicPartition{Topic: t.Name, Partition: rp.Partition}); err != nil {
					op.ErrorCode = errorCode(err)
					continue
				}
			}
			if flags := t.validation.Load(); flags != 0 {
				if err := s.checkSchemas(t, flags, rp.Records); err != nil {
					op.ErrorCode, op.ErrorMessage = storageErrorCode(err), errMessage(err)
					continue
				}
			}
			var res storage.AppendResult
			var err error
			if req.TransactionID != nil {
				// Synced below, without the flusher (one sync fewer).
				res, err = l.AppendSyncing(rp.Records)
			} else {
				res, err = l.Append(rp.Records)
			}
			if err != nil {
				op.ErrorCode = storageErrorCode(err)
				op.ErrorMessage = errMessage(err)
				if op.ErrorCode == kerr.KafkaStorageError.Code {
					s.logger.Error("append failed", "topic", t.Name, "partition", rp.Partition, "err", err)
				}
				continue
			}
			op.BaseOffset, op.LogAppendTime, op.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStartOffset
			if !res.Duplicate {
				tc := s.metrics.topic(t.Name)
				tc.bytesIn.Add(float64(len(rp.Records)))
				tc.recordsIn.Add(float64(res.Records))
			}
			// A transactional batch is answered once appended: its records
			// count for the application only when EndTxn(commit)
			// succeeds, and that waits for them to be durable
			// (broker/txn/data_ends.go).
			if req.Acks == -1 && req.TransactionID == nil {
				waits = append(waits, pending{l, res.LastOffset + 1, op})
			}
			if req.TransactionID != nil && !res.Duplicate {
				txnLogs, txnEnds = append(txnLogs, l), append(txnEnds, res.LastOffset+1)
			}
		}
	}
	if len(txnLogs) > 0 {
		// The commit will wait for this data's sync: start it now, one
		// sync for the request's partitions, without delaying the answer,
		// so that EndTxn finds it done or under way (its SyncLogs joins it).
		go s.flusher.StartSync(txnLogs, txnEnds)
	}
	if req.Acks == 0 {
		return nil
	}
	return func() kmsg.Response {
		for _, w := range waits {
			if err := w.log.WaitDurable(w.upto, durableWaitLimit); err != nil {
				w.rp.ErrorCode = kerr.KafkaStorageError.Code
				w.rp.ErrorMessage = errMessage(err)
			}
		}
		return resp
	}
}

// addOnProduce adds the partitions of a transactional Produce v12+ to the
// producer's transaction, all at once (KIP-890 part 2). Partitions that
// fail their own checks later are left out; the producer id and epoch are
// those of the first batch (one producer sends the request).
func (s *Server) addOnProduce(id string, req *kmsg.ProduceRequest) error {
	var (
		parts []txn.TopicPartition
		pid   int64 = -1
		epoch int16
	)
	for _, rt := range req.Topics {
		t := s.topics.get(rt.Topic)
		if t == nil || t.Internal {
			continue
		}
		for _, rp := range rt.Partitions {
			if t.Partition(rp.Partition) == nil {
				continue
			}
			h, err := storage.ParseHeader(rp.Records)
			if err != nil || !h.IsTransactional() {
				continue
			}
			if pid < 0 {
				pid, epoch = h.ProducerID, h.ProducerEpoch
			}
			parts = append(parts, txn.TopicPartition{Topic: t.Name, Partition: rp.Partition})
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return s.txns.AddOnProduce(id, pid, epoch, parts)
}

// produceTxnError is how Produce reports a transactional check's error:
// fencing is INVALID_PRODUCER_EPOCH there, as in Kafka.
func produceTxnError(err error) error {
	if err == kerr.ProducerFenced {
		return kerr.InvalidProducerEpoch
	}
	return err
}

func strp(s string) *string { return &s }

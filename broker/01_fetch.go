package broker

// Fetch (key 1), v4-v16. Serves stored batches verbatim from the batch that
// holds the fetch offset. Long polling: when fewer than MinBytes are
// available the response waits, up to MaxWaitMillis, for any requested
// partition's high watermark to move. Byte limits follow KIP-74: the first
// partition with data always gets at least one whole batch; later ones get
// data only while it fits in MaxBytes. Fetch sessions (KIP-227) are not
// kept: every answer has SessionID 0, so clients send full fetches. v13+
// addresses topics by id. read_committed fetches (isolation level 1) stop
// at the last stable offset and carry the aborted transactions that overlap
// what they may return, so the client can drop aborted records.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/storage"
)

func init() { register(1, 4, 16, handleFetch) }

func handleFetch(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.FetchRequest)
	return func() kmsg.Response {
		deadline := time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
		var wake chan struct{}
		var unwatch []func()
		defer func() {
			for _, f := range unwatch {
				f()
			}
		}()
		for {
			resp, n, logs, failed := s.fetchOnce(req, rc.version)
			if n >= int(req.MinBytes) || failed || req.MaxWaitMillis <= 0 || !time.Now().Before(deadline) {
				return resp
			}
			if wake == nil {
				// Register before the next read so no append is missed.
				wake = make(chan struct{}, 1)
				for _, l := range logs {
					unwatch = append(unwatch, l.Watch(wake))
				}
				continue
			}
			timer := time.NewTimer(time.Until(deadline))
			select {
			case <-wake:
			case <-timer.C:
			case <-rc.conn.ctx.Done(): // the client is gone or the server is closing
				timer.Stop()
				return resp
			}
			timer.Stop()
		}
	}
}

// fetchOnce finds what is available now. It returns the response, the
// number of record bytes in it, the logs it looked at, and whether any
// partition had an error (which ends long polling, as in Kafka).
func (s *Server) fetchOnce(req *kmsg.FetchRequest, version int16) (*splicedFetch, int, []*storage.Log, bool) {
	resp := &splicedFetch{FetchResponse: req.ResponseKind().(*kmsg.FetchResponse)}
	resp.SetVersion(version)
	remaining := int(req.MaxBytes)
	if version < 3 || remaining <= 0 {
		remaining = 1<<31 - 1
	}
	total := 0
	failed := false
	var logs []*storage.Log
	resp.Topics = make([]kmsg.FetchResponseTopic, 0, len(req.Topics))
	for _, rt := range req.Topics {
		ot := kmsg.NewFetchResponseTopic()
		ot.Topic, ot.TopicID = rt.Topic, rt.TopicID
		var t *Topic
		if version >= 13 {
			t = s.topics.getByID(rt.TopicID)
		} else {
			t = s.topics.get(rt.Topic)
		}
		for _, rp := range rt.Partitions {
			op := kmsg.NewFetchResponseTopicPartition()
			op.Partition = rp.Partition
			// Never null: librdkafka reads a null record set as a protocol
			// error ("invalid MessageSetSize -1") and never reaches the end.
			op.RecordBatches = []byte{}
			op.HighWatermark, op.LastStableOffset, op.LogStartOffset = -1, -1, -1
			var l *storage.Log
			if t != nil {
				l = t.Partition(rp.Partition)
			}
			if l == nil {
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				if version >= 13 && t == nil {
					op.ErrorCode = kerr.UnknownTopicID.Code
				}
				failed = true
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
			logs = append(logs, l)
			limit := min(int(rp.PartitionMaxBytes), remaining)
			var (
				res storage.ReadResult
				lso int64
				err error
			)
			if req.IsolationLevel == 1 {
				res, lso, err = l.ReadCommitted(rp.FetchOffset, max(limit, 0), total == 0)
			} else {
				res, err = l.ReadSlice(rp.FetchOffset, max(limit, 0), total == 0)
				lso = l.LastStableOffset()
			}
			op.HighWatermark, op.LastStableOffset, op.LogStartOffset = res.HighWatermark, lso, res.LogStartOffset
			if err != nil {
				op.ErrorCode = storageErrorCode(err)
				failed = true
			} else if n := res.Slice.Len; n > 0 {
				op.RecordBatches = resp.placeholder(res.Slice, s.metrics.topic(t.Name))
				total += n
				remaining -= n
			}
			if req.IsolationLevel == 1 {
				op.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
				for _, a := range l.AbortedTxns(rp.FetchOffset, lso) {
					at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
					at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
					op.AbortedTransactions = append(op.AbortedTransactions, at)
				}
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		if t != nil {
			ot.Topic = t.Name
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, total, logs, failed
}

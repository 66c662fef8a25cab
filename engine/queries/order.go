package queries

import "github.com/twmb/franz-go/pkg/kgo"

// Records of a polled batch are handed to the query in timestamp order, as
// Kafka Streams' PartitionGroup does without idling: the next record is the
// head of the partition whose head has the lowest timestamp
// (docs/decisions/0046-timestamp-ordered-inputs.md).
// Invariants:
//   - within a partition, records keep their offset order (a partition is
//     never reordered, so a later record with a lower timestamp waits for
//     the ones before it);
//   - on equal head timestamps the partition fetched first goes first, so
//     the order of a batch is deterministic;
//   - only the polled batch is merged: a partition with nothing buffered is
//     not waited for (max.task.idle.ms=-1; 0 before Kafka 3.0).
//
// The heap holds one cursor per non-empty partition; a Merger is reused
// from batch to batch, so a batch allocates nothing once the heap has grown
// to the number of partitions.

// cursor is one partition's position in the batch.
type cursor struct {
	recs []*kgo.Record
	ts   int64 // timestamp (ms) of recs[0], the head
	seq  int   // fetch order, breaks timestamp ties
}

// Merger yields the records of a kgo.Fetches in timestamp order. The zero
// value is ready to use; a Merger is for one goroutine.
type Merger struct {
	heap []cursor
}

// Reset loads fs; Next then yields its records.
func (m *Merger) Reset(fs kgo.Fetches) {
	m.Clear()
	seq := 0
	for i := range fs {
		for j := range fs[i].Topics {
			t := &fs[i].Topics[j]
			for k := range t.Partitions {
				recs := t.Partitions[k].Records
				if len(recs) == 0 {
					continue
				}
				m.heap = append(m.heap, cursor{recs: recs, ts: recs[0].Timestamp.UnixMilli(), seq: seq})
				seq++
			}
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
}

// Next returns the batch's next record in timestamp order, nil at the end.
func (m *Merger) Next() *kgo.Record {
	if len(m.heap) == 0 {
		return nil
	}
	c := &m.heap[0]
	rec := c.recs[0]
	c.recs = c.recs[1:]
	if len(c.recs) > 0 {
		c.ts = c.recs[0].Timestamp.UnixMilli()
		if len(m.heap) > 1 {
			m.down(0)
		}
		return rec
	}
	last := len(m.heap) - 1
	m.heap[0] = m.heap[last]
	m.heap[last] = cursor{} // drop the reference to the records
	m.heap = m.heap[:last]
	if last > 1 {
		m.down(0)
	}
	return rec
}

// Clear drops the references to the previous batch's records.
func (m *Merger) Clear() {
	clear(m.heap)
	m.heap = m.heap[:0]
}

func (m *Merger) less(i, j int) bool {
	a, b := &m.heap[i], &m.heap[j]
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return a.seq < b.seq
}

func (m *Merger) down(i int) {
	n := len(m.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.less(r, l) {
			c = r
		}
		if !m.less(c, i) {
			return
		}
		m.heap[i], m.heap[c] = m.heap[c], m.heap[i]
		i = c
	}
}

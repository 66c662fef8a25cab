package broker

// What sluice adds to Kafka's TxnMetadataValue in __transaction_state: the
// data end offsets of a PrepareCommit (txn.Txn.DataEnds) and the markers
// not yet durable of the last ended transaction (txn.Txn.Unsettled). They
// travel in tagged fields of the flexible value (version 1), which Kafka's
// readers skip as unknown tags. Also the backend calls that fill and check
// them.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/storage"
	"github.com/sluicedata/sluice/broker/txn"
)

// The tags' numbers; Kafka's own start at 0, far below.
const (
	dataEndsTag  = 10000
	unsettledTag = 10001
)

func (b txnBackend) LogEnds(parts []txn.TopicPartition) map[txn.TopicPartition]int64 {
	out := make(map[txn.TopicPartition]int64, len(parts))
	for _, tp := range parts {
		if l := b.s.topics.get(tp.Topic).Partition(tp.Partition); l != nil {
			out[tp] = l.LogEndOffset()
		}
	}
	return out
}

// WaitDurable syncs the partitions at once, all in one sync
// (storage.Flusher.SyncLogs), rather than waiting for the flusher's next
// round.
func (b txnBackend) WaitDurable(ends map[txn.TopicPartition]int64) error {
	err, _ := b.syncEnds(ends, nil, 0)
	return err
}

// AwaitDurable leaves the sync of each partition up to its end to a later
// transaction's sync of the partition, which covers everything before its
// data, or to the flusher: at once when fetches wait on the partition,
// else in its round after storage.DeferredSyncDelay (markers are deferred
// appends, decision 0054). A sync of their own for markers would add one
// more fdatasync, and journal commit, per partition and transaction. Once
// hurry is closed (an operation waits for the markers) what is left is
// synced at once, in one sync.
func (b txnBackend) AwaitDurable(ends map[txn.TopicPartition]int64, hurry <-chan struct{}) error {
	for tp, end := range ends {
		l := b.s.topics.get(tp.Topic).Partition(tp.Partition)
		if l == nil {
			continue // deleted meanwhile: nothing left to sync
		}
		err := l.WaitDurableOr(end, durableWaitLimit, hurry)
		if errors.Is(err, storage.ErrStopped) {
			// Sync what is left at once; the partitions already
			// durable answer at once.
			return b.WaitDurable(ends)
		}
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", tp.Topic, tp.Partition, err)
		}
	}
	return nil
}

// putDataEnds stores ends in val: count, then per partition topic,
// partition and offset.
func putDataEnds(val *kmsg.TxnMetadataValue, ends map[txn.TopicPartition]int64) {
	if len(ends) == 0 {
		return
	}
	val.Version = max(val.Version, 1)
	val.UnknownTags.Set(dataEndsTag, appendOffsets(nil, ends))
}

// putUnsettled stores m in val: producer id, epoch, outcome (1 commit),
// the offsets as putDataEnds, then the groups (count, names).
func putUnsettled(val *kmsg.TxnMetadataValue, m *txn.Markers) {
	if m == nil {
		return
	}
	b := binary.AppendVarint(nil, m.ProducerID)
	b = binary.AppendVarint(b, int64(m.Epoch))
	if m.Commit {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendOffsets(b, m.Ends)
	b = binary.AppendUvarint(b, uint64(len(m.Groups)))
	for _, g := range m.Groups {
		b = appendString(b, g)
	}
	val.Version = max(val.Version, 1)
	val.UnknownTags.Set(unsettledTag, b)
}

func appendOffsets(b []byte, offs map[txn.TopicPartition]int64) []byte {
	t := &txn.Txn{Partitions: make(map[txn.TopicPartition]struct{}, len(offs))}
	for tp := range offs {
		t.Partitions[tp] = struct{}{}
	}
	b = binary.AppendUvarint(b, uint64(len(offs)))
	for _, tp := range t.SortedPartitions() {
		b = appendString(b, tp.Topic)
		b = binary.AppendVarint(b, int64(tp.Partition))
		b = binary.AppendVarint(b, offs[tp])
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadTag = errors.New("bad sluice tagged field")

func tag(val *kmsg.TxnMetadataValue, key uint32) (raw []byte, found bool) {
	val.UnknownTags.Each(func(k uint32, v []byte) {
		if k == key {
			raw, found = v, true
		}
	})
	return raw, found
}

// dataEnds reads what putDataEnds stored; nil when there is none.
func dataEnds(val *kmsg.TxnMetadataValue) (map[txn.TopicPartition]int64, error) {
	raw, ok := tag(val, dataEndsTag)
	if !ok {
		return nil, nil
	}
	r := tagReader{b: raw}
	ends := r.offsets()
	return ends, r.err
}

// unsettled reads what putUnsettled stored; nil when there is none.
func unsettled(val *kmsg.TxnMetadataValue) (*txn.Markers, error) {
	raw, ok := tag(val, unsettledTag)
	if !ok {
		return nil, nil
	}
	r := tagReader{b: raw}
	m := &txn.Markers{ProducerID: r.varint(), Epoch: int16(r.varint()), Commit: r.byte() == 1}
	m.Ends = r.offsets()
	for n := r.count(); n > 0 && r.err == nil; n-- {
		m.Groups = append(m.Groups, r.string())
	}
	return m, r.err
}

// tagReader decodes a tagged field; the first error sticks and later
// reads return zero values.
type tagReader struct {
	b   []byte
	err error
}

func (r *tagReader) fail() { r.err, r.b = errBadTag, nil }

func (r *tagReader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return v
}

// count reads a length, which cannot exceed the bytes left.
func (r *tagReader) count() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 || v > uint64(len(r.b)-k) {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *tagReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *tagReader) string() string {
	n := r.count()
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *tagReader) offsets() map[txn.TopicPartition]int64 {
	n := r.count()
	out := make(map[txn.TopicPartition]int64, n)
	for ; n > 0 && r.err == nil; n-- {
		tp := txn.TopicPartition{Topic: r.string()}
		tp.Partition = int32(r.varint())
		out[tp] = r.varint()
	}
	return out
}

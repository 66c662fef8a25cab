package broker

// The data end offsets of a PrepareCommit (txn.Txn.DataEnds) in
// __transaction_state, and the backend calls that fill and check them.
// Kafka's TxnMetadataValue has no field for them; they travel in a tagged
// field of the flexible value (version 1), which Kafka's readers skip as an
// unknown tag: count, then per partition topic, partition and end offset.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/txn"
)

// dataEndsTag numbers the tagged field; Kafka's own tags start at 0, far
// below.
const dataEndsTag = 10000

func (b txnBackend) LogEnds(parts []txn.TopicPartition) map[txn.TopicPartition]int64 {
	out := make(map[txn.TopicPartition]int64, len(parts))
	for _, tp := range parts {
		if l := b.s.topics.get(tp.Topic).Partition(tp.Partition); l != nil {
			out[tp] = l.LogEndOffset()
		}
	}
	return out
}

func (b txnBackend) WaitDurable(ends map[txn.TopicPartition]int64) error {
	for tp, end := range ends {
		l := b.s.topics.get(tp.Topic).Partition(tp.Partition)
		if l == nil {
			continue // deleted meanwhile: nothing left to sync
		}
		if err := l.WaitDurable(end, durableWaitLimit); err != nil {
			return fmt.Errorf("%s[%d]: %w", tp.Topic, tp.Partition, err)
		}
	}
	return nil
}

// putDataEnds stores ends in val, making it a flexible (v1) value.
func putDataEnds(val *kmsg.TxnMetadataValue, ends map[txn.TopicPartition]int64) {
	if len(ends) == 0 {
		return
	}
	t := &txn.Txn{Partitions: map[txn.TopicPartition]struct{}{}}
	for tp := range ends {
		t.Partitions[tp] = struct{}{}
	}
	b := binary.AppendUvarint(nil, uint64(len(ends)))
	for _, tp := range t.SortedPartitions() {
		b = binary.AppendUvarint(b, uint64(len(tp.Topic)))
		b = append(b, tp.Topic...)
		b = binary.AppendVarint(b, int64(tp.Partition))
		b = binary.AppendVarint(b, ends[tp])
	}
	val.Version = max(val.Version, 1)
	val.UnknownTags.Set(dataEndsTag, b)
}

var errBadDataEnds = errors.New("bad data end offsets")

// dataEnds reads what putDataEnds stored; nil when there is none.
func dataEnds(val *kmsg.TxnMetadataValue) (map[txn.TopicPartition]int64, error) {
	var raw []byte
	found := false
	val.UnknownTags.Each(func(k uint32, v []byte) {
		if k == dataEndsTag {
			raw, found = v, true
		}
	})
	if !found {
		return nil, nil
	}
	n, k := binary.Uvarint(raw)
	if k <= 0 || n > uint64(len(raw)) {
		return nil, errBadDataEnds
	}
	raw = raw[k:]
	out := make(map[txn.TopicPartition]int64, n)
	for range n {
		l, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < l {
			return nil, errBadDataEnds
		}
		topic := string(raw[k : k+int(l)])
		raw = raw[k+int(l):]
		p, k := binary.Varint(raw)
		if k <= 0 {
			return nil, errBadDataEnds
		}
		raw = raw[k:]
		end, k := binary.Varint(raw)
		if k <= 0 {
			return nil, errBadDataEnds
		}
		raw = raw[k:]
		out[txn.TopicPartition{Topic: topic, Partition: int32(p)}] = end
	}
	return out, nil
}

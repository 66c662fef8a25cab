package group

// Persistence in __consumer_offsets, with Kafka's record formats so that
// Kafka's tools can read the topic: OffsetCommitKey (v1) / OffsetCommitValue
// (v3) for committed offsets, GroupMetadataKey (v2) / GroupMetadataValue
// (v3) for a group's generation and protocol. A null value is a tombstone.
// A group's records all go to partition abs(javaHash(group)) % partitions,
// so their order is the order of that partition.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/storage"
)

// OffsetsTopic is the internal topic holding committed offsets and groups.
const OffsetsTopic = "__consumer_offsets"

// OffsetsPartitions is offsets.topic.num.partitions.
const OffsetsPartitions = 50

// durableWait bounds how long a commit waits for its fsync.
const durableWait = 30 * time.Second

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// PartitionFor is Kafka's Utils.abs(key.hashCode()) % n: the partition of
// a group id in __consumer_offsets, or of a transactional id in
// __transaction_state.
func PartitionFor(group string, n int) int32 {
	var h int32
	for _, r := range utf16Units(group) {
		h = 31*h + int32(r)
	}
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % int32(n)
}

func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

type kv struct{ key, value []byte }

// encodeBatch builds an uncompressed v2 record batch of recs.
func encodeBatch(recs []kv, now int64) []byte {
	var body []byte
	for i, r := range recs {
		rec := kmsg.Record{OffsetDelta: int32(i), Key: r.key, Value: r.value}
		b := rec.AppendTo(nil)[1:] // drop kmsg's zero length varint
		body = binary.AppendVarint(body, int64(len(b)))
		body = append(body, b...)
	}
	b := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: int32(len(recs) - 1), FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(len(recs)), Records: body}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], castagnoli))
	return out
}

// write appends recs to the group's partition and returns a func that
// waits until they are on disk.
func (c *Coordinator) write(group string, recs []kv) (func() error, error) {
	return c.writeBatch(group, encodeBatch(recs, c.cfg.Now().UnixMilli()))
}

// writeTxn is write for a transactional batch of producer pid at epoch.
func (c *Coordinator) writeTxn(group string, recs []kv, pid int64, epoch int16) (func() error, error) {
	b := encodeBatch(recs, c.cfg.Now().UnixMilli())
	binary.BigEndian.PutUint16(b[21:], 0x10) // attributes: transactional
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], uint16(epoch))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
	return c.writeBatch(group, b)
}

func (c *Coordinator) writeBatch(group string, batch []byte) (func() error, error) {
	if c.cfg.Logs == nil {
		return func() error { return nil }, nil
	}
	logs, err := c.cfg.Logs(true)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", OffsetsTopic, err)
	}
	if len(logs) == 0 {
		return nil, fmt.Errorf("%s has no partitions", OffsetsTopic)
	}
	l := logs[PartitionFor(group, len(logs))]
	res, err := l.Append(batch)
	if err != nil {
		return nil, fmt.Errorf("writing to %s: %w", OffsetsTopic, err)
	}
	return func() error { return l.WaitDurable(res.LastOffset+1, durableWait) }, nil
}

func offsetKey(group string, tp topicPartition) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = 1, group, tp.Topic, tp.Partition
	return k.AppendTo(nil)
}

func offsetValue(o offset) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version, v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = 3, o.Offset, o.LeaderEpoch, o.Metadata, o.CommitTime
	return v.AppendTo(nil)
}

func groupKey(group string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = 2, group
	return k.AppendTo(nil)
}

// persistGroup records the group's generation and protocol. Nothing waits
// for it: it only lets a restarted broker continue the generation count
// and report the group; members rejoin anyway.
func (c *Coordinator) persistGroup(g *group) {
	v := kmsg.NewGroupMetadataValue()
	v.Version, v.ProtocolType, v.Generation = 3, g.protocolType, g.generation
	if g.protocol != "" {
		p := g.protocol
		v.Protocol = &p
	}
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	v.CurrentStateTimestamp = g.stateSince.UnixMilli()
	for _, id := range g.order {
		m := g.members[id]
		gm := kmsg.NewGroupMetadataValueMember()
		gm.MemberID, gm.InstanceID, gm.ClientID, gm.ClientHost = m.id, m.instanceID, m.clientID, m.host
		gm.RebalanceTimeoutMillis, gm.SessionTimeoutMillis = int32(m.rebalance.Milliseconds()), int32(m.session.Milliseconds())
		gm.Subscription, gm.Assignment = m.metadataFor(g.protocol), m.assignment
		v.Members = append(v.Members, gm)
	}
	if _, err := c.write(g.name, []kv{{groupKey(g.name), v.AppendTo(nil)}}); err != nil {
		c.log.Warn("persisting group metadata", "group", g.name, "err", err)
	}
}

// Load rebuilds committed offsets and groups (without members) from
// __consumer_offsets. Call it before Start.
func (c *Coordinator) Load() error {
	if c.cfg.Logs == nil {
		return nil
	}
	logs, err := c.cfg.Logs(false)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	n := 0
	for p, l := range logs {
		if err := replay(l, func(key, value []byte, txnPID int64) {
			if txnPID >= 0 {
				c.applyTxn(key, value, txnPID, now)
			} else {
				c.apply(key, value, now)
			}
			n++
		}, c.applyMarker); err != nil {
			return fmt.Errorf("replaying %s partition %d: %w", OffsetsTopic, p, err)
		}
	}
	if n > 0 {
		c.log.Info("loaded consumer groups", "groups", len(c.groups), "records", n)
	}
	return nil
}

// replay calls fn with every record of l up to its high watermark (with
// the producer id of transactional batches, else -1), and marker with
// every transaction marker.
func replay(l *storage.Log, fn func(key, value []byte, txnPID int64), marker func(pid int64, commit bool)) error {
	return storage.Replay(l, func(h *storage.BatchHeader, r storage.Record) error {
		switch {
		case h.IsControl():
			if len(r.Key) >= 4 {
				marker(h.ProducerID, binary.BigEndian.Uint16(r.Key[2:]) == 1)
			}
		case h.IsTransactional():
			if !r.KeyNull {
				fn(r.Key, r.Value, h.ProducerID)
			}
		case !r.KeyNull:
			fn(r.Key, r.Value, -1)
		}
		return nil
	})
}

// applyTxn replays an offset commit written inside a transaction: pending
// until the producer's marker.
func (c *Coordinator) applyTxn(key, value []byte, pid int64, now time.Time) {
	var k kmsg.OffsetCommitKey
	if len(key) < 2 || binary.BigEndian.Uint16(key) > 1 || k.ReadFrom(key) != nil || value == nil {
		return
	}
	var v kmsg.OffsetCommitValue
	if v.ReadFrom(value) != nil {
		return
	}
	g := c.groups[k.Group]
	if g == nil {
		g = newGroup(k.Group, now)
		c.groups[k.Group] = g
	}
	g.addTxnOffsets(pid, map[topicPartition]offset{{k.Topic, k.Partition}: {Offset: v.Offset, LeaderEpoch: v.LeaderEpoch, Metadata: v.Metadata, CommitTime: v.CommitTimestamp}})
}

// applyMarker replays a transaction marker: pid's pending offsets in every
// group become committed or are dropped.
func (c *Coordinator) applyMarker(pid int64, commit bool) {
	for _, g := range c.groups {
		g.endTxn(pid, commit)
	}
}

// apply replays one record into the in-memory state.
func (c *Coordinator) apply(key, value []byte, now time.Time) {
	if len(key) < 2 {
		return
	}
	switch version := int16(binary.BigEndian.Uint16(key)); version {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if k.ReadFrom(key) != nil {
			return
		}
		tp := topicPartition{k.Topic, k.Partition}
		g := c.groups[k.Group]
		if value == nil {
			if g != nil {
				delete(g.offsets, tp)
			}
			return
		}
		var v kmsg.OffsetCommitValue
		if v.ReadFrom(value) != nil {
			return
		}
		if g == nil {
			g = newGroup(k.Group, now)
			c.groups[k.Group] = g
		}
		g.offsets[tp] = offset{Offset: v.Offset, LeaderEpoch: v.LeaderEpoch, Metadata: v.Metadata, CommitTime: v.CommitTimestamp}
	case 2:
		var k kmsg.GroupMetadataKey
		if k.ReadFrom(key) != nil {
			return
		}
		if value == nil {
			delete(c.groups, k.Group)
			return
		}
		var v kmsg.GroupMetadataValue
		if v.ReadFrom(value) != nil {
			return
		}
		g := c.groups[k.Group]
		if g == nil {
			g = newGroup(k.Group, now)
			c.groups[k.Group] = g
		}
		g.generation, g.protocolType, g.consumer = v.Generation, v.ProtocolType, nil
		g.stateSince = now // members were lost with the restart: empty from now
		if len(v.Members) == 0 && v.CurrentStateTimestamp > 0 {
			g.stateSince = time.UnixMilli(v.CurrentStateTimestamp)
		}
	case 3: // ConsumerGroupMetadata: a KIP-848 group and its epoch
		name, ok := parseConsumerGroupKey(key)
		if !ok {
			return
		}
		if value == nil {
			delete(c.groups, name)
			return
		}
		if len(value) < 6 {
			return
		}
		g := c.groups[name]
		if g == nil {
			g = newGroup(name, now)
			c.groups[name] = g
		}
		g.consumer, g.protocolType = newConsumerGroup(), "consumer"
		g.generation = int32(binary.BigEndian.Uint32(value[2:]))
		g.consumer.epoch, g.consumer.assignEpoch = g.generation, g.generation
		g.stateSince = now
	}
}

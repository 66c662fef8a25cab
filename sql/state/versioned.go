package state

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// DefaultHistoryRetention is how long a VersionedStore keeps versions that
// were replaced when none is set: one day, the grace Kafka Streams gave
// windows and joins before grace periods had to be explicit.
const DefaultHistoryRetention = 24 * time.Hour

// VersionedStore keeps, per key, the versions of a value with the timestamps
// they became valid at, for a history retention, as Kafka Streams' versioned
// key-value stores (KIP-889) do: a stream-table join looks up the table row
// valid at the stream row's time, not the latest one.
//
// It is a view over a KeyValueStore, so commit, abort, changelog and restore
// are the key-value store's. Layout of the store keys:
//
//	0x00                               observed stream time (8 bytes)
//	0x01 uvarint(len(key)) key ^ts     one version: 0x00 (a delete) or 0x01 value
//
// ^ts is the order-preserving encoding of ts with every bit flipped, so a
// key's versions sort newest first and the version valid at t is the first
// at or after key+^t. A delete is a version too (no row from its time on),
// so it is stored as a value, not as a tombstone: compaction of the
// changelog keeps it.
//
// Invariant: for every key, all versions with timestamp >= stream time -
// retention are present, plus the newest older one (it is still valid at
// the history bound). Lookups below the history bound find nothing, so
// older versions are invisible; they only take space. A sweep deletes
// them: on the first write after the store is opened, then whenever
// stream time has advanced by half the retention since the last sweep, so
// no version stays longer than 1.5 times the retention behind stream time
// (plus the time to the first write after a restart). Not safe for
// concurrent use.
type VersionedStore struct {
	kv         *KeyValueStore
	retention  int64
	streamTime int64
	// nextSweep is the stream time at which the next sweep is due
	// (math.MinInt64: at the next write).
	nextSweep int64
	loaded    bool
	buf, val  []byte
}

var versionedMetaKey = []byte{0}

const (
	versionDelete byte = 0
	versionValue  byte = 1
)

// NewVersionedStore returns a versioned view of kv keeping replaced versions
// for retention (DefaultHistoryRetention if retention <= 0). kv must be used
// for nothing else.
func NewVersionedStore(kv *KeyValueStore, retention time.Duration) *VersionedStore {
	if retention <= 0 {
		retention = DefaultHistoryRetention
	}
	return &VersionedStore{kv: kv, retention: retention.Milliseconds(), nextSweep: math.MinInt64}
}

// StreamTime is the largest timestamp written (math.MinInt64 if none).
func (v *VersionedStore) StreamTime() (int64, error) {
	if err := v.load(); err != nil {
		return 0, err
	}
	return v.streamTime, nil
}

func (v *VersionedStore) load() error {
	if v.loaded {
		return nil
	}
	b, ok, err := v.kv.Get(versionedMetaKey)
	if err != nil {
		return err
	}
	v.streamTime = math.MinInt64
	if ok && len(b) == 8 {
		v.streamTime = decodeInt64(b)
	}
	v.loaded = true
	return nil
}

// historyBound is the oldest time lookups may ask for.
func (v *VersionedStore) historyBound() int64 {
	if v.streamTime == math.MinInt64 {
		return math.MinInt64
	}
	return v.streamTime - v.retention
}

// Put records that key has value from ts on; a nil value records a delete.
// A version at the same timestamp is replaced. Writes older than the history
// (ts < stream time - retention) are dropped, as Kafka Streams drops them:
// Put then returns false.
func (v *VersionedStore) Put(key, value []byte, ts int64) (bool, error) {
	if err := v.load(); err != nil {
		return false, err
	}
	if ts < v.historyBound() {
		return false, nil
	}
	v.buf = versionKey(v.buf[:0], key, ts)
	if value == nil {
		v.val = append(v.val[:0], versionDelete)
	} else {
		v.val = append(append(v.val[:0], versionValue), value...)
	}
	if err := v.kv.Put(v.buf, v.val, ts); err != nil {
		return false, err
	}
	if ts > v.streamTime {
		v.streamTime = ts
		if err := v.kv.Put(versionedMetaKey, encodeInt64(nil, ts), ts); err != nil {
			return false, err
		}
	}
	if v.streamTime >= v.nextSweep {
		if err := v.sweep(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// sweep deletes the versions no lookup within the history can see: of each
// key, all but the newest of those older than the bound, and that one too
// if it is a delete. It reads the whole store once, instead of a range of
// each key on every write.
func (v *VersionedStore) sweep() error {
	bound := v.historyBound()
	if bound == math.MinInt64 {
		return nil
	}
	v.nextSweep = v.streamTime + max(v.retention/2, 1)
	var (
		dead    [][]byte
		prev    []byte // the version prefix of the key being read
		oldSeen bool   // a version of prev older than the bound was met
	)
	err := v.kv.Range([]byte{1}, []byte{2}, func(k, val []byte, _ int64) bool {
		if len(k) < 9 {
			return true
		}
		p := k[:len(k)-8]
		if string(p) != string(prev) {
			prev, oldSeen = append(prev[:0], p...), false
		}
		if decodeVersionTime(k[len(k)-8:]) >= bound {
			return true
		}
		newest := !oldSeen
		oldSeen = true
		if newest && len(val) > 0 && val[0] == versionValue {
			return true
		}
		dead = append(dead, append([]byte(nil), k...))
		return true
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		ts := decodeVersionTime(k[len(k)-8:])
		if err := v.kv.Delete(k, ts); err != nil {
			return err
		}
	}
	return nil
}

// GetAsOf returns the value of key valid at t (of the newest version with
// timestamp <= t) and that version's timestamp. It finds nothing when that
// version is a delete, when there is none, and when t is older than the
// history (t < stream time - retention), as Kafka Streams' get(key, asOf).
// The value is valid until the next call.
func (v *VersionedStore) GetAsOf(key []byte, t int64) ([]byte, int64, bool, error) {
	if err := v.load(); err != nil {
		return nil, 0, false, err
	}
	if t < v.historyBound() {
		return nil, 0, false, nil
	}
	var (
		val   []byte
		valid int64
		found bool
	)
	err := v.kv.Range(versionKey(v.buf[:0], key, t), prefixEnd(versionPrefix(nil, key)), func(k, b []byte, _ int64) bool {
		if len(b) > 0 && b[0] == versionValue {
			v.val = append(v.val[:0], b[1:]...)
			val, valid, found = v.val, decodeVersionTime(k[len(k)-8:]), true
		}
		return false
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("%s: get as of %d: %w", v.kv.s, t, err)
	}
	return val, valid, found, nil
}

// Versions calls fn for each stored version of key, newest first (value nil
// for a delete). For tests and inspection.
func (v *VersionedStore) Versions(key []byte, fn func(ts int64, value []byte) bool) error {
	return v.kv.Prefix(versionPrefix(nil, key), func(k, b []byte, _ int64) bool {
		var val []byte
		if len(b) > 0 && b[0] == versionValue {
			val = b[1:]
		}
		return fn(decodeVersionTime(k[len(k)-8:]), val)
	})
}

func versionPrefix(buf, key []byte) []byte {
	buf = append(buf, 1)
	buf = binary.AppendUvarint(buf, uint64(len(key)))
	return append(buf, key...)
}

func versionKey(buf, key []byte, ts int64) []byte {
	buf = versionPrefix(buf, key)
	return binary.BigEndian.AppendUint64(buf, ^(uint64(ts) ^ (1 << 63)))
}

func decodeVersionTime(b []byte) int64 {
	return int64(^binary.BigEndian.Uint64(b) ^ (1 << 63))
}

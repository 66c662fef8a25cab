package state

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// Window and session stores group their entries into time segments, as Kafka
// Streams' segmented stores do: the local key starts with the segment id, so
// expiry is one range deletion per dropped span of segments and the state
// stays bounded by the retention, whatever the key count.
//
// Local key: dataPrefix | segment (8, ordered) | len(key) (4) | key | times.

// ErrExpired is returned for a write to a window older than the store's
// retention; Kafka Streams drops such records too.
var ErrExpired = errors.New("state: window expired (older than the store's retention)")

type segments struct {
	retention  int64 // milliseconds
	interval   int64
	streamTime int64 // largest window time seen, committed or pending
	committed  int64 // streamTime at the last commit
	dropped    int64 // segments below this id are deleted
}

func newSegments(retention int64) segments {
	// Kafka Streams: segment interval max(retention/2, 60s).
	interval := max(retention/2, 60_000)
	return segments{retention: retention, interval: interval, streamTime: math.MinInt64,
		committed: math.MinInt64, dropped: math.MinInt64}
}

func (g *segments) segmentOf(t int64) int64 {
	if t < 0 {
		return (t - g.interval + 1) / g.interval
	}
	return t / g.interval
}

// liveFrom is the oldest live window time.
func (g *segments) liveFrom() int64 {
	if g.streamTime == math.MinInt64 {
		return math.MinInt64
	}
	return g.streamTime - g.retention + 1
}

func (g *segments) expired(t int64) bool { return t < g.liveFrom() }

// observe advances stream time to t and deletes the segments that fell out
// of the retention. s's deferred writes reach b first when b is its live
// batch: the range deletion must cover them.
func (g *segments) observe(b *pebble.Batch, t int64, s *store) error {
	if t <= g.streamTime {
		return nil
	}
	g.streamTime = t
	// Segments below the one holding the oldest live time are wholly
	// expired.
	if g.liveFrom() == math.MinInt64 {
		return nil
	}
	low := g.segmentOf(g.liveFrom())
	if low <= g.dropped {
		return nil
	}
	from := dataStart
	if g.dropped != math.MinInt64 {
		from = segmentKey(nil, g.dropped)
	}
	g.dropped = low
	if err := s.flushFor(b); err != nil {
		return err
	}
	return b.DeleteRange(from, segmentKey(nil, low), nil)
}

func (g *segments) commit(b *pebble.Batch) error {
	if g.streamTime == g.committed {
		return nil
	}
	g.committed = g.streamTime
	return b.Set(streamTimeKey, encodeInt64(nil, g.streamTime), nil)
}

// abort forgets the pending stream time. dropped may stay ahead: the
// segments it covers were only deleted in the dropped batch, and the next
// observe past them deletes from the old bound again.
func (g *segments) abort() {
	g.streamTime = g.committed
	g.dropped = math.MinInt64
}

func segmentKey(buf []byte, seg int64) []byte {
	buf = append(buf[:0], dataPrefix)
	return encodeOrderedTime(buf, seg)
}

// segKeyPrefix is dataPrefix | segment | len(key) | key.
func segKeyPrefix(buf []byte, seg int64, key []byte) []byte {
	buf = segmentKey(buf, seg)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(key)))
	return append(buf, key...)
}

// splitSegKey returns the key and the time suffix of a local segmented key.
func splitSegKey(k []byte) (key, times []byte, ok bool) {
	if len(k) < 13 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint32(k[9:13]))
	if len(k) < 13+n {
		return nil, nil, false
	}
	return k[13 : 13+n], k[13+n:], true
}

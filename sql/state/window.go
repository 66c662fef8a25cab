package state

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// WindowStore holds values by (key, window start) for tumbling and hopping
// windows. Windows with a start older than stream time (the largest window
// start written) minus the retention are expired: writes to them return
// ErrExpired, reads skip them, and their segments are deleted. Not safe for
// concurrent use.
type WindowStore struct {
	s   *store
	seg segments
	buf []byte
	val []byte
	ck  []byte
}

// Put sets the value of key's window starting at start (milliseconds), written
// by a record of timestamp ts. A nil value deletes the window.
func (w *WindowStore) Put(key []byte, start int64, value []byte, ts int64) error {
	if w.seg.expired(start) {
		return ErrExpired
	}
	if err := w.apply(w.s.batch, key, start, value, ts); err != nil {
		return fmt.Errorf("%s: put window: %w", w.s, err)
	}
	w.ck = windowChangelogKey(w.ck, key, start)
	w.s.logChange(w.ck, value, ts)
	return nil
}

func (w *WindowStore) apply(b *pebble.Batch, key []byte, start int64, value []byte, ts int64) error {
	if err := w.seg.observe(b, start, w.s); err != nil {
		return err
	}
	w.buf = windowLocalKey(w.buf, w.seg.segmentOf(start), key, start)
	if value == nil {
		return w.s.write(b, w.buf, nil)
	}
	w.val = withTimestamp(w.val, ts, value)
	return w.s.write(b, w.buf, w.val)
}

// Get returns the value of key's window starting at start.
func (w *WindowStore) Get(key []byte, start int64) ([]byte, bool, error) {
	v, _, ok, err := w.GetWithTimestamp(key, start)
	return v, ok, err
}

// GetWithTimestamp also returns the timestamp of the record that wrote the
// value (a point read: cheaper than a one-window Fetch).
func (w *WindowStore) GetWithTimestamp(key []byte, start int64) ([]byte, int64, bool, error) {
	// Every window written, committed or pending, starts at or before
	// stream time (Put observes it, abort rolls both back): a newer window
	// is absent without a pebble lookup. Stream-stream joins read the
	// window of each new record's timestamp, mostly newer than any.
	if w.seg.expired(start) || start > w.seg.streamTime {
		return nil, 0, false, nil
	}
	w.buf = windowLocalKey(w.buf, w.seg.segmentOf(start), key, start)
	var raw []byte
	var ok bool
	var err error
	if start > w.seg.committed {
		// Committed windows start at or before the stream time of the last
		// commit: a newer one, if any, was written by this batch.
		raw, ok = w.s.getPending(w.buf)
	} else {
		raw, ok, err = w.s.get(w.buf)
	}
	if !ok || err != nil {
		return nil, 0, ok, err
	}
	ts, v := splitTimestamp(raw)
	return v, ts, true, nil
}

// Fetch calls fn for each live window of key with from <= start <= to (both
// inclusive, as Kafka Streams' WindowStore.fetch), by ascending start.
func (w *WindowStore) Fetch(key []byte, from, to int64, fn func(start int64, value []byte, ts int64) bool) error {
	from, to = max(from, w.seg.liveFrom()), min(to, w.seg.streamTime)
	if from > to {
		return nil
	}
	for sg := w.seg.segmentOf(from); sg <= w.seg.segmentOf(to); sg++ {
		lo := windowLocalKey(nil, sg, key, from)
		hi := prefixEnd(windowLocalKey(nil, sg, key, to))
		more := true
		err := w.s.iterate(lo, hi, func(k, v []byte) (bool, error) {
			_, times, ok := splitSegKey(k)
			if !ok || len(times) != 8 {
				return false, fmt.Errorf("corrupt window key %x", k)
			}
			ts, val := splitTimestamp(v)
			more = fn(decodeOrderedTime(times), val, ts)
			return more, nil
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// FetchAll calls fn for each live window of any key with from <= start <= to,
// ordered by segment, then key, then start.
func (w *WindowStore) FetchAll(from, to int64, fn func(key []byte, start int64, value []byte, ts int64) bool) error {
	from, to = max(from, w.seg.liveFrom()), min(to, w.seg.streamTime)
	if from > to {
		return nil
	}
	lo := segmentKey(nil, w.seg.segmentOf(from))
	hi := segmentKey(nil, w.seg.segmentOf(to)+1)
	return w.s.iterate(lo, hi, func(k, v []byte) (bool, error) {
		key, times, ok := splitSegKey(k)
		if !ok || len(times) != 8 {
			return false, fmt.Errorf("corrupt window key %x", k)
		}
		start := decodeOrderedTime(times)
		if start < from || start > to {
			return true, nil
		}
		ts, val := splitTimestamp(v)
		return fn(key, start, val, ts), nil
	})
}

// StreamTime is the largest window start written (math.MinInt64 if none).
func (w *WindowStore) StreamTime() int64 { return w.seg.streamTime }

// Expired reports whether windows starting at start have fallen out of the
// retention: Get finds none of them.
func (w *WindowStore) Expired(start int64) bool { return w.seg.expired(start) }

// Name is the store's name.
func (w *WindowStore) Name() string { return w.s.name }

func (w *WindowStore) restoreRecord(b *pebble.Batch, ck, value []byte, ts int64) error {
	key, start, err := parseWindowChangelogKey(ck)
	if err != nil {
		return err
	}
	if w.seg.expired(start) {
		return nil
	}
	return w.apply(b, key, start, value, ts)
}

func windowLocalKey(buf []byte, seg int64, key []byte, start int64) []byte {
	buf = segKeyPrefix(buf, seg, key)
	return encodeOrderedTime(buf, start)
}

// windowChangelogKey is Kafka Streams' WindowKeySchema store key: key, window
// start (8 bytes), sequence number (4 bytes, 0: no duplicates kept).
func windowChangelogKey(buf, key []byte, start int64) []byte {
	buf = append(buf[:0], key...)
	buf = encodeInt64(buf, start)
	return append(buf, 0, 0, 0, 0)
}

func parseWindowChangelogKey(ck []byte) ([]byte, int64, error) {
	if len(ck) < 12 {
		return nil, 0, fmt.Errorf("window changelog key %x: %d bytes, want at least 12", ck, len(ck))
	}
	n := len(ck) - 12
	return ck[:n], decodeInt64(ck[n : n+8]), nil
}

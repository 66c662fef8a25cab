package state

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// SessionStore holds values by (key, session start, session end), for
// session windows. Sessions ending before stream time (the largest session
// end written) minus the retention are expired. Not safe for concurrent use.
type SessionStore struct {
	s   *store
	seg segments
	buf []byte
	val []byte
	ck  []byte
}

// Put sets the value of key's session [start, end] written by a record of
// timestamp ts. A nil value removes the session.
func (ss *SessionStore) Put(key []byte, start, end int64, value []byte, ts int64) error {
	if end < start {
		return fmt.Errorf("%s: session end %d before start %d", ss.s, end, start)
	}
	if ss.seg.expired(end) {
		return ErrExpired
	}
	if err := ss.apply(ss.s.batch, key, start, end, value, ts); err != nil {
		return fmt.Errorf("%s: put session: %w", ss.s, err)
	}
	ss.ck = sessionChangelogKey(ss.ck, key, start, end)
	ss.s.logChange(ss.ck, value, ts)
	return nil
}

// Remove deletes key's session [start, end].
func (ss *SessionStore) Remove(key []byte, start, end int64, ts int64) error {
	return ss.Put(key, start, end, nil, ts)
}

func (ss *SessionStore) apply(b *pebble.Batch, key []byte, start, end int64, value []byte, ts int64) error {
	if err := ss.seg.observe(b, end, ss.s); err != nil {
		return err
	}
	ss.buf = sessionLocalKey(ss.buf, ss.seg.segmentOf(end), key, start, end)
	if value == nil {
		return ss.s.write(b, ss.buf, nil)
	}
	ss.val = withTimestamp(ss.val, ts, value)
	return ss.s.write(b, ss.buf, ss.val)
}

// Get returns the value of key's session [start, end].
func (ss *SessionStore) Get(key []byte, start, end int64) ([]byte, bool, error) {
	if ss.seg.expired(end) {
		return nil, false, nil
	}
	ss.buf = sessionLocalKey(ss.buf, ss.seg.segmentOf(end), key, start, end)
	raw, ok, err := ss.s.get(ss.buf)
	if !ok || err != nil {
		return nil, ok, err
	}
	_, v := splitTimestamp(raw)
	return v, true, nil
}

// FindSessions calls fn for each live session of key with end >=
// earliestEnd and start <= latestStart (Kafka Streams' findSessions): for a
// record at t and inactivity gap g, findSessions(key, t-g, t+g) returns the
// sessions it merges with. Sessions come by ascending end.
//
// The sessions of one key must not overlap, as a session aggregation keeps
// them (it merges overlapping ones). The search relies on it: it walks from
// the latest end backwards and, from a session [s, e], seeks straight below
// end s. A growing session leaves one deleted key per growth (its end is part
// of the key), all ending within [s, e]; the seek skips them instead of
// stepping over each.
func (ss *SessionStore) FindSessions(key []byte, earliestEnd, latestStart int64, fn func(start, end int64, value []byte) bool) error {
	earliestEnd = max(earliestEnd, ss.seg.liveFrom())
	if ss.seg.streamTime < earliestEnd {
		return nil
	}
	type session struct {
		start, end int64
		value      []byte
	}
	var found []session
	if err := ss.s.flush(); err != nil { // the scan reads the batch
		return fmt.Errorf("%s: %w", ss.s, err)
	}
	for sg := ss.seg.segmentOf(ss.seg.streamTime); sg >= ss.seg.segmentOf(earliestEnd); sg-- {
		prefix := segKeyPrefix(nil, sg, key)
		lo := encodeOrderedTime(append([]byte(nil), prefix...), earliestEnd)
		it, err := ss.s.batch.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(prefix)})
		if err != nil {
			return fmt.Errorf("%s: iterator: %w", ss.s, err)
		}
		for ok := it.Last(); ok; {
			_, times, valid := splitSegKey(it.Key())
			if !valid || len(times) != 16 {
				_ = it.Close()
				return fmt.Errorf("corrupt session key %x", it.Key())
			}
			end, start := decodeOrderedTime(times[:8]), decodeOrderedTime(times[8:])
			if start <= latestStart {
				v, err := it.ValueAndErr()
				if err != nil {
					_ = it.Close()
					return fmt.Errorf("%s: read: %w", ss.s, err)
				}
				_, val := splitTimestamp(v)
				found = append(found, session{start: start, end: end, value: append([]byte(nil), val...)})
			}
			// Any other session of the key ends before this one starts.
			ok = it.SeekLT(encodeOrderedTime(append([]byte(nil), prefix...), start))
		}
		if err := it.Close(); err != nil {
			return fmt.Errorf("%s: iterate: %w", ss.s, err)
		}
	}
	for i := len(found) - 1; i >= 0; i-- {
		if !fn(found[i].start, found[i].end, found[i].value) {
			return nil
		}
	}
	return nil
}

// StreamTime is the largest session end written (math.MinInt64 if none).
func (ss *SessionStore) StreamTime() int64 { return ss.seg.streamTime }

// Name is the store's name.
func (ss *SessionStore) Name() string { return ss.s.name }

func (ss *SessionStore) restoreRecord(b *pebble.Batch, ck, value []byte, ts int64) error {
	key, start, end, err := parseSessionChangelogKey(ck)
	if err != nil {
		return err
	}
	if ss.seg.expired(end) {
		return nil
	}
	return ss.apply(b, key, start, end, value, ts)
}

// sessionLocalKey orders by end, then start, inside a key's segment.
func sessionLocalKey(buf []byte, seg int64, key []byte, start, end int64) []byte {
	buf = segKeyPrefix(buf, seg, key)
	buf = encodeOrderedTime(buf, end)
	return encodeOrderedTime(buf, start)
}

// sessionChangelogKey is Kafka Streams' SessionKeySchema binary key: key,
// session end (8 bytes), session start (8 bytes).
func sessionChangelogKey(buf, key []byte, start, end int64) []byte {
	buf = append(buf[:0], key...)
	buf = encodeInt64(buf, end)
	return encodeInt64(buf, start)
}

func parseSessionChangelogKey(ck []byte) ([]byte, int64, int64, error) {
	if len(ck) < 16 {
		return nil, 0, 0, fmt.Errorf("session changelog key %x: %d bytes, want at least 16", ck, len(ck))
	}
	n := len(ck) - 16
	return ck[:n], decodeInt64(ck[n+8:]), decodeInt64(ck[n : n+8]), nil
}

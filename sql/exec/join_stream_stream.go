package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// StreamStreamJoin joins two streams on key within a time window, as Kafka
// Streams' KStream-KStream join does under ksqlDB:
//
//   - A left row at time t matches right rows of the same key with times in
//     [t-Before, t+After]; a right row at t matches left rows in
//     [t-After, t+Before]. A match carries the larger time.
//   - Each side buffers its rows in a window store with duplicates kept
//     (several rows per key and time) and a retention of Before+After+Grace.
//     Expiry goes by segments of max(retention/2, 60s), as Kafka Streams'
//     segmented stores do: a row is kept, and found, while its segment is
//     not older than the segment of (that side's stream time - retention).
//     So a late row beyond the grace period is not stored and finds nothing
//     of the other side that has expired.
//   - Outer results (LEFT, RIGHT, FULL) for rows without a match: with
//     Eager (WITHIN without GRACE PERIOD, ksqlDB's old semantics) they are
//     emitted at once; otherwise the row waits in an outer buffer until its
//     window closes (time + After + Grace before the shared stream time)
//     and is emitted then unless a match came, the spurious-result fix of
//     ksqlDB 0.23+. A row whose window has already closed when it arrives is
//     emitted at once. Buffered results are emitted before the results of
//     the record whose time closed their window, ordered by time, right
//     side first, then key.
//
// Rows with a NULL key or a null value are dropped.
type StreamStreamJoin struct {
	JoinSpec
	Before, After, Grace int64 // milliseconds
	Eager                bool

	retention, segment int64
}

// NewStreamStreamJoin returns the join; its inputs are LeftInput() and
// RightInput().
func NewStreamStreamJoin(spec JoinSpec, before, after, grace int64, eager bool) *StreamStreamJoin {
	j := &StreamStreamJoin{JoinSpec: spec, Before: before, After: after, Grace: grace, Eager: eager}
	j.retention = before + after + grace
	j.segment = max(j.retention/2, 60_000)
	return j
}

// LeftInput is the left stream's input.
func (j *StreamStreamJoin) LeftInput() Operator {
	return joinInput(func(c *Context, r *Row) error { return j.push(c, r, true) })
}

// RightInput is the right stream's input.
func (j *StreamStreamJoin) RightInput() Operator {
	return joinInput(func(c *Context, r *Row) error { return j.push(c, r, false) })
}

// joinTimes are the times a join keeps besides its buffers: each side's
// stream time (for its store's expiry), the shared stream time, and the
// smallest time in the outer buffer (a lower bound, as Kafka Streams keeps
// it, used to skip scans).
type joinTimes struct {
	left, right, stream, min int64
}

const noTime = math.MinInt64

func (j *StreamStreamJoin) times(c *Context) (*state.KeyValueStore, joinTimes, error) {
	kv, err := kvStore(c, j.Name+"-times")
	if err != nil {
		return nil, joinTimes{}, err
	}
	t := joinTimes{noTime, noTime, noTime, math.MaxInt64}
	b, ok, err := kv.Get([]byte("t"))
	if err != nil || !ok {
		return kv, t, err
	}
	if len(b) != 32 {
		return nil, t, fmt.Errorf("join %s: corrupt times", j.Name)
	}
	t.left = int64(binary.BigEndian.Uint64(b))
	t.right = int64(binary.BigEndian.Uint64(b[8:]))
	t.stream = int64(binary.BigEndian.Uint64(b[16:]))
	t.min = int64(binary.BigEndian.Uint64(b[24:]))
	return kv, t, nil
}

func saveTimes(kv *state.KeyValueStore, t joinTimes, ts int64) error {
	b := binary.BigEndian.AppendUint64(nil, uint64(t.left))
	b = binary.BigEndian.AppendUint64(b, uint64(t.right))
	b = binary.BigEndian.AppendUint64(b, uint64(t.stream))
	b = binary.BigEndian.AppendUint64(b, uint64(t.min))
	return kv.Put([]byte("t"), b, ts)
}

// live reports whether a row at ts is kept by a store whose stream time is
// observed (Kafka Streams' segment expiry; Java's division truncates toward
// zero, as Go's does).
func (j *StreamStreamJoin) live(ts, observed int64) bool {
	if observed == noTime {
		return true
	}
	return ts/j.segment >= (observed-j.retention)/j.segment
}

func (j *StreamStreamJoin) windowStore(c *Context, left bool) (*state.WindowStore, error) {
	name := j.Name + "-right"
	if left {
		name = j.Name + "-left"
	}
	// The store keeps rows a little longer than the join looks: liveness is
	// decided by live, segment by segment.
	ret := time.Duration(j.retention+2*j.segment) * time.Millisecond
	return c.State.Window(c.Ctx, name, c.Source.Partition, ret)
}

func (j *StreamStreamJoin) push(c *Context, r *Row, isLeft bool) error {
	if r.Tombstone {
		return nil
	}
	side, otherSide := &j.Left, &j.Right
	before, after := j.Before, j.After
	outer := j.Type.leftOuter()
	if !isLeft {
		side, otherSide = &j.Right, &j.Left
		before, after = j.After, j.Before
		outer = j.Type.rightOuter()
	}
	k := evalKey(c, side, r)
	if k == nil {
		return nil
	}
	if c.State == nil {
		return fmt.Errorf("join: no state stores")
	}
	key, err := j.encodeKey(k)
	if err != nil {
		return err
	}
	tkv, t, err := j.times(c)
	if err != nil {
		return err
	}
	ts := r.Timestamp
	// This side's window store (Kafka Streams writes it before the join).
	own, other := &t.left, &t.right
	if !isLeft {
		own, other = &t.right, &t.left
	}
	*own = max(*own, ts)
	if j.live(ts, *own) {
		ws, err := j.windowStore(c, isLeft)
		if err != nil {
			return err
		}
		row, err := encodeRow(nil, side.Columns, r.Cols)
		if err != nil {
			return err
		}
		prev, _, err := ws.Get(key, ts)
		if err != nil {
			return err
		}
		if err := ws.Put(key, ts, appendRowList(prev, row), ts); err != nil {
			return err
		}
	}
	t.stream = max(t.stream, ts)
	buffered := !j.Eager && j.Type != InnerJoin
	if buffered {
		if ts == t.stream {
			if err := j.emitClosed(c, &t, after, r); err != nil {
				return err
			}
		}
	}
	// Matches in the other side's store.
	from, to := max(0, ts-before), max(0, ts+after)
	ows, err := j.windowStore(c, !isLeft)
	if err != nil {
		return err
	}
	type match struct {
		ts  int64
		row []types.Value
	}
	var matches []match
	err = ows.Fetch(key, from, to, func(start int64, value []byte, _ int64) bool {
		if !j.live(start, *other) {
			return true
		}
		rows, err2 := readRowList(value, otherSide.Columns)
		if err2 != nil {
			err = err2
			return false
		}
		for _, row := range rows {
			matches = append(matches, match{start, row})
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, m := range matches {
		if buffered {
			if err := j.unbuffer(c, !isLeft, key, m.ts); err != nil {
				return err
			}
		}
		out := j.joined(r.Cols, m.row, k, r, max(ts, m.ts))
		if !isLeft {
			out = j.joined(m.row, r.Cols, k, r, max(ts, m.ts))
		}
		if err := j.Next.Push(c, out); err != nil {
			return err
		}
	}
	if len(matches) == 0 && outer {
		if !buffered || to < t.stream {
			if err := j.Next.Push(c, j.unmatched(isLeft, r.Cols, k, r, ts)); err != nil {
				return err
			}
		} else {
			t.min = min(t.min, ts)
			if err := j.buffer(c, isLeft, key, r.Cols, ts); err != nil {
				return err
			}
		}
	}
	return saveTimes(tkv, t, ts)
}

func (j *StreamStreamJoin) unmatched(isLeft bool, row []types.Value, k types.Value, meta *Row, ts int64) *Row {
	if isLeft {
		return j.joined(row, nil, k, meta, ts)
	}
	return j.joined(nil, row, k, meta, ts)
}

// The outer buffer's keys order by time, then side (right first), then
// join key: 8-byte time | side (0 right, 1 left) | key.
func outerKey(ts int64, isLeft bool, key []byte) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(ts))
	side := byte(0)
	if isLeft {
		side = 1
	}
	return append(append(b, side), key...)
}

func (j *StreamStreamJoin) buffer(c *Context, isLeft bool, key []byte, row []types.Value, ts int64) error {
	kv, err := kvStore(c, j.Name+"-outer")
	if err != nil {
		return err
	}
	cols := j.Right.Columns
	if isLeft {
		cols = j.Left.Columns
	}
	b, err := encodeRow(nil, cols, row)
	if err != nil {
		return err
	}
	ok := outerKey(ts, isLeft, key)
	prev, _, err := kv.Get(ok)
	if err != nil {
		return err
	}
	return kv.Put(ok, appendRowList(prev, b), ts)
}

func (j *StreamStreamJoin) unbuffer(c *Context, isLeft bool, key []byte, ts int64) error {
	kv, err := kvStore(c, j.Name+"-outer")
	if err != nil {
		return err
	}
	ok := outerKey(ts, isLeft, key)
	if _, found, err := kv.Get(ok); err != nil || !found {
		return err
	}
	return kv.Delete(ok, ts)
}

// emitClosed emits the buffered unmatched rows whose window has closed.
// after is the processing side's; Kafka Streams (3.3, as in ksqlDB 0.29)
// uses it for both sides' buffered rows.
func (j *StreamStreamJoin) emitClosed(c *Context, t *joinTimes, after int64, r *Row) error {
	if t.min != math.MaxInt64 && t.min+after+j.Grace >= t.stream || t.min == math.MaxInt64 {
		return nil
	}
	kv, err := kvStore(c, j.Name+"-outer")
	if err != nil {
		return err
	}
	// Every waiting row is at or after t.min: start there rather than skip
	// the deletes of all rows matched or emitted before.
	from := binary.BigEndian.AppendUint64(nil, uint64(max(t.min, 0)))
	t.min = math.MaxInt64
	type entry struct {
		key   []byte
		ts    int64
		left  bool
		value []byte
		k     []byte
	}
	var closed []entry
	err = kv.Range(from, nil, func(key, value []byte, _ int64) bool {
		ts := int64(binary.BigEndian.Uint64(key))
		t.min = ts
		if ts+after+j.Grace >= t.stream {
			return false
		}
		closed = append(closed, entry{key: append([]byte(nil), key...), ts: ts, left: key[8] == 1,
			value: append([]byte(nil), value...), k: append([]byte(nil), key[9:]...)})
		return true
	})
	if err != nil {
		return err
	}
	for _, e := range closed {
		cols := j.Right.Columns
		if e.left {
			cols = j.Left.Columns
		}
		rows, err := readRowList(e.value, cols)
		if err != nil {
			return err
		}
		kv2, _, err := funcReadKey(j.KeyType, e.k)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := j.Next.Push(c, j.unmatched(e.left, row, kv2, r, e.ts)); err != nil {
				return err
			}
		}
		if err := kv.Delete(e.key, e.ts); err != nil {
			return err
		}
	}
	return nil
}

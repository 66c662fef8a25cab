package exec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/sluicedata/sluice/sql/state"
)

// Suppress is EMIT FINAL's buffer (Kafka Streams' suppress
// untilWindowCloses): each windowed update replaces its window's entry, and
// entries whose window closed (end + grace <= stream time) are emitted once,
// by window end, then by record key bytes, as Kafka Streams' time-ordered
// buffer does. Results that fail HAVING are not emitted (final results never
// carry tombstones).
//
// Buffer key: window end (8 bytes, order-preserving) | len(key) (4) | key |
// window start (8 bytes, order-preserving); value: the group's states, with
// the update's timestamp.
type Suppress struct {
	Store string
	// Grace is how long after its end a window closes: the grace period,
	// plus the inactivity gap for session windows.
	Grace int64
	// Session marks session windows (for the rows' Window).
	Session bool
	buf     []byte
	// scanFrom is, per partition, where the next scan for closed windows
	// starts: every entry below was emitted and deleted. Without it each
	// record would walk the tombstones of all windows emitted so far. It is
	// valid while the stores have not rolled back (rollbacks unchanged):
	// an abort brings deleted entries back.
	scanFrom map[int32][]byte
	// nextEnd is, per partition, a lower bound of the earliest window end
	// still buffered (absent: unknown). Records that do not move stream
	// time past it skip the scan: most records close no window, and an
	// iterator per record was EMIT FINAL's largest cost. Same validity as
	// scanFrom.
	nextEnd   map[int32]int64
	rollbacks uint64
}

func orderedTime(b []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t)^(1<<63))
}

func readOrderedTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func (s *Suppress) key(kb []byte, w *Window) []byte {
	b := orderedTime(s.buf[:0], w.End)
	b = binary.BigEndian.AppendUint32(b, uint32(len(kb)))
	b = append(b, kb...)
	b = orderedTime(b, w.Start)
	s.buf = b
	return b
}

// buffer records the latest states of a window.
func (s *Suppress) buffer(c *Context, kb []byte, w *Window, states []byte, ts int64) error {
	kv, err := kvStore(c, s.Store)
	if err != nil {
		return err
	}
	return s.bufferIn(c, kv, kb, w, states, ts)
}

// bufferIn is buffer with the partition's buffer store already looked up
// (kvStore(c, s.Store)): an operator buffering several windows of one
// record looks it up once.
func (s *Suppress) bufferIn(c *Context, kv *state.KeyValueStore, kb []byte, w *Window, states []byte, ts int64) error {
	if e, ok := s.nextEnd[c.Source.Partition]; ok && w.End < e {
		s.nextEnd[c.Source.Partition] = w.End
	}
	return kv.Put(s.key(kb, w), states, ts)
}

// drop removes a window from the buffer (a session merged into another).
func (s *Suppress) drop(c *Context, kb []byte, w *Window, ts int64) error {
	kv, err := kvStore(c, s.Store)
	if err != nil {
		return err
	}
	return kv.Delete(s.key(kb, w), ts)
}

type suppressed struct {
	key    []byte
	kb     []byte
	win    Window
	states []byte
	ts     int64
}

// emit pushes the rows of the windows closed at stream time st.
func (s *Suppress) emit(c *Context, g *Grouping, st int64, next Operator) error {
	kv, err := kvStore(c, s.Store)
	if err != nil {
		return err
	}
	limit := st - s.Grace
	if rb := c.State.Rollbacks(); s.scanFrom == nil || rb != s.rollbacks {
		s.scanFrom, s.nextEnd, s.rollbacks = map[int32][]byte{}, map[int32]int64{}, rb
	}
	if e, ok := s.nextEnd[c.Source.Partition]; ok && limit < e {
		return nil // no buffered window has closed yet
	}
	from := s.scanFrom[c.Source.Partition]
	var due []suppressed
	earliest := int64(math.MaxInt64) // earliest end left buffered: the new nextEnd
	// Open-ended scan: it stops at the first window still open, whose end
	// is the next time worth scanning at.
	err = kv.Range(from, nil, func(key, value []byte, ts int64) bool {
		if len(key) < 20 {
			return true
		}
		n := int(binary.BigEndian.Uint32(key[8:12]))
		if len(key) != 20+n {
			return true
		}
		if end := readOrderedTime(key[:8]); end > limit {
			earliest = end
			return false
		}
		due = append(due, suppressed{key: bytes.Clone(key), kb: bytes.Clone(key[12 : 12+n]),
			win:    Window{End: readOrderedTime(key[:8]), Start: readOrderedTime(key[12+n:]), Session: s.Session},
			states: bytes.Clone(value), ts: ts})
		return true
	})
	if err != nil {
		return err
	}
	for i := 0; i < len(due); {
		// Windows ending together go out in record key order.
		j := i
		first := len(c.out)
		for ; j < len(due) && due[j].win.End == due[i].win.End; j++ {
			d := due[j]
			if err := kv.Delete(d.key, d.ts); err != nil {
				return err
			}
			keys, err := g.decodeKey(d.kb)
			if err != nil {
				return fmt.Errorf("store %s: %w", s.Store, err)
			}
			states, err := g.decodeStates(d.states)
			if err != nil {
				return fmt.Errorf("store %s: %w", s.Store, err)
			}
			w := d.win
			if err := next.Push(c, g.Row(c, keys, states, d.ts, &w, nil)); err != nil {
				return err
			}
		}
		out := c.out[first:]
		sort.SliceStable(out, func(a, b int) bool { return bytes.Compare(out[a].Key, out[b].Key) < 0 })
		i = j
	}
	// Windows that close later end after limit: the aggregate drops
	// updates of windows already closed, so nothing new lands below.
	s.scanFrom[c.Source.Partition] = orderedTime(nil, limit+1)
	s.nextEnd[c.Source.Partition] = earliest
	return nil
}

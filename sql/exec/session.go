package exec

import (
	"time"

	"github.com/sluicedata/sluice/sql/types"
)

// SessionAggregate aggregates SESSION windows (Kafka Streams'
// KStreamSessionWindowAggregate): a record at t joins every session of its
// key that ends at or after t - gap and starts at or before t + gap; those
// sessions merge into one spanning them and t. Each merged-away session is
// deleted with a tombstone of its windowed key, then the merged session's
// row is emitted. Session rows are timestamped with the session end. A
// record whose merged session ends before stream time - grace is dropped
// and counted (Stats.Late).
type SessionAggregate struct {
	G                *Grouping
	Gap              int64 // inactivity gap, milliseconds
	Grace, Retention int64
	Store            string
	Final            *Suppress
	Next             Operator

	streamTime map[int32]int64
}

type foundSession struct {
	start, end int64
	states     []types.Value
}

// Push implements Operator.
func (a *SessionAggregate) Push(c *Context, r *Row) error {
	if r.Tombstone {
		return nil
	}
	keys, ok := a.G.key(c, r)
	if !ok {
		return nil
	}
	if c.State == nil {
		return errNoState(a.Store)
	}
	ss, err := c.State.Session(c.Ctx, a.Store, c.Source.Partition, time.Duration(a.Retention)*time.Millisecond)
	if err != nil {
		return err
	}
	// The store's stream time is its latest session end: a record time.
	st := observe(&a.streamTime, c.Source.Partition, r.Timestamp, ss.StreamTime())
	closeTime := st - a.Grace
	kb, err := a.G.encodeKey(keys)
	if err != nil {
		return err
	}
	t := r.Timestamp
	var found []foundSession
	var derr error
	err = ss.FindSessions(kb, t-a.Gap, t+a.Gap, func(start, end int64, value []byte) bool {
		s, err := a.G.decodeStates(value)
		if err != nil {
			derr = err
			return false
		}
		found = append(found, foundSession{start: start, end: end, states: s})
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	states := a.G.initStates()
	start, end := t, t
	for _, f := range found {
		a.G.merge(c, states, f.states)
		start, end = min(start, f.start), max(end, f.end)
	}
	if end < closeTime {
		c.late()
		return nil
	}
	if start != t || end != t {
		for _, f := range found {
			if err := ss.Remove(kb, f.start, f.end, r.Timestamp); err != nil {
				return err
			}
			w := &Window{Start: f.start, End: f.end, Session: true}
			if a.Final != nil {
				if err := a.Final.drop(c, kb, w, r.Timestamp); err != nil {
					return err
				}
				continue
			}
			if err := a.Next.Push(c, a.G.tombstone(c, keys, f.end, w, r.Headers)); err != nil {
				return err
			}
		}
	}
	a.G.add(c, states, a.G.inputs(c, r), r.Offset)
	b, err := a.G.encodeStates(states)
	if err != nil {
		return err
	}
	if err := ss.Put(kb, start, end, b, end); err != nil {
		return err
	}
	w := &Window{Start: start, End: end, Session: true}
	if a.Final != nil {
		if err := a.Final.buffer(c, kb, w, b, end); err != nil {
			return err
		}
		return a.Final.emit(c, a.G, st, a.Next)
	}
	return a.Next.Push(c, a.G.Row(c, keys, states, end, w, r.Headers))
}

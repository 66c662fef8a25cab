package exec

import (
	"fmt"
	"time"

	"github.com/sluicedata/sluice/sql/state"
)

// Windowed aggregations follow Kafka Streams' rules, which ksqlDB runs:
//
//   - Stream time is the largest record time the operator has seen in its
//     partition. A window closes when window end + grace period <= stream
//     time; an update for a closed window is dropped and counted
//     (Stats.Late), not logged.
//   - Each update emits the window's new row (EMIT CHANGES), timestamped
//     with the later of the record's time and the window's previous
//     timestamp. With EMIT FINAL (Final set) updates are buffered and each
//     window's last row is emitted once, when the window closes.
//
// Stream time is kept in memory per partition; after a restart it resumes
// from the latest time the store holds (the latest window start, or
// session end), a lower bound of the stream time before: a window may
// accept a record Kafka Streams would have dropped until newer records
// arrive, never the other way round.

// DefaultGrace is ksqlDB's grace period when a window sets none.
const DefaultGrace = 24 * time.Hour

// WindowAggregate aggregates TUMBLING (Advance == Size) and HOPPING
// windows over a WindowStore.
type WindowAggregate struct {
	G                *Grouping
	Size, Advance    int64 // milliseconds
	Grace, Retention int64
	Store            string
	// Final buffers results until their window closes (EMIT FINAL).
	Final *Suppress
	Next  Operator

	streamTime map[int32]int64
	// recent keeps, per partition, the states last written for recently
	// updated windows (windowcache.go): a hot group's next update skips the
	// store read and the decoding.
	recent map[int32]*windowCache
}

// windowsFor lists the starts of the windows containing ts, ascending (Kafka
// Streams' TimeWindows.windowsFor).
func windowsFor(ts, size, advance int64) []int64 {
	start := max(0, ts-size+advance) / advance * advance
	var out []int64
	for ; start <= ts; start += advance {
		out = append(out, start)
	}
	return out
}

// observe advances the partition's stream time to ts and returns it. A
// partition seen for the first time since the operator started resumes
// from stored, the latest time its store holds (math.MinInt64 if none): a
// lower bound of the stream time before a restart.
func observe(m *map[int32]int64, partition int32, ts, stored int64) int64 {
	if *m == nil {
		*m = map[int32]int64{}
	}
	st, ok := (*m)[partition]
	if !ok {
		st = stored
	}
	if ts > st {
		st = ts
	}
	(*m)[partition] = st
	return st
}

// Push implements Operator.
func (a *WindowAggregate) Push(c *Context, r *Row) error {
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
	ws, err := c.State.Window(c.Ctx, a.Store, c.Source.Partition, time.Duration(a.Retention)*time.Millisecond)
	if err != nil {
		return err
	}
	// The store's stream time is its latest window start, at most the
	// stream time before a restart.
	st := observe(&a.streamTime, c.Source.Partition, r.Timestamp, ws.StreamTime())
	closeTime := st - a.Grace
	kb, err := a.G.encodeKey(keys)
	if err != nil {
		return err
	}
	var final *state.KeyValueStore
	if a.Final != nil {
		if final, err = kvStore(c, a.Final.Store); err != nil {
			return err
		}
	}
	cache := a.cache(c, ws, closeTime)
	var ks string // kb as a string, for the cache
	if cache != nil {
		ks = string(kb)
	}
	inputs := a.G.inputs(c, r)
	for _, start := range windowsFor(r.Timestamp, a.Size, a.Advance) {
		end := start + a.Size
		if end <= closeTime {
			c.late()
			continue
		}
		states, ts := a.G.initStates(), r.Timestamp
		if hit, ok := cache.get(ks, start, ws); ok {
			// A copy: the cached states stay as stored until the new ones
			// are.
			copy(states, hit.states)
			ts = max(ts, hit.ts)
		} else {
			value, vts, found, err := ws.GetWithTimestamp(kb, start)
			if err != nil {
				return err
			}
			if found {
				if states, err = a.G.decodeStates(value); err != nil {
					return fmt.Errorf("store %s: %w", a.Store, err)
				}
				ts = max(ts, vts)
			}
		}
		a.G.add(c, states, inputs, r.Offset)
		b, err := a.G.encodeStates(states)
		if err != nil {
			return err
		}
		if err := ws.Put(kb, start, b, ts); err != nil {
			return err
		}
		cache.put(ks, start, end, states, ts)
		win := &Window{Start: start, End: end}
		if a.Final != nil {
			if err := a.Final.bufferIn(c, final, kb, win, b, ts); err != nil {
				return err
			}
			continue
		}
		if err := a.Next.Push(c, a.G.Row(c, keys, states, ts, win, r.Headers)); err != nil {
			return err
		}
	}
	if a.Final != nil {
		return a.Final.emit(c, a.G, st, a.Next)
	}
	return nil
}

// late counts an update dropped for a closed window.
func (c *Context) late() {
	if c.stats != nil {
		c.stats.Late.Add(1)
	}
}

func errNoState(store string) error {
	return fmt.Errorf("store %s: the query was run without state stores", store)
}

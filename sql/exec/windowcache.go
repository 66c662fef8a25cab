package exec

import (
	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// windowCache holds the decoded states a WindowAggregate last wrote to one
// partition's window store, for the windows updated recently. An update
// of a hot group (Nexmark's hot auctions, or a GROUP BY with few groups)
// then costs no store read and no decoding: the store's value is the
// encoding of the cached states.
//
// Invariant: an entry holds exactly what the store holds for its key and
// window start, as long as the store is the one it was filled from (ws)
// and has not rolled back since (rollbacks). The operator is the store's
// only writer; entries are put after the store's Put succeeded. A window
// that expired from the store is not served (Expired). Entries of closed
// windows are dropped when the cache is full: the operator reads no
// closed window again.
//
// Only groupings whose states are all immutable scalars (numbers,
// booleans, strings, times) are cached: aggregates may modify the states
// they are given in place (funcs.Aggregator), so the cache hands out a
// shallow copy, which must not share anything mutable.
type windowCache struct {
	ws        *state.WindowStore
	rollbacks uint64
	m         map[windowCacheKey]cachedWindow
}

type windowCacheKey struct {
	key   string // the encoded grouping key
	start int64
}

type cachedWindow struct {
	states []types.Value
	ts     int64
	end    int64
}

// windowCacheSize bounds the entries of one partition's cache.
const windowCacheSize = 1 << 15

// cacheable reports whether the states of g may be cached: each is a
// scalar that no aggregate can change in place.
func cacheable(g *Grouping) bool {
	for _, call := range g.Calls {
		switch call.Agg.State.Kind {
		case types.Boolean, types.Int, types.Bigint, types.Double, types.String,
			types.Date, types.Time, types.Timestamp:
		default:
			return false
		}
	}
	return true
}

// cache returns the partition's cache, emptied when the store changed or
// rolled back; nil when the grouping's states are not cacheable.
func (a *WindowAggregate) cache(c *Context, ws *state.WindowStore, closeTime int64) *windowCache {
	if a.recent == nil {
		if !cacheable(a.G) {
			return nil
		}
		a.recent = map[int32]*windowCache{}
	}
	p := c.Source.Partition
	wc := a.recent[p]
	rb := c.State.Rollbacks()
	if wc == nil || wc.ws != ws || wc.rollbacks != rb {
		wc = &windowCache{ws: ws, rollbacks: rb, m: map[windowCacheKey]cachedWindow{}}
		a.recent[p] = wc
	}
	if len(wc.m) >= windowCacheSize {
		for k, e := range wc.m {
			if e.end <= closeTime {
				delete(wc.m, k)
			}
		}
		if len(wc.m) >= windowCacheSize/2 {
			clear(wc.m)
		}
	}
	return wc
}

// get returns the cached states of a window (not to be modified).
func (wc *windowCache) get(key string, start int64, ws *state.WindowStore) (cachedWindow, bool) {
	if wc == nil {
		return cachedWindow{}, false
	}
	e, ok := wc.m[windowCacheKey{key, start}]
	if !ok || ws.Expired(start) {
		return cachedWindow{}, false
	}
	return e, true
}

// put records the states just written for a window; the cache keeps
// states as they are (the caller does not modify them afterwards).
func (wc *windowCache) put(key string, start, end int64, states []types.Value, ts int64) {
	if wc == nil {
		return
	}
	wc.m[windowCacheKey{key, start}] = cachedWindow{states: states, ts: ts, end: end}
}

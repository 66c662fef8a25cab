package runtime

import (
	"sync"
	"unsafe"

	"github.com/sluicedata/sluice/connect"
)

// A source batch's converted keys and values are written into chunks of
// memory taken from a pool, and the chunks go back to the pool once the
// broker acknowledged (or failed) every record of the batch: a fresh
// buffer per value, cleared by the allocator, was most of the JsonConverter's
// cost for the 3 KB values of a CDC envelope with schemas, and most of the
// garbage.
//
// Invariant: a chunk is written by one batch only, and it is put back only
// after every produce promise of that batch fired; franz-go keeps no
// reference to a record's bytes after its promise.

// arenaChunkSize is the size of a pooled chunk. A value that does not fit
// into the rest of a chunk starts a new one; a value larger than a chunk
// gets its own buffer, which is not pooled.
const arenaChunkSize = 256 << 10

var arenaChunks = sync.Pool{New: func() any {
	b := make([]byte, 0, arenaChunkSize)
	return &b
}}

// arena hands out the space of a batch's converted bytes.
type arena struct {
	cur    []byte    // the chunk being filled (nil: none yet)
	chunks []*[]byte // chunks used by the batch, cur's included
	last   int       // size of the largest key or value written
}

// write appends what conv writes to the arena and returns it (nil when
// conv reports a null).
func (a *arena) write(conv connect.AppendingConverter, topic string, schema *connect.Schema, value any) ([]byte, error) {
	if a.cur == nil || cap(a.cur)-len(a.cur) < a.last+a.last/4+64 {
		p := arenaChunks.Get().(*[]byte)
		a.chunks = append(a.chunks, p)
		a.cur = (*p)[:0]
	}
	n := len(a.cur)
	dst := a.cur[n:n]
	out, null, err := conv.AppendFromConnect(dst, topic, schema, value)
	if err != nil || null {
		return nil, err
	}
	a.last = max(a.last, len(out)) // keys and values alternate: room for the larger
	if cap(out) == cap(dst) && len(out) > 0 && unsafe.SliceData(out) == unsafe.SliceData(dst) {
		// Written in place: the chunk holds it. Capped, so that a later
		// append to the value cannot run into the next one.
		a.cur = a.cur[:n+len(out)]
		return out[:len(out):len(out)], nil
	}
	// The value outgrew the chunk's rest: it lives in its own buffer.
	return out, nil
}

// copy copies b into the arena and returns the copy.
func (a *arena) copy(b []byte) []byte {
	if a.cur == nil || cap(a.cur)-len(a.cur) < len(b) {
		if len(b) > arenaChunkSize/4 {
			return append([]byte(nil), b...) // its own buffer, as a value that outgrew a chunk
		}
		p := arenaChunks.Get().(*[]byte)
		a.chunks = append(a.chunks, p)
		a.cur = (*p)[:0]
	}
	n := len(a.cur)
	a.cur = append(a.cur, b...)
	a.last = max(a.last, len(b))
	return a.cur[n:len(a.cur):len(a.cur)]
}

// release hands the batch's chunks back for reuse: every record written
// through the arena must be done with.
func (a *arena) release() {
	for _, p := range a.chunks {
		*p = (*p)[:0]
		arenaChunks.Put(p)
	}
	a.chunks, a.cur = nil, nil
}

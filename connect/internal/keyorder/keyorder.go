// Package keyorder lists the entries of a schemaless object
// (map[string]any) in key order, which is how Sluice writes such objects
// as JSON so that output does not change from run to run.
//
// Sorting the keys of every record was a tenth of a JSON pipeline's CPU.
// Records of one topic nearly always have the same keys, so a Cache keeps
// the last sorted key list and, when a map has exactly those keys, reads
// the map in that order instead of sorting again: one lookup per key.
package keyorder

import (
	"slices"
	"strings"
	"sync/atomic"
)

// Entry is one key and its value.
type Entry struct {
	Key   string
	Value any
}

// Cache remembers the key order of the last map sorted through it. It is
// safe for concurrent use; the zero value is ready. A nil *Cache sorts
// every map.
type Cache struct {
	last atomic.Pointer[[]string]
}

// Sorted appends m's entries to buf in key order and returns it.
func (c *Cache) Sorted(m map[string]any, buf []Entry) []Entry {
	start := len(buf)
	if c != nil {
		if keys := c.last.Load(); keys != nil && len(*keys) == len(m) {
			// Equal lengths and every cached key present: the same key set,
			// since map keys are distinct.
			hit := true
			for _, k := range *keys {
				v, ok := m[k]
				if !ok {
					hit = false
					break
				}
				buf = append(buf, Entry{k, v})
			}
			if hit {
				return buf
			}
			buf = buf[:start]
		}
	}
	for k, v := range m {
		buf = append(buf, Entry{k, v})
	}
	sorted := buf[start:]
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	if c != nil {
		keys := make([]string, len(sorted))
		for i, e := range sorted {
			keys[i] = e.Key
		}
		c.last.Store(&keys)
	}
	return buf
}

package keyorder

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func keys(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key
	}
	return out
}

// Maps with the cached key set, a different one of the same size, a
// smaller and a larger one: each comes out sorted with its own values.
func TestSortedFollowsEachMap(t *testing.T) {
	var c Cache
	cases := []map[string]any{
		{"b": 2, "a": 1, "c": 3},
		{"c": 30, "a": 10, "b": 20}, // same keys: the cached order
		{"a": 1, "b": 2, "d": 4},    // same size, one key differs
		{"z": 1},
		{"d": 4, "c": 3, "b": 2, "a": 1},
		{},
	}
	for i, m := range cases {
		got := c.Sorted(m, nil)
		want := make([]string, 0, len(m))
		for k := range m {
			want = append(want, k)
		}
		slices.Sort(want)
		if !slices.Equal(keys(got), want) {
			t.Errorf("case %d: keys %v, want %v", i, keys(got), want)
		}
		for _, e := range got {
			if m[e.Key] != e.Value {
				t.Errorf("case %d: %s = %v, map has %v", i, e.Key, e.Value, m[e.Key])
			}
		}
	}
}

// Sorted appends after what buf holds; a nil cache sorts.
func TestSortedAppendsAndNilCache(t *testing.T) {
	var c *Cache
	buf := []Entry{{"keep", 0}}
	got := c.Sorted(map[string]any{"y": 1, "x": 2}, buf)
	if want := []string{"keep", "x", "y"}; !slices.Equal(keys(got), want) {
		t.Errorf("keys %v, want %v", keys(got), want)
	}
}

// Concurrent writers with different key sets each get their own map's
// entries (run with -race).
func TestSortedConcurrent(t *testing.T) {
	var c Cache
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := map[string]any{}
			for i := range 3 + g {
				m[fmt.Sprintf("k%d", i)] = g
			}
			for range 1000 {
				got := c.Sorted(m, nil)
				if len(got) != len(m) {
					t.Errorf("goroutine %d: %d entries, want %d", g, len(got), len(m))
					return
				}
				for _, e := range got {
					if e.Value != g {
						t.Errorf("goroutine %d: %s = %v", g, e.Key, e.Value)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

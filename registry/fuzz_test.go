package registry

import (
	"testing"
)

// FuzzCompat: parsing and checking any pair of schemas never panics, and a
// schema is always compatible with itself at every level.
func FuzzCompat(f *testing.F) {
	for _, c := range readCompatCases(f) {
		f.Add(c.typ, c.old[0], c.next)
	}
	f.Fuzz(func(t *testing.T, typ, a, b string) {
		if typ != TypeAvro && typ != TypeJSON && typ != TypeProtobuf {
			return
		}
		pa, err := parseSchema(typ, a, nil)
		if err != nil {
			return
		}
		for _, l := range []string{Backward, Forward, Full} {
			if msgs := checkCompat(l, pa, []parsed{pa}, []int{1}); len(msgs) > 0 {
				t.Fatalf("%s schema not %s compatible with itself: %q\n%s", typ, l, msgs, a)
			}
		}
		pb, err := parseSchema(typ, b, nil)
		if err != nil {
			return
		}
		checkCompat(FullTransitive, pb, []parsed{pa, pb}, []int{1, 2})
	})
}

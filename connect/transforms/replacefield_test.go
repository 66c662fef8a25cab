package transforms

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// TestReplaceFieldOwnedMatchesApply compares ApplyOwned, which edits the
// map in place (going through the configured names when they are fewer
// than the fields), with Apply's copy, on random maps and configs.
func TestReplaceFieldOwnedMatchesApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pool := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for n := range 2000 {
		m := map[string]any{}
		for i, k := range pool {
			if rng.IntN(3) > 0 {
				m[k] = int64(i)
			}
		}
		var exclude, include []string
		for _, k := range pool {
			if rng.IntN(6) == 0 {
				exclude = append(exclude, k)
			}
			if n%4 == 0 && rng.IntN(2) == 0 {
				include = append(include, k)
			}
		}
		// Renames with distinct targets, each a new name or a name that is
		// itself renamed away, so that Apply's result does not depend on
		// map order.
		perm := rng.Perm(len(pool))
		olds := perm[:rng.IntN(4)]
		var renames []string
		for i, o := range olds {
			to := "new" + pool[o]
			if i+1 < len(olds) && rng.IntN(2) == 0 {
				to = pool[olds[i+1]]
			}
			if i == 0 && rng.IntN(10) == 0 {
				to = pool[o] // renamed onto itself (no other name is renamed onto olds[0])
			}
			renames = append(renames, pool[o]+":"+to)
		}
		cfg := connect.Config{"exclude": strings.Join(exclude, ","), "include": strings.Join(include, ","), "renames": strings.Join(renames, ",")}
		tr := &ReplaceField{side: side(false)}
		if err := tr.Configure(cfg); err != nil {
			t.Fatal(err)
		}
		r := &connect.Record{Topic: "t", Value: m}
		want, err := tr.Apply(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tr.ApplyOwned(ownedCopy(r))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Value, want.Value) {
			t.Fatalf("config %v on %v:\nApplyOwned %v\nApply      %v", cfg, m, got.Value, want.Value)
		}
	}
}

package txn

import (
	"path/filepath"
	"testing"
)

func TestProducerIDsNeverReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "producer-ids")
	seen := map[int64]bool{}
	for round := 0; round < 3; round++ {
		p, err := OpenProducerIDs(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			id, err := p.Next()
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] {
				t.Fatalf("round %d: id %d reused", round, id)
			}
			seen[id] = true
		}
	}
}

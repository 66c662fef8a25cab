package serde

import (
	"slices"

	"github.com/sluicedata/sluice/sql/types"
)

// sortedKeys returns m's keys in order, so encodings are deterministic.
func sortedKeys(m map[string]types.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
)

// joinItem is one output column of a join's projection.
type joinItem struct {
	name string
	c    exec.Compiled
	expr ast.Expr
	col  int // layout index of a plain column, else -1
}

// joinPartitionKeys picks the key columns of a join result re-keyed by
// PARTITION BY, as ksqlDB does for a single source: each partitioning
// expression must be in the projection (SELECT * adds it), and becomes a
// key column; the join key columns are then plain value columns. PARTITION
// BY NULL gives no key. It returns the items (possibly one added) and the
// key indexes. The sink topic is written with the new key, so the result is
// partitioned by it with no repartition topic of its own.
func joinPartitionKeys(q *ast.Query, comp *exec.Compiler, scope *exec.Scope, rel *relation, items []joinItem,
	sinkName string, nextSynth func() string) ([]joinItem, []int, error) {
	if len(q.PartitionBy) == 1 && isNullLit(q.PartitionBy[0]) {
		return items, nil, nil
	}
	hasStar := false
	for _, si := range q.Select {
		if _, ok := si.(*ast.SelectAll); ok {
			hasStar = true
		}
	}
	var keys []int
	for _, pe := range q.PartitionBy {
		pc, err := comp.Compile(pe)
		if err != nil {
			return nil, nil, rel.ambiguous(clause("PARTITION BY", err))
		}
		col := -1
		if ref, ok := pe.(*ast.ColumnRef); ok {
			if sc, found, _ := scope.Lookup(ref.Source, ref.Name); found {
				col = sc.Index
			}
		}
		var matches []int
		for i, it := range items {
			if col >= 0 && it.col == col || it.expr != nil && ast.Equal(it.expr, pe) {
				matches = append(matches, i)
			}
		}
		switch {
		case len(matches) > 1:
			names := make([]string, len(matches))
			for i, m := range matches {
				names[i] = items[m].name
			}
			return nil, nil, fmt.Errorf("The projection contains a key column (`%s`) more than once, aliased as: %s.", ast.Format(pe), strings.Join(names, " and "))
		case len(matches) == 0 && !hasStar:
			return nil, nil, fmt.Errorf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the partitioning expression %s in its projection (eg, SELECT %s...).",
				sinkName, ast.Format(pe), ast.Format(pe))
		case len(matches) == 0:
			// SELECT * takes the partitioning expression as its key.
			name := nextSynth()
			if d, ok := pe.(*ast.Dereference); ok {
				name = d.Field
			}
			items = append(items, joinItem{name: name, c: pc, expr: pe, col: -1})
			matches = []int{len(items) - 1}
		}
		keys = append(keys, matches[0])
	}
	slices.Sort(keys) // key columns in projection order, as for one source
	return items, keys, nil
}

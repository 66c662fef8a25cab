package plan

import (
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/types"
)

// planJoinAggregate plans GROUP BY (and WINDOW) over the rows of a join.
// A stream-stream or stream-table join gives a stream: the joined rows feed
// the aggregation as a stream's rows would. A table-table join gives a
// table keyed by the join's key column: its changes feed a table
// aggregation, which keeps each result key's previous joined row, retracts
// it from its group and adds the new one (a delete only retracts), as
// ksqlDB's KTable groupBy over the join's change stream.
func (c *Catalog) planJoinAggregate(q *ast.Query, kind queryKind, sinkName string, j *ast.Join) (*planned, error) {
	jp := &joinPlanner{c: c, repartition: kind != pushKind}
	rel, err := jp.relation(j, 0)
	if err != nil {
		return nil, err
	}
	cols := make([]Column, rel.width())
	for i := range cols {
		cols[i] = Column{Type: rel.types[i]}
	}
	for _, sc := range rel.scope {
		if sc.Index >= 0 && cols[sc.Index].Name == "" {
			cols[sc.Index].Name = strings.ToUpper(sc.Source) + "_" + sc.Name
		}
	}
	if rel.kind == ast.Table {
		// The join's result key: the store of previous joined rows is
		// keyed by it.
		cols[rel.keyIdx].Kind = KeyColumn
	}
	var names, kafka []string
	for _, s := range rel.sources {
		names = append(names, s.src.Name)
		if s.src.ValueFormat.Name == "KAFKA" {
			kafka = append(kafka, s.src.Name)
		}
	}
	in := &AggInput{Source: rel.sources[0].src, Name: strings.Join(names, ", "), Kind: rel.kind, Columns: cols, Window: rel.window,
		Scope: &exec.Scope{Columns: rel.scope}, KafkaValues: kafka,
		Connect: func(next exec.Operator) ([]exec.Input, error) {
			rel.connect(next)
			return rel.inputs, nil
		},
		// Joined rows are keyed by the join key: grouping on anything
		// else re-keys them through the GroupBy repartition topic.
		Split: func(p *planned, kind queryKind, g *exec.Grouping, agg exec.Operator) exec.Operator {
			if kind == pushKind {
				return agg
			}
			layout := append([]types.Type(nil), rel.types...)
			var pair *exec.RepartitionPair
			if a, ok := agg.(*exec.TableAggregate); ok {
				// Subtractors and adders, as a table's GROUP BY.
				next := &exec.TableGroupAggregate{G: a.G, Store: a.Store, Next: a.Next}
				pair = exec.NewTableGroupByRepartition(a.G, a.Rows, layout, next)
			} else {
				pair = exec.NewGroupByRepartition(g, layout, agg)
			}
			p.repartitions = append(p.repartitions, &repartition{pair: pair, partitionsOf: topicsOf(rel)})
			return pair.Op
		},
	}
	p, err := c.planAggregateInput(q, kind, sinkName, in)
	if err != nil {
		return nil, rel.ambiguous(err)
	}
	p.repartitions = append(append([]*repartition(nil), jp.repartitions...), p.repartitions...)
	for _, s := range rel.sources {
		p.sources = append(p.sources, s.src)
	}
	return p, nil
}

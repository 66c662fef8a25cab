package plan

import (
	"fmt"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/types"
)

// Repartition topics (see exec/repartition.go): a persistent query whose
// GROUP BY, or one of whose join sides, uses a key other than the one its
// source is partitioned by writes the rows to
//
//	_confluent-ksql-<service id>query_<query id>-<Name>-repartition
//
// keyed by the new key, and reads them back in the same consumer group, so
// that every row of a key reaches the task owning that key's partition. The
// planner inserts the split where ksqlDB does; where the key is already the
// source's key there is none. Push queries (one process reading every
// partition) re-key in process and need none.

// RepartitionTopic is a repartition topic a persistent query needs created
// before it starts: with the partition count of PartitionsOf (the largest),
// so that its partitions line up with the topics it is joined with.
type RepartitionTopic struct {
	TopicSpec
	PartitionsOf []string
}

// repartition is a split point planned in a query.
type repartition struct {
	pair *exec.RepartitionPair
	// keyFormat writes the new key; keyCols names and types its columns.
	// A GROUP BY split leaves keyCols nil: the key is the result's key.
	keyFormat    Format
	keyCols      []types.Column
	partitionsOf []string
}

// WithServiceID sets ksql.service.id, the prefix of repartition topic names
// (default "default_", as ksqlDB's).
func WithServiceID(id string) Option { return func(cat *Catalog) { cat.serviceID = id } }

// repartitionTopic is ksqlDB's name of a query's repartition topic.
func (c *Catalog) repartitionTopic(queryID, name string) string {
	sid := c.serviceID
	if sid == "" {
		sid = "default_"
	}
	return "_confluent-ksql-" + sid + "query_" + queryID + "-" + name + "-repartition"
}

// bindRepartitions names the query's repartition topics, adds the inputs
// reading them and returns the topics to create. resultKey are the key
// columns of the result and resultFormat its key format (GROUP BY splits
// write their key as the result's).
func (c *Catalog) bindRepartitions(id string, p *planned, resultKey []types.Column, resultFormat Format) ([]RepartitionTopic, error) {
	var out []RepartitionTopic
	for _, r := range p.repartitions {
		f, cols := r.keyFormat, r.keyCols
		if cols == nil {
			f, cols = resultFormat, append([]types.Column(nil), resultKey...)
		}
		if f.Name == "" || f.Name == "NONE" {
			f = Format{Name: "KAFKA"}
		}
		sf, err := c.serde(f)
		if err != nil {
			return nil, fmt.Errorf("repartition key format: %w", err)
		}
		topic := c.repartitionTopic(id, r.pair.Op.Name)
		err = r.pair.Bind(topic, sf, cols)
		if err != nil && r.keyCols != nil && f.Name == "KAFKA" {
			// Join sides re-keyed on a type the KAFKA format cannot write
			// (BOOLEAN, DECIMAL, STRUCT ...): both sides fall back to JSON
			// alike, so their keys still partition the same way.
			f = Format{Name: "JSON"}
			err = r.pair.Bind(topic, serde.JSON{}, cols)
		}
		if err != nil {
			return nil, err
		}
		p.inputs = append(p.inputs, r.pair.Input())
		out = append(out, RepartitionTopic{
			TopicSpec:    TopicSpec{Name: topic, Create: true, KeyFormat: f.Name, ValueFormat: "KAFKA"},
			PartitionsOf: r.partitionsOf,
		})
	}
	return out, nil
}

// groupsBySourceKey reports whether GROUP BY lists exactly the source's key
// columns in key order: rows of a group then already share a partition.
func groupsBySourceKey(groupBy []ast.Expr, src *Source) bool {
	var keys []string
	for _, col := range src.Columns {
		if col.Kind == KeyColumn {
			keys = append(keys, col.Name)
		}
	}
	if len(keys) == 0 || len(keys) != len(groupBy) {
		return false
	}
	for i, e := range groupBy {
		ref, ok := e.(*ast.ColumnRef)
		if !ok || ref.Name != keys[i] {
			return false
		}
	}
	return true
}

// splitGroupBy inserts a repartition before the aggregate operator agg of a
// GROUP BY on other columns than the source's key, for persistent queries;
// it returns the operator the source rows go to. A table's in-process
// TableAggregate becomes a subtractor/adder split and a TableGroupAggregate.
// A stream's rows are written with only the columns in reads (the scope
// indexes the aggregation reads), the others as NULL, as ksqlDB projects
// before its groupBy; the reading half keeps the whole layout.
func (p *planned) splitGroupBy(kind queryKind, q *ast.Query, src *Source, g *exec.Grouping, agg exec.Operator, reads map[int]bool) exec.Operator {
	if kind == pushKind || groupsBySourceKey(q.GroupBy, src) {
		return agg
	}
	layout := make([]types.Type, len(src.Columns))
	for i, col := range src.Columns {
		layout[i] = col.Type
	}
	var pair *exec.RepartitionPair
	switch a := agg.(type) {
	case *exec.TableAggregate:
		next := &exec.TableGroupAggregate{G: a.G, Store: a.Store, Next: a.Next}
		pair = exec.NewTableGroupByRepartition(a.G, a.Rows, layout, next)
	default:
		if src.Kind != ast.Stream {
			return agg
		}
		pair = exec.NewGroupByRepartition(g, layout, agg)
		if reads != nil {
			keep := make([]bool, len(layout))
			for i := range keep {
				keep[i] = reads[i]
			}
			pair.Op.WriteOnly(keep)
		}
	}
	p.repartitions = append(p.repartitions, &repartition{pair: pair, partitionsOf: []string{src.Topic}})
	return pair.Op
}

// splitJoinSide returns the operator a join side's rows go to: in itself
// when the side is keyed by its join key (or for push queries), else a
// repartition by the join key written like keyCol in keyFormat (the other
// side's key, so that both land in the same partition).
func (jp *joinPlanner) splitJoinSide(rekey bool, which string, side exec.JoinSide, in exec.Operator,
	keyFormat Format, keyCol types.Column, partitionsOf []string) exec.Operator {
	if !rekey || !jp.repartition {
		return in
	}
	name := "Join-" + which
	if jp.joins > 1 {
		name = fmt.Sprintf("Join-%d-%s", jp.joins, which)
	}
	pair := exec.NewJoinRepartition(name, side, in)
	jp.repartitions = append(jp.repartitions, &repartition{pair: pair, keyFormat: keyFormat,
		keyCols: []types.Column{keyCol}, partitionsOf: partitionsOf})
	return pair.Op
}

// topicsOf lists the topics of a relation's sources.
func topicsOf(r *relation) []string {
	var out []string
	for _, s := range r.sources {
		out = append(out, s.src.Topic)
	}
	return out
}

// joinKeyFormat says how a re-keyed join side writes its key: as the key
// of the side that is not re-keyed (its source's key format and key column,
// so both sides' keys are the same bytes and partition alike), or, when
// both are, as the left relation's first source's key format. partitionsOf
// are the topics whose partition count the repartition topics take.
func joinKeyFormat(left, right *relation, leftKeyed, rightKeyed bool, t types.Type) (Format, types.Column, []string) {
	keyed, of := left, topicsOf(right)
	switch {
	case rightKeyed:
		keyed, of = right, topicsOf(right)
	case leftKeyed:
		keyed, of = left, topicsOf(left)
	default:
		of = append(topicsOf(left), topicsOf(right)...)
	}
	src := keyed.sources[0].src
	col := types.Column{Name: "ROWKEY", Type: t}
	for _, c := range src.Columns {
		if c.Kind == KeyColumn {
			col.Name = c.Name
			break
		}
	}
	return src.KeyFormat, col, of
}

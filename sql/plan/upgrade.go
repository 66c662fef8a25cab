package plan

// Query upgrades: CREATE OR REPLACE STREAM|TABLE ... AS SELECT over a
// running CSAS/CTAS replaces the query in place (same id, same consumer
// group, same state stores), as ksqlDB's query upgrades do
// (ksql.create.or.replace.enabled). Two checks decide whether the new
// version may take over, in ksqlDB's order:
//
//  1. the sink (canUpgradeTo): same kind, topic, formats and timestamp
//     column; the key columns identical; the value columns of the old
//     schema kept, in place, with their types (new columns may follow);
//  2. the plan (validateUpgrade): each query is reduced to ksqlDB's
//     execution steps, from the sink down to the source. Passive steps
//     (projections, filters) may come and go; enforcing steps (sink,
//     source, PARTITION BY, GROUP BY, non-windowed stream aggregation)
//     must match; any other step (joins, windowed aggregations,
//     suppression, table aggregations, table functions, windowed sources)
//     refuses the upgrade with "Upgrades not yet supported for <step>".
//
// The walk is ksqlDB's: a passive step hands the check over to the other
// plan, so the two pointers advance in turn and the first enforcing steps
// reached on each side are compared. Nothing outside the steps (the
// expressions of a projection or a filter) needs to match: filters and
// projections run without state, and the state of an aggregation depends
// only on what the enforcing steps pin down.

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// stepKind says how a step takes part in the upgrade check.
type stepKind int

const (
	stepUnsupported stepKind = iota // refuses any upgrade
	stepPassive                     // may be added or removed
	stepEnforcing                   // must match the other plan's step
	stepSource                      // enforcing leaf: reads a topic
	stepJoin                        // several inputs (unsupported)
)

// stepProp is a property two enforcing steps must share, rendered as
// ksqlDB prints it in its message.
type stepProp struct{ name, value string }

// planStep is one execution step of a persistent query, named as ksqlDB
// names its ExecutionStep classes.
type planStep struct {
	class string
	kind  stepKind
	props []stepProp
}

// upgradeSteps reduces a planned CSAS/CTAS query to its execution steps,
// from the sink down to the first source or unsupported step. It runs
// after planSelect accepted the query; c.mu is held.
func (c *Catalog) upgradeSteps(q *ast.Query, sinkKind ast.SourceKind) []planStep {
	var steps []planStep
	add := func(s ...planStep) { steps = append(steps, s...) }
	passive := func(class string) planStep { return planStep{class: class, kind: stepPassive} }
	if sinkKind == ast.Table {
		add(planStep{class: "TableSink", kind: stepEnforcing}, passive("TableSelect"))
	} else {
		add(planStep{class: "StreamSink", kind: stepEnforcing}, passive("StreamSelect"))
	}
	// input appends the steps below the aggregation or projection: the
	// WHERE filter and the source (or the join).
	input := func(stream bool) {
		prefix := "Table"
		if stream {
			prefix = "Stream"
		}
		if q.Where != nil {
			add(passive(prefix + "Filter"))
		}
		switch from := q.From.(type) {
		case *ast.Join:
			add(planStep{class: c.joinClass(from), kind: stepJoin})
		case *ast.Source:
			src := c.sources[from.Name]
			if src.Window != nil {
				add(planStep{class: "Windowed" + prefix + "Source"})
				return
			}
			add(planStep{class: prefix + "Source", kind: stepSource, props: []stepProp{
				{"topicName", src.Topic},
				{"formats", fmt.Sprintf("{keyFormat=%s, valueFormat=%s}", formatName(src.KeyFormat), formatName(src.ValueFormat))},
				{"timestampColumn", timestampName(src.Timestamp, src.TimestampFormat)},
			}})
		}
	}
	fromStream := c.relationKind(q.From) == ast.Stream
	if len(q.GroupBy) == 0 {
		if !fromStream {
			input(false)
			return steps
		}
		if len(q.PartitionBy) > 0 {
			add(planStep{class: "StreamSelectKey", kind: stepEnforcing, props: []stepProp{
				{"keyExpressions", exprList(q.PartitionBy)}}})
		}
		if c.hasTableFunction(q) {
			add(planStep{class: "StreamFlatMap"})
			return steps
		}
		input(true)
		return steps
	}
	if q.Having != nil {
		add(passive("TableFilter"))
	}
	if q.Emit == ast.EmitFinal {
		add(planStep{class: "TableSuppress"})
		return steps
	}
	switch {
	case !fromStream:
		add(planStep{class: "TableAggregate"})
		return steps
	case q.Window != nil:
		add(planStep{class: "StreamWindowedAggregate"})
		return steps
	}
	add(planStep{class: "StreamAggregate", kind: stepEnforcing, props: []stepProp{
		{"columns not part of aggregate", c.nonAggregateColumns(q)},
		{"aggregate functions", c.aggregateCalls(q)},
	}})
	if c.groupsByKey(q) {
		add(planStep{class: "StreamGroupByKey", kind: stepEnforcing})
	} else {
		add(planStep{class: "StreamGroupBy", kind: stepEnforcing, props: []stepProp{
			{"groupByExpressions", exprList(q.GroupBy)}}})
	}
	add(passive("StreamSelect"))
	input(true)
	return steps
}

// validateUpgrade checks that the plan to may replace the plan from, with
// ksqlDB's algorithm and messages (ExecutionStep.validateUpgrade).
func validateUpgrade(from, to []planStep) error {
	if len(from) == 0 || len(to) == 0 {
		return fmt.Errorf("Query is not upgradeable. The plans have different shapes.")
	}
	s := from[0]
	switch s.kind {
	case stepUnsupported, stepJoin:
		return fmt.Errorf("Upgrades not yet supported for %s", s.class)
	case stepPassive:
		return validateUpgrade(to, from[1:])
	case stepSource:
		i := 0
		for ; to[i].class != s.class; i++ {
			t := to[i]
			switch {
			case t.kind == stepJoin:
				return fmt.Errorf("Query is not upgradeable. Cannot change a non-join source into a join source.")
			case t.kind == stepSource || i == len(to)-1:
				return fmt.Errorf("Query is not upgradeable. The root source node of the upgrade tree must be %s, but was %s", s.class, t.class)
			case t.kind == stepUnsupported:
				return fmt.Errorf("Upgrades not yet supported for %s", t.class)
			case t.kind != stepPassive:
				return fmt.Errorf("Query is not upgradeable. Cannot add a %s step that is not in the original query plan.", t.class)
			}
		}
		return mustMatch(s, to[i])
	}
	if err := mustMatch(s, to[0]); err != nil {
		return err
	}
	return validateUpgrade(from[1:], to[1:])
}

func mustMatch(a, b planStep) error {
	if a.class != b.class {
		return fmt.Errorf("Query is not upgradeable. Plan step of type %s must have matching class. Values differ: %s vs. %s", a.class, a.class, b.class)
	}
	for i, p := range a.props {
		if q := b.props[i]; p.value != q.value {
			return fmt.Errorf("Query is not upgradeable. Plan step of type %s must have matching %s. Values differ: %s vs. %s", a.class, p.name, p.value, q.value)
		}
	}
	return nil
}

// canUpgradeTo checks that the sink other may replace s (ksqlDB's
// DataSource.canUpgradeTo): "" when it may, else every difference.
func (s *Source) canUpgradeTo(other *Source) string {
	var issues []string
	differ := func(prop, a, b string) {
		if a != b {
			issues = append(issues, fmt.Sprintf("DataSource '`%s`' has %s = %s which is not upgradeable to %s", s.Name, prop, a, b))
		}
	}
	differ("type", dataSourceType(s.Kind), dataSourceType(other.Kind))
	differ("topic", topicDesc(s), topicDesc(other))
	differ("timestampColumn", timestampName(s.Timestamp, s.TimestampFormat), timestampName(other.Timestamp, other.TimestampFormat))
	if msg := checkSchemas(s, other); msg != "" {
		issues = append(issues, fmt.Sprintf("DataSource '`%s`' has schema = %s which is not upgradeable to %s. (%s)", s.Name, schemaDesc(s), schemaDesc(other), msg))
	}
	return strings.Join(issues, "\n\tAND ")
}

// checkSchemas: the key columns must be identical, and every value column
// of s must be in other at the same position with the same type.
func checkSchemas(s, other *Source) string {
	cols := func(src *Source, key bool) []string {
		var out []string
		for _, c := range src.Columns {
			if (c.Kind == KeyColumn) != key {
				continue
			}
			out = append(out, columnDesc(c))
		}
		return out
	}
	diff := func(a, b []string) []string {
		var out []string
		for i, c := range a {
			if i >= len(b) || b[i] != c {
				out = append(out, c)
			}
		}
		return out
	}
	ok, nk := cols(s, true), cols(other, true)
	if d := diff(ok, nk); len(d) > 0 || len(ok) != len(nk) {
		if len(d) == 0 {
			d = diff(nk, ok)
		}
		return "Key columns must be identical. The following key columns are changed, missing or reordered: [" + strings.Join(d, ", ") + "]"
	}
	if d := diff(cols(s, false), cols(other, false)); len(d) > 0 {
		return "The following columns are changed, missing or reordered: [" + strings.Join(d, ", ") + "]"
	}
	return ""
}

// columnDesc and schemaDesc print columns as ksqlDB's LogicalSchema does:
// `NAME` INTEGER KEY.
func columnDesc(c Column) string {
	var b strings.Builder
	b.WriteString("`" + c.Name + "` ")
	writeKsqlType(&b, c.Type)
	if c.Kind == KeyColumn {
		b.WriteString(" KEY")
	}
	return b.String()
}

func schemaDesc(s *Source) string {
	parts := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		parts[i] = columnDesc(c)
	}
	return strings.Join(parts, ", ")
}

// writeKsqlType writes t with ksqlDB's SqlType names (INTEGER for INT,
// struct fields back-quoted).
func writeKsqlType(b *strings.Builder, t types.Type) {
	switch t.Kind {
	case types.Int:
		b.WriteString("INTEGER")
	case types.Array:
		b.WriteString("ARRAY<")
		if t.Elem != nil {
			writeKsqlType(b, *t.Elem)
		}
		b.WriteString(">")
	case types.Map:
		b.WriteString("MAP<STRING, ")
		if t.Elem != nil {
			writeKsqlType(b, *t.Elem)
		}
		b.WriteString(">")
	case types.Struct:
		b.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + f.Name + "` ")
			writeKsqlType(b, f.Type)
		}
		b.WriteString(">")
	default:
		b.WriteString(t.String())
	}
}

func dataSourceType(k ast.SourceKind) string {
	if k == ast.Table {
		return "KTABLE"
	}
	return "KSTREAM"
}

func formatName(f Format) string {
	if f.Name == "DELIMITED" && f.Delimiter != "" {
		return fmt.Sprintf("DELIMITED(%q)", f.Delimiter)
	}
	return f.Name
}

func topicDesc(s *Source) string {
	key := formatName(s.KeyFormat)
	if w := s.Window; w != nil {
		key += " windowed " + w.Type
		if w.Size > 0 {
			key += fmt.Sprintf(" %d ms", w.Size)
		}
	}
	return fmt.Sprintf("%s (key %s, value %s)", s.Topic, key, formatName(s.ValueFormat))
}

func timestampName(col, format string) string {
	switch {
	case col == "":
		return "none"
	case format != "":
		return fmt.Sprintf("`%s` (format %s)", col, format)
	}
	return "`" + col + "`"
}

// relationKind is the kind of what a FROM clause yields: a join of tables
// is a table, a join with a stream on the left a stream.
func (c *Catalog) relationKind(r ast.Relation) ast.SourceKind {
	switch x := r.(type) {
	case *ast.Source:
		if src, ok := c.sources[x.Name]; ok {
			return src.Kind
		}
	case *ast.Join:
		return c.relationKind(x.Left)
	}
	return ast.Stream
}

// joinClass names the top join of a FROM clause as ksqlDB's step.
func (c *Catalog) joinClass(j *ast.Join) string {
	left, right := c.relationKind(j.Left), c.relationKind(j.Right)
	switch {
	case left == ast.Stream && right == ast.Stream:
		return "StreamStreamJoin"
	case left == ast.Stream:
		return "StreamTableJoin"
	}
	// A table-table join not on the left table's primary key is a
	// foreign-key join.
	if ls, ok := j.Left.(*ast.Source); ok {
		src := c.sources[ls.Name]
		lq := ls.Name
		if ls.Alias != "" {
			lq = ls.Alias
		}
		if eq, ok := j.On.(*ast.Binary); ok && src != nil {
			for _, side := range []ast.Expr{eq.Left, eq.Right} {
				ref, ok := side.(*ast.ColumnRef)
				if !ok || ref.Source != "" && !strings.EqualFold(ref.Source, lq) {
					continue
				}
				if col, i := src.Column(ref.Name); i >= 0 && ref.Source != "" {
					if col.Kind != KeyColumn {
						return "ForeignKeyTableTableJoin"
					}
				}
			}
		}
	}
	return "TableTableJoin"
}

func (c *Catalog) hasTableFunction(q *ast.Query) bool {
	found := false
	for _, si := range q.Select {
		ast.Inspect(si, func(n ast.Node) bool {
			if f, ok := n.(*ast.FuncCall); ok {
				if fn, ok := c.funcs.Lookup(f.Name); ok && fn.Kind == funcs.TableFunction {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// groupsByKey reports whether GROUP BY lists exactly the source's key
// columns, in order (ksqlDB's StreamGroupByKey: no repartition).
func (c *Catalog) groupsByKey(q *ast.Query) bool {
	from, ok := q.From.(*ast.Source)
	if !ok {
		return false
	}
	var keys []string
	for _, col := range c.sources[from.Name].Columns {
		if col.Kind == KeyColumn {
			keys = append(keys, col.Name)
		}
	}
	if len(keys) != len(q.GroupBy) {
		return false
	}
	for i, g := range q.GroupBy {
		ref, ok := g.(*ast.ColumnRef)
		if !ok || ref.Name != keys[i] {
			return false
		}
	}
	return true
}

// nonAggregateColumns lists the input columns an aggregation reads, in
// the order first referenced by GROUP BY, SELECT, WHERE and HAVING
// (COUNT(*) reads ROWTIME), as ksqlDB's StreamAggregate records them.
func (c *Catalog) nonAggregateColumns(q *ast.Query) string {
	from, ok := q.From.(*ast.Source)
	if !ok {
		return "[]"
	}
	src := c.sources[from.Name]
	known := map[string]bool{}
	for _, col := range src.Columns {
		known[col.Name] = true
	}
	for _, pc := range exec.PseudoColumns("") {
		known[pc.Name] = true
	}
	var out []string
	seen := map[string]bool{}
	use := func(name string) {
		if known[name] && !seen[name] {
			seen[name] = true
			out = append(out, "`"+name+"`")
		}
	}
	visit := func(n ast.Node) {
		if n == nil {
			return
		}
		ast.Inspect(n, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ColumnRef:
				use(x.Name)
			case *ast.FuncCall:
				if x.Star {
					use("ROWTIME")
				}
			case *ast.SelectAll:
				for _, col := range src.Columns {
					if col.Kind == KeyColumn {
						use(col.Name)
					}
				}
				for _, col := range src.Columns {
					if col.Kind != KeyColumn {
						use(col.Name)
					}
				}
			}
			return true
		})
	}
	for _, g := range q.GroupBy {
		visit(g)
	}
	for _, si := range q.Select {
		visit(si)
	}
	if q.Where != nil {
		visit(q.Where)
	}
	if q.Having != nil {
		visit(q.Having)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// aggregateCalls lists the aggregate function calls of SELECT and HAVING,
// COUNT(*) written COUNT(ROWTIME) as ksqlDB rewrites it.
func (c *Catalog) aggregateCalls(q *ast.Query) string {
	var out []string
	visit := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			f, ok := n.(*ast.FuncCall)
			if !ok || !exec.IsAggregate(c.funcs, f.Name) {
				return true
			}
			if f.Star {
				out = append(out, strings.ToUpper(f.Name)+"(ROWTIME)")
			} else {
				out = append(out, unqualified(f))
			}
			return false
		})
	}
	for _, si := range q.Select {
		visit(si)
	}
	if q.Having != nil {
		visit(q.Having)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func exprList(es []ast.Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = unqualified(e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// unqualified prints e with its column references unqualified (a single
// source query may name its columns either way).
func unqualified(e ast.Node) string {
	var refs []*ast.ColumnRef
	var quals []string
	ast.Inspect(e, func(n ast.Node) bool {
		if r, ok := n.(*ast.ColumnRef); ok && r.Source != "" {
			refs = append(refs, r)
			quals = append(quals, r.Source)
			r.Source = ""
		}
		return true
	})
	s := ast.Format(e)
	for i, r := range refs {
		r.Source = quals[i]
	}
	return s
}

// createOrReplaceEnabled reads ksql.create.or.replace.enabled.
func createOrReplaceEnabled(props map[string]string) bool {
	return !strings.EqualFold(strings.TrimSpace(props[PropCreateOrReplace]), "false")
}

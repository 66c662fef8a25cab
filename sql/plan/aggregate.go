package plan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// Aggregations (GROUP BY, WINDOW) plan to
//
//	decoder -> [WHERE] -> aggregate operator -> [HAVING] -> projection -> sink
//
// The aggregate operator's row holds the grouping key values then one value
// per aggregate call; SELECT and HAVING compile against that row: a
// (sub)expression equal to a GROUP BY expression reads its key slot, an
// aggregate call reads its result slot, and any other column reference is an
// error (ksqlDB's "not part of GROUP BY" messages). The result is a table
// keyed by the GROUP BY expressions, in their order.

// aggItem is one SELECT column of an aggregation.
type aggItem struct {
	name string
	expr ast.Expr
	c    exec.Compiled
}

// AggInput is what an aggregation reads: the rows of one source (planAggregate
// builds it from a stream or table) or of a join (the join planner builds
// it and calls planAggregateInput). Rows hold Columns at their positions.
type AggInput struct {
	// Source is the stream or table read (the first one of a join), the
	// planned query's source.
	Source *Source
	// Name names the input in messages ("S", or "A, B" for a join).
	Name string
	// Kind is ast.Table when rows are upserts of a table (keyed by the
	// KeyColumn columns): the aggregation retracts replaced rows.
	Kind    ast.SourceKind
	Columns []Column
	// Window is the input's window (windowed sources).
	Window *Window
	// Scope is what expressions over an input row can name (columns and
	// pseudo columns, qualified by source name or alias).
	Scope *exec.Scope
	// Qualifier, when set, is the single source's name or alias: column
	// references qualified with it are the same as unqualified ones.
	Qualifier string
	// KafkaValues lists the sources that use the KAFKA value format,
	// which ksqlDB cannot group.
	KafkaValues []string
	// Connect returns the inputs (decoders) feeding rows to next.
	Connect func(next exec.Operator) ([]exec.Input, error)
	// Split, when set, puts a repartition before the aggregate operator
	// agg of a persistent query that re-keys, and returns the operator the
	// input rows go to.
	Split func(p *planned, kind queryKind, g *exec.Grouping, agg exec.Operator) exec.Operator
	// Reads collects the scope columns that the WHERE clause, the
	// grouping expressions and the aggregate arguments read: the only
	// expressions evaluated over input rows. Split sees it complete.
	Reads map[int]bool
}

// ambiguous reports whether several of the input's sources have a column
// named name (a join): its unaliased selection is then named
// SOURCE_NAME, as ksqlDB names join columns.
func (in *AggInput) ambiguous(name string) bool {
	n := 0
	for _, sc := range in.Scope.Columns {
		if sc.Index >= 0 && sc.Name == name {
			n++
		}
	}
	return n > 1
}

// aggPlanner holds the state of planning one aggregation.
type aggPlanner struct {
	cat      *Catalog
	in       *AggInput
	groupBy  []ast.Expr
	keyTypes []types.Type
	srcComp  *exec.Compiler // over input rows
	aggComp  *exec.Compiler // over aggregated rows
	calls    []*ast.FuncCall
	bound    []exec.AggCall
	// ungrouped collects the column references of the expression being
	// compiled that are neither grouped nor inside an aggregate.
	ungrouped []ast.Expr
	sawAgg    bool
}

// planAggregate plans an aggregation over one stream or table.
func (c *Catalog) planAggregate(q *ast.Query, kind queryKind, sinkName string, src *Source, qual string) (*planned, error) {
	scope := &exec.Scope{}
	for i, col := range src.Columns {
		scope.Columns = append(scope.Columns, exec.ScopeColumn{Source: qual, Name: col.Name, Type: col.Type, Index: i})
	}
	scope.Columns = append(scope.Columns, exec.PseudoColumns(qual)...)
	if src.Window != nil {
		scope.Columns = append(scope.Columns, exec.WindowColumns(qual)...)
	}
	in := &AggInput{Source: src, Name: src.Name, Kind: src.Kind, Columns: src.Columns, Window: src.Window,
		Scope: scope, Qualifier: qual,
		Connect: func(next exec.Operator) ([]exec.Input, error) {
			dec, err := c.decoder(src, 0)
			if err != nil {
				return nil, err
			}
			return []exec.Input{{Decoder: dec, Next: next}}, nil
		}}
	if src.ValueFormat.Name == "KAFKA" {
		in.KafkaValues = []string{src.Name}
	}
	in.Split = func(p *planned, kind queryKind, g *exec.Grouping, agg exec.Operator) exec.Operator {
		return p.splitGroupBy(kind, q, src, g, agg, in.Reads)
	}
	return c.planAggregateInput(q, kind, sinkName, in)
}

// planAggregateInput plans GROUP BY, HAVING and WINDOW over in.
func (c *Catalog) planAggregateInput(q *ast.Query, kind queryKind, sinkName string, in *AggInput) (*planned, error) {
	switch {
	case kind == persistentKind:
		return nil, fmt.Errorf("Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.")
	case len(q.GroupBy) == 0:
		return nil, fmt.Errorf("WINDOW clause requires a GROUP BY clause.")
	case len(q.PartitionBy) > 0:
		return nil, fmt.Errorf("PARTITION BY and GROUP BY in the same query are not supported.")
	case q.Window != nil && in.Kind == ast.Table:
		return nil, fmt.Errorf("WINDOW clause is not supported on tables: %s is a table", in.Name)
	case q.Window != nil && in.Window != nil:
		return nil, fmt.Errorf("WINDOW clause is not supported on windowed source %s", in.Name)
	case len(in.KafkaValues) > 0:
		return nil, fmt.Errorf("Source(s) %s are using the 'KAFKA' value format. This format does not yet support GROUP BY.", strings.Join(in.KafkaValues, ", "))
	}
	if q.Emit == ast.EmitFinal && q.Window == nil {
		return nil, fmt.Errorf("EMIT FINAL is only supported for windowed aggregations.")
	}
	if in.Qualifier != "" {
		unqualify(q, in.Qualifier)
	}
	ap := &aggPlanner{cat: c, in: in, groupBy: q.GroupBy,
		srcComp: &exec.Compiler{Funcs: c.funcs, Scope: in.Scope, Types: c.lookupType, Reads: map[int]bool{}}}
	in.Reads = ap.srcComp.Reads

	p := &planned{source: in.Source, stateful: true}
	var pre []func(exec.Operator) exec.Operator
	if q.Where != nil {
		w, err := ap.srcComp.Compile(q.Where)
		if err != nil {
			return nil, whereError(err)
		}
		if w.Type.Kind != types.Boolean && w.Type.Kind != 0 {
			return nil, fmt.Errorf("Type error in WHERE expression: Should evaluate to boolean but is %s (%s) instead.", ast.Format(q.Where), w.Type)
		}
		pred, deletes := w.Eval, in.Kind == ast.Table
		pre = append(pre, func(next exec.Operator) exec.Operator {
			return &exec.Filter{Pred: pred, Next: next, Deletes: deletes}
		})
	}

	// Grouping expressions.
	g := &exec.Grouping{}
	for i, ge := range q.GroupBy {
		for _, prev := range q.GroupBy[:i] {
			if ast.Equal(prev, ge) {
				return nil, fmt.Errorf("Duplicate GROUP BY expression: %s", ast.Format(ge))
			}
		}
		k, err := ap.srcComp.Compile(ge)
		if err != nil {
			return nil, ap.clauseError("GROUP BY", err)
		}
		if k.Type.Kind == 0 {
			return nil, fmt.Errorf("GROUP BY expression %s has no type: cast NULL to a type", ast.Format(ge))
		}
		g.Keys = append(g.Keys, k.Eval)
		g.KeyTypes = append(g.KeyTypes, k.Type)
		g.KeyNames = append(g.KeyNames, ast.Format(ge))
	}
	ap.keyTypes = g.KeyTypes

	aggScope := &exec.Scope{}
	if q.Window != nil {
		aggScope.Columns = exec.WindowColumns("")
	}
	ap.aggComp = &exec.Compiler{Funcs: c.funcs, Scope: aggScope, Types: c.lookupType, Rewrite: ap.rewrite}

	// SELECT items.
	used := map[string]bool{}
	for _, col := range in.Columns {
		used[col.Name] = true
	}
	synth := 0
	nextSynth := func() string {
		for {
			n := fmt.Sprintf("KSQL_COL_%d", synth)
			synth++
			if !used[n] {
				return n
			}
		}
	}
	var exprs []ast.SelectExpr
	for _, si := range q.Select {
		switch s := si.(type) {
		case *ast.SelectAll:
			cols, err := in.starColumns(s)
			if err != nil {
				return nil, err
			}
			for _, ref := range cols {
				exprs = append(exprs, ast.SelectExpr{Pos: s.Pos, Expr: ref})
			}
		case *ast.SelectStructAll:
			return nil, fmt.Errorf("%s: ->* is not supported in aggregations: select the fields one by one", s.Pos)
		case *ast.SelectExpr:
			exprs = append(exprs, *s)
		}
	}
	var items []aggItem
	var nonAgg, aggCols []string
	for _, s := range exprs {
		ap.ungrouped, ap.sawAgg = nil, false
		cv, err := ap.aggComp.Compile(s.Expr)
		if err != nil {
			return nil, ap.clauseError("SELECT", err)
		}
		if len(ap.ungrouped) > 0 {
			if ap.sawAgg {
				for _, u := range ap.ungrouped {
					aggCols = append(aggCols, ast.Format(u))
				}
			} else {
				nonAgg = append(nonAgg, ast.Format(s.Expr))
			}
		}
		if cv.Type.Kind == 0 && len(ap.ungrouped) == 0 {
			return nil, fmt.Errorf("Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).")
		}
		it := aggItem{name: s.Alias, expr: s.Expr, c: cv}
		if it.name == "" {
			switch e := s.Expr.(type) {
			case *ast.ColumnRef:
				it.name = e.Name
				if e.Source != "" && in.ambiguous(e.Name) {
					it.name = strings.ToUpper(e.Source) + "_" + e.Name
				}
			case *ast.Dereference:
				it.name = e.Field
			default:
				it.name = nextSynth()
			}
		}
		items = append(items, it)
	}

	// HAVING.
	var having exec.Eval
	var havingOnly []string
	if q.Having != nil {
		if bound := windowBoundIn(q.Having); bound != "" && q.Window != nil {
			return nil, fmt.Errorf("Window bounds column %s can only be used in the SELECT clause of windowed aggregations and can not be passed to aggregate functions.", bound)
		}
		ap.ungrouped = nil
		h, err := ap.aggComp.Compile(q.Having)
		if err != nil {
			return nil, ap.clauseError("HAVING", err)
		}
		for _, u := range ap.ungrouped {
			havingOnly = append(havingOnly, ast.Format(u))
		}
		if len(havingOnly) == 0 && h.Type.Kind != types.Boolean && h.Type.Kind != 0 {
			return nil, fmt.Errorf("Type error in HAVING expression: Should evaluate to boolean but is %s (%s) instead.", ast.Format(q.Having), h.Type)
		}
		having = h.Eval
	}
	switch {
	case len(ap.calls) == 0:
		return nil, fmt.Errorf("GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")
	case len(nonAgg) > 0:
		return nil, fmt.Errorf("Non-aggregate SELECT expression(s) not part of GROUP BY: %s\nEither add the column to the GROUP BY or remove it from the SELECT.", strings.Join(nonAgg, ", "))
	case len(aggCols) > 0:
		return nil, fmt.Errorf("Column used in aggregate SELECT expression(s) outside of aggregate functions not part of GROUP BY: %s\nEither add the column to the GROUP BY or remove it from the SELECT.", strings.Join(aggCols, ", "))
	case len(havingOnly) > 0:
		return nil, fmt.Errorf("Non-aggregate HAVING expression not part of GROUP BY: %s\nConsider switching the HAVING clause to a WHERE clause before the GROUP BY.", strings.Join(havingOnly, ", "))
	}
	g.Calls = ap.bound
	g.Init()
	if in.Kind == ast.Table {
		for _, call := range g.Calls {
			if err := call.Agg.CheckTableSource(); err != nil {
				return nil, err
			}
		}
	}

	// Key columns: each GROUP BY expression must be selected exactly once
	// (persistent queries); the result lists keys first, in GROUP BY order.
	keyOf := make([]int, len(q.GroupBy))
	isKey := map[int]bool{}
	var missing []string
	for i, ge := range q.GroupBy {
		keyOf[i] = -1
		var matches []int
		for j, it := range items {
			if ast.Equal(it.expr, ge) {
				matches = append(matches, j)
			}
		}
		switch {
		case len(matches) == 0:
			missing = append(missing, ast.Format(ge))
		case len(matches) > 1:
			names := make([]string, len(matches))
			for k, m := range matches {
				names[k] = "`" + items[m].name + "`"
			}
			return nil, fmt.Errorf("The projection contains a key column more than once: %s.", joinAnd(names))
		default:
			keyOf[i] = matches[0]
			isKey[matches[0]] = true
		}
	}
	if len(missing) > 0 && kind != pushKind {
		what := "expression " + missing[0]
		if len(missing) > 1 {
			what = "expressions " + joinAnd(missing)
		}
		return nil, fmt.Errorf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the grouping %s in its projection (eg, SELECT %s...).",
			sinkName, what, strings.Join(missing, ", "))
	}
	var order []int
	if kind != pushKind {
		order = append(order, keyOf...)
	}
	for j := range items {
		if kind == pushKind || !isKey[j] {
			order = append(order, j)
		}
	}
	seen := map[string]bool{}
	project := &exec.Project{}
	for pos, j := range order {
		it := items[j]
		if seen[it.name] {
			return nil, fmt.Errorf("Duplicate column names in the projection: `%s`. Use AS to give each column its own name.", it.name)
		}
		seen[it.name] = true
		if kind != pushKind && reservedColumns[it.name] {
			return nil, fmt.Errorf("Reserved column name in select: `%s`. Please remove or alias the column.", it.name)
		}
		key := kind != pushKind && isKey[j]
		p.columns = append(p.columns, types.Column{Name: it.name, Type: it.c.Type, Key: key})
		p.exprs = append(p.exprs, it.expr)
		project.Exprs = append(project.Exprs, it.c.Eval)
		project.Names = append(project.Names, it.name)
		if key {
			project.Keys = append(project.Keys, pos)
		}
	}

	// The aggregate operator.
	var head exec.Operator = project
	final := q.Emit == ast.EmitFinal
	if having != nil {
		head = &exec.Filter{Pred: having, Next: head, Deletes: !final}
	}
	agg, window, err := ap.aggregateOp(q, g, final, head)
	if err != nil {
		return nil, err
	}
	p.window = window
	if in.Split != nil {
		agg = in.Split(p, kind, g, agg)
	}
	for i := len(pre) - 1; i >= 0; i-- {
		agg = pre[i](agg)
	}
	inputs, err := in.Connect(agg)
	if err != nil {
		return nil, err
	}
	p.inputs = inputs
	p.setNext = func(o exec.Operator) { project.Next = o }
	p.project = project
	return p, nil
}

// aggregateOp builds the aggregation operator for the source and window.
func (ap *aggPlanner) aggregateOp(q *ast.Query, g *exec.Grouping, final bool, next exec.Operator) (exec.Operator, *Window, error) {
	if q.Window == nil {
		if ap.in.Kind == ast.Table {
			return &exec.TableAggregate{G: g, Rows: tableRows(ap.in.Columns), Store: exec.AggregateStoreName, Next: next}, nil, nil
		}
		return &exec.StreamAggregate{G: g, Store: exec.AggregateStoreName, Next: next}, nil, nil
	}
	w := q.Window
	grace := exec.DefaultGrace.Milliseconds()
	if w.Grace != nil {
		grace = w.Grace.Millis()
	}
	size := w.Size.Millis()
	if size <= 0 {
		return nil, nil, fmt.Errorf("window size must be greater than zero")
	}
	retention := size + grace
	if w.Retention != nil {
		retention = w.Retention.Millis()
		if retention < size+grace {
			return nil, nil, fmt.Errorf("The retention period of the window store %s must be no smaller than its window size plus the grace period. Got size=[%d], grace=[%d], retention=[%d]",
				exec.AggregateStoreName, size, grace, retention)
		}
	}
	var sup *exec.Suppress
	if final {
		sup = &exec.Suppress{Store: exec.SuppressStoreName, Grace: grace, Session: w.Kind == ast.Session}
		if w.Kind == ast.Session {
			// Kafka Streams closes a session for final results only when
			// no record can extend it any more: end + gap + grace.
			sup.Grace = grace + size
		}
	}
	switch w.Kind {
	case ast.Session:
		return &exec.SessionAggregate{G: g, Gap: size, Grace: grace, Retention: retention, Store: exec.AggregateStoreName,
			Final: sup, Next: next}, &Window{Type: "SESSION"}, nil
	case ast.Hopping:
		adv := w.Advance.Millis()
		if adv <= 0 || adv > size {
			return nil, nil, fmt.Errorf("Window advancement interval should be more than zero and less than window duration")
		}
		return &exec.WindowAggregate{G: g, Size: size, Advance: adv, Grace: grace, Retention: retention,
			Store: exec.AggregateStoreName, Final: sup, Next: next}, &Window{Type: "HOPPING", Size: size}, nil
	}
	return &exec.WindowAggregate{G: g, Size: size, Advance: size, Grace: grace, Retention: retention,
		Store: exec.AggregateStoreName, Final: sup, Next: next}, &Window{Type: "TUMBLING", Size: size}, nil
}

// rewrite is the aggregated-row compiler's hook (see the file comment).
func (ap *aggPlanner) rewrite(e ast.Expr) (exec.Compiled, bool, error) {
	for i, ge := range ap.groupBy {
		if ast.Equal(e, ge) {
			return exec.ColumnEval(exec.ScopeColumn{Name: ast.Format(ge), Type: ap.keyTypes[i], Index: i}), true, nil
		}
	}
	switch x := e.(type) {
	case *ast.FuncCall:
		if !exec.IsAggregate(ap.cat.funcs, x.Name) {
			return exec.Compiled{}, false, nil
		}
		ap.sawAgg = true
		idx, err := ap.call(x)
		if err != nil {
			return exec.Compiled{}, true, err
		}
		return exec.ColumnEval(exec.ScopeColumn{Name: x.Name, Type: ap.bound[idx].Agg.Result, Index: len(ap.groupBy) + idx}), true, nil
	case *ast.ColumnRef:
		if col, ok, _ := ap.in.Scope.Lookup(x.Source, x.Name); ok {
			// An input column read outside an aggregate: not grouped.
			ap.ungrouped = append(ap.ungrouped, x)
			return exec.Compiled{Type: col.Type, Eval: func(*exec.Row) (types.Value, error) { return nil, nil }}, true, nil
		}
	}
	return exec.Compiled{}, false, nil
}

// starColumns expands * (or src.*) to references to the input's columns,
// key columns first.
func (in *AggInput) starColumns(s *ast.SelectAll) ([]ast.Expr, error) {
	var out []ast.Expr
	for _, key := range []bool{true, false} {
		for _, sc := range in.Scope.Columns {
			if sc.Index < 0 || (in.Columns[sc.Index].Kind == KeyColumn) != key {
				continue
			}
			if s.Source != "" && !strings.EqualFold(s.Source, sc.Source) {
				continue
			}
			src := sc.Source
			if in.Qualifier != "" {
				src = ""
			}
			out = append(out, &ast.ColumnRef{Pos: s.Pos, Source: src, Name: sc.Name})
		}
	}
	if s.Source != "" && len(out) == 0 {
		return nil, fmt.Errorf("'%s' is not a valid source in the FROM clause", s.Source)
	}
	return out, nil
}

// call binds an aggregate call (once per distinct call) and returns its
// index.
func (ap *aggPlanner) call(x *ast.FuncCall) (int, error) {
	for i, prev := range ap.calls {
		if ast.Equal(prev, x) {
			return i, nil
		}
	}
	args := make([]exec.Compiled, len(x.Args))
	argTypes := make([]types.Type, len(x.Args))
	literals := make([]types.Value, len(x.Args))
	for i, a := range x.Args {
		v, err := ap.srcComp.Compile(a)
		if err != nil {
			var mis *exec.ErrMisplacedAggregate
			if errors.As(err, &mis) {
				return 0, fmt.Errorf("Aggregate functions can not be nested: %s(%s())", strings.ToUpper(x.Name), mis.Name)
			}
			var u *exec.ErrUnknownColumn
			if errors.As(err, &u) && (u.Name == "WINDOWSTART" || u.Name == "WINDOWEND") {
				return 0, fmt.Errorf("Window bounds column %s can only be used in the SELECT clause of windowed aggregations and can not be passed to aggregate functions.", u.Name)
			}
			return 0, err
		}
		args[i], argTypes[i] = v, v.Type
		if v.Const {
			lit, err := v.Eval(nil)
			if err == nil {
				literals[i] = lit
			}
		}
	}
	agg, err := ap.cat.funcs.ResolveAggregate(x.Name, argTypes, literals)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", x.Pos, err)
	}
	call := exec.AggCall{Agg: agg}
	for _, i := range agg.Inputs {
		call.Args = append(call.Args, args[i].Eval)
		call.ArgTypes = append(call.ArgTypes, argTypes[i])
	}
	ap.calls = append(ap.calls, x)
	ap.bound = append(ap.bound, call)
	return len(ap.calls) - 1, nil
}

func (ap *aggPlanner) clauseError(name string, err error) error {
	return clause(name, err)
}

// whereError words an aggregate call in WHERE.
func whereError(err error) error {
	var mis *exec.ErrMisplacedAggregate
	if errors.As(err, &mis) {
		return fmt.Errorf("Aggregate functions can not be used in the WHERE clause: %s. Use HAVING to filter aggregated results.", ast.Format(mis.Call))
	}
	return clause("WHERE", err)
}

// unqualify drops the source qualifier from column references so that
// T.A and A compare equal when matching GROUP BY expressions (a single
// source: the qualifier adds nothing).
func unqualify(q *ast.Query, qual string) {
	fix := func(n ast.Node) bool {
		if ref, ok := n.(*ast.ColumnRef); ok && strings.EqualFold(ref.Source, qual) {
			ref.Source = ""
		}
		return true
	}
	for _, s := range q.Select {
		ast.Inspect(s, fix)
	}
	for _, e := range q.GroupBy {
		ast.Inspect(e, fix)
	}
	if q.Where != nil {
		ast.Inspect(q.Where, fix)
	}
	if q.Having != nil {
		ast.Inspect(q.Having, fix)
	}
}

// joinAnd lists names as ksqlDB does: "A, B and C".
func joinAnd(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// aggregateWithoutGroupBy words an aggregate call in a query without GROUP
// BY as ksqlDB does.
func aggregateWithoutGroupBy(kind queryKind, err error) error {
	var mis *exec.ErrMisplacedAggregate
	if !errors.As(err, &mis) {
		return err
	}
	stmt := "CREATE STREAM AS SELECT"
	switch kind {
	case tableKind:
		stmt = "CREATE TABLE AS SELECT"
	case pushKind:
		stmt = "SELECT"
	}
	return fmt.Errorf("%s statement does not support aggregate function [%s] without a GROUP BY clause.", stmt, ast.Format(mis.Call))
}

// hasAggregate reports whether the query's SELECT calls an aggregate
// function.
func (c *Catalog) hasAggregate(q *ast.Query) bool {
	found := false
	for _, si := range q.Select {
		ast.Inspect(si, func(n ast.Node) bool {
			if f, ok := n.(*ast.FuncCall); ok && exec.IsAggregate(c.funcs, f.Name) {
				found = true
			}
			return !found
		})
	}
	return found
}

// useFunctionConfig applies the session's ksql.functions.* properties
// (COLLECT_LIST and COLLECT_SET limits) to the aggregates planned next.
func (c *Catalog) useFunctionConfig(props map[string]string) error {
	cfg, err := funcs.ParseAggregateConfig(props)
	if err != nil {
		return err
	}
	c.funcs.SetAggregateConfig(cfg)
	return nil
}

// windowBoundIn returns the first WINDOWSTART or WINDOWEND that e reads.
func windowBoundIn(e ast.Expr) string {
	found := ""
	ast.Inspect(e, func(n ast.Node) bool {
		if ref, ok := n.(*ast.ColumnRef); ok && found == "" && (ref.Name == "WINDOWSTART" || ref.Name == "WINDOWEND") {
			found = ref.Name
		}
		return found == ""
	})
	return found
}

// tableRows is the materialized rows of a table input (store
// KsqlTopic-Reduce), for operators that need a table's previous or current
// rows: table aggregations here, joins and pull queries.
func tableRows(cols []Column) *exec.TableRows {
	t := &exec.TableRows{Store: exec.SourceTableStore}
	for i, col := range cols {
		t.Columns = append(t.Columns, types.Column{Name: col.Name, Type: col.Type, Key: col.Kind == KeyColumn})
		if col.Kind == KeyColumn {
			t.Keys = append(t.Keys, i)
		}
	}
	return t
}

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

// decoder builds the record decoder of src, reserving extra row slots.
func (c *Catalog) decoder(src *Source, extra int) (*exec.Decoder, error) {
	kf, err := c.serde(src.KeyFormat)
	if err != nil {
		return nil, fmt.Errorf("key format: %w", err)
	}
	vf, err := c.serde(src.ValueFormat)
	if err != nil {
		return nil, fmt.Errorf("value format: %w", err)
	}
	spec := exec.SourceSpec{Name: src.Name, Topic: src.Topic, KeyFormat: kf, ValueFormat: vf,
		Extra: extra, Headers: map[int]exec.HeaderColumn{}, SkipNullKeys: src.Kind == ast.Table}
	if src.Window != nil {
		spec.Windowed, spec.SessionWindow, spec.WindowSize = true, src.Window.Type == "SESSION", src.Window.Size
	}
	for i, col := range src.Columns {
		spec.Columns = append(spec.Columns, types.Column{Name: col.Name, Type: col.Type, Key: col.Kind == KeyColumn})
		switch col.Kind {
		case HeadersColumn:
			spec.Headers[i] = exec.HeaderColumn{All: true}
		case HeaderColumn:
			spec.Headers[i] = exec.HeaderColumn{Key: col.HeaderKey}
		}
	}
	if src.Timestamp != "" {
		col, idx := src.Column(src.Timestamp)
		parse, err := c.timestampParser(src.TimestampFormat)
		if err != nil {
			return nil, err
		}
		ts, err := exec.TimestampColumn(col.Name, idx, col.Type, parse)
		if err != nil {
			return nil, err
		}
		spec.Timestamp = ts
	}
	return exec.NewDecoder(spec)
}

// timestampParser parses TIMESTAMP_FORMAT strings with PARSE_TIMESTAMP's
// Java-style patterns.
func (c *Catalog) timestampParser(format string) (func(string) (int64, error), error) {
	if format == "" {
		return nil, nil
	}
	b, err := c.funcs.Resolve("PARSE_TIMESTAMP", []types.Type{types.StringType, types.StringType})
	if err != nil {
		return nil, fmt.Errorf("TIMESTAMP_FORMAT: %w", err)
	}
	return func(s string) (int64, error) {
		v, err := b.Eval([]types.Value{s, format})
		if err != nil {
			return 0, err
		}
		switch t := v.(type) {
		case types.TimestampVal:
			return int64(t), nil
		case int64:
			return t, nil
		}
		return 0, fmt.Errorf("cannot parse %q with format %q", s, format)
	}, nil
}

// planned is a planned SELECT: its operator graph and output schema.
type planned struct {
	source  *Source
	columns []types.Column // output columns in select order, Key marks key columns
	exprs   []ast.Expr     // the select expression of each output column (nil for expanded ones)
	inputs  []exec.Input
	// last is the operator the caller plugs the sink or collector into.
	setNext func(exec.Operator)
	project *exec.Project
	// window is the result's window (windowed aggregations, and queries
	// over windowed sources keep theirs).
	window *Window
	// sources are all the streams and tables read when there are several
	// (joins); stateful marks a plan with stateful operators.
	sources  []*Source
	stateful bool
	// repartitions are the query's repartition splits (repartition.go),
	// bound to topics once the query has an id.
	repartitions []*repartition
}

// sourceNames and sourceTopics are what the query reads.
func (p *planned) sourceNames() []string {
	if len(p.sources) == 0 {
		return []string{p.source.Name}
	}
	var out []string
	for _, s := range p.sources {
		out = append(out, s.Name)
	}
	return out
}

func (p *planned) sourceTopics() []string {
	if len(p.sources) == 0 {
		return []string{p.source.Topic}
	}
	var out []string
	for _, s := range p.sources {
		out = append(out, s.Topic)
	}
	return out
}

// reorder permutes the output columns: column i of the result becomes the
// planned column order[i].
func (p *planned) reorder(order []int) {
	cols := make([]types.Column, len(order))
	exprs := make([]ast.Expr, len(order))
	evals := make([]exec.Eval, len(order))
	names := make([]string, len(order))
	var keys []int
	for i, j := range order {
		cols[i], exprs[i] = p.columns[j], p.exprs[j]
		evals[i], names[i] = p.project.Exprs[j], p.project.Names[j]
		if cols[i].Key {
			keys = append(keys, i)
		}
	}
	p.columns, p.exprs = cols, exprs
	p.project.Exprs, p.project.Names, p.project.Keys = evals, names, keys
}

// queryKind distinguishes how keys are handled.
type queryKind int

const (
	persistentKind queryKind = iota // CSAS, INSERT INTO: a stream result
	pushKind
	tableKind // CTAS over a table: a table result, filtered rows become deletes
)

func (c *Catalog) planSelect(q *ast.Query, kind queryKind, sinkName string) (*planned, error) {
	if j, ok := q.From.(*ast.Join); ok {
		return c.planJoinSelect(q, kind, sinkName, j)
	}
	from, ok := q.From.(*ast.Source)
	if !ok {
		return nil, fmt.Errorf("unsupported FROM clause")
	}
	if q.Having != nil && len(q.GroupBy) == 0 {
		return nil, fmt.Errorf("HAVING requires GROUP BY")
	}
	src, ok := c.sources[from.Name]
	if !ok {
		return nil, fmt.Errorf("%s does not exist.", from.Name)
	}
	if len(q.GroupBy) > 0 || q.Window != nil {
		qual := from.Name
		if from.Alias != "" {
			qual = from.Alias
		}
		return c.planAggregate(q, kind, sinkName, src, qual)
	}
	if q.Emit == ast.EmitFinal {
		return nil, fmt.Errorf("EMIT FINAL is only supported for windowed aggregations.")
	}
	if src.Kind == ast.Table && kind == persistentKind {
		return nil, fmt.Errorf("Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.")
	}
	if kind == tableKind && len(q.PartitionBy) > 0 {
		return nil, fmt.Errorf("PARTITION BY is not supported on tables: the key of a table cannot change without state (use GROUP BY)")
	}
	qual := from.Name
	if from.Alias != "" {
		qual = from.Alias
	}
	scope := &exec.Scope{}
	for i, col := range src.Columns {
		scope.Columns = append(scope.Columns, exec.ScopeColumn{Source: qual, Name: col.Name, Type: col.Type, Index: i})
	}
	scope.Columns = append(scope.Columns, exec.PseudoColumns(qual)...)
	if src.Window != nil {
		scope.Columns = append(scope.Columns, exec.WindowColumns(qual)...)
	}
	comp := &exec.Compiler{Funcs: c.funcs, Scope: scope, Types: c.lookupType}

	p := &planned{source: src, window: src.Window}
	var ops []func(next exec.Operator) exec.Operator

	if q.Where != nil {
		w, err := comp.Compile(q.Where)
		if err != nil {
			return nil, whereError(err)
		}
		if w.Type.Kind != types.Boolean && w.Type.Kind != 0 {
			return nil, fmt.Errorf("Type error in WHERE expression: Should evaluate to boolean but is %s (%s) instead.", ast.Format(q.Where), w.Type)
		}
		pred := w.Eval
		asDeletes := kind == tableKind
		ops = append(ops, func(next exec.Operator) exec.Operator {
			return &exec.Filter{Pred: pred, Next: next, Deletes: asDeletes}
		})
	}

	// Table functions become extra row columns filled by a FlatMap.
	var tfuncs []exec.TableFunc
	base := len(src.Columns)
	comp.TableFunction = func(call *ast.FuncCall, b *funcs.Bound, args []exec.Compiled) (exec.Compiled, error) {
		evals := make([]exec.Eval, len(args))
		for i := range args {
			evals[i] = args[i].Eval
		}
		tfuncs = append(tfuncs, func(r *exec.Row) ([]types.Value, error) {
			vals := make([]types.Value, len(evals))
			for i, e := range evals {
				v, err := e(r)
				if err != nil {
					return nil, err
				}
				vals[i] = v
			}
			return b.Rows(vals)
		})
		idx := base + len(tfuncs) - 1
		return exec.ColumnEval(exec.ScopeColumn{Name: call.Name, Type: b.Result, Index: idx}), nil
	}

	type item struct {
		name string
		c    exec.Compiled
		expr ast.Expr
		// keyOf is the source key column a bare reference selects.
		keyOf string
	}
	var items []item
	used := map[string]bool{}
	for _, col := range src.Columns {
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
	for _, si := range q.Select {
		switch s := si.(type) {
		case *ast.SelectAll:
			if s.Source != "" && !strings.EqualFold(s.Source, qual) {
				return nil, fmt.Errorf("'%s' is not a valid source in the FROM clause", s.Source)
			}
			add := func(key bool) {
				for i, col := range src.Columns {
					if (col.Kind == KeyColumn) != key {
						continue
					}
					it := item{name: col.Name, c: exec.ColumnEval(scope.Columns[i])}
					if key {
						it.keyOf = col.Name
					}
					items = append(items, it)
				}
			}
			if len(q.PartitionBy) > 0 {
				// Re-keyed: the old key columns become the last value
				// columns, as in ksqlDB.
				add(false)
				add(true)
			} else {
				add(true)
				add(false)
			}
		case *ast.SelectStructAll:
			b, err := comp.Compile(s.Base)
			if err != nil {
				return nil, clause("SELECT", err)
			}
			if b.Type.Kind != types.Struct {
				return nil, fmt.Errorf("%s: ->* needs a STRUCT, not %s", s.Pos, b.Type)
			}
			for i, f := range b.Type.Fields {
				i, be := i, b.Eval
				items = append(items, item{name: f.Name, c: exec.Compiled{Type: f.Type, Eval: func(r *exec.Row) (types.Value, error) {
					v, err := be(r)
					if err != nil || v == nil {
						return nil, err
					}
					return v.(types.StructVal)[i].Value, nil
				}}})
			}
		case *ast.SelectExpr:
			cv, err := comp.Compile(s.Expr)
			if err != nil {
				return nil, aggregateWithoutGroupBy(kind, clause("SELECT", err))
			}
			if cv.Type.Kind == 0 {
				return nil, fmt.Errorf("Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).")
			}
			it := item{c: cv, expr: s.Expr, name: s.Alias}
			if ref, ok := s.Expr.(*ast.ColumnRef); ok {
				if col, i := src.Column(ref.Name); i >= 0 && col.Kind == KeyColumn {
					it.keyOf = col.Name
				}
			}
			if it.name == "" {
				switch e := s.Expr.(type) {
				case *ast.ColumnRef:
					it.name = e.Name
				case *ast.Dereference:
					it.name = e.Field
				default:
					it.name = nextSynth()
				}
			}
			items = append(items, it)
		}
	}
	// Keys of the result.
	keyItem := map[int]bool{}
	hasStar := false
	for _, si := range q.Select {
		if _, ok := si.(*ast.SelectAll); ok {
			hasStar = true
		}
	}
	// markKey makes the matching items key columns; more than one match is
	// ksqlDB's "key column more than once" error.
	markKey := func(name string, matches []int) error {
		if len(matches) > 1 {
			aliases := make([]string, len(matches))
			for i, m := range matches {
				aliases[i] = items[m].name
			}
			return fmt.Errorf("The projection contains a key column (`%s`) more than once, aliased as: %s.", name, strings.Join(aliases, " and "))
		}
		keyItem[matches[0]] = true
		return nil
	}
	partitionNull := len(q.PartitionBy) == 1 && isNullLit(q.PartitionBy[0])
	switch {
	case kind == pushKind:
		if len(q.PartitionBy) > 0 {
			return nil, fmt.Errorf("PARTITION BY is not supported in push queries: use CREATE STREAM AS SELECT")
		}
	case partitionNull:
	case len(q.PartitionBy) > 0:
		for _, pe := range q.PartitionBy {
			pc, err := (&exec.Compiler{Funcs: c.funcs, Scope: scope, Types: c.lookupType}).Compile(pe)
			if err != nil {
				return nil, clause("PARTITION BY", err)
			}
			var matches []int
			for i, it := range items {
				if it.expr != nil && ast.Equal(it.expr, pe) || it.expr == nil && isColumn(pe, it.name) {
					matches = append(matches, i)
				}
			}
			if len(matches) == 0 {
				if !hasStar {
					return nil, fmt.Errorf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the partitioning expression %s in its projection (eg, SELECT %s...).",
						sinkName, ast.Format(pe), ast.Format(pe))
				}
				// SELECT * takes the partitioning expression as its key.
				name := ""
				switch e := pe.(type) {
				case *ast.ColumnRef:
					name = e.Name
				case *ast.Dereference:
					name = e.Field
				default:
					name = nextSynth()
				}
				items = append(items, item{name: name, c: pc, expr: pe})
				matches = []int{len(items) - 1}
			}
			if err := markKey(ast.Format(pe), matches); err != nil {
				return nil, err
			}
		}
	default:
		var missing []string
		for _, col := range src.Columns {
			if col.Kind != KeyColumn {
				continue
			}
			var matches []int
			for i, it := range items {
				if it.keyOf == col.Name {
					matches = append(matches, i)
				}
			}
			if len(matches) == 0 {
				missing = append(missing, col.Name)
				continue
			}
			if err := markKey(col.Name, matches); err != nil {
				return nil, err
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the key columns %s in its projection (eg, SELECT %s...).",
				sinkName, strings.Join(missing, " and "), strings.Join(missing, ", "))
		}
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.name] {
			return nil, fmt.Errorf("Duplicate column names in the projection: `%s`. Use AS to give each column its own name.", it.name)
		}
		seen[it.name] = true
		if kind != pushKind && reservedColumns[it.name] {
			return nil, fmt.Errorf("Reserved column name in select: `%s`. Please remove or alias the column.", it.name)
		}
	}

	evals := make([]exec.Eval, len(items))
	names := make([]string, len(items))
	for i, it := range items {
		evals[i], names[i] = it.c.Eval, it.name
		p.columns = append(p.columns, types.Column{Name: it.name, Type: it.c.Type, Key: keyItem[i]})
		p.exprs = append(p.exprs, it.expr)
	}
	if len(tfuncs) > 0 {
		if src.Kind == ast.Table {
			return nil, fmt.Errorf("Table source is not supported with table functions")
		}
		fns := tfuncs
		ops = append(ops, func(next exec.Operator) exec.Operator { return &exec.FlatMap{Funcs: fns, Next: next} })
	}
	project := &exec.Project{Exprs: evals, Names: names}
	for i := range items {
		if keyItem[i] {
			project.Keys = append(project.Keys, i)
		}
	}
	dec, err := c.decoder(src, len(tfuncs))
	if err != nil {
		return nil, err
	}
	var head exec.Operator = project
	for i := len(ops) - 1; i >= 0; i-- {
		head = ops[i](head)
	}
	p.inputs = []exec.Input{{Decoder: dec, Next: head}}
	p.setNext = func(o exec.Operator) { project.Next = o }
	p.project = project
	return p, nil
}

func isColumn(e ast.Expr, name string) bool {
	ref, ok := e.(*ast.ColumnRef)
	return ok && ref.Name == name
}

// clause prefixes compile errors with the clause, as ksqlDB does for
// unknown columns ("WHERE column 'X' cannot be resolved.").
func clause(name string, err error) error {
	var u *exec.ErrUnknownColumn
	if errors.As(err, &u) {
		return fmt.Errorf("%s column '%s' cannot be resolved.", name, u.Name)
	}
	return err
}

func isNullLit(e ast.Expr) bool {
	_, ok := e.(*ast.NullLit)
	return ok
}

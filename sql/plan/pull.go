package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/types"
)

// Pull queries on tables are answered from the state of the persistent
// query that materializes the table (exec.Materialization): the planner
// builds a push-style pipeline over the table's records (decode, WHERE,
// projection) and says which keys to look up; the caller reads those keys
// (or the whole table) from the state and feeds the records through it.

// PropPullTableScan is ksql.query.pull.table.scan.enabled: whether a pull
// query whose WHERE does not pin the key may scan the table (default true).
const PropPullTableScan = "ksql.query.pull.table.scan.enabled"

// PullTable is the table part of a pull query (Query.Pull with Table set).
type PullTable struct {
	// Table is the queried table; QueryID the persistent query whose
	// state holds it.
	Table   *Source
	QueryID string
	// Keys are the serialized keys to look up (the table's key format);
	// nil means a table scan. The query's WHERE still filters every row
	// read, so Keys may over-select but never under-select.
	Keys [][]byte
}

// pullHelp ends ksqlDB's pull-query errors.
const pullHelp = " See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query."

// validatePull refuses what pull queries do not support, in ksqlDB's words.
func validatePull(q *ast.Query) error {
	var msg string
	_, single := q.From.(*ast.Source)
	switch {
	case !single:
		msg = "Pull queries don't support JOIN clauses."
	case q.Window != nil:
		msg = "Pull queries don't support WINDOW clauses."
	case len(q.GroupBy) > 0:
		msg = "Pull queries don't support GROUP BY clauses."
	case len(q.PartitionBy) > 0:
		msg = "Pull queries don't support PARTITION BY clauses."
	case q.Having != nil:
		msg = "Pull queries don't support HAVING clauses."
	case q.Limit != nil && *q.Limit < 0:
		msg = "Pull queries don't support negative integers in the LIMIT clause."
	}
	if msg == "" {
		for _, item := range q.Select {
			if cols := disallowedInPull(item); cols != "" {
				msg = "Pull queries don't support the following columns in SELECT clauses: " + cols + "\n"
				break
			}
		}
	}
	if msg == "" && q.Where != nil {
		if cols := disallowedInPull(q.Where); cols != "" {
			msg = "Pull queries don't support the following columns in WHERE clauses: " + cols + "\n"
		}
	}
	if msg != "" {
		return errors.New(msg + pullHelp)
	}
	return nil
}

// disallowedInPull lists the pseudo columns pull queries cannot read
// (ROWPARTITION, ROWOFFSET: a table's state does not keep them).
func disallowedInPull(n ast.Node) string {
	var out []string
	ast.Inspect(n, func(n ast.Node) bool {
		if c, ok := n.(*ast.ColumnRef); ok && (c.Name == "ROWPARTITION" || c.Name == "ROWOFFSET") {
			out = append(out, c.Name)
		}
		return true
	})
	return strings.Join(out, ", ")
}

// notQueryable is ksqlDB's error for a pull query on a table no query
// materializes.
func notQueryable(name string) error {
	return fmt.Errorf("The `%s` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_%s AS SELECT * FROM %s'."+pullHelp,
		name, name, name)
}

// pullTable plans a pull query on a table. Caller holds c.mu.
func (c *Catalog) pullTable(ctx context.Context, q *ast.Query, src *Source, props map[string]string, text string) (*Result, error) {
	if src.Query == "" {
		return nil, notQueryable(src.Name)
	}
	p, err := c.planSelect(q, pushKind, "")
	if err != nil {
		return nil, err
	}
	p.setNext(exec.Collect{})
	keys, err := c.lookupKeys(ctx, q.Where, src)
	if err != nil {
		return nil, err
	}
	if keys == nil && strings.EqualFold(props[PropPullTableScan], "false") {
		return nil, errors.New("Query requires table scan to be enabled. Table scans can be enabled by setting ksql.query.pull.table.scan.enabled=true")
	}
	id := c.nextQueryID("transient_" + src.Name)
	pipe, err := exec.NewPushPipeline(id, p.inputs, p.columns, c.plog)
	if err != nil {
		return nil, err
	}
	return &Result{Kind: PushQuery, Query: &Query{ID: id, Exec: pipe, Sources: []string{src.Name},
		SourceTopics: []string{src.Topic}, Columns: p.columns, Limit: q.Limit, SQL: text, Pull: true,
		Table: &PullTable{Table: src, QueryID: src.Query, Keys: keys}}}, nil
}

// lookupKeys finds the keys a WHERE pins: every key column compared with
// = or IN to constants in the top-level AND. It returns them serialized in
// the table's key format (all combinations for several key columns), or
// nil when the WHERE does not pin the key (a table scan).
func (c *Catalog) lookupKeys(ctx context.Context, where ast.Expr, src *Source) ([][]byte, error) {
	var keyCols []types.Column
	values := map[string][]types.Value{}
	for _, col := range src.Columns {
		if col.Kind == KeyColumn {
			keyCols = append(keyCols, types.Column{Name: col.Name, Type: col.Type, Key: true})
		}
	}
	if where == nil || len(keyCols) == 0 {
		return nil, nil
	}
	comp := &exec.Compiler{Funcs: c.funcs, Scope: &exec.Scope{}, Types: c.lookupType}
	constant := func(e ast.Expr, to types.Type, name string) (types.Value, bool) {
		compiled, err := comp.Compile(e)
		if err != nil {
			return nil, false // not a constant: it reads columns
		}
		v, err := compiled.Eval(&exec.Row{})
		if err != nil || v == nil {
			return nil, false
		}
		v, err = convertValue(v, compiled.Type, to, name)
		return v, err == nil
	}
	keyCol := func(e ast.Expr) (types.Column, bool) {
		ref, ok := e.(*ast.ColumnRef)
		if !ok {
			return types.Column{}, false
		}
		for _, kc := range keyCols {
			if kc.Name == ref.Name {
				return kc, true
			}
		}
		return types.Column{}, false
	}
	for _, conj := range conjuncts(where) {
		switch x := conj.(type) {
		case *ast.Binary:
			if x.Op != ast.Eq {
				continue
			}
			col, ok := keyCol(x.Left)
			other := x.Right
			if !ok {
				col, ok = keyCol(x.Right)
				other = x.Left
			}
			if !ok || values[col.Name] != nil {
				continue
			}
			if v, ok := constant(other, col.Type, col.Name); ok {
				values[col.Name] = []types.Value{v}
			}
		case *ast.InList:
			col, ok := keyCol(x.Expr)
			if !ok || x.Not || values[col.Name] != nil {
				continue
			}
			var vs []types.Value
			for _, e := range x.List {
				v, ok := constant(e, col.Type, col.Name)
				if !ok {
					vs = nil
					break
				}
				vs = append(vs, v)
			}
			if vs != nil {
				values[col.Name] = vs
			}
		}
	}
	for _, kc := range keyCols {
		if values[kc.Name] == nil {
			return nil, nil
		}
	}
	kf, err := c.serde(src.KeyFormat)
	if err != nil {
		return nil, err
	}
	ser, err := kf.Serializer(types.Schema{Columns: keyCols}.KeyType(), true)
	if err != nil {
		return nil, fmt.Errorf("key format %s: %w", src.KeyFormat.Name, err)
	}
	// Every combination of the candidate values, in WHERE order.
	combos := [][]types.Value{nil}
	for _, kc := range keyCols {
		var next [][]types.Value
		for _, prefix := range combos {
			for _, v := range values[kc.Name] {
				next = append(next, append(append([]types.Value(nil), prefix...), v))
			}
		}
		combos = next
	}
	keys := make([][]byte, 0, len(combos))
	seen := map[string]bool{}
	for _, combo := range combos {
		sv := make(types.StructVal, len(keyCols))
		for i, kc := range keyCols {
			sv[i] = types.FieldValue{Name: kc.Name, Value: combo[i]}
		}
		b, err := ser.Serialize(ctx, src.Topic, sv)
		if err != nil {
			return nil, nil // not representable in the key format: scan and let WHERE decide
		}
		if !seen[string(b)] {
			seen[string(b)] = true
			keys = append(keys, b)
		}
	}
	return keys, nil
}

// conjuncts splits a WHERE at its top-level ANDs.
func conjuncts(e ast.Expr) []ast.Expr {
	if b, ok := e.(*ast.Binary); ok && b.Op == ast.And {
		return append(conjuncts(b.Left), conjuncts(b.Right)...)
	}
	return []ast.Expr{e}
}

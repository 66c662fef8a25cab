package plan

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// Now is the clock INSERT VALUES uses for rows without ROWTIME; tests may
// replace it on a catalog.
func (c *Catalog) now() int64 {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now().UnixMilli()
}

// WithClock sets the clock INSERT VALUES stamps rows with when they give no
// ROWTIME.
func WithClock(f func() int64) Option { return func(c *Catalog) { c.clock = f } }

func (c *Catalog) insertValues(ctx context.Context, s *ast.InsertValues, props map[string]string) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	target, ok := c.sources[s.Target]
	if !ok {
		return nil, fmt.Errorf("%s does not exist.", s.Target)
	}
	if target.ReadOnly {
		return nil, fmt.Errorf("Cannot insert values into read-only %s: %s", strings.ToLower(kindTitle(target.Kind)), s.Target)
	}
	names := s.Columns
	if len(names) == 0 {
		for _, k := range []ColumnKind{KeyColumn, ValueColumn, HeadersColumn, HeaderColumn} {
			for _, col := range target.Columns {
				if col.Kind == k {
					names = append(names, col.Name)
				}
			}
		}
	}
	var hdr []string
	for _, n := range names {
		if col, i := target.Column(n); i >= 0 && (col.Kind == HeadersColumn || col.Kind == HeaderColumn) {
			hdr = append(hdr, n)
		}
	}
	if len(hdr) > 0 {
		return nil, fmt.Errorf("Cannot insert into HEADER columns: %s", strings.Join(hdr, ", "))
	}
	if len(names) != len(s.Values) {
		return nil, fmt.Errorf("Failed to prepare statement: Expected number columns and values to match: [%s], [%s]",
			strings.Join(names, ", "), formatExprs(s.Values))
	}
	row := &exec.Row{Cols: make([]types.Value, len(target.Columns)), Timestamp: -1}
	comp := &exec.Compiler{Funcs: c.funcs, Scope: &exec.Scope{}, Types: c.lookupType}
	seenCol := map[string]bool{}
	for i, n := range names {
		if seenCol[n] {
			return nil, fmt.Errorf("Duplicate column name: %s", n)
		}
		seenCol[n] = true
		e, err := comp.Compile(s.Values[i])
		if err != nil {
			return nil, err
		}
		v, err := e.Eval(&exec.Row{})
		if err != nil {
			return nil, fmt.Errorf("Failed to insert values into '%s'. Could not evaluate %s: %w", s.Target, ast.Format(s.Values[i]), err)
		}
		if n == "ROWTIME" {
			ts, err := convertValue(v, e.Type, types.BigintType, n)
			if err != nil {
				return nil, err
			}
			if ts != nil {
				row.Timestamp = ts.(int64)
			}
			continue
		}
		col, idx := target.Column(n)
		if idx < 0 {
			return nil, fmt.Errorf("Column name %s does not exist.", n)
		}
		cv, err := convertValue(v, e.Type, col.Type, n)
		if err != nil {
			return nil, err
		}
		row.Cols[idx] = cv
	}
	if target.Timestamp != "" && row.Timestamp < 0 {
		_, idx := target.Column(target.Timestamp)
		parse, err := c.timestampParser(target.TimestampFormat)
		if err != nil {
			return nil, err
		}
		col := target.Columns[idx]
		fn, err := exec.TimestampColumn(col.Name, idx, col.Type, parse)
		if err != nil {
			return nil, err
		}
		if ts, err := fn(row); err == nil {
			row.Timestamp = ts
		}
	}
	if row.Timestamp < 0 {
		row.Timestamp = c.now()
	}
	if target.Kind == ast.Table {
		for i, col := range target.Columns {
			if col.Kind == KeyColumn && row.Cols[i] == nil {
				return nil, fmt.Errorf("Failed to insert values into '%s'. Value for primary key column(s) %s is required for tables", s.Target, col.Name)
			}
		}
	}
	kf, err := c.serde(target.KeyFormat)
	if err != nil {
		return nil, err
	}
	vf, err := c.serde(target.ValueFormat)
	if err != nil {
		return nil, err
	}
	var cols []types.Column
	var vals []types.Value
	for i, col := range target.Columns {
		if col.Kind == HeadersColumn || col.Kind == HeaderColumn {
			continue
		}
		cols = append(cols, types.Column{Name: col.Name, Type: col.Type, Key: col.Kind == KeyColumn})
		vals = append(vals, row.Cols[i])
	}
	enc, err := exec.NewEncoder(exec.SinkSpec{Topic: target.Topic, Columns: cols, KeyFormat: kf, ValueFormat: vf})
	if err != nil {
		return nil, err
	}
	rec, err := enc.Encode(&exec.Context{Ctx: ctx}, &exec.Row{Cols: vals, Timestamp: row.Timestamp}, false)
	if err != nil {
		return nil, fmt.Errorf("Failed to insert values into '%s'. %w", s.Target, err)
	}
	return &Result{Kind: Insert, Records: []exec.Record{rec}, Topic: TopicSpec{Name: target.Topic}}, nil
}

func formatExprs(es []ast.Expr) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = ast.Format(e)
	}
	return strings.Join(s, ", ")
}

// convertValue converts a literal value to a column type the way INSERT
// VALUES allows: widening numbers, strings to temporal types, NULL anywhere.
func convertValue(v types.Value, from, to types.Type, col string) (types.Value, error) {
	if v == nil {
		return nil, nil
	}
	if from.Equal(to) {
		return v, nil
	}
	ok := false
	if ct, widen := funcs.CommonType(from, to); widen && ct.Equal(to) {
		ok = true
	}
	if from.Kind == types.String && (to.Kind == types.Date || to.Kind == types.Time || to.Kind == types.Timestamp) {
		ok = true
	}
	if from.Kind == types.Decimal && to.Kind == types.Decimal || from.Kind == to.Kind && !from.Kind.Primitive() {
		ok = true
	}
	if (from.Kind == types.Int || from.Kind == types.Bigint) && to.Kind == types.Decimal {
		ok = true
	}
	if !ok {
		return nil, fmt.Errorf("Expected type %s for field %s but got %s(%s)", to, col, from, describe(v))
	}
	out, err := funcs.Cast(v, from, to)
	if err != nil {
		return nil, fmt.Errorf("Failed to convert value for column %s: %w", col, err)
	}
	if err := types.Check(to, out); err != nil {
		return nil, fmt.Errorf("Failed to convert value for column %s: %w", col, err)
	}
	return out, nil
}

func describe(v types.Value) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

package exec

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/types"
)

// Eval is a compiled expression: it computes a value from a row. An error is
// a per-row evaluation error (the operator logs it and uses NULL).
type Eval func(*Row) (types.Value, error)

// Operator is one step of a query's topology: it takes a row and pushes what
// it produces to the next step. Operators run on one goroutine per query
// (Process is not called concurrently), so they may keep scratch state.
// Stateful operators (aggregations, joins, windows) implement the same
// interface over state stores.
type Operator interface {
	Push(c *Context, r *Row) error
}

// Filter passes rows whose predicate is TRUE (NULL and FALSE drop the row;
// an evaluation error is logged and drops it too).
//
// With Deletes (a table's filter), rows are changes to keys: a row that does
// not pass becomes a delete of its key (a tombstone), since the key may have
// passed before, and tombstones pass through; that is what Kafka Streams'
// KTable filter forwards when it keeps no state.
type Filter struct {
	Pred    Eval
	Next    Operator
	Deletes bool
}

// Push implements Operator.
func (f *Filter) Push(c *Context, r *Row) error {
	if r.Tombstone {
		if f.Deletes {
			return f.Next.Push(c, r)
		}
		return nil
	}
	v, err := f.Pred(r)
	if err != nil {
		c.logError(RecordProcessingError, fmt.Errorf("error computing expression in WHERE: %w", err))
		if f.Deletes {
			return f.Next.Push(c, tombstoneOf(r))
		}
		return nil
	}
	if b, ok := v.(bool); ok && b {
		return f.Next.Push(c, r)
	}
	if f.Deletes {
		return f.Next.Push(c, tombstoneOf(r))
	}
	return nil
}

// tombstoneOf is a delete of r's key: the same row marked Tombstone (only
// key columns are read from it downstream).
func tombstoneOf(r *Row) *Row {
	t := r.with(r.Cols)
	t.Tombstone = true
	return t
}

// Project computes a new row from expressions over the input row. An
// expression that fails yields NULL and a processing-log entry, as in
// ksqlDB.
type Project struct {
	Exprs []Eval
	// Names are the output column names, for error messages.
	Names []string
	// Extra reserves column slots in the output row for later operators.
	Extra int
	// Keys are the output positions of key columns: the only ones computed
	// for tombstones.
	Keys []int
	Next Operator
}

// Push implements Operator.
func (p *Project) Push(c *Context, r *Row) error {
	cols := make([]types.Value, len(p.Exprs), len(p.Exprs)+p.Extra)
	if r.Tombstone {
		for _, i := range p.Keys {
			v, err := p.Exprs[i](r)
			if err != nil {
				v = nil
			}
			cols[i] = v
		}
		return p.Next.Push(c, r.with(cols))
	}
	for i, e := range p.Exprs {
		v, err := e(r)
		if err != nil {
			name := ""
			if i < len(p.Names) {
				name = p.Names[i]
			}
			c.logError(RecordProcessingError, fmt.Errorf("error computing expression for column %s: %w", name, err))
			v = nil
		}
		cols[i] = v
	}
	return p.Next.Push(c, r.with(cols))
}

// TableFunc is a compiled table function call (EXPLODE, CUBE_EXPLODE): the
// rows it yields for one input row.
type TableFunc func(*Row) ([]types.Value, error)

// FlatMap runs table functions and pushes one row per result: the input
// columns followed by one column per function. Functions yielding fewer
// results than the longest are padded with NULL (ksqlDB zips them).
type FlatMap struct {
	Funcs []TableFunc
	Next  Operator
}

// Push implements Operator.
func (f *FlatMap) Push(c *Context, r *Row) error {
	if r.Tombstone {
		return nil
	}
	results := make([][]types.Value, len(f.Funcs))
	n := 0
	for i, fn := range f.Funcs {
		vs, err := fn(r)
		if err != nil {
			c.logError(RecordProcessingError, fmt.Errorf("error computing table function: %w", err))
			return nil
		}
		results[i] = vs
		n = max(n, len(vs))
	}
	for j := range n {
		cols := make([]types.Value, len(r.Cols), len(r.Cols)+len(f.Funcs))
		copy(cols, r.Cols)
		for i := range f.Funcs {
			var v types.Value
			if j < len(results[i]) {
				v = results[i][j]
			}
			cols = append(cols, v)
		}
		if err := f.Next.Push(c, r.with(cols)); err != nil {
			return err
		}
	}
	return nil
}

// Sink encodes rows into records of the sink topic.
type Sink struct {
	Enc *Encoder
}

// Push implements Operator.
func (s *Sink) Push(c *Context, r *Row) error {
	rec, err := s.Enc.Encode(c, r, r.Tombstone)
	if err != nil {
		c.logError(SerializationError, err)
		return nil
	}
	c.out = append(c.out, rec)
	return nil
}

// Collect keeps rows as they are (push query results).
type Collect struct{}

// Push implements Operator.
func (Collect) Push(c *Context, r *Row) error {
	if r.Tombstone {
		return nil // push queries do not show null values (as ksqlDB)
	}
	c.rows = append(c.rows, r)
	return nil
}

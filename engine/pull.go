package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/plan"
)

// pullTable answers a pull query on a materialized table from the state of
// the persistent query that keeps it: the keys the WHERE pins are looked
// up (or the table scanned) and each stored record goes through the pull
// query's pipeline (decode, WHERE, projection). The rows are all read
// before the stream is returned: a pull query is a point-in-time answer.
func (e *Engine) pullTable(ctx context.Context, q *plan.Query) (*rest.Stream, error) {
	rows, limited, err := e.PullRows(ctx, q)
	if err != nil {
		return nil, err
	}
	ch := make(chan json.RawMessage, len(rows))
	for _, r := range rows {
		ch <- r
	}
	close(ch)
	return &rest.Stream{QueryID: q.ID, ColumnNames: columnNames(q), ColumnTypes: columnTypes(q), Rows: ch,
		Err: func() error { return nil }, LimitReached: func() bool { return limited }, Close: func() {}, Complete: true}, nil
}

// PullRows runs a planned pull query on a table and returns its rows as
// JSON arrays, and whether LIMIT cut them short.
func (e *Engine) PullRows(ctx context.Context, q *plan.Query) ([]json.RawMessage, bool, error) {
	t := q.Table
	e.mu.Lock()
	r := e.running[t.QueryID]
	e.mu.Unlock()
	var m exec.Materialization
	if r != nil {
		if mq, ok := r.Query().(exec.Materialized); ok {
			m = mq.Materialization()
		}
	}
	if m == nil || r.Stores() == nil {
		return nil, false, fmt.Errorf("The `%s` table isn't queryable: the query %s that materializes it is not running.", t.Table.Name, t.QueryID)
	}
	defer q.Exec.Close()
	var (
		rows    []json.RawMessage
		limited bool
		perr    error
	)
	collect := func(rec *exec.Record) bool {
		outs, err := q.Exec.Process(ctx, *rec)
		if err != nil {
			perr = err
			return false
		}
		for _, o := range outs {
			rows = append(rows, json.RawMessage(o.Value))
			if q.Limit != nil && int64(len(rows)) >= *q.Limit {
				limited = true
				return false
			}
		}
		return ctx.Err() == nil
	}
	var err error
	if t.Keys == nil {
		err = m.Scan(collect)
	} else {
		for _, k := range t.Keys {
			if err = m.Lookup(k, collect); err != nil || limited || perr != nil {
				break
			}
		}
	}
	if err == nil {
		err = perr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, false, fmt.Errorf("pull query on %s: %w", t.Table.Name, err)
	}
	return rows, limited, nil
}

func columnNames(q *plan.Query) []string {
	out := make([]string, len(q.Columns))
	for i, c := range q.Columns {
		out[i] = c.Name
	}
	return out
}

func columnTypes(q *plan.Query) []string {
	out := make([]string, len(q.Columns))
	for i, c := range q.Columns {
		out[i] = ksqlTypeName(c.Type.String())
	}
	return out
}

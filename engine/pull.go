package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/types"
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
	return pullStream(q.ID, columnNames(q.Columns), columnTypes(q.Columns), rows, limited), nil
}

// pullStream is a pull query's complete answer as a stream.
func pullStream(id string, names, types []string, rows []json.RawMessage, limited bool) *rest.Stream {
	ch := make(chan json.RawMessage, len(rows))
	for _, r := range rows {
		ch <- r
	}
	close(ch)
	limitReached := notLimited
	if limited {
		limitReached = wasLimited
	}
	return &rest.Stream{QueryID: id, ColumnNames: names, ColumnTypes: types, Rows: ch,
		Err: noError, LimitReached: limitReached, Close: noClose, Complete: true}
}

// A complete answer's stream functions (no closures: nothing to allocate).
func noError() error   { return nil }
func notLimited() bool { return false }
func wasLimited() bool { return true }
func noClose()         {}

// PullRows runs a planned pull query on a table and returns its rows as
// JSON arrays, and whether LIMIT cut them short.
func (e *Engine) PullRows(ctx context.Context, q *plan.Query) ([]json.RawMessage, bool, error) {
	defer q.Exec.Close()
	return e.pullRows(ctx, q.Table.Table, q.Table.QueryID, q.Table.Keys, q.Exec, q.Limit)
}

// pullRows reads keys (nil: every row) of table from the state of the
// query that materializes it and returns what pipe makes of each record,
// up to limit rows (nil: no limit).
func (e *Engine) pullRows(ctx context.Context, table *plan.Source, queryID string, keys [][]byte, pipe exec.Query, limit *int64) ([]json.RawMessage, bool, error) {
	e.mu.Lock()
	r := e.running[queryID]
	e.mu.Unlock()
	var m exec.Materialization
	if r != nil {
		if mq, ok := r.Query().(exec.Materialized); ok {
			m = mq.Materialization()
		}
	}
	if m == nil || r.Stores() == nil {
		return nil, false, fmt.Errorf("The `%s` table isn't queryable: the query %s that materializes it is not running.", table.Name, queryID)
	}
	c := &pullCollector{ctx: ctx, pipe: pipe, limit: limit}
	if jp, ok := pipe.(jsonRowsQuery); ok {
		c.json = jp
	}
	collect := c.collect
	var err error
	if keys == nil {
		err = m.Scan(collect)
	} else {
		for _, k := range keys {
			if err = m.Lookup(k, collect); err != nil || c.limited || c.err != nil {
				break
			}
		}
	}
	if err == nil {
		err = c.err
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, false, fmt.Errorf("pull query on %s: %w", table.Name, err)
	}
	return c.rows, c.limited, nil
}

// jsonRowsQuery is a pull query's pipeline that appends its rows to a slice
// (exec.Pipeline): no record copy, no slice of records per record read.
type jsonRowsQuery interface {
	AppendJSONRows(ctx context.Context, in *exec.Record, dst []json.RawMessage) ([]json.RawMessage, error)
}

// pullCollector runs the records a pull query reads through its pipeline
// and keeps the rows, up to the limit.
type pullCollector struct {
	ctx     context.Context
	pipe    exec.Query
	json    jsonRowsQuery
	limit   *int64
	rows    []json.RawMessage
	limited bool
	err     error
}

// collect takes one record; false stops the read.
func (c *pullCollector) collect(rec *exec.Record) bool {
	n := len(c.rows)
	if c.json != nil {
		c.rows, c.err = c.json.AppendJSONRows(c.ctx, rec, c.rows)
	} else {
		var outs []exec.Record
		outs, c.err = c.pipe.Process(c.ctx, *rec)
		for _, o := range outs {
			c.rows = append(c.rows, json.RawMessage(o.Value))
		}
	}
	if c.err != nil {
		return false
	}
	if c.limit != nil {
		for i := n; i < len(c.rows); i++ {
			if int64(i+1) >= *c.limit {
				c.rows = c.rows[:i+1]
				c.limited = true
				return false
			}
		}
	}
	return c.ctx.Err() == nil
}

// keyLookup answers a pull query of the shape SELECT * FROM T WHERE K =
// 'key' from a prepared plan (plan.KeyLookup): no parse, no planning. It
// returns false for any other statement, and whenever it cannot answer
// (the table is not a plain key-lookup table, its query is not running, a
// read fails): the general path then runs the statement and gives its
// answer or its error in its words. Requests with properties or session
// variables take the general path too.
func (e *Engine) keyLookup(ctx context.Context, req *rest.Request) (*rest.Stream, bool) {
	if len(req.StreamsProperties) != 0 || len(req.SessionVariables) != 0 {
		return nil, false
	}
	s, ok := parser.MatchKeyLookup(req.KSQL)
	if !ok || !utf8.ValidString(s.Key) {
		return nil, false
	}
	l, id, ok := e.cat.PrepareKeyLookup(s.Table, s.Column)
	if !ok {
		return nil, false
	}
	key, err := l.Key(ctx, s.Key)
	if err != nil {
		return nil, false
	}
	pipe, err := l.Pipeline(id)
	if err != nil {
		return nil, false
	}
	rows, _, err := e.pullRows(ctx, l.Table, l.QueryID, [][]byte{key}, pipe, nil)
	l.Release(pipe)
	if err != nil {
		return nil, false
	}
	meta := l.Memo(func() any { return [2][]string{columnNames(l.Columns), columnTypes(l.Columns)} }).([2][]string)
	return pullStream(id, meta[0], meta[1], rows, false), true
}

// QueryComplete implements rest.KeyLookupBackend: the key lookups keyLookup
// answers, for the REST server's HTTP/1.1 key-lookup path.
func (e *Engine) QueryComplete(ctx context.Context, req *rest.Request) (*rest.Stream, bool) {
	return e.keyLookup(ctx, req)
}

func columnNames(cols []types.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func columnTypes(cols []types.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = ksqlTypeName(c.Type.String())
	}
	return out
}

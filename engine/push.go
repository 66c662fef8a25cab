package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/engine/queries"
	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/state"
)

func timeFromMillis(ms int64) time.Time { return time.UnixMilli(ms) }

// Query implements rest.Backend: it starts a push query (SELECT ... EMIT
// CHANGES), a pull query over a stream (SELECT without EMIT: the records
// present when it starts), or a PRINT, and streams the rows.
func (e *Engine) Query(ctx context.Context, req *rest.Request) (*rest.Stream, error) {
	if st, ok := e.keyLookup(ctx, req); ok {
		return st, nil
	}
	return e.query(ctx, req)
}

// query is Query without the key-lookup fast path: parse, plan, run.
func (e *Engine) query(ctx context.Context, req *rest.Request) (*rest.Stream, error) {
	vars := parser.Variables{}
	for k, v := range req.Variables() {
		vars.Define(k, v)
	}
	parsed, err := parser.ParseScript(req.KSQL, vars)
	if err != nil {
		return nil, statementError(req.KSQL, err)
	}
	if len(parsed) != 1 {
		return nil, &rest.Error{Status: 400, Code: 40000, Message: fmt.Sprintf("Expected exactly one query, got %d statements", len(parsed))}
	}
	props := e.props(req.Properties())
	switch s := parsed[0].Statement.(type) {
	case *ast.Print:
		return e.print(s, props)
	case *ast.Query:
		e.mu.Lock()
		res, err := plan.Execute(ctx, e.cat, s, props)
		e.mu.Unlock()
		if err != nil {
			return nil, statementError(parsed[0].Text, err)
		}
		if res.Kind != plan.PushQuery || res.Query == nil {
			return nil, statementError(parsed[0].Text, errors.New("not a query"))
		}
		if res.Query.Table != nil {
			st, err := e.pullTable(ctx, res.Query)
			if err != nil {
				return nil, statementError(parsed[0].Text, err)
			}
			return st, nil
		}
		return e.stream(res.Query, res.Query.Pull, props)
	}
	return nil, &rest.Error{Status: 400, Code: 40000, StatementText: parsed[0].Text,
		Message: "The /query endpoint runs SELECT and PRINT only; send other statements to /ksql"}
}

// stream runs q on a transient consumer (no group). A pull query reads what
// the topics hold when it starts and ends; a push query runs until LIMIT or
// Close.
func (e *Engine) stream(q *plan.Query, pull bool, props map[string]string) (*rest.Stream, error) {
	e.mu.Lock()
	e.pushSeq++
	id := fmt.Sprintf("transient_%s_%d", strings.Join(q.Sources, "_"), rand.Int64N(1<<62))
	e.mu.Unlock()
	reset := kgo.NewOffset().AtEnd()
	if pull || prop(props, "ksql.streams.auto.offset.reset", "auto.offset.reset") == "earliest" {
		reset = kgo.NewOffset().AtStart()
	}
	var ends map[string]map[int32]int64
	if pull {
		lo, err := e.adm.ListEndOffsets(context.Background(), q.SourceTopics...)
		if err != nil {
			return nil, err
		}
		ends = map[string]map[int32]int64{}
		lo.Each(func(o kadm.ListedOffset) {
			if ends[o.Topic] == nil {
				ends[o.Topic] = map[int32]int64{}
			}
			ends[o.Topic][o.Partition] = o.Offset
		})
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.cfg.Brokers...), kgo.ConsumeTopics(q.SourceTopics...),
		kgo.ConsumeResetOffset(reset)}, e.cfg.ClientOptions...)...)
	if err != nil {
		return nil, err
	}
	// A transient query with state (GROUP BY, joins) keeps it in memory:
	// it starts from scratch each time, so nothing is restored or logged.
	var stores *state.Stores
	if sq, ok := q.Exec.(exec.StatefulQuery); ok && sq.Stateful() {
		stores, err = state.NewStores(state.Options{Local: true, QueryID: id, Partitions: math.MaxInt32,
			Logger: e.log, Metrics: e.cfg.StateMetrics})
		if err != nil {
			cl.Close()
			return nil, err
		}
		sq.UseState(stores)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rows := make(chan json.RawMessage, 64)
	var (
		mu      sync.Mutex
		qerr    error
		limited bool
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		defer close(rows)
		defer cl.Close()
		if stores != nil {
			defer stores.Close()
		}
		defer q.Exec.Close()
		var sent int64
		var order queries.Merger
		remaining := countRemaining(ends)
		for ctx.Err() == nil {
			if pull && remaining == 0 {
				return
			}
			pctx := ctx
			var pcancel context.CancelFunc = func() {}
			if pull {
				// A quiet second means the rest is control records (or
				// compacted away): the pull query is done.
				pctx, pcancel = context.WithTimeout(ctx, time.Second)
			}
			fs := cl.PollFetches(pctx)
			pcancel()
			if ctx.Err() != nil {
				return
			}
			if pull && fs.NumRecords() == 0 {
				return
			}
			var ferr error
			fs.EachError(func(t string, p int32, err error) {
				if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
					ferr = errors.Join(ferr, fmt.Errorf("%s[%d]: %w", t, p, err))
				}
			})
			if ferr != nil {
				mu.Lock()
				qerr = ferr
				mu.Unlock()
				return
			}
			// In timestamp order across partitions, as persistent
			// queries (queries.Merger).
			order.Reset(fs)
			for r := order.Next(); r != nil; r = order.Next() {
				if pull {
					end := ends[r.Topic][r.Partition]
					if r.Offset >= end {
						continue
					}
					if r.Offset == end-1 {
						remaining--
					}
				}
				outs, err := q.Exec.Process(ctx, fromKgo(r))
				if err == nil && stores != nil {
					err = stores.Commit()
				}
				if err != nil {
					mu.Lock()
					qerr = err
					mu.Unlock()
					return
				}
				for _, o := range outs {
					select {
					case rows <- json.RawMessage(o.Value):
					case <-ctx.Done():
						return
					}
					sent++
					if q.Limit != nil && sent >= *q.Limit {
						mu.Lock()
						limited = true
						mu.Unlock()
						return
					}
				}
			}
		}
	}()
	names := make([]string, len(q.Columns))
	typs := make([]string, len(q.Columns))
	for i, c := range q.Columns {
		names[i], typs[i] = c.Name, ksqlTypeName(c.Type.String())
	}
	var once sync.Once
	return &rest.Stream{QueryID: id, ColumnNames: names, ColumnTypes: typs, Rows: rows,
		Err:          func() error { mu.Lock(); defer mu.Unlock(); return qerr },
		LimitReached: func() bool { mu.Lock(); defer mu.Unlock(); return limited },
		Close:        func() { once.Do(func() { cancel(); <-done }) },
	}, nil
}

// countRemaining is the number of partitions a pull query still has to read
// to their end offset.
func countRemaining(ends map[string]map[int32]int64) int {
	n := 0
	for _, ps := range ends {
		for _, end := range ps {
			if end > 0 {
				n++
			}
		}
	}
	return n
}

func fromKgo(r *kgo.Record) exec.Record {
	out := exec.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value,
		Timestamp: r.Timestamp.UnixMilli()}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, exec.Header{Key: h.Key, Value: h.Value})
	}
	return out
}

// print streams a topic's records as text lines, as ksqlDB's PRINT does.
func (e *Engine) print(s *ast.Print, props map[string]string) (*rest.Stream, error) {
	topics, err := e.adm.ListTopics(context.Background(), s.Topic)
	if err != nil {
		return nil, err
	}
	if !topics.Has(s.Topic) {
		return nil, &rest.Error{Status: 400, Code: 40001, Message: fmt.Sprintf("Could not find topic '%s', or the KSQL user does not have permissions to list the topic. Topic names are case-sensitive.", s.Topic)}
	}
	reset := kgo.NewOffset().AtEnd()
	if s.FromBeginning {
		reset = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.cfg.Brokers...), kgo.ConsumeTopics(s.Topic),
		kgo.ConsumeResetOffset(reset)}, e.cfg.ClientOptions...)...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	rows := make(chan json.RawMessage, 64)
	done := make(chan struct{})
	limited := false
	go func() {
		defer close(done)
		defer close(rows)
		defer cl.Close()
		interval := int64(1)
		if s.Interval != nil && *s.Interval > 0 {
			interval = *s.Interval
		}
		var seen, printed int64
		rows <- json.RawMessage("Key format: " + "KAFKA_STRING")
		rows <- json.RawMessage("Value format: " + "KAFKA_STRING")
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			for _, r := range fs.Records() {
				seen++
				if (seen-1)%interval != 0 {
					continue
				}
				line := fmt.Sprintf("rowtime: %s, key: %s, value: %s, partition: %d",
					r.Timestamp.UTC().Format("2006/01/02 15:04:05.000 Z"), printable(r.Key), printable(r.Value), r.Partition)
				select {
				case rows <- json.RawMessage(line):
				case <-ctx.Done():
					return
				}
				printed++
				if s.Limit != nil && printed >= *s.Limit {
					limited = true
					return
				}
			}
		}
	}()
	var once sync.Once
	return &rest.Stream{QueryID: "print_" + s.Topic, Rows: rows, Text: true,
		Err: func() error { return nil }, LimitReached: func() bool { return limited },
		Close: func() { once.Do(func() { cancel(); <-done }) }}, nil
}

// printable shows a key or value as PRINT does: text when it is printable
// UTF-8, 4 and 8 byte binaries as KAFKA INT and BIGINT, other bytes quoted.
func printable(b []byte) string {
	if b == nil {
		return "<null>"
	}
	text := utf8.Valid(b)
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			text = false
			break
		}
	}
	switch {
	case text:
		return string(b)
	case len(b) == 4:
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(b))), 10)
	case len(b) == 8:
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(b)), 10)
	}
	return strconv.Quote(string(b))
}

var intWord = regexp.MustCompile(`\bINT\b`)

// ksqlTypeName spells a type as ksqlDB's REST API does: INTEGER, not INT.
func ksqlTypeName(t string) string { return intWord.ReplaceAllString(t, "INTEGER") }

package jdbc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
)

func init() {
	connect.Register(connect.Plugin{Spec: Spec, NewSink: func() connect.SinkConnector { return connector{} }})
}

type connector struct{}

func (connector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	if _, err := parseConfig(cfg); err != nil {
		return nil, err
	}
	out := make([]connect.Config, max(maxTasks, 1))
	for i := range out {
		out[i] = cfg
	}
	return out, nil
}

func (connector) NewTask() connect.SinkTask { return &task{} }

// task writes each Put in one transaction and commits it before returning,
// as Confluent's sink does: Flush has nothing left to make durable.
type task struct {
	cfg    *config
	db     *sql.DB
	sw     sqlWriter
	plan   planner
	log    *slog.Logger
	tables map[tableID]map[string]string // known columns (lower case) and their types per table
}

func (t *task) Start(ctx context.Context, raw connect.Config, tc connect.TaskContext) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	log := tc.Logger().With("connector", tc.Connector(), "task", tc.TaskID())
	db, d, err := open(cfg.target, log)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	t.cfg, t.db = cfg, db
	t.sw = sqlWriter{d: d, quote: cfg.quote}
	t.plan = planner{cfg: cfg, d: d, database: cfg.target.database}
	t.log = log
	t.tables = map[tableID]map[string]string{}
	// Fail early on a wrong URL or password; a database that is down is
	// retried by the runtime.
	if err := db.PingContext(ctx); err != nil {
		if isAuthError(err) {
			db.Close()
			return fmt.Errorf("jdbc-sink: connecting to %s at %s: %w", d, cfg.target.host, err)
		}
		t.log.Warn("jdbc-sink: database not reachable yet", "host", cfg.target.host, "err", err)
	}
	return nil
}

func (t *task) Stop() error {
	if t.db == nil {
		return nil
	}
	return t.db.Close()
}

// Flush has nothing to do: Put commits before it returns.
func (t *task) Flush(context.Context) error { return nil }

// Put writes records in one transaction. Records that cannot be mapped or
// that the database refuses are reported in a *connect.RecordError and the
// rest are committed; a lost connection rolls everything back and, after
// max.retries attempts, returns a connect.Retriable.
func (t *task) Put(ctx context.Context, records []*connect.Record) error {
	planFailed := map[*connect.Record]error{}
	ops := make([]*op, 0, len(records))
	for _, r := range records {
		o, err := t.plan.plan(r)
		if err != nil {
			planFailed[r] = fmt.Errorf("jdbc-sink: topic %s partition %d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
			continue
		}
		if o != nil {
			ops = append(ops, o)
		}
	}
	ops = byTable(ops)
	for attempt := 0; ; attempt++ {
		failed := maps.Clone(planFailed)
		err := t.write(ctx, ops, failed)
		if err == nil {
			if len(failed) > 0 {
				return &connect.RecordError{Failed: failed}
			}
			return nil
		}
		var ce connError
		if !errors.As(err, &ce) {
			return err
		}
		// Tables created or evolved by the lost attempt are looked up again.
		clear(t.tables)
		if attempt >= t.cfg.maxRetries || ctx.Err() != nil {
			return connect.Retriable{Err: fmt.Errorf("jdbc-sink: writing %d records to %s: %w", len(ops), t.cfg.target.host, ce.err)}
		}
		t.log.Warn("jdbc-sink: connection error, retrying", "attempt", attempt+1, "max.retries", t.cfg.maxRetries, "err", ce.err)
		select {
		case <-ctx.Done():
			return connect.Retriable{Err: ce.err}
		case <-time.After(t.cfg.backoff):
		}
	}
}

// errNothingToDelete says a delete's table does not exist, so neither does
// the row: the delete is done.
var errNothingToDelete = sinkError("table does not exist: nothing to delete")

// byTable orders ops table by table (tables in order of first appearance),
// keeping the order of each table's ops, so that records of one table
// interleaved with others still share statements.
func byTable(ops []*op) []*op {
	groups := map[tableID][]*op{}
	var order []tableID
	for _, o := range ops {
		if _, ok := groups[o.table]; !ok {
			order = append(order, o.table)
		}
		groups[o.table] = append(groups[o.table], o)
	}
	if len(order) < 2 {
		return ops
	}
	out := make([]*op, 0, len(ops))
	for _, t := range order {
		out = append(out, groups[t]...)
	}
	return out
}

// connError marks an error of the connection rather than of a statement:
// the whole transaction is lost and may be tried again.
type connError struct{ err error }

func (e connError) Error() string { return e.err.Error() }
func (e connError) Unwrap() error { return e.err }

// write runs ops in one transaction, adding the ops the database refuses to
// failed.
func (t *task) write(ctx context.Context, ops []*op, failed map[*connect.Record]error) error {
	if len(ops) == 0 {
		return nil
	}
	// DDL first, outside the data transaction (MySQL commits DDL implicitly).
	for _, o := range ops {
		if _, bad := failed[o.rec]; bad {
			continue
		}
		if o.kind == opTruncate {
			// Truncating a table that does not exist leaves it empty.
			cols, err := t.columns(ctx, o.table)
			if err != nil {
				return connError{err}
			}
			o.skip = cols == nil
			continue
		}
		if err := t.ensureTable(ctx, o); err != nil {
			if errors.Is(err, errNothingToDelete) {
				o.skip = true
				continue
			}
			if isConnError(err) {
				return connError{err}
			}
			failed[o.rec] = fmt.Errorf("jdbc-sink: table %s: %w", o.table, err)
		}
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return connError{err}
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for i := 0; i < len(ops); {
		j := i + 1
		for j < len(ops) && ops[j].shape == ops[i].shape {
			j++
		}
		run := live(ops[i:j], failed)
		i = j
		if len(run) == 0 {
			continue
		}
		if err := t.writeRun(ctx, tx, run, failed); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return connError{err}
	}
	return nil
}

func live(ops []*op, failed map[*connect.Record]error) []*op {
	out := ops[:0:0]
	for _, o := range ops {
		if _, bad := failed[o.rec]; !bad && !o.skip {
			out = append(out, o)
		}
	}
	return out
}

// writeRun writes ops of one shape in chunks of batch.size rows (and at
// most 65535 parameters, PostgreSQL's limit per statement).
func (t *task) writeRun(ctx context.Context, tx *sql.Tx, run []*op, failed map[*connect.Record]error) error {
	first := run[0]
	if first.kind == opTruncate {
		// MySQL's TRUNCATE commits the transaction implicitly; DELETE does not.
		q := "TRUNCATE TABLE " + t.sw.table(first.table)
		if t.sw.d == mariadb {
			q = "DELETE FROM " + t.sw.table(first.table)
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT jdbc_sink_chunk"); err != nil {
			return connError{err}
		}
		_, err := tx.ExecContext(ctx, q)
		if err != nil {
			if retryTx(err) {
				return connError{err}
			}
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT jdbc_sink_chunk"); rerr != nil {
				return connError{err}
			}
			for _, o := range run {
				failed[o.rec] = fmt.Errorf("jdbc-sink: truncating %s: %w", o.table, err)
			}
		}
		return nil
	}
	if first.kind == opWrite && t.cfg.insertMode != modeInsert {
		run = lastPerKey(run)
	}
	per := t.cfg.batchSize
	if n := len(first.cols); n > 0 && 65535/n < per {
		per = 65535 / n
	}
	for len(run) > 0 {
		chunk := run[:min(per, len(run))]
		run = run[len(chunk):]
		if err := t.writeChunk(ctx, tx, chunk, failed); err != nil {
			return err
		}
	}
	return nil
}

// lastPerKey keeps the last op of each key: PostgreSQL refuses a statement
// that upserts one key twice, and the last write wins anyway.
func lastPerKey(run []*op) []*op {
	last := make(map[string]int, len(run))
	keys := make([]string, len(run))
	for i, o := range run {
		keys[i] = fmt.Sprintf("%#v", o.values[:o.nkeys])
		last[keys[i]] = i
	}
	if len(last) == len(run) {
		return run
	}
	out := make([]*op, 0, len(last))
	for i, o := range run {
		if last[keys[i]] == i {
			out = append(out, o)
		}
	}
	return out
}

// writeChunk runs one chunk under a savepoint. When the database refuses it,
// the chunk is rolled back and written again row by row, so only the rows
// at fault fail.
func (t *task) writeChunk(ctx context.Context, tx *sql.Tx, chunk []*op, failed map[*connect.Record]error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT jdbc_sink_chunk"); err != nil {
		return connError{err}
	}
	err := t.exec(ctx, tx, chunk)
	if err == nil {
		return nil
	}
	if retryTx(err) {
		return connError{err}
	}
	// The connection is alive when the savepoint can be rolled back to: the
	// statement, not the connection, failed.
	if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT jdbc_sink_chunk"); rerr != nil {
		return connError{err}
	}
	if len(chunk) == 1 {
		failed[chunk[0].rec] = recordFailure(chunk[0], err)
		return nil
	}
	for _, o := range chunk {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT jdbc_sink_row"); err != nil {
			return connError{err}
		}
		err := t.exec(ctx, tx, []*op{o})
		if err == nil {
			continue
		}
		if retryTx(err) {
			return connError{err}
		}
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT jdbc_sink_row"); rerr != nil {
			return connError{err}
		}
		failed[o.rec] = recordFailure(o, err)
	}
	return nil
}

func recordFailure(o *op, err error) error {
	r := o.rec
	return fmt.Errorf("jdbc-sink: topic %s partition %d offset %d into %s: %w", r.Topic, r.Partition, r.Offset, o.table, err)
}

// exec runs the statements of ops, which share one shape.
func (t *task) exec(ctx context.Context, tx *sql.Tx, ops []*op) error {
	first := ops[0]
	names := make([]string, len(first.cols))
	for i, c := range first.cols {
		names[i] = c.name
	}
	nk := first.nkeys
	types := t.unnestTypes(first)
	if len(ops) == 1 {
		types = nil // a single row is a plain statement, shared by the row-by-row retry
	}
	var err error
	switch {
	case first.kind == opDelete && types != nil:
		_, err = tx.ExecContext(ctx, t.sw.deleteUnnest(first.table, names[:nk], types[:nk]), columnArrays(ops, nk)...)
	case first.kind == opDelete:
		args := make([]any, 0, len(ops)*nk)
		for _, o := range ops {
			args = append(args, o.values[:nk]...)
		}
		_, err = tx.ExecContext(ctx, t.sw.delete(first.table, names[:nk], len(ops)), args...)
	case t.cfg.insertMode == modeUpdate && nk == len(names):
		// Nothing but the key: no column to update.
	case t.cfg.insertMode == modeUpdate && types != nil:
		_, err = tx.ExecContext(ctx, t.sw.updateUnnest(first.table, names, types, nk), columnArrays(ops, len(names))...)
	case t.cfg.insertMode == modeUpdate:
		q := t.sw.update(first.table, names, nk)
		for _, o := range ops {
			args := append(append([]any{}, o.values[nk:]...), o.values[:nk]...)
			if _, err = tx.ExecContext(ctx, q, args...); err != nil {
				break
			}
		}
	case types != nil:
		upsert := t.cfg.insertMode == modeUpsert && nk > 0
		_, err = tx.ExecContext(ctx, t.sw.insertUnnest(first.table, names, types, nk, upsert), columnArrays(ops, len(names))...)
	default:
		upsert := t.cfg.insertMode == modeUpsert && nk > 0
		args := make([]any, 0, len(ops)*len(names))
		for _, o := range ops {
			args = append(args, o.values...)
		}
		_, err = tx.ExecContext(ctx, t.sw.insert(first.table, names, nk, len(ops), upsert), args...)
	}
	return err
}

// columnArrays returns the first n columns of ops as PostgreSQL array
// literals, one per column.
func columnArrays(ops []*op, n int) []any {
	args := make([]any, n)
	col := make([]any, len(ops))
	for i := range n {
		for j, o := range ops {
			col[j] = o.values[i]
		}
		args[i] = pgArrayLiteral(col)
	}
	return args
}

// unnestTypes returns the PostgreSQL cast targets of o's columns when its
// rows can be sent as one array per column, or nil: on MySQL, and when a
// column is an array (unnest would flatten it) or of unknown type.
func (t *task) unnestTypes(o *op) []string {
	if t.sw.d != postgres {
		return nil
	}
	known := t.tables[o.table]
	types := make([]string, len(o.cols))
	for i, c := range o.cols {
		if c.schema.Type == connect.Array {
			return nil
		}
		if types[i] = known[strings.ToLower(c.name)]; types[i] == "" {
			return nil
		}
	}
	return types
}

// columns returns the cached columns of table, looking them up when not
// cached; nil when the table does not exist (not cached, so that a later
// record may create it).
func (t *task) columns(ctx context.Context, table tableID) (map[string]string, error) {
	if cols, ok := t.tables[table]; ok {
		return cols, nil
	}
	cols, err := existingColumns(ctx, t.db, t.sw.d, t.cfg.quote, table)
	if err == nil && cols != nil {
		t.tables[table] = cols
	}
	return cols, err
}

// ensureTable makes sure o's table exists with o's columns, creating or
// evolving it when allowed. Known tables are cached; the cache is checked
// without a query for every later record of the same shape.
func (t *task) ensureTable(ctx context.Context, o *op) error {
	cols, err := t.columns(ctx, o.table)
	if err != nil {
		return err
	}
	if cols == nil {
		if o.kind == opDelete {
			return errNothingToDelete
		}
		if !t.cfg.autoCreate {
			return sinkErrorf("table does not exist: create it or set auto.create=true")
		}
		ddl, err := t.sw.createTable(o.table, o.cols)
		if err != nil {
			return sinkError(err.Error())
		}
		t.log.Info("jdbc-sink: creating table", "table", o.table.String(), "sql", ddl)
		_, cerr := t.db.ExecContext(ctx, ddl)
		// Another task may have created it at the same moment (PostgreSQL's
		// IF NOT EXISTS can then fail on its catalog).
		if cols, err = t.columns(ctx, o.table); err != nil {
			return err
		}
		if cols == nil {
			if cerr != nil {
				return cerr
			}
			return sinkErrorf("table not found after CREATE TABLE")
		}
	}
	var missing []column
	for _, c := range o.cols {
		if _, ok := cols[strings.ToLower(c.name)]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !t.cfg.autoEvolve {
		return sinkErrorf("table has no column %q: add it or set auto.evolve=true", missing[0].name)
	}
	for _, c := range missing {
		if c.key {
			return sinkErrorf("auto.evolve cannot add primary-key column %q to an existing table", c.name)
		}
		if !c.schema.Optional {
			if _, ok := defaultLiteral(c.schema); !ok {
				return sinkErrorf("auto.evolve cannot add column %q: the field is required and has no default (make it optional or give it a default)", c.name)
			}
		}
		ddl, err := t.sw.addColumn(o.table, c)
		if err != nil {
			return sinkError(err.Error())
		}
		t.log.Info("jdbc-sink: adding column", "table", o.table.String(), "sql", ddl)
		if _, err := t.db.ExecContext(ctx, ddl); err != nil {
			// As above: another task may have added it concurrently.
			now, lerr := existingColumns(ctx, t.db, t.sw.d, t.cfg.quote, o.table)
			if _, ok := now[strings.ToLower(c.name)]; lerr != nil || !ok {
				return err
			}
		}
	}
	// Read the columns again for their types.
	cols, err = existingColumns(ctx, t.db, t.sw.d, t.cfg.quote, o.table)
	if err != nil {
		return err
	}
	t.tables[o.table] = cols
	return nil
}

package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/connect"
)

// The initial snapshot. With a freshly created slot it reads inside the
// snapshot the slot exported (SET TRANSACTION SNAPSHOT), so rows are exactly
// the state at the slot's consistent point and streaming from that point
// misses nothing and repeats nothing. Tables are read in name order, in
// chunks ordered by key; every record's offset names the table and the key it
// reached, so a task restarted mid-snapshot resumes after the last stored
// row. The exported snapshot is gone by then, so the rest is read in a new
// snapshot and the stream, replayed from the slot's consistent point, may
// repeat changes the resumed chunks already show (at-least-once; the final
// state is the same). Tables without a key cannot be resumed and are read
// again from their start.

func (t *Task) snapshot(ctx context.Context, tables []tableRef) error {
	tx, err := t.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres-cdc: begin snapshot transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if t.plan.exported != "" {
		if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(t.plan.exported)); err != nil {
			return fmt.Errorf("postgres-cdc: import the slot's snapshot %s: %w", t.plan.exported, err)
		}
	}
	t.metrics.snapshotTables.Set(float64(len(tables)))
	s := &snapshotRun{t: t, first: true}
	for _, ref := range tables {
		if t.plan.resumeTable != "" && ref.id() < t.plan.resumeTable {
			t.metrics.snapshotTablesDone.Inc()
			continue
		}
		var after []string
		if ref.id() == t.plan.resumeTable {
			after = t.plan.resumeKey
		}
		if err := s.table(ctx, ref, after); err != nil {
			return err
		}
		t.metrics.snapshotTablesDone.Inc()
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres-cdc: end snapshot transaction: %w", err)
	}
	if s.held != nil {
		s.held.marker = "last"
		s.held.last = true
		if err := s.emit(ctx); err != nil {
			return err
		}
	}
	t.log.Info("snapshot completed", "tables", len(tables), "rows", s.rows)
	return nil
}

type heldRow struct {
	tb     *table
	row    *connect.StructValue
	key    *connect.StructValue
	keyTxt []string
	marker string
	last   bool
}

type snapshotRun struct {
	t     *Task
	first bool
	held  *heldRow // one row of look-ahead, to mark the last of a table
	rows  int64
}

func (s *snapshotRun) emit(ctx context.Context) error {
	h := s.held
	s.held = nil
	t := s.t
	lsn := int64(t.plan.startLSN)
	now := time.Now()
	src := t.c.sourceStruct(h.tb, sourceInfo{snapshot: h.marker, ts: now, lsn: lsn})
	keyTxt := make([]any, len(h.keyTxt))
	for i, k := range h.keyTxt {
		keyTxt[i] = k
	}
	off := map[string]any{
		"snapshot": true, "snapshot_completed": h.last, "last_snapshot_record": h.last,
		"snapshot_table": h.tb.id, "snapshot_key": keyTxt, "lsn": lsn, "ts_usec": now.UnixMicro(),
	}
	rec := &connect.Record{
		Topic: h.tb.topic, Partition: -1,
		ValueSchema: h.tb.envSchema, Value: envelope(h.tb, nil, h.row, src, "r", now),
		Timestamp: now, SourcePartition: t.partition, SourceOffset: off,
	}
	if h.tb.keySchema != nil {
		rec.Key, rec.KeySchema = h.key, h.tb.keySchema
	}
	t.metrics.events.WithLabelValues("r").Inc()
	return t.push(ctx, item{recs: []*connect.Record{rec}})
}

func (s *snapshotRun) hold(ctx context.Context, h *heldRow) error {
	if s.held != nil {
		if err := s.emit(ctx); err != nil {
			return err
		}
	}
	s.held = h
	s.rows++
	s.t.metrics.snapshotRows.Inc()
	return nil
}

func (s *snapshotRun) table(ctx context.Context, ref tableRef, after []string) error {
	t := s.t
	tb, err := t.loadTable(ctx, ref)
	if err != nil {
		return err
	}
	var names []string
	for _, c := range tb.cols {
		names = append(names, pgx.Identifier{c.name}.Sanitize())
	}
	var keyNames []string
	for _, i := range tb.rowIdx {
		keyNames = append(keyNames, names[i])
	}
	from := pgx.Identifier{ref.schema, ref.name}.Sanitize()
	firstInTable := true
	for {
		q := "SELECT " + strings.Join(names, ", ") + " FROM " + from
		var params [][]byte
		if len(keyNames) > 0 {
			if after != nil {
				ph := make([]string, len(after))
				for i, a := range after {
					ph[i] = fmt.Sprintf("$%d", i+1)
					params = append(params, []byte(a))
				}
				q += " WHERE (" + strings.Join(keyNames, ", ") + ") > (" + strings.Join(ph, ", ") + ")"
			}
			q += " ORDER BY " + strings.Join(keyNames, ", ") + fmt.Sprintf(" LIMIT %d", t.c.fetchSize)
		}
		n := 0
		rr := t.db.PgConn().ExecParams(ctx, q, params, nil, nil, nil)
		for rr.NextRow() {
			_, row, key, keyTxt, err := t.c.scannedRow(tb, rr.Values())
			if err != nil {
				rr.Close()
				return fmt.Errorf("postgres-cdc: snapshot of %s: %w", tb.id, err)
			}
			marker := "true"
			switch {
			case s.first:
				marker = "first"
			case firstInTable:
				marker = "first_in_data_collection"
			}
			s.first, firstInTable = false, false
			if err := s.hold(ctx, &heldRow{tb: tb, row: row, key: key, keyTxt: keyTxt, marker: marker}); err != nil {
				rr.Close()
				return err
			}
			after = keyTxt
			n++
		}
		if _, err := rr.Close(); err != nil {
			return fmt.Errorf("postgres-cdc: snapshot query on %s: %w", tb.id, err)
		}
		if len(keyNames) == 0 || n < t.c.fetchSize {
			break
		}
	}
	if s.held != nil && s.held.tb == tb && s.held.marker != "first" {
		s.held.marker = "last_in_data_collection"
	}
	return nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// scannedRow decodes one row of a snapshot SELECT (text format, columns in
// relation order): its tuple, row and key structs, and its primary-key
// values as text (where the next chunk resumes).
func (c *conf) scannedRow(tb *table, vals [][]byte) ([]tupleCol, *connect.StructValue, *connect.StructValue, []string, error) {
	tuple := make([]tupleCol, len(vals))
	for i, v := range vals {
		if v == nil {
			tuple[i].null = true
		} else {
			tuple[i].data = append([]byte(nil), v...)
		}
	}
	row, err := c.rowStruct(tb, tuple)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	key, err := c.keyStruct(tb, tuple)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var keyTxt []string // nil without key columns: the snapshot is one chunk
	for _, i := range tb.rowIdx {
		keyTxt = append(keyTxt, string(tuple[i].data))
	}
	return tuple, row, key, keyTxt, nil
}

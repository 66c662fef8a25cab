package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/connect"
)

// Incremental (ad-hoc) snapshots, Debezium's watermark design (DBLog),
// insert_insert strategy. An `execute-snapshot` row inserted into the signal
// table (signal.data.collection) names the tables. While streaming goes on,
// each chunk is read between two watermark rows written to the signal table:
//
//	INSERT open watermark; SELECT chunk (key order, after the last key); INSERT close watermark
//
// The chunk is buffered. From then on every streamed change of the table
// removes its key from the buffer, inside the window and before its open
// watermark (the change is newer than, or as new as, what the chunk read;
// see incSeen for the changes before the window). When the
// close watermark's transaction commits, the rest of the buffer is emitted as
// reads (source.snapshot = incremental) and the next chunk starts. The state
// (tables left, table, last key) rides in every streamed offset, so a
// restarted task continues with the chunk after the last one emitted.

type incState struct {
	Tables []string `json:"tables"`        // still to do, the current one first
	Key    []string `json:"key,omitempty"` // last key emitted of Tables[0]

	tb        *table
	ref       tableRef
	lastKey   []string // last key of the chunk read
	buf       map[string]*incRow
	order     []string
	openID    string
	closeID   string
	closeSeen bool
	needChunk bool
}

type incRow struct {
	row    *connect.StructValue
	key    *connect.StructValue
	keyTxt []string
}

// signalTable is where the signal table's columns are in its tuples.
type signalTable struct {
	relID                   uint32
	idIdx, typeIdx, dataIdx int
}

func (s *incState) encode() string {
	b, _ := json.Marshal(s)
	return string(b)
}

func newWatermarkID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// signalColumns records the signal table's relation.
func (t *Task) signalRelation(relID uint32, cols []string) {
	st := &signalTable{relID: relID, idIdx: -1, typeIdx: -1, dataIdx: -1}
	for i, c := range cols {
		switch c {
		case "id":
			st.idIdx = i
		case "type":
			st.typeIdx = i
		case "data":
			st.dataIdx = i
		}
	}
	t.signal = st
}

// onSignal handles a row inserted into the signal table.
func (t *Task) onSignal(tuple []tupleCol) {
	st := t.signal
	get := func(i int) string {
		if i < 0 || i >= len(tuple) || tuple[i].null {
			return ""
		}
		return string(tuple[i].data)
	}
	id, typ, data := get(st.idIdx), get(st.typeIdx), get(st.dataIdx)
	inc := t.inc
	switch {
	case inc != nil && id == inc.openID:
		// The window opens; incSeen already drops changed keys.
	case inc != nil && id == inc.closeID:
		inc.closeSeen = true
	case typ == "execute-snapshot":
		var d struct {
			Collections []string `json:"data-collections"`
			Type        string   `json:"type"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil || len(d.Collections) == 0 {
			t.log.Warn("execute-snapshot signal ignored: data needs {\"data-collections\": [\"schema.table\", ...]}", "id", id, "data", data, "err", err)
			return
		}
		if d.Type != "" && !strings.EqualFold(d.Type, "incremental") {
			t.log.Warn("execute-snapshot signal ignored: only incremental snapshots are supported", "id", id, "type", d.Type)
			return
		}
		if inc == nil {
			t.inc = &incState{Tables: d.Collections, needChunk: true}
		} else {
			inc.Tables = append(inc.Tables, d.Collections...)
		}
		t.log.Info("incremental snapshot requested", "id", id, "tables", d.Collections)
	case typ == "stop-snapshot":
		if inc != nil {
			t.log.Info("incremental snapshot stopped by signal", "id", id)
			t.inc = nil
		}
	case typ == "log":
		t.log.Info("signal", "id", id, "data", data)
	}
}

// incKeyTxt is the buffer key of a tuple's key columns.
func incKeyTxt(tb *table, tuple []tupleCol) string {
	var parts []string
	for _, i := range tb.rowIdx {
		parts = append(parts, string(tuple[i].data))
	}
	return strings.Join(parts, "\x00")
}

// incSeen drops a buffered row whose key the stream changed after the
// chunk was read, inside the window or before it opened. A change streamed
// before the open watermark committed before it in the WAL, but PostgreSQL
// makes a transaction visible only after its commit record is flushed, so
// the chunk's SELECT, taken after the watermark, may still have missed it
// and hold the row's older state; emitted at the close watermark, that read
// would undo the change. Dropping the read is safe: the change event
// carries the row's newer state, and a later change comes after it.
func (t *Task) incSeen(relID uint32, tuples ...[]tupleCol) {
	inc := t.inc
	if inc == nil || inc.tb == nil || inc.tb.relID != relID || inc.buf == nil {
		return
	}
	for _, tu := range tuples {
		if tu != nil {
			delete(inc.buf, incKeyTxt(inc.tb, tu))
		}
	}
}

// incAtCommit runs at the end of every streamed transaction: it emits the
// chunk when its close watermark committed and starts the next chunk.
func (t *Task) incAtCommit(ctx context.Context, tx *txState, commitEnd uint64) error {
	inc := t.inc
	if inc == nil {
		return nil
	}
	if inc.closeSeen {
		if err := t.incEmit(ctx, tx); err != nil {
			return err
		}
	}
	if t.inc != nil && t.inc.needChunk {
		return t.incChunk(ctx)
	}
	return nil
}

func (t *Task) incEmit(ctx context.Context, tx *txState) error {
	inc := t.inc
	now := time.Now()
	lsn := int64(tx.commitLSN)
	// Advance the state before building offsets: they describe what is done.
	if len(inc.order) > 0 {
		inc.Key = inc.lastKey
	}
	done := len(inc.order) < t.c.incChunk
	if done {
		inc.Tables = inc.Tables[1:]
		inc.Key = nil
	}
	state := ""
	if len(inc.Tables) > 0 {
		state = inc.encode()
	}
	off := map[string]any{"lsn": lsn, "lsn_commit": lsn, "txId": int64(tx.xid), "tx_done": true, "incremental_snapshot": state}
	var recs []*connect.Record
	for _, k := range inc.order {
		r, ok := inc.buf[k]
		if !ok {
			continue
		}
		src := t.c.sourceStruct(inc.tb, sourceInfo{snapshot: "incremental", ts: now, lsn: lsn})
		rec := &connect.Record{Topic: inc.tb.topic, Partition: -1, ValueSchema: inc.tb.envSchema,
			Value: envelope(inc.tb, nil, r.row, src, "r", now), Timestamp: now, SourcePartition: t.partition, SourceOffset: off}
		if inc.tb.keySchema != nil {
			rec.Key, rec.KeySchema = r.key, inc.tb.keySchema
		}
		recs = append(recs, rec)
		t.metrics.events.WithLabelValues("r").Inc()
	}
	inc.buf, inc.order, inc.closeSeen, inc.openID, inc.closeID = nil, nil, false, "", ""
	inc.needChunk = true
	if done {
		inc.tb = nil
		if len(inc.Tables) == 0 {
			t.log.Info("incremental snapshot completed")
			t.inc = nil
		}
	}
	if len(recs) == 0 {
		return nil
	}
	return t.push(ctx, item{recs: recs})
}

// incChunk writes the open watermark, reads the next chunk and writes the
// close watermark.
func (t *Task) incChunk(ctx context.Context) error {
	inc := t.inc
	inc.needChunk = false
	for inc.tb == nil {
		if len(inc.Tables) == 0 {
			t.inc = nil
			return nil
		}
		id := inc.Tables[0]
		schema, name, ok := strings.Cut(id, ".")
		var oid uint32
		err := t.db.QueryRow(ctx, "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2", schema, name).Scan(&oid)
		if !ok || err != nil || !t.c.tableIncluded(schema, name) {
			t.log.Warn("incremental snapshot: table skipped (unknown or not captured)", "table", id, "err", err)
			inc.Tables, inc.Key = inc.Tables[1:], nil
			continue
		}
		inc.ref = tableRef{oid: oid, schema: schema, name: name}
		tb, err := t.loadTable(ctx, inc.ref)
		if err != nil {
			return err
		}
		if len(tb.rowIdx) == 0 {
			t.log.Warn("incremental snapshot: table without a key skipped", "table", id)
			inc.Tables, inc.Key = inc.Tables[1:], nil
			continue
		}
		inc.tb = tb
	}
	tb := inc.tb
	inc.openID, inc.closeID = newWatermarkID(), newWatermarkID()
	sig := pgx.Identifier(strings.SplitN(t.c.signalTable, ".", 2)).Sanitize()
	if _, err := t.db.Exec(ctx, "INSERT INTO "+sig+" (id, type, data) VALUES ($1, 'snapshot-window-open', $2)", inc.openID, `{"openWindowTimestamp": "`+time.Now().UTC().Format(time.RFC3339Nano)+`"}`); err != nil {
		return fmt.Errorf("postgres-cdc: write the open watermark into %s (the role needs INSERT on it): %w", t.c.signalTable, err)
	}
	var names, keyNames []string
	for _, c := range tb.cols {
		names = append(names, pgx.Identifier{c.name}.Sanitize())
	}
	for _, i := range tb.rowIdx {
		keyNames = append(keyNames, names[i])
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM " + pgx.Identifier{tb.schema, tb.name}.Sanitize()
	var params [][]byte
	if inc.Key != nil {
		ph := make([]string, len(inc.Key))
		for i, k := range inc.Key {
			ph[i] = fmt.Sprintf("$%d", i+1)
			params = append(params, []byte(k))
		}
		q += " WHERE (" + strings.Join(keyNames, ", ") + ") > (" + strings.Join(ph, ", ") + ")"
	}
	q += " ORDER BY " + strings.Join(keyNames, ", ") + fmt.Sprintf(" LIMIT %d", t.c.incChunk)
	inc.buf = map[string]*incRow{}
	inc.order = nil
	rr := t.db.PgConn().ExecParams(ctx, q, params, nil, nil, nil)
	for rr.NextRow() {
		tuple, row, key, keyTxt, err := t.c.scannedRow(tb, rr.Values())
		if err != nil {
			rr.Close()
			return fmt.Errorf("postgres-cdc: incremental snapshot of %s: %w", tb.id, err)
		}
		k := incKeyTxt(tb, tuple)
		inc.buf[k] = &incRow{row: row, key: key, keyTxt: keyTxt}
		inc.order = append(inc.order, k)
		inc.lastKey = keyTxt
	}
	if _, err := rr.Close(); err != nil {
		return fmt.Errorf("postgres-cdc: incremental snapshot query on %s: %w", tb.id, err)
	}
	if _, err := t.db.Exec(ctx, "INSERT INTO "+sig+" (id, type, data) VALUES ($1, 'snapshot-window-close', NULL)", inc.closeID); err != nil {
		return fmt.Errorf("postgres-cdc: write the close watermark into %s: %w", t.c.signalTable, err)
	}
	return nil
}

package mysql

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/sluicedata/sluice/connect"
)

// Streaming reads the binlog from a position and turns rows events of the
// captured tables into change events. Transaction boundaries drive the
// offsets (see the package comment).

// txState is the transaction being read.
type txState struct {
	start    position // where it starts (file/pos of its GTID or BEGIN event, gtids before it)
	gtid     string   // its GTID ("" without)
	event    int      // rows events completed
	skipTo   position // on the first transaction after a restart: what was emitted already
	skipping bool
	query    string // last annotate / rows-query event
	thread   int64  // connection id of the BEGIN event, -1 unknown
	total    int64  // events emitted (transaction metadata)
	perTable map[string]int64
	began    bool // BEGIN record emitted
	ts       time.Time
}

type streamer struct {
	t       *Task
	ctx     context.Context
	file    string
	gset    gomysql.GTIDSet // executed before the current transaction
	tx      *txState
	batch   []*connect.Record
	lastHB  time.Time
	first   bool
	skipPos position
	hasSkip bool
}

func (t *Task) stream(ctx context.Context, pos position) error {
	cfg := replication.BinlogSyncerConfig{
		ServerID: t.c.serverID, Flavor: t.flavor, Host: t.c.host, Port: uint16(t.c.port),
		User: t.c.user, Password: t.c.password, ParseTime: true, TimestampStringLocation: time.UTC,
		HeartbeatPeriod: time.Second, ReadTimeout: 30 * time.Second, MaxReconnectAttempts: 3,
		Logger: newSyncerLogger(t.log),
	}
	if t.c.includeQuery && t.flavor == gomysql.MariaDBFlavor {
		// MariaDB sends Annotate_rows events only to replicas that ask.
		cfg.DumpCommandFlag |= replication.BINLOG_SEND_ANNOTATE_ROWS_EVENT
	}
	syncer := replication.NewBinlogSyncer(cfg)
	defer syncer.Close()
	s := &streamer{t: t, ctx: ctx, file: pos.file, skipPos: pos, hasSkip: pos.event > 0 || pos.row > 0, lastHB: time.Now()}
	var err error
	var bs *replication.BinlogStreamer
	if pos.gtids == "" && t.flavor == gomysql.MariaDBFlavor {
		// MariaDB writes GTIDs always: track them from here on, so that
		// later offsets resume by GTID.
		s.gset, _ = gomysql.ParseMariadbGTIDSet("")
	}
	if pos.gtids != "" {
		if s.gset, err = gomysql.ParseGTIDSet(t.flavor, pos.gtids); err != nil {
			return fmt.Errorf("mysql-cdc: stored gtids %q: %w", pos.gtids, err)
		}
		bs, err = syncer.StartSyncGTID(s.gset.Clone())
	} else {
		bs, err = syncer.StartSync(gomysql.Position{Name: pos.file, Pos: pos.pos})
	}
	if err != nil {
		return fmt.Errorf("mysql-cdc: start reading the binlog at %s:%d (gtids %q): %w", pos.file, pos.pos, pos.gtids, err)
	}
	t.log.Info("streaming the binlog", "file", pos.file, "pos", pos.pos, "gtids", pos.gtids)
	committed := pos
	committed.event, committed.row = 0, 0
	s.tx = nil
	cur := committed
	for {
		wait := 200 * time.Millisecond
		if t.c.heartbeat > 0 {
			wait = min(wait, t.c.heartbeat)
		}
		ectx, cancel := context.WithTimeout(ctx, wait)
		ev, err := bs.GetEvent(ectx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if err := s.idle(cur); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return connect.Retriable{Err: fmt.Errorf("mysql-cdc: read the binlog after %s:%d: %w", cur.file, cur.pos, err)}
		}
		if err := s.handle(ev, &cur); err != nil {
			return err
		}
		// Heartbeats are due on a busy binlog too (other databases'
		// traffic never leaves the reader idle).
		if s.heartbeatDue() {
			if err := s.idle(cur); err != nil {
				return err
			}
		}
	}
}

func (s *streamer) heartbeatDue() bool {
	return s.t.c.heartbeat > 0 && s.tx == nil && time.Since(s.lastHB) >= s.t.c.heartbeat
}

// idle flushes what is batched and emits a heartbeat when due.
func (s *streamer) idle(cur position) error {
	if s.heartbeatDue() {
		s.lastHB = time.Now()
		s.batch = append(s.batch, s.t.heartbeatRecord(s.t.offsetMap(cur, nil)))
	}
	return s.flush()
}

func (s *streamer) flush() error {
	b := s.batch
	s.batch = nil
	return s.t.emit(s.ctx, b)
}

func (s *streamer) gtids() string {
	if s.gset == nil {
		return ""
	}
	return s.gset.String()
}

func (s *streamer) beginTx(h *replication.EventHeader, gtid string) {
	start := position{file: s.file, pos: h.LogPos - h.EventSize, gtids: s.gtids()}
	s.tx = &txState{start: start, gtid: gtid, ts: time.Unix(int64(h.Timestamp), 0), thread: -1}
	if s.hasSkip {
		// The first transaction after a restart from an in-transaction
		// offset: skip what was emitted already.
		s.tx.skipping, s.tx.skipTo = true, s.skipPos
		s.hasSkip = false
	}
}

// endTx moves the committed position past the transaction.
func (s *streamer) endTx(h *replication.EventHeader, cur *position) error {
	if s.tx != nil && s.tx.gtid != "" && s.gset != nil {
		if err := s.gset.Update(s.tx.gtid); err != nil {
			return fmt.Errorf("mysql-cdc: GTID %s: %w", s.tx.gtid, err)
		}
	}
	*cur = position{file: s.file, pos: h.LogPos, gtids: s.gtids()}
	if s.tx != nil && s.tx.began {
		s.batch = append(s.batch, s.t.txEndRecord(s.tx, s.t.offsetMap(*cur, nil)))
	} else if n := len(s.batch); n > 0 {
		// The transaction's last record moves the offset past it.
		s.batch[n-1].SourceOffset = s.t.offsetMap(*cur, nil)
	}
	s.tx = nil
	if len(s.batch) >= 1024 {
		return s.flush()
	}
	// Hand the batch over at once when Poll is waiting (low latency); keep
	// batching while it is busy (throughput).
	if len(s.batch) > 0 {
		select {
		case s.t.out <- s.batch:
			s.batch = nil
		default:
		}
	}
	return nil
}

var ddlTableRe = regexp.MustCompile("(?is)^\\s*(?:/\\*.*?\\*/\\s*)*(CREATE|ALTER|DROP|RENAME)\\s+(?:OR\\s+REPLACE\\s+)?(?:TEMPORARY\\s+)?(?:ONLINE\\s+|IGNORE\\s+)*TABLE\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?((?:`[^`]+`|[\\w$]+)(?:\\s*\\.\\s*(?:`[^`]+`|[\\w$]+))?)")

func (s *streamer) handle(ev *replication.BinlogEvent, cur *position) error {
	h := ev.Header
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		s.file = string(e.NextLogName)
		if s.tx == nil {
			cur.file, cur.pos = s.file, uint32(e.Position)
		}
	case *replication.MariadbGTIDEvent:
		s.beginTx(h, e.GTID.String())
		if e.IsStandalone() {
			s.tx.start.pos = h.LogPos - h.EventSize
		}
	case *replication.GTIDEvent:
		g := ""
		if e.GNO > 0 { // GNO 0: an anonymous transaction (gtid_mode=OFF)
			if next, err := e.GTIDNext(); err == nil {
				g = next.String()
			}
		}
		s.beginTx(h, g)
	case *replication.QueryEvent:
		q := strings.TrimSpace(string(e.Query))
		switch strings.ToUpper(q) {
		case "BEGIN":
			if s.tx == nil {
				s.beginTx(h, "")
			}
			s.tx.thread = int64(e.SlaveProxyID)
			return nil
		case "COMMIT":
			return s.endTx(h, cur)
		}
		if err := s.ddl(h, string(e.Schema), q, int64(e.SlaveProxyID), cur); err != nil {
			return err
		}
		return s.endTx(h, cur)
	case *replication.XIDEvent:
		return s.endTx(h, cur)
	case *replication.MariadbAnnotateRowsEvent:
		if s.tx != nil {
			s.tx.query = string(e.Query)
		}
	case *replication.RowsQueryEvent:
		if s.tx != nil {
			s.tx.query = string(e.Query)
		}
	case *replication.RowsEvent:
		return s.rows(h, ev.Header.EventType, e)
	}
	return nil
}

func (s *streamer) rows(h *replication.EventHeader, typ replication.EventType, e *replication.RowsEvent) error {
	if s.tx == nil {
		s.beginTx(h, "")
	}
	tx := s.tx
	idx := tx.event
	tx.event++
	skipRows := 0
	if tx.skipping {
		if idx < tx.skipTo.event {
			return nil
		}
		if idx == tx.skipTo.event {
			skipRows = tx.skipTo.row
		}
	}
	db, name := string(e.Table.Schema), string(e.Table.Table)
	tb := s.t.tables[db+"."+name]
	if tb == nil && !s.t.c.captures(db, name) {
		return nil
	}
	if tb == nil || !tableMapAgrees(tb.def, e.Table) {
		var old *tableDef
		if tb != nil {
			old = tb.def
		}
		def, ok := defFromTableMap(e.Table, old)
		if !ok && tb == nil {
			return nil // a table the task never saw, and no metadata to decode it
		}
		if ok {
			nt, err := s.t.c.buildTable(def)
			if err != nil {
				return fmt.Errorf("mysql-cdc: %s:%d: table %s from the binlog's metadata: %w", s.file, h.LogPos, def.id(), err)
			}
			s.t.log.Info("table definition taken from the binlog's Table_map metadata", "table", def.id(), "columns", len(def.Columns))
			s.t.tables[def.id()] = nt
			s.t.saveHistory()
			tb = nt
		}
	}
	var op string
	step := 1
	switch typ {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2, replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		op = "c"
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1, replication.PARTIAL_UPDATE_ROWS_EVENT:
		op, step = "u", 2
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2, replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		op = "d"
	default:
		return nil
	}
	if s.t.c.skipOps[op] {
		return nil
	}
	if int(e.ColumnCount) != len(tb.def.Columns) {
		return fmt.Errorf("mysql-cdc: %s:%d: rows event for %s has %d columns, the tracked definition has %d (schema history out of step: restart with snapshot.mode=recovery)",
			s.file, h.LogPos, tb.def.id(), e.ColumnCount, len(tb.def.Columns))
	}
	if s.t.c.txMeta && !tx.began {
		tx.began = true
		s.batch = append(s.batch, s.t.txBeginRecord(tx, s.t.offsetMap(tx.start, nil)))
	}
	n := 0
	si := &sourceInfo{ts: time.Unix(int64(h.Timestamp), 0), db: db, table: name, serverID: h.ServerID, gtid: tx.gtid,
		file: s.file, pos: tx.start.pos, thread: tx.thread, query: tx.query, now: newBoxedNow(time.Now())}
	si.tmpl = s.t.c.sourceStruct(si)
	base := s.t.offsetBase(tx.start)
	for i := 0; i+step <= len(e.Rows); i += step {
		n++
		if n <= skipRows {
			continue
		}
		si.row = n - 1
		offset := base.at(idx, n)
		var recs []*connect.Record
		var err error
		switch op {
		case "c":
			recs, err = s.t.rowChange(tb, nil, e.Rows[i], "c", si, offset, tx)
		case "d":
			recs, err = s.t.rowChange(tb, e.Rows[i], nil, "d", si, offset, tx)
		case "u":
			recs, err = s.t.rowChange(tb, e.Rows[i], e.Rows[i+1], "u", si, offset, tx)
		}
		if err != nil {
			return fmt.Errorf("mysql-cdc: %s:%d: %w", s.file, h.LogPos, err)
		}
		s.batch = append(s.batch, recs...)
	}
	if len(s.batch) >= 1024 {
		return s.flush()
	}
	return nil
}

// ddl applies a schema change to the tracked definitions and emits its
// schema-change event.
func (s *streamer) ddl(h *replication.EventHeader, schema, q string, thread int64, cur *position) error {
	if dm := dropDBRe.FindStringSubmatch(q); dm != nil {
		return s.dropDatabase(h, strings.Trim(dm[1], "`"), q, thread, cur)
	}
	m := ddlTableRe.FindStringSubmatch(q)
	if m == nil {
		return nil
	}
	kind := strings.ToUpper(m[1])
	db, name := splitTableName(m[2], schema)
	affected := map[string]bool{db + "." + name: true}
	if kind == "RENAME" {
		// RENAME TABLE a TO b[, c TO d]: both names may be captured.
		for _, part := range regexp.MustCompile(`(?i)\s+TO\s+|,`).Split(q[len(m[0]):], -1) {
			if part = strings.TrimSpace(part); part != "" {
				d2, n2 := splitTableName(strings.Fields(part)[0], schema)
				affected[d2+"."+n2] = true
			}
		}
	}
	if kind == "ALTER" {
		if rm := regexp.MustCompile("(?i)RENAME\\s+(?:TO\\s+|AS\\s+)?((?:`[^`]+`|[\\w$]+)(?:\\s*\\.\\s*(?:`[^`]+`|[\\w$]+))?)").FindStringSubmatch(q); rm != nil {
			d2, n2 := splitTableName(rm[1], schema)
			affected[d2+"."+n2] = true
		}
	}
	var changes []tableChange
	var captured []string
	for id := range affected {
		d, n, _ := strings.Cut(id, ".")
		if s.t.c.captures(d, n) {
			captured = append(captured, id)
		}
	}
	if len(captured) == 0 {
		return nil
	}
	only := map[string]bool{}
	for _, id := range captured {
		only[id] = true
	}
	s.t.connMu.Lock()
	defs, err := s.t.c.loadTables(s.t.conn, only)
	s.t.connMu.Unlock()
	if err != nil {
		return fmt.Errorf("mysql-cdc: reload tables after DDL %q: %w", q, err)
	}
	for _, id := range captured {
		d := defs[id]
		old := s.t.tables[id]
		switch {
		case d == nil && kind == "CREATE":
			// Dropped again before we looked: the Table_map events of its
			// rows carry its definition.
			continue
		case d == nil && old != nil:
			delete(s.t.tables, id)
			changes = append(changes, tableChange{"DROP", old.def})
		case d != nil:
			tb, err := s.t.c.buildTable(d)
			if err != nil {
				return fmt.Errorf("mysql-cdc: after DDL %q: %w", q, err)
			}
			s.t.tables[id] = tb
			typ := "ALTER"
			if old == nil || kind == "CREATE" {
				typ = "CREATE"
			}
			changes = append(changes, tableChange{typ, d})
		}
	}
	s.t.saveHistory()
	if !s.t.c.schemaChanges || len(changes) == 0 {
		return nil
	}
	gtid := ""
	if s.tx != nil {
		gtid = s.tx.gtid
	}
	si := &sourceInfo{ts: time.Unix(int64(h.Timestamp), 0), db: db, table: name, serverID: h.ServerID, gtid: gtid, file: s.file, pos: h.LogPos - h.EventSize, thread: thread}
	// The offset is set by endTx, which follows.
	s.batch = append(s.batch, s.t.schemaChangeRecord(db, q, changes, si, s.t.offsetMap(*cur, nil)))
	return nil
}

var dropDBRe = regexp.MustCompile("(?is)^\\s*DROP\\s+(?:DATABASE|SCHEMA)\\s+(?:IF\\s+EXISTS\\s+)?(`[^`]+`|[\\w$]+)")

// dropDatabase forgets the captured tables of a dropped database.
func (s *streamer) dropDatabase(h *replication.EventHeader, db, q string, thread int64, cur *position) error {
	var changes []tableChange
	for id, tb := range s.t.tables {
		if strings.EqualFold(tb.def.DB, db) {
			delete(s.t.tables, id)
			changes = append(changes, tableChange{"DROP", tb.def})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	s.t.saveHistory()
	if !s.t.c.schemaChanges {
		return nil
	}
	si := &sourceInfo{ts: time.Unix(int64(h.Timestamp), 0), db: db, serverID: h.ServerID, file: s.file, pos: h.LogPos - h.EventSize, thread: thread}
	if s.tx != nil {
		si.gtid = s.tx.gtid
	}
	s.batch = append(s.batch, s.t.schemaChangeRecord(db, q, changes, si, s.t.offsetMap(*cur, nil)))
	return nil
}

func splitTableName(s, defaultDB string) (string, string) {
	parts := strings.SplitN(s, ".", 2)
	for i := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(parts[i]), "`")
	}
	if len(parts) == 2 {
		return parts[0], parts[1]
	}
	return defaultDB, parts[0]
}

// rowChange builds the records of one row change: the event, and for
// deletes a tombstone; a key change becomes delete + tombstone + create.
func (t *Task) rowChange(tb *table, beforeRow, afterRow []any, op string, si *sourceInfo, offset map[string]any, tx *txState) ([]*connect.Record, error) {
	var before, after *connect.StructValue
	var bkey, akey *connect.StructValue
	var err error
	if beforeRow != nil {
		if before, bkey, err = tb.rowStructs(beforeRow); err != nil {
			return nil, err
		}
	}
	if afterRow != nil {
		if after, akey, err = tb.rowStructs(afterRow); err != nil {
			return nil, err
		}
	}
	if op == "u" && bkey != nil && !sameValues(bkey.Values, akey.Values) {
		del := t.changeRecord(tb, bkey, before, nil, "d", si, offset)
		del.Headers = append(del.Headers, connect.Header{Key: "__debezium.newkey", Value: akey, Schema: tb.keySchema})
		t.txBlock(tx, tb, del)
		out := []*connect.Record{del}
		if t.c.tombstones {
			out = append(out, t.tombstone(tb, bkey, offset))
		}
		cr := t.changeRecord(tb, akey, nil, after, "c", si, offset)
		cr.Headers = append(cr.Headers, connect.Header{Key: "__debezium.oldkey", Value: bkey, Schema: tb.keySchema})
		t.txBlock(tx, tb, cr)
		return append(out, cr), nil
	}
	key := akey
	if op == "d" {
		key = bkey
	}
	r := t.changeRecord(tb, key, before, after, op, si, offset)
	t.txBlock(tx, tb, r)
	if op == "d" && t.c.tombstones {
		return []*connect.Record{r, t.tombstone(tb, key, offset)}, nil
	}
	return []*connect.Record{r}, nil
}

func sameValues(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if fmt.Sprint(a[i]) != fmt.Sprint(b[i]) {
			return false
		}
	}
	return true
}

func (t *Task) changeRecord(tb *table, key, before, after *connect.StructValue, op string, si *sourceInfo, offset map[string]any) *connect.Record {
	now := si.now
	if now == nil {
		now = newBoxedNow(time.Now())
	}
	env := envelope(tb, before, after, t.c.sourceStruct(si), op, now)
	r := &connect.Record{Topic: tb.topic, Partition: -1, Value: env, ValueSchema: tb.envSchema, Timestamp: si.ts,
		SourcePartition: t.part, SourceOffset: offset}
	if key != nil {
		r.Key, r.KeySchema = key, tb.keySchema
	}
	return r
}

func (t *Task) tombstone(tb *table, key *connect.StructValue, offset map[string]any) *connect.Record {
	return &connect.Record{Topic: tb.topic, Partition: -1, Key: key, KeySchema: tb.keySchema, ValueSchema: tb.envSchema,
		Timestamp: time.Now(), SourcePartition: t.part, SourceOffset: offset}
}

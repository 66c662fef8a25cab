package mysql

import (
	"context"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/sluicedata/sluice/connect"
)

// The initial snapshot reads every captured table inside one
// consistent-snapshot transaction whose binlog position is known: on MariaDB
// the transaction itself reports it (binlog_snapshot_file/position), on
// MySQL a brief FLUSH TABLES WITH READ LOCK holds writes while the
// transaction starts and SHOW MASTER STATUS is read. Tables are read in
// name order and each in primary-key order, one chunk per query; every
// record's offset names the table and the last key read, so a restarted
// task continues where it stopped (in a new snapshot transaction: rows read
// after the restart reflect a later state, and streaming from the original
// position replays the changes in between, so every change is delivered at
// least once).

func (t *Task) snapshot(ctx context.Context, resume *snapState, resumePos position) (position, error) {
	conn, err := t.dial()
	if err != nil {
		return position{}, err
	}
	defer conn.Close()
	pos, err := t.beginSnapshot(conn)
	if err != nil {
		return position{}, err
	}
	if resume != nil {
		pos = resumePos // stream from where the first snapshot started
		t.log.Info("resuming the snapshot", "table", resume.table, "binlog", pos.file, "pos", pos.pos)
	} else {
		t.log.Info("snapshot started", "binlog", pos.file, "pos", pos.pos, "gtids", pos.gtids)
	}
	defs, err := t.c.loadTables(conn, nil)
	if err != nil {
		return position{}, fmt.Errorf("mysql-cdc snapshot: %w", err)
	}
	t.tables = map[string]*table{}
	for id, d := range defs {
		tb, err := t.c.buildTable(d)
		if err != nil {
			return position{}, fmt.Errorf("mysql-cdc snapshot: %w", err)
		}
		t.tables[id] = tb
	}
	t.saveHistory()
	ids := make([]string, 0, len(defs))
	for id := range defs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if resume == nil && t.c.schemaChanges {
		var recs []*connect.Record
		for _, id := range ids {
			ddl, err := showCreate(conn, defs[id])
			if err != nil {
				return position{}, err
			}
			recs = append(recs, t.schemaChangeRecord(defs[id].DB, ddl, []tableChange{{"CREATE", defs[id]}},
				&sourceInfo{ts: time.Now(), snapshot: "true", db: defs[id].DB, table: defs[id].Name, file: pos.file, pos: pos.pos, thread: -1},
				t.offsetMap(pos, &snapState{table: ids[0]})))
		}
		if err := t.emit(ctx, recs); err != nil {
			return position{}, err
		}
	}
	s := &snapWriter{t: t, ctx: ctx, pos: pos}
	for n, id := range ids {
		if resume != nil && id < resume.table {
			continue
		}
		var after []string
		if resume != nil && id == resume.table {
			after = resume.lastKey
		}
		if err := s.table(conn, t.tables[id], after, n == len(ids)-1); err != nil {
			return position{}, err
		}
	}
	if _, err := conn.Execute("COMMIT"); err != nil {
		return position{}, fmt.Errorf("mysql-cdc snapshot: commit: %w", err)
	}
	// The last snapshot record carries the streaming start, so a restart
	// after it streams instead of snapshotting again.
	if s.pending != nil {
		s.pending.SourceOffset = t.offsetMap(pos, nil)
	}
	if err := s.flush(true); err != nil {
		return position{}, err
	}
	t.log.Info("snapshot completed", "rows", s.rows, "tables", len(ids))
	return pos, nil
}

// beginSnapshot starts the snapshot transaction on conn and returns its
// binlog position.
func (t *Task) beginSnapshot(conn *client.Conn) (position, error) {
	if _, err := conn.Execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		return position{}, fmt.Errorf("mysql-cdc snapshot: %w", err)
	}
	if t.flavor == gomysql.MariaDBFlavor {
		if _, err := conn.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
			return position{}, fmt.Errorf("mysql-cdc snapshot: start transaction: %w", err)
		}
		r, err := conn.Execute("SHOW STATUS WHERE Variable_name IN ('binlog_snapshot_file', 'binlog_snapshot_position')")
		if err != nil {
			return position{}, fmt.Errorf("mysql-cdc snapshot: read the snapshot's binlog position: %w", err)
		}
		var p position
		for i := range r.RowNumber() {
			k, _ := r.GetString(i, 0)
			v, _ := r.GetString(i, 1)
			if strings.EqualFold(k, "binlog_snapshot_file") {
				p.file = v
			} else {
				var n uint64
				fmt.Sscan(v, &n)
				p.pos = uint32(n)
			}
		}
		if p.file == "" {
			return p, fmt.Errorf("mysql-cdc snapshot: the server reports no binlog_snapshot_file: is log_bin on?")
		}
		g, err := conn.Execute("SELECT BINLOG_GTID_POS(" + quoteString(p.file) + ", " + fmt.Sprint(p.pos) + ")")
		if err != nil {
			return p, fmt.Errorf("mysql-cdc snapshot: GTID of %s:%d: %w", p.file, p.pos, err)
		}
		p.gtids, _ = g.GetString(0, 0)
		return p, nil
	}
	// MySQL: hold the global read lock while the transaction starts.
	if t.c.lockMinimal {
		if _, err := t.query("FLUSH TABLES WITH READ LOCK"); err != nil {
			return position{}, fmt.Errorf("mysql-cdc snapshot: FLUSH TABLES WITH READ LOCK (needs RELOAD; or set snapshot.locking.mode=none): %w", err)
		}
		defer t.query("UNLOCK TABLES")
	}
	if _, err := conn.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		return position{}, fmt.Errorf("mysql-cdc snapshot: start transaction: %w", err)
	}
	return t.currentPosition()
}

func showCreate(conn *client.Conn, d *tableDef) (string, error) {
	r, err := conn.Execute("SHOW CREATE TABLE " + quoteIdent(d.DB) + "." + quoteIdent(d.Name))
	if err != nil {
		return "", fmt.Errorf("mysql-cdc snapshot: SHOW CREATE TABLE %s: %w", d.id(), err)
	}
	s, _ := r.GetString(0, 1)
	return s, nil
}

// snapWriter emits snapshot records in batches, holding back the last one
// so that it can be marked last_in_data_collection / last.
type snapWriter struct {
	t       *Task
	ctx     context.Context
	pos     position
	batch   []*connect.Record
	pending *connect.Record
	rows    int64
	first   bool
}

func (s *snapWriter) add(r *connect.Record) error {
	if s.pending != nil {
		s.batch = append(s.batch, s.pending)
	}
	s.pending = r
	if len(s.batch) >= 1024 {
		return s.flush(false)
	}
	return nil
}

func (s *snapWriter) flush(all bool) error {
	if all && s.pending != nil {
		s.batch = append(s.batch, s.pending)
		s.pending = nil
	}
	b := s.batch
	s.batch = nil
	return s.t.emit(s.ctx, b)
}

func snapshotMarker(r *connect.Record) any {
	return r.Value.(*connect.StructValue).Values[2].(*connect.StructValue).Values[4]
}

func markSnapshot(r *connect.Record, marker string) {
	env := r.Value.(*connect.StructValue)
	env.Values[2].(*connect.StructValue).Values[4] = marker
}

// table reads one table in key order after key after (nil: from the start).
func (s *snapWriter) table(conn *client.Conn, tb *table, after []string, lastTable bool) error {
	t := s.t
	d := tb.def
	cols := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	from := quoteIdent(d.DB) + "." + quoteIdent(d.Name)
	var keyList []string
	for _, ci := range tb.pkCols {
		keyList = append(keyList, quoteIdent(d.Columns[ci].Name))
	}
	firstInTable := true
	emitRow := func(vals []gomysql.FieldValue) error {
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = v.Value()
		}
		val, key, err := tb.rowStructs(row)
		if err != nil {
			return fmt.Errorf("mysql-cdc snapshot: %w", err)
		}
		snap := &snapState{table: d.id()}
		if len(tb.pkCols) > 0 {
			snap.lastKey = make([]string, len(tb.pkCols))
			for k, ci := range tb.pkCols {
				snap.lastKey[k] = keyLiteral(&d.Columns[ci], row[ci])
			}
		}
		marker := "true"
		if !s.first {
			marker, s.first = "first", true
		} else if firstInTable {
			marker = "first_in_data_collection"
		}
		firstInTable = false
		si := &sourceInfo{ts: time.Now(), snapshot: marker, db: d.DB, table: d.Name, serverID: 0, file: s.pos.file, pos: s.pos.pos, thread: -1}
		rec := t.changeRecord(tb, key, nil, val, "r", si, t.offsetMap(s.pos, snap))
		s.rows++
		return s.add(rec)
	}
	if len(tb.pkCols) == 0 {
		// No key to chunk by: one streaming query.
		var res gomysql.Result
		err := conn.ExecuteSelectStreaming("SELECT "+strings.Join(cols, ",")+" FROM "+from, &res,
			func(row []gomysql.FieldValue) error { return emitRow(row) }, nil)
		if err != nil {
			return fmt.Errorf("mysql-cdc snapshot: read %s: %w", d.id(), err)
		}
	} else {
		for {
			q := "SELECT " + strings.Join(cols, ",") + " FROM " + from
			if after != nil {
				q += " WHERE " + keyAfter(keyList, after)
			}
			q += " ORDER BY " + strings.Join(keyList, ",") + " LIMIT " + itoa(t.c.fetchSize)
			r, err := conn.Execute(q)
			if err != nil {
				return fmt.Errorf("mysql-cdc snapshot: read %s: %w", d.id(), err)
			}
			n := len(r.Values)
			for _, row := range r.Values {
				if err := emitRow(row); err != nil {
					return err
				}
			}
			if n < t.c.fetchSize {
				break
			}
			last := r.Values[n-1]
			after = make([]string, len(tb.pkCols))
			for k, ci := range tb.pkCols {
				after[k] = keyLiteral(&d.Columns[ci], last[ci].Value())
			}
		}
	}
	// Debezium's precedence: first, last, first_in_data_collection,
	// last_in_data_collection.
	if s.pending != nil && !firstInTable && snapshotMarker(s.pending) != "first" {
		if lastTable {
			markSnapshot(s.pending, "last")
		} else {
			markSnapshot(s.pending, "last_in_data_collection")
		}
	}
	return nil
}

// keyAfter is the condition "key > after" spelled out column by column
// (a > x OR (a = x AND b > y) ...), which every MariaDB/MySQL version turns
// into an index range; row-constructor comparisons are not optimized
// everywhere.
func keyAfter(cols, after []string) string {
	var or []string
	for i := range cols {
		var and []string
		for j := 0; j < i; j++ {
			and = append(and, cols[j]+" = "+after[j])
		}
		and = append(and, cols[i]+" > "+after[i])
		or = append(or, "("+strings.Join(and, " AND ")+")")
	}
	return "(" + strings.Join(or, " OR ") + ")"
}

// keyLiteral writes a key value read through the text protocol as an SQL
// literal for the next chunk's WHERE clause.
func keyLiteral(col *column, v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64, uint64, float64:
		return fmt.Sprint(x)
	case []byte:
		switch col.DataType {
		case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit":
			return "X'" + hex.EncodeToString(x) + "'"
		}
		return quoteString(string(x))
	case string:
		return quoteString(x)
	}
	return quoteString(fmt.Sprint(v))
}

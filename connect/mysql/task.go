package mysql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/sluicedata/sluice/connect"
)

// Connector is the mysql-cdc connector: one task reads the whole binlog.
type Connector struct{}

// TaskConfigs returns one task config: a binlog has one reader.
func (Connector) TaskConfigs(cfg connect.Config, _ int) ([]connect.Config, error) {
	if _, err := parseConf(cfg); err != nil {
		return nil, err
	}
	return []connect.Config{cfg}, nil
}

// NewTask returns a new task.
func (Connector) NewTask() connect.SourceTask { return &Task{} }

// Task streams one server's binlog.
type Task struct {
	c      *conf
	log    *slog.Logger
	part   map[string]any
	flavor string // gomysql.MariaDBFlavor or MySQLFlavor

	// Set by Start for the worker goroutine.
	start   startPlan
	out     chan []*connect.Record
	errc    chan error
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	conn    *client.Conn // queries (checks, schema reads)
	connMu  sync.Mutex
	tables  map[string]*table // captured tables by db.table
	history string            // JSON of the table definitions, cached for offsets
}

// position is a place in the binlog to resume from: the start of a
// transaction, the GTID set executed before it, and how much of it was
// emitted already.
type position struct {
	file  string
	pos   uint32
	gtids string
	event int // rows events of the transaction completed
	row   int // rows of the next rows event emitted
}

type startPlan struct {
	snapshot     bool // read the tables first
	resumeSnap   *snapState
	stream       bool
	pos          position
	storedSchema bool
}

// snapState is the progress of an interrupted snapshot.
type snapState struct {
	table   string   // db.table being read
	lastKey []string // text of the last emitted row's key columns
}

// Start checks the server and the stored offset, decides between snapshot
// and streaming, and starts the worker.
func (t *Task) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	c, err := parseConf(cfg)
	if err != nil {
		return err
	}
	t.c, t.log = c, tc.Logger().With("connector", tc.Connector(), "server", c.prefix)
	t.part = map[string]any{"server": c.prefix}
	if t.conn, err = t.dial(); err != nil {
		return err
	}
	if err := t.checkServer(); err != nil {
		t.conn.Close()
		return err
	}
	off, err := tc.Offset(t.part)
	if err != nil {
		t.conn.Close()
		return fmt.Errorf("mysql-cdc: read stored offset: %w", err)
	}
	if err := t.plan(off); err != nil {
		t.conn.Close()
		return err
	}
	t.out = make(chan []*connect.Record, 4)
	t.errc = make(chan error, 1)
	wctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if err := t.work(wctx); err != nil && wctx.Err() == nil {
			t.errc <- err
		}
	}()
	return nil
}

func (t *Task) dial() (*client.Conn, error) {
	addr := fmt.Sprintf("%s:%d", t.c.host, t.c.port)
	conn, err := client.ConnectWithTimeout(addr, t.c.user, t.c.password, "", t.c.connectTimeout)
	if err != nil {
		return nil, connect.Retriable{Err: fmt.Errorf("mysql-cdc: connect to %s as %q: %w", addr, t.c.user, err)}
	}
	// Text results of TIMESTAMP columns then read in UTC.
	if _, err := conn.Execute("SET time_zone = '+00:00'"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("mysql-cdc: set session time zone: %w", err)
	}
	return conn, nil
}

func (t *Task) query(q string) (*gomysql.Result, error) {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	return t.conn.Execute(q)
}

// checkServer verifies what streaming needs: a row-based binlog with full
// row images and the privileges to read it.
func (t *Task) checkServer() error {
	r, err := t.query("SELECT VERSION(), @@log_bin, @@binlog_format, @@binlog_row_image")
	if err != nil {
		return fmt.Errorf("mysql-cdc: read server variables: %w", err)
	}
	version, _ := r.GetString(0, 0)
	logBin, _ := r.GetInt(0, 1)
	format, _ := r.GetString(0, 2)
	image, _ := r.GetString(0, 3)
	t.flavor = gomysql.MySQLFlavor
	if strings.Contains(strings.ToLower(version), "mariadb") {
		t.flavor = gomysql.MariaDBFlavor
	}
	var problems []string
	if logBin != 1 {
		problems = append(problems, "binary logging is off (log_bin=OFF): start the server with log_bin (e.g. log_bin=mariadb-bin in [mysqld])")
	}
	if !strings.EqualFold(format, "ROW") {
		problems = append(problems, fmt.Sprintf("binlog_format is %s, the connector needs ROW: SET GLOBAL binlog_format=ROW and set it in the server config", format))
	}
	if !strings.EqualFold(image, "FULL") {
		problems = append(problems, fmt.Sprintf("binlog_row_image is %s, the connector needs FULL: SET GLOBAL binlog_row_image=FULL and set it in the server config", image))
	}
	if len(problems) > 0 {
		return fmt.Errorf("mysql-cdc: server %s:%d cannot be captured: %s", t.c.host, t.c.port, strings.Join(problems, "; "))
	}
	if m, err := t.query("SELECT @@binlog_row_metadata"); err == nil {
		if v, _ := m.GetString(0, 0); !strings.EqualFold(v, "FULL") {
			t.log.Warn("binlog_row_metadata is not FULL: rows written before a DDL the task has not read yet cannot be decoded by column name; set binlog_row_metadata=FULL", "binlog_row_metadata", v)
		}
	}
	return t.checkGrants()
}

// checkGrants reads SHOW GRANTS and names every missing privilege.
func (t *Task) checkGrants() error {
	r, err := t.query("SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		return fmt.Errorf("mysql-cdc: read the user's grants: %w", err)
	}
	global := map[string]bool{}
	selectAnywhere := false
	for i := range r.RowNumber() {
		g, _ := r.GetString(i, 0)
		m := grantRe.FindStringSubmatch(g)
		if m == nil {
			continue
		}
		privs := strings.Split(strings.ToUpper(m[1]), ",")
		for _, p := range privs {
			p = strings.TrimSpace(p)
			if m[2] == "*.*" {
				global[p] = true
			}
			if p == "SELECT" || p == "ALL PRIVILEGES" || p == "ALL" {
				selectAnywhere = true
			}
		}
	}
	all := global["ALL PRIVILEGES"] || global["ALL"]
	var missing []string
	if !all && !global["REPLICATION SLAVE"] {
		missing = append(missing, "REPLICATION SLAVE")
	}
	if !all && !global["REPLICATION CLIENT"] && !global["BINLOG MONITOR"] && !global["SUPER"] {
		missing = append(missing, "REPLICATION CLIENT (BINLOG MONITOR on MariaDB)")
	}
	if !selectAnywhere {
		missing = append(missing, "SELECT")
	}
	if len(missing) > 0 {
		return fmt.Errorf("mysql-cdc: user %q lacks the privileges %s: GRANT %s ON *.* TO the connector's user",
			t.c.user, strings.Join(missing, ", "), strings.Join(grantNames(missing), ", "))
	}
	return nil
}

var grantRe = regexp.MustCompile(`(?i)^GRANT (.+?) ON (\S+) TO `)

func grantNames(missing []string) []string {
	out := make([]string, len(missing))
	for i, m := range missing {
		out[i], _, _ = strings.Cut(m, " (")
	}
	return out
}

// plan reads the stored offset and decides what the worker does.
func (t *Task) plan(off map[string]any) error {
	mode := t.c.snapshotMode
	p := &t.start
	if off == nil {
		switch mode {
		case "initial", "initial_only", "when_needed":
			p.snapshot = true
			p.stream = mode != "initial_only"
		case "no_data", "recovery":
			p.stream = true
			pos, err := t.currentPosition()
			if err != nil {
				return err
			}
			p.pos = pos
			// Definitions as close to the position as possible; a DDL in
			// between is corrected by the binlog's Table_map metadata.
			return t.reloadAll()
		}
		return nil
	}
	pos, snap, schema, err := readOffset(off)
	if err != nil {
		return fmt.Errorf("mysql-cdc: stored offset %v: %w", off, err)
	}
	if snap != nil {
		if mode == "no_data" || mode == "recovery" {
			return fmt.Errorf("mysql-cdc: the stored offset is in the middle of a snapshot, but snapshot.mode=%s does not snapshot: use snapshot.mode=initial to finish it", mode)
		}
		p.snapshot, p.resumeSnap, p.pos = true, snap, pos
		p.stream = mode != "initial_only"
	} else {
		if mode == "initial_only" {
			t.log.Info("snapshot completed earlier and snapshot.mode=initial_only: nothing to do")
			return nil
		}
		p.stream, p.pos = true, pos
	}
	if err := t.validatePosition(pos); err != nil {
		if mode == "when_needed" {
			t.log.Warn("stored binlog position is unusable, taking a new snapshot (snapshot.mode=when_needed)", "err", err)
			*p = startPlan{snapshot: true, stream: true}
			return nil
		}
		return err
	}
	if schema != "" && mode != "recovery" {
		var defs []*tableDef
		if err := json.Unmarshal([]byte(schema), &defs); err != nil {
			return fmt.Errorf("mysql-cdc: stored schema history: %w", err)
		}
		t.tables = map[string]*table{}
		for _, d := range defs {
			tb, err := t.c.buildTable(d)
			if err != nil {
				return fmt.Errorf("mysql-cdc: stored schema history: %w", err)
			}
			t.tables[d.id()] = tb
		}
		t.history = schema
		p.storedSchema = true
	}
	return nil
}

func num(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint32:
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// readOffset parses an offset written by offsetMap.
func readOffset(off map[string]any) (position, *snapState, string, error) {
	var p position
	p.file, _ = off["file"].(string)
	pos, ok := num(off["pos"])
	if p.file == "" || !ok {
		return p, nil, "", errors.New("no binlog file and position")
	}
	p.pos = uint32(pos)
	p.gtids, _ = off["gtids"].(string)
	if n, ok := num(off["event"]); ok {
		p.event = int(n)
	}
	if n, ok := num(off["row"]); ok {
		p.row = int(n)
	}
	schema, _ := off["schema"].(string)
	var snap *snapState
	if b, _ := off["snapshot"].(bool); b {
		snap = &snapState{}
		snap.table, _ = off["snapshot_table"].(string)
		if k, _ := off["snapshot_key"].(string); k != "" {
			if err := json.Unmarshal([]byte(k), &snap.lastKey); err != nil {
				return p, nil, "", fmt.Errorf("snapshot_key: %w", err)
			}
		}
	}
	return p, snap, schema, nil
}

// offsetMap is the source offset of a position, Debezium's keys plus the
// schema history.
func (t *Task) offsetMap(p position, snap *snapState) map[string]any {
	m := map[string]any{"file": p.file, "pos": int64(p.pos), "event": p.event, "row": p.row, "schema": t.history}
	if p.gtids != "" {
		m["gtids"] = p.gtids
	}
	if snap != nil {
		m["snapshot"] = true
		m["snapshot_table"] = snap.table
		if snap.lastKey != nil {
			b, _ := json.Marshal(snap.lastKey)
			m["snapshot_key"] = string(b)
		}
	}
	return m
}

// offsetBase holds the boxed parts of a transaction's offsets, so that the
// per-row offsets of a rows event cost one map each.
type offsetBase struct {
	file, pos, gtids, schema any
	hasGtids                 bool
}

func (t *Task) offsetBase(p position) *offsetBase {
	return &offsetBase{file: p.file, pos: int64(p.pos), gtids: p.gtids, schema: t.history, hasGtids: p.gtids != ""}
}

func (b *offsetBase) at(event, row int) map[string]any {
	m := make(map[string]any, 6)
	m["file"], m["pos"], m["event"], m["row"], m["schema"] = b.file, b.pos, event, row, b.schema
	if b.hasGtids {
		m["gtids"] = b.gtids
	}
	return m
}

// currentPosition reads the server's binlog end.
func (t *Task) currentPosition() (position, error) {
	r, err := t.query("SHOW MASTER STATUS")
	if err != nil {
		// MySQL 8.4 renamed it.
		var err2 error
		if r, err2 = t.query("SHOW BINARY LOG STATUS"); err2 != nil {
			return position{}, fmt.Errorf("mysql-cdc: SHOW MASTER STATUS: %w", err)
		}
	}
	if r.RowNumber() == 0 {
		return position{}, errors.New("mysql-cdc: SHOW MASTER STATUS returned nothing: is log_bin on?")
	}
	var p position
	p.file, _ = r.GetString(0, 0)
	pos, _ := r.GetUint(0, 1)
	p.pos = uint32(pos)
	if t.flavor == gomysql.MariaDBFlavor {
		g, err := t.query("SELECT @@gtid_binlog_pos")
		if err != nil {
			return p, fmt.Errorf("mysql-cdc: read gtid_binlog_pos: %w", err)
		}
		p.gtids, _ = g.GetString(0, 0)
	} else if len(r.Fields) >= 5 {
		p.gtids, _ = r.GetString(0, 4)
	}
	return p, nil
}

// validatePosition fails when pos is no longer in the server's binlogs.
func (t *Task) validatePosition(pos position) error {
	r, err := t.query("SHOW BINARY LOGS")
	if err != nil {
		return fmt.Errorf("mysql-cdc: SHOW BINARY LOGS: %w", err)
	}
	var files []string
	for i := range r.RowNumber() {
		f, _ := r.GetString(i, 0)
		files = append(files, f)
	}
	if len(files) == 0 {
		return errors.New("mysql-cdc: the server has no binary logs")
	}
	purged := func(why string) error {
		return fmt.Errorf("mysql-cdc: the stored binlog position (file %s, pos %d, gtids %q) is no longer on the server: %s; the connector cannot resume without losing events: delete the connector's offsets and restart it, or set snapshot.mode=when_needed to take a new snapshot", pos.file, pos.pos, pos.gtids, why)
	}
	if pos.gtids != "" && t.flavor == gomysql.MariaDBFlavor {
		// The first binlog's Gtid_list holds the last GTID per domain
		// before it: a stored GTID below it was purged.
		ev, err := t.query("SHOW BINLOG EVENTS IN " + quoteString(files[0]) + " LIMIT 4")
		if err != nil {
			return fmt.Errorf("mysql-cdc: read the first binlog %s: %w", files[0], err)
		}
		for i := range ev.RowNumber() {
			typ, _ := ev.GetString(i, 2)
			if typ != "Gtid_list" {
				continue
			}
			info, _ := ev.GetString(i, 5)
			missing, err := gtidsPurged(pos.gtids, info)
			if err != nil {
				return fmt.Errorf("mysql-cdc: %w", err)
			}
			if missing != "" {
				return purged(fmt.Sprintf("the oldest binlog %s starts after GTID %s", files[0], missing))
			}
		}
		return nil
	}
	if pos.gtids != "" {
		return nil // MySQL: the server refuses a purged GTID set when streaming starts
	}
	for _, f := range files {
		if f == pos.file {
			return nil
		}
	}
	return purged(fmt.Sprintf("binlog %s is not among %s..%s", pos.file, files[0], files[len(files)-1]))
}

// gtidsPurged compares a stored MariaDB GTID position with the Gtid_list
// event of the oldest binlog ("[0-1-100,1-2-7]": the last GTID of each
// domain before that file). It returns the first listed GTID the stored
// position has not reached, or "".
func gtidsPurged(stored, gtidList string) (string, error) {
	set, err := gomysql.ParseMariadbGTIDSet(stored)
	if err != nil {
		return "", fmt.Errorf("stored gtids %q: %w", stored, err)
	}
	ss := set.(*gomysql.MariadbGTIDSet)
	for _, g := range strings.Split(strings.Trim(strings.TrimSpace(gtidList), "[]"), ",") {
		if g = strings.TrimSpace(g); g == "" {
			continue
		}
		first, err := gomysql.ParseMariadbGTID(g)
		if err != nil {
			return "", fmt.Errorf("Gtid_list %q: %w", gtidList, err)
		}
		have, ok := ss.Sets[first.DomainID]
		if !ok || have.SequenceNumber < first.SequenceNumber {
			return g, nil
		}
	}
	return "", nil
}

// Poll returns the next batch of records.
func (t *Task) Poll(ctx context.Context) ([]*connect.Record, error) {
	select {
	case recs, ok := <-t.out:
		if !ok { // the worker ended: with an error, or after initial_only
			select {
			case err := <-t.errc:
				return nil, err
			case <-ctx.Done():
				return nil, nil
			}
		}
		return recs, nil
	case err := <-t.errc:
		return nil, err
	case <-ctx.Done():
		return nil, nil
	}
}

// Commit has nothing to acknowledge: the binlog is not consumed, positions
// live in the offsets.
func (t *Task) Commit(context.Context) error { return nil }

// The task takes checkpoint commits (connect.CheckpointingSourceTask), with
// nothing in them: the runtime need not stop polling until every batch in
// flight is stored only to call a Commit that does nothing.
var _ connect.CheckpointingSourceTask = (*Task)(nil)

// Checkpoint has nothing to name: see Commit.
func (t *Task) Checkpoint() any { return nil }

// CommitCheckpoint has nothing to acknowledge: see Commit.
func (t *Task) CommitCheckpoint(context.Context, any) error { return nil }

// Stop ends the worker and closes the connections.
func (t *Task) Stop() error {
	if t.cancel != nil {
		t.cancel()
		t.wg.Wait()
	}
	if t.conn != nil {
		t.conn.Close()
	}
	return nil
}

func (t *Task) work(ctx context.Context) error {
	defer close(t.out)
	if t.tables == nil || t.start.snapshot {
		if t.start.snapshot {
			pos, err := t.snapshot(ctx, t.start.resumeSnap, t.start.pos)
			if err != nil {
				return err
			}
			t.start.pos = pos
		} else if err := t.reloadAll(); err != nil {
			return err
		}
	}
	if !t.start.stream {
		t.log.Info("snapshot completed; snapshot.mode=initial_only: not streaming")
		return nil
	}
	return t.stream(ctx, t.start.pos)
}

// reloadAll reads every captured table's definition from the server.
func (t *Task) reloadAll() error {
	t.connMu.Lock()
	defs, err := t.c.loadTables(t.conn, nil)
	t.connMu.Unlock()
	if err != nil {
		return fmt.Errorf("mysql-cdc: %w", err)
	}
	t.tables = map[string]*table{}
	for id, d := range defs {
		tb, err := t.c.buildTable(d)
		if err != nil {
			return fmt.Errorf("mysql-cdc: %w", err)
		}
		t.tables[id] = tb
	}
	t.saveHistory()
	return nil
}

// saveHistory refreshes the JSON of the table definitions kept in offsets.
func (t *Task) saveHistory() {
	ids := make([]string, 0, len(t.tables))
	for id := range t.tables {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	defs := make([]*tableDef, len(ids))
	for i, id := range ids {
		defs[i] = t.tables[id].def
	}
	b, _ := json.Marshal(defs)
	t.history = string(b)
}

func (t *Task) emit(ctx context.Context, recs []*connect.Record) error {
	if len(recs) == 0 {
		return nil
	}
	select {
	case t.out <- recs:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

var _ = time.Now

package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedata/sluice/connect"
)

// Task is the single task of a postgres-cdc connector. One goroutine (run)
// owns both connections: it takes the snapshot, then reads the replication
// stream, and hands changes to Poll through a bounded queue. Commit moves the
// LSN the slot may be confirmed to; run sends it to the server.
//
// Acknowledgement invariant: the slot is confirmed only up to the end of a
// transaction every record of which was returned by Poll before a Commit
// (so the runtime stored it), or, when nothing at all is in flight, up to the
// WAL end of a keepalive.
type Task struct {
	c   *conf
	log *slog.Logger
	tc  connect.TaskContext

	db   *pgx.Conn      // catalog and snapshot queries
	repl *pgconn.PgConn // replication protocol

	partition map[string]any
	plan      plan

	queue chan []item // batches of items, in stream order
	out   []item      // items of run not yet queued (emit, flush)
	// idleWait replaces the package's idleWait when set (tests).
	idleWait time.Duration
	errc     chan error
	cancel   context.CancelFunc
	done     chan struct{}

	mu        sync.Mutex
	handedLSN uint64 // end LSN of the last transaction fully returned by Poll
	handedN   int64  // items returned by Poll
	pending   []item // taken from the queue but not yet returned (batch cut)

	ackLSN    atomic.Uint64 // may be confirmed to the server
	pushedN   atomic.Int64  // items queued by run
	committed atomic.Int64  // items returned by Poll and stored (Commit, CommitCheckpoint)

	tables        map[uint32]*table // by relation id
	types         map[uint32]*pgType
	metrics       *taskMetrics
	finished      atomic.Bool           // initial_only: snapshot done, nothing more will come
	failed        atomic.Pointer[error] // the error run ended with, returned by every later Poll
	signalRef     *tableRef             // the signal table, added to a filtered publication
	signal        *signalTable          // the signal table's relation, once seen
	inc           *incState             // running incremental snapshot
	lastQueued    queuedPos
	serverVersion int
	// lastCommitted is the commit LSN of the last streamed transaction.
	lastCommitted uint64
}

// item is one unit of the queue: the records of one change, or the end of
// a transaction (commitEnd > 0).
type item struct {
	recs      []*connect.Record
	commitEnd uint64
}

// plan is what Start decided.
type plan struct {
	snapshot     bool
	exported     string // snapshot name exported by CREATE_REPLICATION_SLOT
	resumeTable  string // snapshot resumes at this table ...
	resumeKey    []string
	stream       bool
	startLSN     uint64
	skipCommit   uint64 // replayed transactions up to here were delivered
	skipSerial   int64
	skipTxDone   bool
	snapshotDone bool
}

// Start connects, checks the server, prepares publication and slot and decides
// between snapshot, resume and streaming.
func (t *Task) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	t.tc = tc
	t.log = tc.Logger()
	if t.log == nil {
		t.log = slog.Default()
	}
	c, err := parseConf(cfg, t.log)
	if err != nil {
		return err
	}
	t.c = c
	t.partition = map[string]any{"server": c.topicPrefix}
	t.tables = map[uint32]*table{}
	t.types = map[uint32]*pgType{}

	if err := t.connect(ctx); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			t.closeConns()
			t.metrics.unregister()
		}
	}()
	t.metrics = newTaskMetrics(c.topicPrefix)
	if err := t.checkServer(ctx); err != nil {
		return err
	}
	if err := t.connectReplication(ctx); err != nil {
		return err
	}
	tables, err := t.capturedTables(ctx)
	if err != nil {
		return err
	}
	if err := t.checkTablePrivileges(ctx, tables); err != nil {
		return err
	}
	if err := t.ensurePublication(ctx, tables); err != nil {
		return err
	}
	off, err := tc.Offset(t.partition)
	if err != nil {
		return fmt.Errorf("postgres-cdc: read stored offset: %w", err)
	}
	if err := t.decide(ctx, off); err != nil {
		return err
	}
	t.queue = make(chan []item, max(2, c.maxQueue/t.chunkSize()))
	t.errc = make(chan error, 1)
	t.done = make(chan struct{})
	rctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.ackLSN.Store(t.plan.startLSN)
	t.lastQueued = queuedPos{commit: t.plan.skipCommit, serial: t.plan.skipSerial, txDone: t.plan.skipTxDone}
	go t.run(rctx, tables)
	ok = true
	return nil
}

func (t *Task) connect(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(t.c.connString(false))
	if err != nil {
		return fmt.Errorf("postgres-cdc: connection settings: %w", err)
	}
	setSessionParams(cfg.RuntimeParams)
	if t.db, err = pgx.ConnectConfig(ctx, cfg); err != nil {
		return connect.Retriable{Err: fmt.Errorf("postgres-cdc: connect to %s:%d database %s: %w", t.c.host, t.c.port, t.c.dbname, err)}
	}
	return nil
}

func (t *Task) connectReplication(ctx context.Context) error {
	rcfg, err := pgconn.ParseConfig(t.c.connString(true))
	if err != nil {
		return fmt.Errorf("postgres-cdc: replication connection settings: %w", err)
	}
	setSessionParams(rcfg.RuntimeParams)
	if t.repl, err = pgconn.ConnectConfig(ctx, rcfg); err != nil {
		if strings.Contains(err.Error(), "replication") || strings.Contains(err.Error(), "pg_hba") {
			return fmt.Errorf("postgres-cdc: open a replication connection as %q: %w (the role needs the REPLICATION attribute and pg_hba.conf must allow replication connections)", t.c.user, err)
		}
		return connect.Retriable{Err: fmt.Errorf("postgres-cdc: open replication connection: %w", err)}
	}
	return nil
}

// setSessionParams fixes the text forms the decoders read, for both the
// snapshot session and the walsender that runs pgoutput's output functions.
func setSessionParams(p map[string]string) {
	p["DateStyle"] = "ISO, MDY"
	p["IntervalStyle"] = "iso_8601"
	p["TimeZone"] = "UTC"
	p["extra_float_digits"] = "3"
	p["bytea_output"] = "hex"
	p["lc_monetary"] = "C"
}

func (t *Task) closeConns() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if t.repl != nil {
		_ = t.repl.Close(ctx)
	}
	if t.db != nil && !t.db.IsClosed() {
		_ = t.db.Close(ctx)
	}
}

// checkServer checks wal_level and the role's REPLICATION attribute and says
// exactly what is missing.
func (t *Task) checkServer(ctx context.Context) error {
	var walLevel string
	if err := t.db.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return fmt.Errorf("postgres-cdc: read wal_level: %w", err)
	}
	if walLevel != "logical" {
		return fmt.Errorf("postgres-cdc: server %s:%d has wal_level=%s; logical decoding needs wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL)", t.c.host, t.c.port, walLevel)
	}
	if err := t.db.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&t.serverVersion); err != nil {
		return fmt.Errorf("postgres-cdc: read server_version_num: %w", err)
	}
	var repl, super bool
	if err := t.db.QueryRow(ctx, "SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&repl, &super); err != nil {
		return fmt.Errorf("postgres-cdc: read the attributes of role %q: %w", t.c.user, err)
	}
	if !repl && !super {
		return fmt.Errorf("postgres-cdc: role %q lacks the REPLICATION attribute needed to read a replication slot (ALTER ROLE %s WITH REPLICATION)", t.c.user, pgx.Identifier{t.c.user}.Sanitize())
	}
	return nil
}

type tableRef struct {
	oid          uint32
	schema, name string
}

func (r tableRef) id() string { return r.schema + "." + r.name }

func (t *Task) capturedTables(ctx context.Context) ([]tableRef, error) {
	rows, err := t.db.Query(ctx, `SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY n.nspname, c.relname`)
	if err != nil {
		return nil, fmt.Errorf("postgres-cdc: list tables: %w", err)
	}
	var out []tableRef
	for rows.Next() {
		var r tableRef
		if err := rows.Scan(&r.oid, &r.schema, &r.name); err != nil {
			return nil, err
		}
		if r.id() == t.c.signalTable {
			t.signalRef = &r
			continue
		}
		if t.c.tableIncluded(r.schema, r.name) {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

func (t *Task) checkTablePrivileges(ctx context.Context, tables []tableRef) error {
	var missing []string
	for _, r := range tables {
		var ok bool
		if err := t.db.QueryRow(ctx, "SELECT has_table_privilege($1::oid, 'SELECT')", r.oid).Scan(&ok); err != nil {
			return fmt.Errorf("postgres-cdc: check privileges on %s: %w", r.id(), err)
		}
		if !ok {
			missing = append(missing, r.id())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("postgres-cdc: role %q has no SELECT privilege on %s (GRANT SELECT ON %s TO %s, or narrow table.include.list)",
			t.c.user, strings.Join(missing, ", "), strings.Join(missing, ", "), t.c.user)
	}
	return nil
}

func (t *Task) ensurePublication(ctx context.Context, tables []tableRef) error {
	var all bool
	err := t.db.QueryRow(ctx, "SELECT puballtables FROM pg_publication WHERE pubname = $1", t.c.publication).Scan(&all)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres-cdc: look up publication %q: %w", t.c.publication, err)
	}
	pub := pgx.Identifier{t.c.publication}.Sanitize()
	var list []string
	for _, r := range tables {
		list = append(list, pgx.Identifier{r.schema, r.name}.Sanitize())
	}
	if t.signalRef != nil {
		list = append(list, pgx.Identifier{t.signalRef.schema, t.signalRef.name}.Sanitize())
	} else if t.c.signalTable != "" {
		return fmt.Errorf("postgres-cdc: signal.data.collection %s does not exist (CREATE TABLE %s (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048)))", t.c.signalTable, t.c.signalTable)
	}
	with := ""
	if t.c.viaRoot {
		with = " WITH (publish_via_partition_root = true)"
	}
	switch {
	case exists && t.c.autoPub == "filtered" && !all && len(list) > 0:
		_, err = t.db.Exec(ctx, "ALTER PUBLICATION "+pub+" SET TABLE "+strings.Join(list, ", "))
		if err == nil && t.c.viaRoot {
			_, err = t.db.Exec(ctx, "ALTER PUBLICATION "+pub+" SET (publish_via_partition_root = true)")
		}
	case exists:
		return nil
	case t.c.autoPub == "disabled":
		return fmt.Errorf("postgres-cdc: publication %q does not exist and publication.autocreate.mode=disabled (CREATE PUBLICATION %s FOR TABLE ..., or change the mode)", t.c.publication, pub)
	case t.c.autoPub == "no_tables":
		_, err = t.db.Exec(ctx, "CREATE PUBLICATION "+pub+with)
	case t.c.autoPub == "filtered":
		if len(list) == 0 {
			return fmt.Errorf("postgres-cdc: no table matches the include/exclude lists, so the filtered publication %q would be empty", t.c.publication)
		}
		_, err = t.db.Exec(ctx, "CREATE PUBLICATION "+pub+" FOR TABLE "+strings.Join(list, ", ")+with)
	default:
		_, err = t.db.Exec(ctx, "CREATE PUBLICATION "+pub+" FOR ALL TABLES"+with)
	}
	if err != nil {
		return fmt.Errorf("postgres-cdc: create or alter publication %q (mode %s): %w (creating a publication needs CREATE on the database, FOR ALL TABLES needs superuser)", t.c.publication, t.c.autoPub, err)
	}
	return nil
}

// storedOffset is the part of the offset Start reads back.
type storedOffset struct {
	snapshotDone bool
	table        string
	key          []string
	lsnCommit    uint64
	serial       int64
	txDone       bool
}

func readOffset(off map[string]any) (storedOffset, error) {
	var s storedOffset
	num := func(k string) (uint64, error) {
		switch v := off[k].(type) {
		case nil:
			return 0, nil
		case float64:
			return uint64(v), nil
		case int64:
			return uint64(v), nil
		case uint64:
			return v, nil
		case interface{ Int64() (int64, error) }:
			n, err := v.Int64()
			return uint64(n), err
		}
		return 0, fmt.Errorf("offset key %s: unexpected %T", k, off[k])
	}
	var err error
	if s.lsnCommit, err = num("lsn_commit"); err != nil {
		return s, err
	}
	ser, err := num("event_serial")
	if err != nil {
		return s, err
	}
	s.serial = int64(ser)
	s.txDone, _ = off["tx_done"].(bool)
	snap, _ := off["snapshot"].(bool)
	s.snapshotDone = !snap || off["snapshot_completed"] == true
	s.table, _ = off["snapshot_table"].(string)
	if ks, ok := off["snapshot_key"].([]any); ok {
		for _, k := range ks {
			str, _ := k.(string)
			s.key = append(s.key, str)
		}
	}
	return s, nil
}

type slotState struct {
	exists    bool
	confirmed uint64
	plugin    string
	database  string
	active    bool
}

func (t *Task) slot(ctx context.Context) (slotState, error) {
	var s slotState
	var lsn *string
	err := t.db.QueryRow(ctx, "SELECT confirmed_flush_lsn::text, plugin, database, active FROM pg_replication_slots WHERE slot_name = $1", t.c.slot).
		Scan(&lsn, &s.plugin, &s.database, &s.active)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("postgres-cdc: look up slot %q: %w", t.c.slot, err)
	}
	s.exists = true
	if lsn != nil {
		l, err := pglogrepl.ParseLSN(*lsn)
		if err != nil {
			return s, err
		}
		s.confirmed = uint64(l)
	}
	if s.plugin != "pgoutput" || s.database != t.c.dbname {
		return s, fmt.Errorf("postgres-cdc: slot %q exists for plugin %s on database %s, not pgoutput on %s: choose another slot.name", t.c.slot, s.plugin, s.database, t.c.dbname)
	}
	if s.active {
		return s, errSlotActive
	}
	return s, nil
}

var errSlotActive = errors.New("slot in use")

// slotWhenFree waits for the slot to be released, as a task restarted right
// after its predecessor finds the old walsender still exiting (Debezium's
// slot.max.retries and slot.retry.delay.ms bound the wait).
func (t *Task) slotWhenFree(ctx context.Context) (slotState, error) {
	deadline := time.Now().Add(time.Duration(t.c.slotRetries*t.c.slotRetryDelay) * time.Millisecond)
	for {
		s, err := t.slot(ctx)
		if !errors.Is(err, errSlotActive) {
			return s, err
		}
		if time.Now().After(deadline) {
			return s, connect.Retriable{Err: fmt.Errorf("postgres-cdc: slot %q is in use by another connection (another connector with the same slot.name?)", t.c.slot)}
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// createSlot creates the slot; with export it keeps the snapshot of the
// slot's consistent point open for the snapshot transaction to import.
func (t *Task) createSlot(ctx context.Context, export bool) (uint64, string, error) {
	action := "NOEXPORT_SNAPSHOT"
	if export {
		action = "EXPORT_SNAPSHOT"
	}
	res, err := pglogrepl.CreateReplicationSlot(ctx, t.repl, pgx.Identifier{t.c.slot}.Sanitize(), "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: action})
	if err != nil {
		return 0, "", fmt.Errorf("postgres-cdc: create replication slot %q: %w (max_replication_slots may be exhausted)", t.c.slot, err)
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return 0, "", err
	}
	t.log.Info("created replication slot", "slot", t.c.slot, "consistent_point", res.ConsistentPoint, "snapshot", res.SnapshotName)
	return uint64(lsn), res.SnapshotName, nil
}

func (t *Task) decide(ctx context.Context, off map[string]any) error {
	s, err := t.slotWhenFree(ctx)
	if err != nil {
		return err
	}
	mode := t.c.snapshotMode
	p := &t.plan
	p.stream = mode != "initial_only"
	fresh := func(snapshot bool) error {
		lsn, name, err := t.createSlot(ctx, snapshot)
		if err != nil {
			return err
		}
		p.startLSN, p.exported, p.snapshot = lsn, name, snapshot
		return nil
	}
	if off == nil {
		snapshot := mode != "no_data"
		if !s.exists {
			return fresh(snapshot)
		}
		// A slot left by an earlier run that stored no offset: snapshot now,
		// stream from the slot (changes since its position replay: duplicates,
		// no loss).
		p.startLSN, p.snapshot = s.confirmed, snapshot
		return nil
	}
	o, err := readOffset(off)
	if err != nil {
		return fmt.Errorf("postgres-cdc: stored offset %v: %w", off, err)
	}
	if !o.snapshotDone {
		if !s.exists {
			return fresh(true) // nothing was streamed yet: start the snapshot over
		}
		p.snapshot, p.resumeTable, p.resumeKey, p.startLSN = true, o.table, o.key, s.confirmed
		t.log.Info("resuming the snapshot", "table", o.table, "after_key", o.key)
		return nil
	}
	p.snapshotDone = true
	if mode == "initial_only" {
		t.finished.Store(true)
		return nil
	}
	if !s.exists {
		if mode == "when_needed" {
			t.log.Warn("replication slot is gone: taking a new snapshot (snapshot.mode=when_needed)", "slot", t.c.slot, "offset_lsn", pglogrepl.LSN(o.lsnCommit))
			return fresh(true)
		}
		return fmt.Errorf("postgres-cdc: replication slot %q does not exist, but offsets of server %q say streaming reached LSN %s: changes after it may be lost. "+
			"Set snapshot.mode=when_needed to take a new snapshot, or delete the connector's offsets to start over", t.c.slot, t.c.topicPrefix, pglogrepl.LSN(o.lsnCommit))
	}
	if s.confirmed > o.lsnCommit && o.lsnCommit > 0 {
		switch t.c.mismatch {
		case "trust_offset":
			return fmt.Errorf("postgres-cdc: slot %q was confirmed to LSN %s, past the stored offset LSN %s: changes in between cannot be replayed (offset.mismatch.strategy=trust_offset). "+
				"Use another strategy to continue from the slot, or delete the offsets and the slot to start over with a snapshot", t.c.slot, pglogrepl.LSN(s.confirmed), pglogrepl.LSN(o.lsnCommit))
		case "trust_slot":
		default:
			t.log.Info("slot confirmed past the stored offset's transaction: streaming from the slot (acknowledged transaction ends and idle keepalives do this; a recreated slot would mean lost changes)",
				"slot", t.c.slot, "slot_lsn", pglogrepl.LSN(s.confirmed), "offset_lsn", pglogrepl.LSN(o.lsnCommit))
		}
	}
	p.startLSN = s.confirmed
	p.skipCommit, p.skipSerial, p.skipTxDone = o.lsnCommit, o.serial, o.txDone
	if s.confirmed < o.lsnCommit {
		// The slot is behind the offset (restored server, failover to a
		// lagging replica): PostgreSQL replays what was delivered. By default
		// the replay is skipped up to the offset; trust_slot emits it again.
		if t.c.mismatch == "trust_slot" {
			p.skipCommit, p.skipSerial, p.skipTxDone = 0, 0, false
		}
		t.log.Warn("slot is behind the stored offset", "slot", t.c.slot, "slot_lsn", pglogrepl.LSN(s.confirmed),
			"offset_lsn", pglogrepl.LSN(o.lsnCommit), "replayed_changes", map[bool]string{true: "emitted again (trust_slot)", false: "skipped up to the offset"}[t.c.mismatch == "trust_slot"])
	}
	if st, _ := off["incremental_snapshot"].(string); st != "" {
		inc := &incState{needChunk: true}
		if err := json.Unmarshal([]byte(st), inc); err != nil {
			return fmt.Errorf("postgres-cdc: stored incremental snapshot state %q: %w", st, err)
		}
		t.inc = inc
		t.log.Info("resuming the incremental snapshot", "tables", inc.Tables, "after_key", inc.Key)
	}
	if mode == "always" {
		p.snapshot = true
	}
	return nil
}

// idleWait is how long Poll waits for records after it took only the ends
// of transactions whose records an earlier Poll returned.
const idleWait = 100 * time.Millisecond

// Poll returns the queued changes: it blocks for the first, then takes what
// else is ready up to max.batch.size.
//
// It returns no records only when the source is idle: the runtime answers
// an empty batch by waiting for every batch in flight to be stored (so it
// can Commit), and at thousands of small transactions a second, handing it
// a transaction's end alone stalled the poll loop for a produce round trip
// again and again. So after taking only such ends, Poll waits up to
// idleWait for records.
func (t *Task) Poll(ctx context.Context) ([]*connect.Record, error) {
	out, _, err := t.poll(ctx, nil)
	if err != nil || len(out) > 0 || ctx.Err() != nil {
		return out, err
	}
	wait := idleWait
	if t.idleWait > 0 {
		wait = t.idleWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		var idle bool
		out, idle, err = t.poll(ctx, timer.C)
		if err != nil || len(out) > 0 || idle || ctx.Err() != nil {
			return out, err
		}
	}
}

// poll takes the pending items, or waits for a batch (until timeout fires,
// if given: idle), then what else is queued, and hands out their records.
func (t *Task) poll(ctx context.Context, timeout <-chan time.Time) (_ []*connect.Record, idle bool, _ error) {
	t.mu.Lock()
	pending := t.pending
	t.pending = nil
	t.mu.Unlock()
	items := pending
	if len(items) == 0 {
		if err := t.failed.Load(); err != nil {
			return nil, false, *err
		}
		select {
		case chunk := <-t.queue:
			items = append(items, chunk...)
		case err := <-t.errc:
			t.failed.Store(&err)
			return nil, false, err
		case <-ctx.Done():
			return nil, false, nil
		case <-timeout:
			return nil, true, nil
		}
	}
	n := 0
	for _, it := range items {
		n += len(it.recs)
	}
drain:
	for n < t.c.maxBatch {
		select {
		case chunk := <-t.queue:
			items = append(items, chunk...)
			for _, it := range chunk {
				n += len(it.recs)
			}
		default:
			break drain
		}
	}
	out := make([]*connect.Record, 0, min(n, t.c.maxBatch)) // one allocation for the batch
	handed := 0
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, it := range items {
		if len(out) > 0 && len(out)+len(it.recs) > t.c.maxBatch {
			t.pending = append(t.pending, items[i:]...)
			break
		}
		out = append(out, it.recs...)
		if it.commitEnd > 0 {
			t.handedLSN = it.commitEnd
		}
		handed++
	}
	t.handedN += int64(handed)
	return out, false, nil
}

// Commit lets the slot be confirmed up to the last transaction whose records
// were all returned by Poll: the runtime stored every one of them.
func (t *Task) Commit(ctx context.Context) error {
	return t.CommitCheckpoint(ctx, t.Checkpoint())
}

var _ connect.CheckpointingSourceTask = (*Task)(nil)

// handed is what Poll returned up to some point: a checkpoint.
type handed struct {
	lsn uint64 // end LSN of the last transaction fully returned
	n   int64  // items returned
}

// Checkpoint names what Poll returned so far (connect.CheckpointingSourceTask).
func (t *Task) Checkpoint() any {
	t.mu.Lock()
	defer t.mu.Unlock()
	return handed{lsn: t.handedLSN, n: t.handedN}
}

// CommitCheckpoint lets the slot be confirmed up to the last transaction
// whose records were all returned by Poll when Checkpoint made cp: the
// runtime stored every one of them.
func (t *Task) CommitCheckpoint(_ context.Context, cp any) error {
	h := cp.(handed)
	for {
		cur := t.committed.Load()
		if h.n <= cur || t.committed.CompareAndSwap(cur, h.n) {
			break
		}
	}
	for {
		cur := t.ackLSN.Load()
		if h.lsn <= cur || t.ackLSN.CompareAndSwap(cur, h.lsn) {
			return nil
		}
	}
}

// Stop ends the replication stream and closes the connections.
func (t *Task) Stop() error {
	if t.cancel != nil {
		t.cancel()
		<-t.done
	}
	if t.c != nil && t.c.dropSlot && t.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := t.db.Exec(ctx, "SELECT pg_drop_replication_slot($1)", t.c.slot); err != nil {
			t.log.Warn("drop replication slot", "slot", t.c.slot, "err", err)
		}
	}
	t.closeConns()
	if t.metrics != nil {
		t.metrics.unregister()
	}
	return nil
}

// run is the task's goroutine: snapshot, then stream.
func (t *Task) run(ctx context.Context, tables []tableRef) {
	defer close(t.done)
	err := t.work(ctx, tables)
	if err != nil && ctx.Err() == nil {
		t.errc <- err
	}
}

func (t *Task) work(ctx context.Context, tables []tableRef) error {
	if t.plan.snapshot {
		sort.Slice(tables, func(i, j int) bool { return tables[i].id() < tables[j].id() })
		if err := t.snapshot(ctx, tables); err != nil {
			return err
		}
	}
	if !t.plan.stream || t.finished.Load() {
		t.finished.Store(true)
		<-ctx.Done()
		return nil
	}
	lctx, stopLag := context.WithCancel(ctx)
	lagDone := make(chan struct{})
	go func() {
		defer close(lagDone)
		t.watchLag(lctx)
	}()
	defer func() {
		stopLag()
		<-lagDone
	}()
	for attempt := 1; ; attempt++ {
		err := t.stream(ctx)
		var retriable connect.Retriable
		if err == nil || ctx.Err() != nil || !errors.As(err, &retriable) || (t.c.maxRetries >= 0 && int64(attempt) > t.c.maxRetries) {
			return err
		}
		t.log.Warn("replication connection lost: reconnecting", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Duration(min(int64(attempt)*500, t.c.retryWaitMS)) * time.Millisecond):
		}
		if err := t.reconnect(ctx); err != nil {
			if !errors.As(err, &retriable) {
				return err // the slot is gone, or settings are wrong: retrying cannot help
			}
			t.log.Warn("reconnect failed", "err", err)
			continue
		}
		attempt = 0
	}
}

// reconnect opens new connections after a lost replication stream and
// resumes after the last change queued, so nothing is queued twice.
func (t *Task) reconnect(ctx context.Context) error {
	t.closeConns()
	t.db, t.repl = nil, nil
	if err := t.connect(ctx); err != nil {
		return err
	}
	if err := t.connectReplication(ctx); err != nil {
		return err
	}
	s, err := t.slotWhenFree(ctx)
	if err != nil {
		return err
	}
	if !s.exists {
		return fmt.Errorf("postgres-cdc: replication slot %q disappeared while streaming", t.c.slot)
	}
	t.tables = map[uint32]*table{} // Relation messages come again
	t.plan.startLSN = max(s.confirmed, t.ackLSN.Load())
	q := t.lastQueued
	t.plan.skipCommit, t.plan.skipSerial, t.plan.skipTxDone = q.commit, q.serial, q.txDone
	return nil
}

// queuedPos is the stream position of the last change queued.
type queuedPos struct {
	commit uint64
	serial int64
	txDone bool
}

// push queues an item (after those emitted before it), blocking while the
// queue is full.
func (t *Task) push(ctx context.Context, it item) error {
	t.out = append(t.out, it)
	return t.flush(ctx)
}

// emit adds an item to the batch being built; the batch is queued when
// full, or by flush. The stream queues changes in batches: one channel
// operation (and at most one wake-up of Poll) per batch, not per change.
func (t *Task) emit(ctx context.Context, it item) error {
	t.out = append(t.out, it)
	if len(t.out) >= t.chunkSize() {
		return t.flush(ctx)
	}
	return nil
}

// flush queues the items emitted so far, blocking while the queue is full.
func (t *Task) flush(ctx context.Context) error {
	if len(t.out) == 0 {
		return nil
	}
	select {
	case t.queue <- t.out:
		t.pushedN.Add(int64(len(t.out)))
		t.out = make([]item, 0, t.chunkSize())
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// chunkSize is the largest batch of items emit builds: no larger than what
// one Poll returns.
func (t *Task) chunkSize() int { return max(1, min(256, t.c.maxBatch)) }

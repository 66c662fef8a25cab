package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluicedata/sluice/connect"
)

// Streaming from the slot with pgoutput protocol 1.
//
// Offsets of streamed records: lsn (the change's LSN), txId, lsn_commit (the
// commit LSN of its transaction, from BEGIN), event_serial (its position
// among the transaction's changes). After a restart PostgreSQL replays every
// transaction committed after the slot's confirmed position; those with a
// commit LSN below the stored one, and the changes of the stored transaction
// up to the stored serial, were delivered already and are skipped.

// txState is the transaction being decoded.
type txState struct {
	xid       uint32
	commitLSN uint64
	commitTS  time.Time
	serial    int64
	skipAll   bool
	// Boxed once for all the transaction's records: txId, lsn_commit,
	// the commit time in the offsets (ts_usec) and the source blocks.
	txV, commitV, tsUsecV any
	commitStamps          *stamps
	// Transaction metadata.
	id      string
	total   int64
	perColl map[string]int64
	order   []string
	begun   bool
}

func (t *Task) stream(ctx context.Context) error {
	err := pglogrepl.StartReplication(ctx, t.repl, pgx.Identifier{t.c.slot}.Sanitize(), pglogrepl.LSN(t.plan.startLSN),
		pglogrepl.StartReplicationOptions{PluginArgs: t.pluginArgs()})
	if err != nil {
		err = fmt.Errorf("postgres-cdc: start replication on slot %q at %s: %w", t.c.slot, pglogrepl.LSN(t.plan.startLSN), err)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			return connect.Retriable{Err: err} // the connection, not the server, failed
		}
		return err
	}
	t.log.Info("streaming", "slot", t.c.slot, "from", pglogrepl.LSN(t.plan.startLSN))
	if t.inc != nil && t.inc.needChunk {
		if err := t.incChunk(ctx); err != nil {
			return err
		}
	}
	statusEvery := time.Duration(t.c.statusInterval) * time.Millisecond
	var sentLSN uint64
	lastStatus := time.Time{}
	lastHeartbeat := time.Now()
	var tx *txState
	var lastCommit uint64
	// Changes decoded but not yet queued go out when the stream pauses
	// (or the batch is full), and on the way out for a reconnect.
	defer func() { _ = t.flush(ctx) }()
	// Reads wait on a socket deadline rather than a context per message:
	// a context with a timeout costs a timer and a watcher goroutine for
	// every change. The deadline is re-armed each wakeEvery, so the loop
	// still wakes up for status updates, lag and heartbeats when idle; the
	// task's stop cuts the wait short.
	conn := t.repl.Conn()
	stopWatch := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer func() {
		stopWatch()
		_ = conn.SetReadDeadline(time.Time{})
	}()
	var wake time.Time
	for {
		if ctx.Err() != nil {
			return nil
		}
		if tx == nil && t.repl.Frontend().ReadBufferLen() == 0 {
			// The next read may wait for the server: hand over what is
			// decoded first. Inside a transaction the rest of it is on its
			// way (the walsender sends a transaction once it committed, in
			// one go), so its changes wait for their commit, or a full
			// batch: Poll then gets changes and their end together.
			if err := t.flush(ctx); err != nil {
				return nil
			}
		}
		// A new confirmed position goes out at once, but not more often
		// than every statusGap: at thousands of small transactions a second
		// each Commit would otherwise cost a message, and a wake-up of the
		// walsender that is decoding for us.
		ack := t.ackLSN.Load()
		if since := time.Since(lastStatus); (ack != sentLSN && since >= statusGap) || since >= statusEvery {
			if err := pglogrepl.SendStandbyStatusUpdate(ctx, t.repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: pglogrepl.LSN(ack)}); err != nil {
				return connect.Retriable{Err: fmt.Errorf("postgres-cdc: send standby status: %w", err)}
			}
			sentLSN, lastStatus = ack, time.Now()
		}
		if t.c.heartbeatMS > 0 && tx == nil && time.Since(lastHeartbeat) >= time.Duration(t.c.heartbeatMS)*time.Millisecond && lastCommit > 0 {
			if t.c.heartbeatQuery != "" {
				// A write into a table of the publication gives the slot
				// something to confirm when only other databases are busy.
				if _, err := t.db.Exec(ctx, t.c.heartbeatQuery); err != nil {
					return fmt.Errorf("postgres-cdc: heartbeat.action.query: %w", err)
				}
			}
			if err := t.push(ctx, item{recs: []*connect.Record{t.heartbeat(lastCommit)}}); err != nil {
				return nil
			}
			lastHeartbeat = time.Now()
		}
		if now := time.Now(); !now.Before(wake) {
			wake = now.Add(wakeEvery)
			if err := conn.SetReadDeadline(wake); err != nil {
				return connect.Retriable{Err: fmt.Errorf("postgres-cdc: replication stream: %w", err)}
			}
		}
		raw, err := t.repl.ReceiveMessage(context.Background())
		if err != nil {
			if pgconn.Timeout(err) && ctx.Err() == nil {
				// A quiet wakeEvery: nothing stays queued behind it.
				if err := t.flush(ctx); err != nil {
					return nil
				}
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			return connect.Retriable{Err: fmt.Errorf("postgres-cdc: replication stream: %w", err)}
		}
		switch msg := raw.(type) {
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("postgres-cdc: replication stream: %w", pgconn.ErrorResponseToPgError(msg))
		case *pgproto3.CopyData:
			if len(msg.Data) == 0 {
				continue
			}
			switch msg.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
				if err != nil {
					return fmt.Errorf("postgres-cdc: keepalive: %w", err)
				}
				// "Nothing in flight" below counts queued items only.
				if err := t.flush(ctx); err != nil {
					return nil
				}
				// Nothing in flight: the server's WAL end can be confirmed,
				// so an idle or filtered slot does not hold WAL back.
				if tx == nil && t.pushedN.Load() == t.committed.Load() {
					if w := uint64(ka.ServerWALEnd); w > t.ackLSN.Load() {
						t.ackLSN.Store(w)
					}
					lastCommit = max(lastCommit, uint64(ka.ServerWALEnd))
				}
				if ka.ReplyRequested {
					lastStatus = time.Time{}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(msg.Data[1:])
				if err != nil {
					return fmt.Errorf("postgres-cdc: xlog data: %w", err)
				}
				if tx, err = t.decodeMessage(ctx, xld, tx); err != nil {
					return err
				}
				if tx == nil {
					lastCommit = max(lastCommit, uint64(xld.WALStart))
				}
			}
		}
	}
}

// statusGap is the least time between two standby status updates sent
// for new confirmed positions.
const statusGap = 10 * time.Millisecond

// wakeEvery bounds how long the stream loop waits for a message before it
// looks at status updates, lag and heartbeats.
const wakeEvery = 100 * time.Millisecond

func (t *Task) decodeMessage(ctx context.Context, xld pglogrepl.XLogData, tx *txState) (*txState, error) {
	if w := xld.WALData; len(w) > 0 && (w[0] == 'I' || w[0] == 'U' || w[0] == 'D') {
		rc, err := parseRowChange(w)
		if err != nil {
			return tx, fmt.Errorf("postgres-cdc: decode pgoutput message at %s: %w", xld.WALStart, err)
		}
		return tx, t.change(ctx, tx, xld, rc.relID, rc.op, rc.old, rc.new_)
	}
	m, err := pglogrepl.Parse(xld.WALData)
	if err != nil {
		return tx, fmt.Errorf("postgres-cdc: decode pgoutput message at %s: %w", xld.WALStart, err)
	}
	switch msg := m.(type) {
	case *pglogrepl.BeginMessage:
		tx = &txState{xid: msg.Xid, commitLSN: uint64(msg.FinalLSN), commitTS: msg.CommitTime,
			txV: int64(msg.Xid), commitV: int64(msg.FinalLSN), tsUsecV: msg.CommitTime.UnixMicro(), commitStamps: stampsOf(msg.CommitTime)}
		p := &t.plan
		tx.skipAll = tx.commitLSN < p.skipCommit || (tx.commitLSN == p.skipCommit && p.skipTxDone) || (p.skipTxDone && tx.commitLSN <= p.skipCommit)
		if t.c.txMeta {
			tx.id = fmt.Sprintf("%d:%d", tx.xid, tx.commitLSN)
			tx.perColl = map[string]int64{}
		}
	case *pglogrepl.CommitMessage:
		if tx == nil {
			return nil, nil
		}
		var recs []*connect.Record
		if tx.begun {
			recs = append(recs, t.txEnd(tx))
		}
		t.lastCommitted = uint64(msg.CommitLSN)
		t.lastQueued = queuedPos{commit: tx.commitLSN, txDone: true}
		if err := t.incAtCommit(ctx, tx, uint64(msg.TransactionEndLSN)); err != nil {
			return nil, err
		}
		if err := t.emit(ctx, item{recs: recs, commitEnd: uint64(msg.TransactionEndLSN)}); err != nil {
			return nil, err
		}
		return nil, nil
	case *pglogrepl.RelationMessage:
		return tx, t.relation(ctx, msg)
	case *pglogrepl.LogicalDecodingMessage:
		return tx, t.logicalMessage(ctx, tx, msg)
	case *pglogrepl.TruncateMessage:
		for _, rel := range msg.RelationIDs {
			if err := t.truncate(ctx, tx, xld, rel); err != nil {
				return tx, err
			}
		}
	}
	return tx, nil
}

// relation (re)builds a table from a Relation message; a changed column list
// (ALTER TABLE) gives new schemas from the next change on.
func (t *Task) relation(ctx context.Context, msg *pglogrepl.RelationMessage) error {
	if t.c.signalTable != "" && msg.Namespace+"."+msg.RelationName == t.c.signalTable {
		names := make([]string, len(msg.Columns))
		for i, c := range msg.Columns {
			names[i] = c.Name
		}
		t.signalRelation(msg.RelationID, names)
		return nil
	}
	if !t.c.tableIncluded(msg.Namespace, msg.RelationName) {
		delete(t.tables, msg.RelationID)
		return nil
	}
	cols := make([]*column, len(msg.Columns))
	for i, mc := range msg.Columns {
		cols[i] = &column{name: mc.Name, oid: mc.DataType, typmod: mc.TypeModifier}
	}
	if old, ok := t.tables[msg.RelationID]; ok && old.sameColumns(cols) {
		return nil
	}
	_, info, full, err := t.catalogColumns(ctx, msg.RelationID)
	if err != nil {
		return fmt.Errorf("postgres-cdc: %w", err)
	}
	if len(info) == 0 || !anyKey(info) {
		// Without catalog key information, the replica identity flags of
		// the Relation message name the key (not for FULL, which flags all).
		if msg.ReplicaIdentity != 'f' {
			for _, mc := range msg.Columns {
				if mc.Flags&1 != 0 {
					ci := info[mc.Name]
					ci.key = true
					info[mc.Name] = ci
				}
			}
		}
	}
	tb, err := t.c.buildTable(msg.Namespace, msg.RelationName, msg.RelationID, cols, info, t.lookupType(ctx))
	if err != nil {
		return fmt.Errorf("postgres-cdc: %w", err)
	}
	tb.replicaFull = full || msg.ReplicaIdentity == 'f'
	if _, had := t.tables[msg.RelationID]; had {
		t.log.Info("table schema changed", "table", tb.id, "columns", len(cols))
	}
	t.tables[msg.RelationID] = tb
	return nil
}

func anyKey(info map[string]colInfo) bool {
	for _, ci := range info {
		if ci.key {
			return true
		}
	}
	return false
}

// change turns a row change into records; oldT and newT are the old tuple
// (key columns or the whole row, nil when the message has none) and the new.
func (t *Task) change(ctx context.Context, tx *txState, xld pglogrepl.XLogData, relID uint32, op string, oldT, newT []tupleCol) error {
	if tx == nil {
		return fmt.Errorf("postgres-cdc: change at %s outside a transaction", xld.WALStart)
	}
	tx.serial++
	if tx.skipAll || (tx.commitLSN == t.plan.skipCommit && tx.serial <= t.plan.skipSerial) {
		return nil
	}
	if t.signal != nil && relID == t.signal.relID {
		if op == "c" {
			t.onSignal(newT)
		}
		return nil
	}
	tb, ok := t.tables[relID]
	if !ok {
		return nil
	}
	t.incSeen(relID, newT, oldT)
	if t.c.skip[op] {
		return nil
	}
	var before, after *connect.StructValue
	var err error
	if newT != nil {
		if after, err = t.c.rowStruct(tb, newT); err != nil {
			return fmt.Errorf("postgres-cdc: %w", err)
		}
	}
	// The old tuple: the whole row (FULL, 'O') or only the key ('K').
	if oldT != nil {
		if before, err = t.c.rowStruct(tb, oldT); err != nil {
			return fmt.Errorf("postgres-cdc: %w", err)
		}
	}
	keyOf := func(tu []tupleCol) (*connect.StructValue, error) {
		k, err := t.c.keyStruct(tb, tu)
		if err != nil {
			return nil, fmt.Errorf("postgres-cdc: %w", err)
		}
		return k, nil
	}
	lsn := int64(xld.WALStart)
	var lsnV, txV, commitV, serialV any = lsn, tx.txV, tx.commitV, tx.serial
	seq := make([]byte, 0, 48)
	seq = append(seq, `["`...)
	seq = strconv.AppendUint(seq, t.lastCommitted, 10)
	seq = append(seq, `","`...)
	seq = strconv.AppendInt(seq, lsn, 10)
	seq = append(seq, `"]`...)
	si := sourceInfo{snapshot: "false", ts: tx.commitTS, stamps: tx.commitStamps, txID: txV, lsn: lsnV, sequence: string(seq)}
	src := func() *connect.StructValue { return t.c.sourceStruct(tb, si) }
	off := map[string]any{"lsn": lsnV, "lsn_proc": lsnV, "lsn_commit": commitV, "txId": txV, "event_serial": serialV, "ts_usec": tx.tsUsecV}
	if t.inc != nil {
		off["incremental_snapshot"] = t.inc.encode()
	}
	now := time.Now()
	rec := func(key *connect.StructValue, env *connect.StructValue) *connect.Record {
		r := &connect.Record{Topic: tb.topic, Partition: -1, Timestamp: tx.commitTS, SourcePartition: t.partition, SourceOffset: off}
		if tb.keySchema != nil && key != nil {
			r.Key, r.KeySchema = key, tb.keySchema
		}
		if env != nil {
			r.Value, r.ValueSchema = env, tb.envSchema
		}
		return r
	}
	var recs []*connect.Record
	switch op {
	case "c":
		k, err := keyOf(newT)
		if err != nil {
			return err
		}
		recs = append(recs, rec(k, t.withTx(tx, tb, envelope(tb, nil, after, src(), "c", now))))
	case "u":
		k, err := keyOf(newT)
		if err != nil {
			return err
		}
		var oldK *connect.StructValue
		if oldT != nil && tb.keySchema != nil {
			// The old key is in the old tuple whenever it changed.
			if oldK, err = keyOf(fillUnchanged(oldT, newT)); err != nil {
				return err
			}
		}
		if oldK != nil && k != nil && !reflect.DeepEqual(oldK.Values, k.Values) {
			// Primary key change: delete of the old key, its tombstone, create
			// of the new key, linked by headers as Debezium links them.
			del := rec(oldK, t.withTx(tx, tb, envelope(tb, before, nil, src(), "d", now)))
			del.Headers = append(del.Headers, connect.Header{Key: "__debezium.newkey", Value: k, Schema: tb.keySchema})
			recs = append(recs, del)
			if t.c.tombstones {
				recs = append(recs, rec(oldK, nil))
			}
			cr := rec(k, t.withTx(tx, tb, envelope(tb, nil, after, src(), "c", now)))
			cr.Headers = append(cr.Headers, connect.Header{Key: "__debezium.oldkey", Value: oldK, Schema: tb.keySchema})
			recs = append(recs, cr)
			break
		}
		recs = append(recs, rec(k, t.withTx(tx, tb, envelope(tb, before, after, src(), "u", now))))
	case "d":
		k, err := keyOf(oldT)
		if err != nil && tb.keySchema != nil {
			return err
		}
		recs = append(recs, rec(k, t.withTx(tx, tb, envelope(tb, before, nil, src(), "d", now))))
		if t.c.tombstones && tb.keySchema != nil {
			recs = append(recs, rec(k, nil))
		}
	}
	for _, r := range recs {
		if r.Value != nil {
			t.metrics.event(op).Inc()
		}
	}
	if t.c.txMeta {
		recs = append(t.txBegin(tx), recs...)
	}
	if err := t.emit(ctx, item{recs: recs}); err != nil {
		return err
	}
	t.lastQueued = queuedPos{commit: tx.commitLSN, serial: tx.serial}
	return nil
}

// fillUnchanged takes values missing from a key-only old tuple from the new one.
func fillUnchanged(old, nw []tupleCol) []tupleCol {
	out := make([]tupleCol, len(old))
	for i := range old {
		out[i] = old[i]
		if (old[i].unchanged || old[i].null) && nw != nil && i < len(nw) {
			out[i] = nw[i]
		}
	}
	return out
}

func (t *Task) truncate(ctx context.Context, tx *txState, xld pglogrepl.XLogData, relID uint32) error {
	if tx != nil {
		tx.serial++
		if tx.skipAll || (tx.commitLSN == t.plan.skipCommit && tx.serial <= t.plan.skipSerial) {
			return nil
		}
	}
	tb, ok := t.tables[relID]
	if !ok || t.c.skip["t"] || tx == nil {
		return nil
	}
	lsn := int64(xld.WALStart)
	txid := int64(tx.xid)
	src := t.c.sourceStruct(tb, sourceInfo{snapshot: "false", ts: tx.commitTS, txID: txid, lsn: lsn})
	r := &connect.Record{Topic: tb.topic, Partition: -1, Timestamp: tx.commitTS, SourcePartition: t.partition,
		SourceOffset: map[string]any{"lsn": lsn, "lsn_proc": lsn, "lsn_commit": int64(tx.commitLSN), "txId": txid, "event_serial": tx.serial},
		Value:        envelope(tb, nil, nil, src, "t", time.Now()), ValueSchema: tb.envSchema}
	t.metrics.events.WithLabelValues("t").Inc()
	return t.emit(ctx, item{recs: []*connect.Record{r}})
}

// pluginArgs are pgoutput's options, as Debezium sets them: protocol 1, the
// publication, and logical decoding messages on servers that have them.
func (t *Task) pluginArgs() []string {
	args := []string{"proto_version '1'", "publication_names " + quoteLiteral(t.c.publication)}
	if t.serverVersion >= 140000 {
		args = append(args, "messages 'true'")
	}
	return args
}

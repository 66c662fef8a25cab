package postgres

import (
	"context"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluicedata/sluice/connect"
)

// Logical decoding messages (pg_logical_emit_message, PostgreSQL 14+), as
// Debezium emits them: op "m" on <topic.prefix>.message, keyed by prefix.
// A transactional message is part of its transaction (offsets and replay as
// for changes); a non-transactional one stands alone at its LSN, and a
// restart skips it when the stored position is at or past that LSN.

var messageKeySchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.postgresql.MessageKey", Fields: []connect.Field{
	{Name: "prefix", Schema: &connect.Schema{Type: connect.String, Optional: true}},
}}

var messageBlockSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.postgresql.Message", Fields: []connect.Field{
	{Name: "prefix", Schema: &connect.Schema{Type: connect.String, Optional: true}},
	{Name: "content", Schema: &connect.Schema{Type: connect.Bytes, Optional: true}},
}}

var messageValueSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.postgresql.MessageValue", Fields: []connect.Field{
	{Name: "op", Schema: &connect.Schema{Type: connect.String}},
	{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	{Name: "ts_us", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	{Name: "ts_ns", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	{Name: "source", Schema: sourceSchema},
	{Name: "message", Schema: messageBlockSchema},
}}

// messageTable stands in for a table in the source block (empty schema and
// table names, as Debezium writes them).
var messageTable = &table{schemaV: "", nameV: ""}

func (t *Task) logicalMessage(ctx context.Context, tx *txState, msg *pglogrepl.LogicalDecodingMessage) error {
	lsn := int64(msg.LSN)
	var off map[string]any
	si := sourceInfo{snapshot: "false", lsn: lsn, ts: time.Now()}
	if msg.Transactional {
		if tx == nil {
			return nil
		}
		tx.serial++
		if tx.skipAll || (tx.commitLSN == t.plan.skipCommit && tx.serial <= t.plan.skipSerial) {
			return nil
		}
		si.ts, si.txID = tx.commitTS, int64(tx.xid)
		off = map[string]any{"lsn": lsn, "lsn_proc": lsn, "lsn_commit": int64(tx.commitLSN), "txId": int64(tx.xid), "event_serial": tx.serial}
	} else {
		p := &t.plan
		// Decoding outputs it on reaching its LSN, so everything stored up
		// to a later commit came after it.
		if l := uint64(msg.LSN); l < p.skipCommit || (p.skipTxDone && l <= p.skipCommit) {
			return nil
		}
		off = map[string]any{"lsn": lsn, "lsn_proc": lsn, "lsn_commit": lsn, "tx_done": true}
	}
	if !t.c.messagePrefixIncluded(msg.Prefix) {
		return nil
	}
	now := time.Now()
	k := connect.NewStruct(messageKeySchema)
	k.Values[0] = msg.Prefix
	m := connect.NewStruct(messageBlockSchema)
	m.Values[0], m.Values[1] = msg.Prefix, append([]byte(nil), msg.Content...)
	v := connect.NewStruct(messageValueSchema)
	v.Values[0], v.Values[1], v.Values[2], v.Values[3] = "m", now.UnixMilli(), now.UnixMicro(), now.UnixNano()
	v.Values[4], v.Values[5] = t.c.sourceStruct(messageTable, si), m
	r := &connect.Record{Topic: t.c.messageTopic, Partition: -1, Key: k, KeySchema: messageKeySchema, Value: v, ValueSchema: messageValueSchema,
		Timestamp: si.ts, SourcePartition: t.partition, SourceOffset: off}
	t.metrics.events.WithLabelValues("m").Inc()
	it := item{recs: []*connect.Record{r}}
	if !msg.Transactional {
		it.commitEnd = uint64(msg.LSN) // stands alone: acknowledged with its record
	}
	if err := t.emit(ctx, it); err != nil {
		return err
	}
	if msg.Transactional {
		t.lastQueued = queuedPos{commit: tx.commitLSN, serial: tx.serial}
	} else {
		t.lastQueued = queuedPos{commit: uint64(msg.LSN), txDone: true}
	}
	return nil
}

func (c *conf) messagePrefixIncluded(prefix string) bool {
	if len(c.msgInc) > 0 {
		return c.msgInc.Match(prefix)
	}
	return !c.msgExc.Match(prefix)
}

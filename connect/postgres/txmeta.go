package postgres

import (
	"time"

	"github.com/sluicedata/sluice/connect"
)

// Transaction metadata (provide.transaction.metadata) and heartbeats.

var txKeySchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.common.TransactionMetadataKey", Fields: []connect.Field{
	{Name: "id", Schema: &connect.Schema{Type: connect.String}},
}}

var txCollSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.common.TransactionMetadataCollection", Fields: []connect.Field{
	{Name: "data_collection", Schema: &connect.Schema{Type: connect.String}},
	{Name: "event_count", Schema: &connect.Schema{Type: connect.Int64}},
}}

var txValueSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.common.TransactionMetadataValue", Fields: []connect.Field{
	{Name: "status", Schema: &connect.Schema{Type: connect.String}},
	{Name: "id", Schema: &connect.Schema{Type: connect.String}},
	{Name: "event_count", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	{Name: "data_collections", Schema: &connect.Schema{Type: connect.Array, Optional: true, Value: txCollSchema}},
	{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64}},
}}

var heartbeatKeySchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.common.ServerNameKey", Fields: []connect.Field{
	{Name: "serverName", Schema: &connect.Schema{Type: connect.String}},
}}

var heartbeatValueSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.common.Heartbeat", Fields: []connect.Field{
	{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64}},
}}

// withTx fills the transaction block of an event and counts it.
func (t *Task) withTx(tx *txState, tb *table, env *connect.StructValue) *connect.StructValue {
	if !t.c.txMeta {
		return env
	}
	tx.total++
	if _, ok := tx.perColl[tb.id]; !ok {
		tx.order = append(tx.order, tb.id)
	}
	tx.perColl[tb.id]++
	b := connect.NewStruct(transactionBlockSchema)
	b.Values[0], b.Values[1], b.Values[2] = tx.id, tx.total, tx.perColl[tb.id]
	env.Values[3] = b
	return env
}

func (t *Task) txRecord(tx *txState, v *connect.StructValue) *connect.Record {
	k := connect.NewStruct(txKeySchema)
	k.Values[0] = tx.id
	return &connect.Record{Topic: t.c.txTopic, Partition: -1, Key: k, KeySchema: txKeySchema, Value: v, ValueSchema: txValueSchema,
		Timestamp: tx.commitTS, SourcePartition: t.partition,
		SourceOffset: map[string]any{"lsn_commit": int64(tx.commitLSN), "txId": int64(tx.xid), "event_serial": tx.serial}}
}

// txBegin returns the BEGIN event before a transaction's first event.
func (t *Task) txBegin(tx *txState) []*connect.Record {
	if !t.c.txMeta || tx.begun {
		return nil
	}
	tx.begun = true
	v := connect.NewStruct(txValueSchema)
	v.Values[0], v.Values[1], v.Values[4] = "BEGIN", tx.id, tx.commitTS.UnixMilli()
	r := t.txRecord(tx, v)
	// BEGIN's offset must not claim the change it precedes was delivered.
	r.SourceOffset["event_serial"] = tx.serial - 1
	return []*connect.Record{r}
}

func (t *Task) txEnd(tx *txState) *connect.Record {
	v := connect.NewStruct(txValueSchema)
	colls := make([]any, 0, len(tx.order))
	for _, id := range tx.order {
		c := connect.NewStruct(txCollSchema)
		c.Values[0], c.Values[1] = id, tx.perColl[id]
		colls = append(colls, c)
	}
	v.Values[0], v.Values[1], v.Values[2], v.Values[3], v.Values[4] = "END", tx.id, tx.total, colls, tx.commitTS.UnixMilli()
	r := t.txRecord(tx, v)
	r.SourceOffset["tx_done"] = true
	return r
}

// heartbeat carries the position reached (a transaction end or an idle
// keepalive's WAL end) into the offsets, so a restart does not replay what
// filtered-out traffic the slot already passed.
func (t *Task) heartbeat(lsn uint64) *connect.Record {
	now := time.Now()
	k := connect.NewStruct(heartbeatKeySchema)
	k.Values[0] = t.c.topicPrefix
	v := connect.NewStruct(heartbeatValueSchema)
	v.Values[0] = now.UnixMilli()
	return &connect.Record{Topic: t.c.heartbeatTopic, Partition: -1, Key: k, KeySchema: heartbeatKeySchema, Value: v, ValueSchema: heartbeatValueSchema,
		Timestamp: now, SourcePartition: t.partition,
		SourceOffset: map[string]any{"lsn": int64(lsn), "lsn_commit": int64(lsn), "tx_done": true, "snapshot": false}}
}

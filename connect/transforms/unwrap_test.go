package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// A Debezium PostgreSQL change event for table public.t (columns id, name).
var (
	rowSchema    = structOf("db.public.t.Value", "id", sch(connect.Int32), "name", opt(connect.String))
	optRowSchema = optional(rowSchema)
	sourceSchema = structOf("io.debezium.connector.postgresql.Source",
		"table", sch(connect.String), "lsn", opt(connect.Int64), "ts_ms", sch(connect.Int64))
	txSchema = &connect.Schema{Type: connect.Struct, Optional: true, Name: "event.block",
		Fields: []connect.Field{{Name: "id", Schema: sch(connect.String)}, {Name: "total_order", Schema: sch(connect.Int64)}}}
	envSchema = structOf("db.public.t.Envelope", "before", optRowSchema, "after", optRowSchema,
		"source", sourceSchema, "op", sch(connect.String), "ts_ms", opt(connect.Int64), "transaction", txSchema)
)

const rowOut = "struct<db.public.t.Value>{id:int32,name:string?}?"

func event(op string, before, after *connect.StructValue) *connect.Record {
	var b, a any
	if before != nil {
		b = before
	}
	if after != nil {
		a = after
	}
	v := val(envSchema, b, a, val(sourceSchema, "t", int64(100), int64(5)), op, int64(9), nil)
	return &connect.Record{Topic: "db.public.t", KeySchema: structOf("db.public.t.Key", "id", sch(connect.Int32)),
		Key: val(structOf("db.public.t.Key", "id", sch(connect.Int32)), int32(1)), ValueSchema: envSchema, Value: v, Timestamp: ts0}
}

func row(id int32, name string) *connect.StructValue { return val(optRowSchema, id, name) }

func tombstone() *connect.Record { return &connect.Record{Topic: "db.public.t", Key: "k"} }

func schemalessEvent(op string, before, after map[string]any) *connect.Record {
	v := map[string]any{"op": op, "before": nil, "after": nil, "source": map[string]any{"table": "t", "lsn": int64(100)}, "ts_ms": int64(9)}
	if before != nil {
		v["before"] = before
	}
	if after != nil {
		v["after"] = after
	}
	return &connect.Record{Topic: "db.public.t", Value: v}
}

func TestExtractNewRecordState(t *testing.T) {
	const class = "io.debezium.transforms.ExtractNewRecordState"
	mode := func(m string) connect.Config { return connect.Config{"delete.tombstone.handling.mode": m} }
	create := event("c", nil, row(1, "a"))
	update := event("u", row(1, "a"), row(1, "b"))
	del := event("d", row(1, "b"), nil)
	withDropHeader := event("c", nil, row(1, "a"))
	withDropHeader.Headers = []connect.Header{{Key: "dropme", Value: []any{"name", "id"}}}
	heartbeat := &connect.Record{Topic: "__debezium-heartbeat.db", ValueSchema: structOf("io.debezium.connector.common.Heartbeat", "ts_ms", sch(connect.Int64)),
		Value: val(structOf("io.debezium.connector.common.Heartbeat", "ts_ms", sch(connect.Int64)), int64(1))}
	run(t, []tcase{
		{name: "create", class: class, cfg: connect.Config{}, in: create, want: rowOut + ` {id:1,name:"a"}`},
		{name: "update", class: class, cfg: connect.Config{}, in: update, want: rowOut + ` {id:1,name:"b"}`},
		{name: "tombstone mode: delete dropped", class: class, cfg: connect.Config{}, in: del, want: "dropped"},
		{name: "tombstone mode: tombstone kept", class: class, cfg: connect.Config{}, in: tombstone(), want: "schemaless null"},
		{name: "drop: delete", class: class, cfg: mode("drop"), in: del, want: "dropped"},
		{name: "drop: tombstone", class: class, cfg: mode("drop"), in: tombstone(), want: "dropped"},
		{name: "rewrite: create", class: class, cfg: mode("rewrite"), in: create,
			want: `struct<db.public.t.Value>{id:int32,name:string?,__deleted:string?} {id:1,name:"a",__deleted:"false"}`},
		{name: "rewrite: delete", class: class, cfg: mode("rewrite"), in: del,
			want: `struct<db.public.t.Value>{id:int32,name:string?,__deleted:string?} {id:1,name:"b",__deleted:"true"}`},
		{name: "rewrite: tombstone", class: class, cfg: mode("rewrite"), in: tombstone(), want: "dropped"},
		{name: "rewrite-with-tombstone: tombstone kept", class: class, cfg: mode("rewrite-with-tombstone"), in: tombstone(), want: "schemaless null"},
		{name: "rewrite-with-tombstone: delete", class: class, cfg: mode("rewrite-with-tombstone"), in: del,
			want: `struct<db.public.t.Value>{id:int32,name:string?,__deleted:string?} {id:1,name:"b",__deleted:"true"}`},
		{name: "delete-to-tombstone: delete", class: class, cfg: mode("delete-to-tombstone"), in: del, want: "schemaless null"},
		{name: "delete-to-tombstone: tombstone", class: class, cfg: mode("delete-to-tombstone"), in: tombstone(), want: "dropped"},
		{name: "truncate dropped", class: class, cfg: connect.Config{}, in: event("t", nil, nil), want: "dropped"},
		{name: "not an envelope passes", class: class, cfg: connect.Config{}, in: heartbeat,
			want: `struct<io.debezium.connector.common.Heartbeat>{ts_ms:int64} {ts_ms:1L}`},
		{name: "add.fields", class: class, cfg: connect.Config{"add.fields": "op,table,source.ts_ms,lsn:pos,ts_ms,total_order"}, in: create,
			want: `struct<db.public.t.Value>{id:int32,name:string?,__op:string?,__table:string?,__source_ts_ms:int64?,__pos:int64?,__ts_ms:int64?,__total_order:int64?} ` +
				`{id:1,name:"a",__op:"c",__table:"t",__source_ts_ms:5L,__pos:100L,__ts_ms:9L,__total_order:null}`},
		{name: "add.fields prefix with rewrite delete", class: class,
			cfg: connect.Config{"add.fields": "op", "add.fields.prefix": "meta_", "delete.tombstone.handling.mode": "rewrite"}, in: del,
			want: `struct<db.public.t.Value>{id:int32,name:string?,meta_op:string?,meta_deleted:string?} {id:1,name:"b",meta_op:"d",meta_deleted:"true"}`},
		{name: "add.headers", class: class, cfg: connect.Config{"add.headers": "op,source.lsn", "add.headers.prefix": "dbz."}, in: update,
			view: headerView, want: `dbz.op=string? "u"; dbz.source_lsn=int64? 100L`},
		{name: "add.headers on a kept tombstone", class: class, cfg: connect.Config{"add.headers": "op,lsn", "delete.tombstone.handling.mode": "rewrite-with-tombstone"},
			in: tombstone(), view: headerView, want: `__op=string "d"`},
		{name: "route.by.field", class: class, cfg: connect.Config{"route.by.field": "name"}, in: update, view: topicView, want: "b"},
		{name: "route.by.field on delete uses before", class: class, cfg: connect.Config{"route.by.field": "name", "delete.tombstone.handling.mode": "rewrite"},
			in: del, view: topicView, want: "b"},
		{name: "drop.fields.header.name keeps required fields", class: class, cfg: connect.Config{"drop.fields.header.name": "dropme"},
			in: withDropHeader, want: `struct<db.public.t.Value>{id:int32} {id:1}`},
		{name: "drop.fields.header.name not compatible", class: class,
			cfg: connect.Config{"drop.fields.header.name": "dropme", "drop.fields.keep.schema.compatible": "false"},
			in:  withDropHeader, want: `struct<db.public.t.Value>{} {}`},
		{name: "legacy drop.tombstones=false delete.handling.mode=rewrite: tombstone kept", class: class,
			cfg: connect.Config{"drop.tombstones": "false", "delete.handling.mode": "rewrite"}, in: tombstone(), want: "schemaless null"},
		{name: "legacy delete.handling.mode=rewrite: delete", class: class, cfg: connect.Config{"delete.handling.mode": "rewrite"}, in: del,
			want: `struct<db.public.t.Value>{id:int32,name:string?,__deleted:string?} {id:1,name:"b",__deleted:"true"}`},
		{name: "legacy defaults: tombstone dropped", class: class, cfg: connect.Config{"drop.tombstones": "true"}, in: tombstone(), want: "dropped"},
		{name: "legacy delete.handling.mode=none: null value", class: class, cfg: connect.Config{"delete.handling.mode": "none"}, in: del,
			want: rowOut + " null"},
		{name: "new mode wins over legacy keys", class: class,
			cfg: connect.Config{"delete.handling.mode": "rewrite", "delete.tombstone.handling.mode": "drop"}, in: del, want: "dropped"},
		{name: "schemaless create", class: class, cfg: connect.Config{"add.fields": "op,table"},
			in: schemalessEvent("c", nil, map[string]any{"id": int64(1)}), want: `schemaless {"__op":"c","__table":"t","id":1L}`},
		{name: "schemaless rewrite delete", class: class, cfg: mode("rewrite"),
			in: schemalessEvent("d", map[string]any{"id": int64(1)}, nil), want: `schemaless {"__deleted":"true","id":1L}`},
		{name: "schemaless tombstone-mode delete", class: class, cfg: connect.Config{},
			in: schemalessEvent("d", map[string]any{"id": int64(1)}, nil), want: "dropped"},
		{name: "add.headers on a tombstone in tombstone mode", class: class, cfg: connect.Config{"add.headers": "op"},
			in: tombstone(), view: headerView, want: `__op=string "d"`},
	})
}

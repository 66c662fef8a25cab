package mysql

import (
	"sort"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// Schema-change events (topic <topic.prefix>), transaction metadata and
// heartbeats, in Debezium's shapes.

type tableChange struct {
	typ string // CREATE, ALTER, DROP
	def *tableDef
}

func optString() *connect.Schema { return &connect.Schema{Type: connect.String, Optional: true} }
func optInt32() *connect.Schema  { return &connect.Schema{Type: connect.Int32, Optional: true} }

var schemaColumnSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.schema.Column", Fields: []connect.Field{
	{Name: "name", Schema: &connect.Schema{Type: connect.String}},
	{Name: "jdbcType", Schema: &connect.Schema{Type: connect.Int32}},
	{Name: "nativeType", Schema: optInt32()},
	{Name: "typeName", Schema: &connect.Schema{Type: connect.String}},
	{Name: "typeExpression", Schema: optString()},
	{Name: "charsetName", Schema: optString()},
	{Name: "length", Schema: optInt32()},
	{Name: "scale", Schema: optInt32()},
	{Name: "position", Schema: &connect.Schema{Type: connect.Int32}},
	{Name: "optional", Schema: &connect.Schema{Type: connect.Boolean, Optional: true}},
	{Name: "autoIncremented", Schema: &connect.Schema{Type: connect.Boolean, Optional: true}},
	{Name: "generated", Schema: &connect.Schema{Type: connect.Boolean, Optional: true}},
	{Name: "comment", Schema: optString()},
	{Name: "defaultValueExpression", Schema: optString()},
	{Name: "enumValues", Schema: &connect.Schema{Type: connect.Array, Optional: true, Value: &connect.Schema{Type: connect.String}}},
}}

var schemaTableSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.schema.Table", Optional: true, Fields: []connect.Field{
	{Name: "defaultCharsetName", Schema: optString()},
	{Name: "primaryKeyColumnNames", Schema: &connect.Schema{Type: connect.Array, Optional: true, Value: &connect.Schema{Type: connect.String}}},
	{Name: "columns", Schema: &connect.Schema{Type: connect.Array, Value: schemaColumnSchema}},
	{Name: "comment", Schema: optString()},
}}

var schemaChangeSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.schema.Change", Fields: []connect.Field{
	{Name: "type", Schema: &connect.Schema{Type: connect.String}},
	{Name: "id", Schema: &connect.Schema{Type: connect.String}},
	{Name: "table", Schema: schemaTableSchema},
}}

var schemaChangeKeySchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.mysql.SchemaChangeKey", Fields: []connect.Field{
	{Name: "databaseName", Schema: &connect.Schema{Type: connect.String}},
}}

func (c *conf) schemaChangeValueSchema() *connect.Schema {
	return &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.mysql.SchemaChangeValue", Fields: []connect.Field{
		{Name: "source", Schema: c.sourceSchema()},
		{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64}},
		{Name: "databaseName", Schema: optString()},
		{Name: "schemaName", Schema: optString()},
		{Name: "ddl", Schema: optString()},
		{Name: "tableChanges", Schema: &connect.Schema{Type: connect.Array, Value: schemaChangeSchema}},
	}}
}

// jdbcTypes maps MySQL type names to java.sql.Types, as Debezium reports
// them in schema-change events.
var jdbcTypes = map[string]int32{
	"bit": -7, "tinyint": -6, "bool": 16, "boolean": 16, "smallint": 5, "mediumint": 4, "int": 4, "integer": 4, "bigint": -5,
	"float": 7, "real": 8, "double": 8, "decimal": 3, "numeric": 2,
	"char": 1, "varchar": 12, "tinytext": 12, "text": -1, "mediumtext": -1, "longtext": -1, "json": 1111,
	"enum": 1, "set": 1, "binary": -2, "varbinary": -3, "tinyblob": -3, "blob": -4, "mediumblob": -4, "longblob": -4,
	"date": 91, "time": 92, "datetime": 93, "timestamp": 2014, "year": 4,
}

func tableStruct(d *tableDef) *connect.StructValue {
	s := connect.NewStruct(schemaTableSchema)
	if d.Charset != "" {
		s.Values[0] = d.Charset
	}
	pk := make([]any, len(d.PK))
	for i, p := range d.PK {
		pk[i] = p
	}
	s.Values[1] = pk
	cols := make([]any, len(d.Columns))
	for i, col := range d.Columns {
		c := connect.NewStruct(schemaColumnSchema)
		jdbc, ok := jdbcTypes[col.DataType]
		if !ok {
			jdbc = 1111
		}
		typeName := strings.ToUpper(col.DataType)
		if strings.Contains(strings.ToLower(col.ColumnType), "unsigned") {
			typeName += " UNSIGNED"
		}
		c.Values[0], c.Values[1], c.Values[3], c.Values[4] = col.Name, jdbc, typeName, typeName
		if col.Charset != "" {
			c.Values[5] = col.Charset
		}
		if col.Precision > 0 {
			c.Values[6] = int32(col.Precision)
		}
		if col.Scale > 0 {
			c.Values[7] = int32(col.Scale)
		}
		c.Values[8] = int32(i + 1)
		c.Values[9], c.Values[10], c.Values[11] = col.Nullable, col.AutoInc, col.Generated
		if col.DataType == "enum" || col.DataType == "set" {
			var ev []any
			for _, v := range parseEnumValues(col.ColumnType) {
				ev = append(ev, v)
			}
			c.Values[14] = ev
		}
		cols[i] = c
	}
	s.Values[2] = cols
	return s
}

func (t *Task) schemaChangeRecord(db, ddl string, changes []tableChange, si *sourceInfo, offset map[string]any) *connect.Record {
	vs := t.c.schemaChangeValueSchema()
	v := connect.NewStruct(vs)
	v.Values[0] = t.c.sourceStruct(si)
	v.Values[1] = time.Now().UnixMilli()
	v.Values[2] = db
	v.Values[4] = ddl
	tc := make([]any, len(changes))
	for i, ch := range changes {
		s := connect.NewStruct(schemaChangeSchema)
		s.Values[0] = ch.typ
		s.Values[1] = `"` + ch.def.DB + `"."` + ch.def.Name + `"`
		s.Values[2] = tableStruct(ch.def)
		tc[i] = s
	}
	v.Values[5] = tc
	key := connect.NewStruct(schemaChangeKeySchema)
	key.Values[0] = db
	return &connect.Record{Topic: t.c.prefix, Partition: 0, Key: key, KeySchema: schemaChangeKeySchema, Value: v, ValueSchema: vs,
		Timestamp: si.ts, SourcePartition: t.part, SourceOffset: offset}
}

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

func txID(tx *txState) string {
	if tx.gtid != "" {
		return tx.gtid
	}
	return tx.start.file + ":" + itoa(int(tx.start.pos))
}

func (t *Task) txRecord(tx *txState, status string, offset map[string]any) *connect.Record {
	key := connect.NewStruct(txKeySchema)
	key.Values[0] = txID(tx)
	v := connect.NewStruct(txValueSchema)
	v.Values[0], v.Values[1], v.Values[4] = status, txID(tx), tx.ts.UnixMilli()
	if status == "END" {
		v.Values[2] = tx.total
		names := make([]string, 0, len(tx.perTable))
		for n := range tx.perTable {
			names = append(names, n)
		}
		sort.Strings(names)
		var colls []any
		for _, n := range names {
			c := connect.NewStruct(txCollSchema)
			c.Values[0], c.Values[1] = n, tx.perTable[n]
			colls = append(colls, c)
		}
		v.Values[3] = colls
	}
	return &connect.Record{Topic: t.c.txTopic, Partition: -1, Key: key, KeySchema: txKeySchema, Value: v, ValueSchema: txValueSchema,
		Timestamp: tx.ts, SourcePartition: t.part, SourceOffset: offset}
}

func (t *Task) txBeginRecord(tx *txState, offset map[string]any) *connect.Record {
	return t.txRecord(tx, "BEGIN", offset)
}

func (t *Task) txEndRecord(tx *txState, offset map[string]any) *connect.Record {
	return t.txRecord(tx, "END", offset)
}

// txBlock fills the transaction block of a change event and counts it.
func (t *Task) txBlock(tx *txState, tb *table, r *connect.Record) {
	if !t.c.txMeta || tx == nil {
		return
	}
	if tx.perTable == nil {
		tx.perTable = map[string]int64{}
	}
	tx.total++
	id := tb.def.id()
	tx.perTable[id]++
	b := connect.NewStruct(transactionBlockSchema)
	b.Values[0], b.Values[1], b.Values[2] = txID(tx), tx.total, tx.perTable[id]
	r.Value.(*connect.StructValue).Values[3] = b
}

var heartbeatKeySchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.common.ServerNameKey", Fields: []connect.Field{
	{Name: "serverName", Schema: &connect.Schema{Type: connect.String}},
}}

var heartbeatValueSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.common.Heartbeat", Fields: []connect.Field{
	{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64}},
}}

func (t *Task) heartbeatRecord(offset map[string]any) *connect.Record {
	key := connect.NewStruct(heartbeatKeySchema)
	key.Values[0] = t.c.prefix
	v := connect.NewStruct(heartbeatValueSchema)
	now := time.Now()
	v.Values[0] = now.UnixMilli()
	return &connect.Record{Topic: t.c.heartbeatTopic, Partition: -1, Key: key, KeySchema: heartbeatKeySchema, Value: v, ValueSchema: heartbeatValueSchema,
		Timestamp: now, SourcePartition: t.part, SourceOffset: offset}
}

package mysql

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/sluicedata/sluice/connect"
)

// column is a column definition as the schema history keeps it (JSON in
// the offsets, hence the short tags).
type column struct {
	Name       string `json:"n"`
	DataType   string `json:"t"`  // information_schema DATA_TYPE, lower case ("json" for MariaDB's JSON alias)
	ColumnType string `json:"ct"` // full COLUMN_TYPE ("tinyint(1) unsigned", "enum('a','b')")
	Nullable   bool   `json:"o,omitempty"`
	Precision  int    `json:"p,omitempty"` // numeric precision, character length or bit count
	Scale      int    `json:"s,omitempty"` // numeric scale or fractional-second digits
	Charset    string `json:"cs,omitempty"`
	AutoInc    bool   `json:"ai,omitempty"`
	Generated  bool   `json:"g,omitempty"`
}

// tableDef is a table definition of the schema history.
type tableDef struct {
	DB      string   `json:"db"`
	Name    string   `json:"name"`
	Columns []column `json:"cols"`
	PK      []string `json:"pk,omitempty"`
	Charset string   `json:"cs,omitempty"`
}

func (d *tableDef) id() string { return d.DB + "." + d.Name }

// table is a captured table ready to turn rows into records.
type table struct {
	def         *tableDef
	topic       string
	keySchema   *connect.Schema // nil without a primary key
	valueSchema *connect.Schema
	envSchema   *connect.Schema
	conv        []converter // per column
	valIdx      []int       // per column: field index in the value struct, -1 when excluded
	keyIdx      []int       // per column: field index in the key struct, -1 when not a key column
	// keyCols are column indexes of the message key, in key order: the
	// primary key or message.key.columns. pkCols are the primary key's,
	// which order the snapshot's chunks.
	keyCols, pkCols []int
}

func (c *conf) buildTable(def *tableDef) (*table, error) {
	base := c.prefix + "." + def.DB + "." + def.Name
	t := &table{def: def, topic: base}
	val := &connect.Schema{Type: connect.Struct, Name: base + ".Value", Optional: true}
	key := &connect.Schema{Type: connect.Struct, Name: base + ".Key"}
	keyNames := def.PK
	for _, mk := range c.keyColumns {
		if mk.table.MatchString(def.id()) {
			keyNames = mk.cols
			break
		}
	}
	pk := map[string]int{}
	for i, n := range keyNames {
		pk[strings.ToLower(n)] = i
	}
	t.keyCols = make([]int, len(keyNames))
	for i := range t.keyCols {
		t.keyCols[i] = -1
	}
	for _, n := range def.PK {
		for i := range def.Columns {
			if strings.EqualFold(def.Columns[i].Name, n) {
				t.pkCols = append(t.pkCols, i)
			}
		}
	}
	for i := range def.Columns {
		col := &def.Columns[i]
		s, conv, err := c.mapColumn(col)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", def.id(), err)
		}
		t.conv = append(t.conv, conv)
		if k, ok := pk[strings.ToLower(col.Name)]; ok {
			t.keyCols[k] = i
		}
		if c.keepsColumn(def.DB, def.Name, col.Name) {
			t.valIdx = append(t.valIdx, len(val.Fields))
			val.Fields = append(val.Fields, connect.Field{Name: col.Name, Schema: s})
		} else {
			t.valIdx = append(t.valIdx, -1)
		}
	}
	t.keyIdx = make([]int, len(def.Columns))
	for i := range t.keyIdx {
		t.keyIdx[i] = -1
	}
	for k, ci := range t.keyCols {
		if ci < 0 {
			return nil, fmt.Errorf("table %s: message.key.columns names %q, which is not a column", def.id(), keyNames[k])
		}
		col := &def.Columns[ci]
		s, _, _ := c.mapColumn(col)
		s.Optional = false
		key.Fields = append(key.Fields, connect.Field{Name: col.Name, Schema: s})
		t.keyIdx[ci] = k
	}
	if len(key.Fields) > 0 {
		t.keySchema = key
	}
	t.valueSchema = val
	t.envSchema = &connect.Schema{Type: connect.Struct, Name: base + ".Envelope", Version: 2, Fields: []connect.Field{
		{Name: "before", Schema: val},
		{Name: "after", Schema: val},
		{Name: "source", Schema: c.sourceSchema()},
		{Name: "transaction", Schema: transactionBlockSchema},
		{Name: "op", Schema: &connect.Schema{Type: connect.String}},
		{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
		{Name: "ts_us", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
		{Name: "ts_ns", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	}}
	return t, nil
}

// rowStructs converts one row (one value per column) into the value and key
// structs. key is nil for a table without a primary key.
func (t *table) rowStructs(row []any) (val, key *connect.StructValue, err error) {
	if len(row) != len(t.def.Columns) {
		return nil, nil, fmt.Errorf("table %s: row of %d columns, the table definition has %d", t.def.id(), len(row), len(t.def.Columns))
	}
	val = connect.NewStruct(t.valueSchema)
	if t.keySchema != nil {
		key = connect.NewStruct(t.keySchema)
	}
	for i, raw := range row {
		vi, ki := t.valIdx[i], t.keyIdx[i]
		if vi < 0 && ki < 0 {
			continue
		}
		v, err := t.conv[i](raw)
		if err != nil {
			return nil, nil, fmt.Errorf("table %s column %s: %w", t.def.id(), t.def.Columns[i].Name, err)
		}
		if vi >= 0 {
			val.Values[vi] = v
		}
		if ki >= 0 {
			key.Values[ki] = v
		}
	}
	return val, key, nil
}

const sourceSnapshotAllowed = "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"

func (c *conf) sourceSchema() *connect.Schema {
	if c.sourceSch != nil {
		return c.sourceSch
	}
	name := "io.debezium.connector.mysql.Source"
	if c.connectorName == "mariadb" {
		name = "io.debezium.connector.mariadb.Source"
	}
	c.sourceSch = &connect.Schema{Type: connect.Struct, Name: name, Fields: []connect.Field{
		{Name: "version", Schema: &connect.Schema{Type: connect.String}},
		{Name: "connector", Schema: &connect.Schema{Type: connect.String}},
		{Name: "name", Schema: &connect.Schema{Type: connect.String}},
		{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64}},
		{Name: "snapshot", Schema: &connect.Schema{Type: connect.String, Optional: true, Default: "false", Name: nameEnum, Version: 1,
			Parameters: map[string]string{"allowed": sourceSnapshotAllowed}}},
		{Name: "db", Schema: &connect.Schema{Type: connect.String}},
		{Name: "sequence", Schema: &connect.Schema{Type: connect.String, Optional: true}},
		{Name: "ts_us", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
		{Name: "ts_ns", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
		{Name: "table", Schema: &connect.Schema{Type: connect.String, Optional: true}},
		{Name: "server_id", Schema: &connect.Schema{Type: connect.Int64}},
		{Name: "gtid", Schema: &connect.Schema{Type: connect.String, Optional: true}},
		{Name: "file", Schema: &connect.Schema{Type: connect.String}},
		{Name: "pos", Schema: &connect.Schema{Type: connect.Int64}},
		{Name: "row", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "thread", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
		{Name: "query", Schema: &connect.Schema{Type: connect.String, Optional: true}},
	}}
	return c.sourceSch
}

// sourceInfo is what the source block says about one event.
type sourceInfo struct {
	ts       time.Time // commit time (binlog event time; snapshot: read time)
	snapshot string    // "" for streamed events
	db       string
	table    string
	serverID uint32
	gtid     string
	file     string
	pos      uint32
	row      int
	thread   int64 // -1: unknown
	query    string
	// tmpl, when set, is this event's source block for row 0: rows of one
	// binlog event share everything but the row number.
	tmpl *connect.StructValue
	now  *boxedNow
}

// boxedNow is a processing time, boxed once for the records of one event.
type boxedNow struct{ ms, us, ns any }

func newBoxedNow(t time.Time) *boxedNow {
	ns := t.UnixNano()
	return &boxedNow{ns / 1e6, ns / 1e3, ns}
}

func (c *conf) sourceStruct(si *sourceInfo) *connect.StructValue {
	if si.tmpl != nil {
		v := make([]any, len(si.tmpl.Values))
		copy(v, si.tmpl.Values)
		v[14] = int32(si.row)
		return &connect.StructValue{Schema: si.tmpl.Schema, Values: v}
	}
	s := connect.NewStruct(c.sourceSchema())
	us := si.ts.UnixMicro()
	snap := si.snapshot
	if snap == "" {
		snap = "false"
	}
	v := s.Values
	v[0], v[1], v[2], v[3], v[4], v[5] = Version, c.connectorName, c.prefix, us/1000, snap, si.db
	v[7], v[8] = us, us*1000
	if si.table != "" {
		v[9] = si.table
	}
	v[10] = int64(si.serverID)
	if si.gtid != "" {
		v[11] = si.gtid
	}
	v[12], v[13], v[14] = si.file, int64(si.pos), int32(si.row)
	if si.thread >= 0 {
		v[15] = si.thread
	}
	if si.query != "" && c.includeQuery {
		v[16] = si.query
	}
	return s
}

func envelope(t *table, before, after, source *connect.StructValue, op string, now *boxedNow) *connect.StructValue {
	e := connect.NewStruct(t.envSchema)
	if before != nil {
		e.Values[0] = before
	}
	if after != nil {
		e.Values[1] = after
	}
	e.Values[2] = source
	e.Values[4] = op
	e.Values[5], e.Values[6], e.Values[7] = now.ms, now.us, now.ns
	return e
}

var transactionBlockSchema = &connect.Schema{Type: connect.Struct, Name: "event.block", Version: 1, Optional: true, Fields: []connect.Field{
	{Name: "id", Schema: &connect.Schema{Type: connect.String}},
	{Name: "total_order", Schema: &connect.Schema{Type: connect.Int64}},
	{Name: "data_collection_order", Schema: &connect.Schema{Type: connect.Int64}},
}}

// loadTables reads the definitions of the captured tables from
// information_schema. Only tables (not views) are read.
func (c *conf) loadTables(conn *client.Conn, only map[string]bool) (map[string]*tableDef, error) {
	r, err := conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(CCSA.CHARACTER_SET_NAME, '') FROM information_schema.TABLES T
		LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA ON CCSA.COLLATION_NAME = T.TABLE_COLLATION
		WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defs := map[string]*tableDef{}
	var dbs []string
	for i := range r.RowNumber() {
		db, _ := r.GetString(i, 0)
		name, _ := r.GetString(i, 1)
		cs, _ := r.GetString(i, 2)
		if !c.captures(db, name) || only != nil && !only[db+"."+name] {
			continue
		}
		defs[db+"."+name] = &tableDef{DB: db, Name: name, Charset: cs}
		dbs = append(dbs, db)
	}
	if len(defs) == 0 {
		return defs, nil
	}
	in := sqlList(dbs)
	r, err = conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IS_NULLABLE,
		COALESCE(NUMERIC_PRECISION, CHARACTER_MAXIMUM_LENGTH, 0), COALESCE(NUMERIC_SCALE, DATETIME_PRECISION, 0),
		COALESCE(CHARACTER_SET_NAME, ''), EXTRA, COLUMN_KEY
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (` + in + `) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	for i := range r.RowNumber() {
		db, _ := r.GetString(i, 0)
		name, _ := r.GetString(i, 1)
		d := defs[db+"."+name]
		if d == nil {
			continue
		}
		col := column{}
		col.Name, _ = r.GetString(i, 2)
		col.DataType, _ = r.GetString(i, 3)
		col.ColumnType, _ = r.GetString(i, 4)
		nullable, _ := r.GetString(i, 5)
		col.Nullable = nullable == "YES"
		p, _ := r.GetInt(i, 6)
		s, _ := r.GetInt(i, 7)
		col.Precision, col.Scale = int(p), int(s)
		col.Charset, _ = r.GetString(i, 8)
		extra, _ := r.GetString(i, 9)
		extra = strings.ToLower(extra)
		col.AutoInc = strings.Contains(extra, "auto_increment")
		col.Generated = strings.Contains(extra, "generated") || strings.Contains(extra, "virtual") || strings.Contains(extra, "persistent")
		if col.DataType == "bit" {
			col.Precision = bitLength(col.ColumnType)
		}
		d.Columns = append(d.Columns, col)
	}
	// MariaDB's JSON is LONGTEXT with a json_valid() check; Debezium's
	// MariaDB connector reports it as JSON.
	r, err = conn.Execute(`SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA IN (` + in + `) AND CHECK_CLAUSE LIKE 'json_valid(%'`)
	if err == nil {
		for i := range r.RowNumber() {
			db, _ := r.GetString(i, 0)
			name, _ := r.GetString(i, 1)
			clause, _ := r.GetString(i, 2)
			d := defs[db+"."+name]
			if d == nil {
				continue
			}
			colName := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(clause, "json_valid("), ")"), "`")
			for k := range d.Columns {
				if strings.EqualFold(d.Columns[k].Name, colName) && d.Columns[k].DataType == "longtext" {
					d.Columns[k].DataType = "json"
				}
			}
		}
	}
	r, err = conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE CONSTRAINT_NAME = 'PRIMARY' AND TABLE_SCHEMA IN (` + in + `) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("read primary keys: %w", err)
	}
	for i := range r.RowNumber() {
		db, _ := r.GetString(i, 0)
		name, _ := r.GetString(i, 1)
		col, _ := r.GetString(i, 2)
		if d := defs[db+"."+name]; d != nil {
			d.PK = append(d.PK, col)
		}
	}
	return defs, nil
}

func bitLength(columnType string) int {
	var n int
	if _, err := fmt.Sscanf(strings.ToLower(columnType), "bit(%d)", &n); err != nil {
		return 1
	}
	return n
}

func sqlList(vals []string) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, v := range vals {
		if seen[v] {
			continue
		}
		seen[v] = true
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteString(v))
	}
	return b.String()
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

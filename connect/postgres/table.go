package postgres

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/regexlist"
)

// A captured table: its columns as the current Relation message (or the
// catalog, for snapshots) describes them, and the Connect schemas built from
// them. A new Relation message with other columns rebuilds the table, which is
// how ALTER TABLE ADD/DROP COLUMN reaches the events without a restart.

type column struct {
	name     string
	oid      uint32
	typmod   int32
	optional bool
	key      bool
	// skip: excluded by column.include/exclude.list or of an unmapped type.
	skip bool
	m    mapping
}

type table struct {
	id           string // schema.table, as data-collections and include lists name it
	schema, name string
	relID        uint32
	// replicaFull: REPLICA IDENTITY FULL, whose old tuples carry every column.
	replicaFull bool
	cols        []*column
	keyIdx      []int // indexes of the message key's columns in cols
	// rowIdx are the columns identifying a row (primary key, else replica
	// identity index): snapshot chunks are ordered by them. They differ
	// from keyIdx under message.key.columns.
	rowIdx      []int
	topic       string
	keySchema   *connect.Schema // nil: the table has no key
	valueSchema *connect.Schema
	envSchema   *connect.Schema
	// schema and name boxed once for the source blocks.
	schemaV, nameV any
}

func (t *table) sameColumns(cols []*column) bool {
	if len(cols) != len(t.cols) {
		return false
	}
	for i, c := range cols {
		o := t.cols[i]
		if c.name != o.name || c.oid != o.oid || c.typmod != o.typmod {
			return false
		}
	}
	return true
}

// colInfo is what the catalog says about a column.
type colInfo struct {
	notNull bool
	key     bool
}

// buildTable maps the columns and builds the schemas. info gives the catalog's
// not-null and key flags by column name; columns unknown to it are optional.
func (c *conf) buildTable(schema, name string, relID uint32, cols []*column, info map[string]colInfo, lookup typeLookup) (*table, error) {
	t := &table{id: schema + "." + name, schema: schema, name: name, relID: relID, cols: cols, schemaV: schema, nameV: name}
	t.topic = c.topicPrefix + c.delimiter + schema + c.delimiter + name
	base := c.topicPrefix + "." + schema + "." + name
	val := &connect.Schema{Type: connect.Struct, Name: base + ".Value", Optional: true}
	key := &connect.Schema{Type: connect.Struct, Name: base + ".Key"}
	override, hasOverride := c.messageKey(t.id)
	for i, col := range cols {
		ci, known := info[col.name]
		col.optional = !known || !ci.notNull
		if ci.key {
			t.rowIdx = append(t.rowIdx, i)
		}
		col.key = ci.key
		if hasOverride {
			col.key = slices.Contains(override, col.name)
		}
		if !c.columnIncluded(t.id, col.name) && !col.key {
			col.skip = true
			continue
		}
		m, err := mapType(col.oid, col.typmod, &c.types, lookup)
		if errors.Is(err, errSkipColumn) {
			c.log.Warn("column of unsupported type left out (set include.unknown.datatypes=true to keep it as text)", "table", t.id, "column", col.name, "err", err)
			col.skip = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", t.id, col.name, err)
		}
		col.m = m
		fs := *m.schema
		fs.Optional = col.optional
		if col.key {
			ks := *m.schema
			key.Fields = append(key.Fields, connect.Field{Name: col.name, Schema: &ks})
			t.keyIdx = append(t.keyIdx, i)
		}
		if c.columnIncluded(t.id, col.name) {
			val.Fields = append(val.Fields, connect.Field{Name: col.name, Schema: &fs})
		} else {
			col.skip = true // in the key only
		}
	}
	if hasOverride && len(key.Fields) != len(override) {
		return nil, fmt.Errorf("message.key.columns names columns %v for %s, which has only %d of them", override, t.id, len(key.Fields))
	}
	if len(key.Fields) > 0 {
		t.keySchema = key
	}
	t.valueSchema = val
	t.envSchema = &connect.Schema{Type: connect.Struct, Name: base + ".Envelope", Version: 2, Fields: []connect.Field{
		{Name: "before", Schema: val},
		{Name: "after", Schema: val},
		{Name: "source", Schema: sourceSchema},
		{Name: "transaction", Schema: transactionBlockSchema},
		{Name: "op", Schema: &connect.Schema{Type: connect.String}},
		{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
		{Name: "ts_us", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
		{Name: "ts_ns", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	}}
	return t, nil
}

var sourceSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.postgresql.Source", Fields: []connect.Field{
	{Name: "version", Schema: &connect.Schema{Type: connect.String}},
	{Name: "connector", Schema: &connect.Schema{Type: connect.String}},
	{Name: "name", Schema: &connect.Schema{Type: connect.String}},
	{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64}},
	{Name: "snapshot", Schema: &connect.Schema{Type: connect.String, Optional: true, Default: "false", Name: nameEnum, Version: 1,
		Parameters: map[string]string{"allowed": "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"}}},
	{Name: "db", Schema: &connect.Schema{Type: connect.String}},
	{Name: "sequence", Schema: &connect.Schema{Type: connect.String, Optional: true}},
	{Name: "ts_us", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	{Name: "ts_ns", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	{Name: "schema", Schema: &connect.Schema{Type: connect.String}},
	{Name: "table", Schema: &connect.Schema{Type: connect.String}},
	{Name: "txId", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	{Name: "lsn", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	{Name: "xmin", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
}}

var transactionBlockSchema = &connect.Schema{Type: connect.Struct, Name: "event.block", Version: 1, Optional: true, Fields: []connect.Field{
	{Name: "id", Schema: &connect.Schema{Type: connect.String}},
	{Name: "total_order", Schema: &connect.Schema{Type: connect.Int64}},
	{Name: "data_collection_order", Schema: &connect.Schema{Type: connect.Int64}},
}}

// rowValues decodes a tuple of text values (nil = SQL NULL, unchanged =
// unchanged TOAST) into the table's value struct and key struct.
type tupleCol struct {
	data      []byte
	null      bool
	unchanged bool
}

func (c *conf) rowStruct(t *table, tuple []tupleCol) (*connect.StructValue, error) {
	if len(tuple) != len(t.cols) {
		return nil, fmt.Errorf("table %s: tuple has %d columns, relation %d", t.id, len(tuple), len(t.cols))
	}
	v := connect.NewStruct(t.valueSchema)
	j := 0
	for i, col := range t.cols {
		if col.skip {
			continue
		}
		tc := tuple[i]
		switch {
		case tc.unchanged:
			v.Values[j] = c.unavailable(col)
		case tc.null:
		default:
			x, err := col.m.decode(tc.data)
			if err != nil {
				return nil, fmt.Errorf("table %s column %s: %w", t.id, col.name, err)
			}
			v.Values[j] = x
		}
		if fs := t.valueSchema.Fields[j].Schema; v.Values[j] == nil && !fs.Optional {
			v.Values[j] = fallback(fs)
		}
		j++
	}
	return v, nil
}

// unavailable is the placeholder for an unchanged TOAST value, in the
// column's own type where that is possible (Debezium's behaviour).
func (c *conf) unavailable(col *column) any {
	p := c.placeholder
	switch col.m.schema.Type {
	case connect.String:
		return p
	case connect.Bytes:
		if col.m.schema.Name == "" {
			return []byte(p)
		}
	case connect.Array:
		if col.m.schema.Value.Type == connect.String {
			return []any{p}
		}
	case connect.Map:
		return map[string]any{p: p}
	}
	return nil
}

func (c *conf) keyStruct(t *table, tuple []tupleCol) (*connect.StructValue, error) {
	if t.keySchema == nil {
		return nil, nil
	}
	k := connect.NewStruct(t.keySchema)
	for j, i := range t.keyIdx {
		tc := tuple[i]
		if tc.null || tc.unchanged {
			return nil, fmt.Errorf("table %s: key column %s is %s in the change", t.id, t.cols[i].name, map[bool]string{true: "NULL", false: "missing"}[tc.null])
		}
		x, err := t.cols[i].m.decode(tc.data)
		if err != nil {
			return nil, fmt.Errorf("table %s key column %s: %w", t.id, t.cols[i].name, err)
		}
		k.Values[j] = x
	}
	return k, nil
}

// sourceInfo is the variable part of the source block.
type sourceInfo struct {
	snapshot string
	ts       time.Time // commit time (streaming) or snapshot read time
	// stamps, when set, are ts boxed once for all of a transaction's changes.
	stamps   *stamps
	txID     any // int64 or nil, boxed once per change and shared with the offset
	lsn      any
	sequence string
}

// stamps are a time as ts_ms, ts_us and ts_ns, boxed for struct values.
type stamps struct{ ms, us, ns any }

func stampsOf(t time.Time) *stamps {
	return &stamps{ms: t.UnixMilli(), us: t.UnixMicro(), ns: t.UnixNano()}
}

func (c *conf) sourceStruct(t *table, si sourceInfo) *connect.StructValue {
	s := connect.NewStruct(sourceSchema)
	s.Values[0] = Version
	s.Values[1] = "postgresql"
	s.Values[2] = c.prefixV
	st := si.stamps
	if st == nil {
		st = stampsOf(si.ts)
	}
	s.Values[3] = st.ms
	s.Values[4] = si.snapshot
	s.Values[5] = c.dbV
	if si.sequence != "" {
		s.Values[6] = si.sequence
	}
	s.Values[7] = st.us
	s.Values[8] = st.ns
	s.Values[9] = t.schemaV
	s.Values[10] = t.nameV
	s.Values[11] = si.txID
	s.Values[12] = si.lsn
	return s
}

func envelope(t *table, before, after, source *connect.StructValue, op string, now time.Time) *connect.StructValue {
	e := connect.NewStruct(t.envSchema)
	if before != nil {
		e.Values[0] = before
	}
	if after != nil {
		e.Values[1] = after
	}
	e.Values[2] = source
	e.Values[4] = op
	e.Values[5] = now.UnixMilli()
	e.Values[6] = now.UnixMicro()
	e.Values[7] = now.UnixNano()
	return e
}

// filter is an include or exclude list, matched case-sensitively.
type filter = regexlist.List

func compileFilter(key string, pats []string) (filter, error) {
	return regexlist.Compile(key, pats, false)
}

// keyOverride is one entry of message.key.columns.
type keyOverride struct {
	table *regexp.Regexp
	cols  []string
}

// parseKeyColumns reads message.key.columns: <table regex>:<col>,<col>;...
func parseKeyColumns(v string) ([]keyOverride, error) {
	var out []keyOverride
	for _, part := range strings.Split(v, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		tbl, cols, ok := strings.Cut(part, ":")
		if !ok || strings.TrimSpace(cols) == "" {
			return nil, fmt.Errorf("message.key.columns: %q is not <schema.table>:<column>[,<column>...]", part)
		}
		re, err := regexp.Compile("^(?:" + strings.TrimSpace(tbl) + ")$")
		if err != nil {
			return nil, fmt.Errorf("message.key.columns: table pattern %q: %w", tbl, err)
		}
		ko := keyOverride{table: re}
		for _, c := range strings.Split(cols, ",") {
			if c = strings.TrimSpace(c); c != "" {
				ko.cols = append(ko.cols, c)
			}
		}
		out = append(out, ko)
	}
	return out, nil
}

func (c *conf) messageKey(tableID string) ([]string, bool) {
	for _, k := range c.keyColumns {
		if k.table.MatchString(tableID) {
			return k.cols, true
		}
	}
	return nil, false
}

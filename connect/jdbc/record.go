package jdbc

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

type opKind int

const (
	opWrite    opKind = iota // insert, upsert or update per insert.mode
	opDelete                 // by key
	opTruncate               // Debezium op=t
)

// column is one column a record writes: key columns come first in an op.
type column struct {
	name   string
	schema *connect.Schema
	key    bool
}

// op is what one record asks of the database, with its values already bound.
type op struct {
	rec    *connect.Record
	kind   opKind
	table  tableID
	cols   []column
	nkeys  int
	values []any
	// skip is set once the op turns out to have nothing to do (a delete
	// from a table that does not exist).
	skip bool
	// shape identifies ops that can share a statement: kind, table and
	// column names.
	shape string
}

// planner turns records into ops for one sink config.
type planner struct {
	cfg      *config
	d        dialect
	database string
}

// plan maps r to an op, or nil when r is to be skipped (a tombstone with
// delete.enabled=false, a Debezium truncate or message event ...).
func (p *planner) plan(r *connect.Record) (*op, error) {
	value, vschema := r.Value, r.ValueSchema
	var source, before *connect.StructValue
	kind := opWrite
	if sv, ok := value.(*connect.StructValue); ok && isEnvelope(sv.Schema) {
		source, _ = sv.Get("source").(*connect.StructValue)
		opCode, _ := sv.Get("op").(string)
		switch opCode {
		case "c", "u", "r":
			after, ok := sv.Get("after").(*connect.StructValue)
			if !ok {
				return nil, fmt.Errorf("debezium event with op=%s has no after struct", opCode)
			}
			value, vschema = after, after.Schema
		case "d":
			if !p.cfg.deletes {
				return nil, nil
			}
			kind = opDelete
			before, _ = sv.Get("before").(*connect.StructValue)
			value, vschema = nil, nil
		case "t":
			if !p.cfg.truncates {
				return nil, nil
			}
			kind = opTruncate
		default: // m (logical message) and anything newer: not rows
			return nil, nil
		}
	} else if value == nil {
		if !p.cfg.deletes {
			return nil, nil
		}
		// A tombstone deletes by record key. With pk.mode=record_value (only
		// Debezium deletes delete) or a table named from the change event's
		// source block, which a tombstone lacks, it is skipped: Debezium sends
		// it after the op=d event that already deleted the row, for
		// compaction only.
		if p.cfg.pkMode != pkRecordKey || strings.Contains(p.cfg.tableFormat, "${source.") {
			return nil, nil
		}
		kind = opDelete
	}
	name, err := p.tableName(r.Topic, source)
	if err != nil {
		return nil, err
	}
	table, err := parseTable(p.d, name, p.database)
	if err != nil {
		return nil, err
	}
	o := &op{rec: r, kind: kind, table: table}
	if kind == opTruncate {
		o.shape = "t|" + table.String()
		return o, nil
	}
	var row *connect.StructValue
	if value != nil {
		var ok bool
		if row, ok = value.(*connect.StructValue); !ok {
			if vschema == nil {
				return nil, fmt.Errorf("record value is a schemaless %T: the JDBC sink needs a struct with a schema (JsonConverter with schemas.enable=true, Avro, Protobuf, JSON Schema)", value)
			}
			return nil, fmt.Errorf("record value has a %s schema: the JDBC sink writes struct values only", vschema.Type)
		}
	}
	if err := p.keys(o, r, row, before); err != nil {
		return nil, err
	}
	if kind == opWrite {
		if err := p.valueColumns(o, row); err != nil {
			return nil, err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%s|%d", kind, table, o.nkeys)
	for _, c := range o.cols {
		b.WriteString("|" + c.name)
	}
	o.shape = b.String()
	return o, nil
}

// isEnvelope reports whether s is a Debezium change-event value.
func isEnvelope(s *connect.Schema) bool {
	if s == nil || s.Type != connect.Struct {
		return false
	}
	op, _, okOp := s.Field("op")
	_, _, okAfter := s.Field("after")
	_, _, okBefore := s.Field("before")
	return okOp && okAfter && okBefore && op.Schema != nil && op.Schema.Type == connect.String
}

var placeholder = regexp.MustCompile(`\$\{([^}]*)\}`)

// tableName expands table.name.format for a record.
func (p *planner) tableName(topic string, source *connect.StructValue) (string, error) {
	var err error
	name := placeholder.ReplaceAllStringFunc(p.cfg.tableFormat, func(m string) string {
		key := m[2 : len(m)-1]
		if key == "topic" {
			return topic
		}
		if f, ok := strings.CutPrefix(key, "source."); ok {
			if source == nil {
				err = fmt.Errorf("table.name.format %q uses %s but the record is not a Debezium change event", p.cfg.tableFormat, m)
				return ""
			}
			v, _ := source.Get(f).(string)
			if v == "" {
				err = fmt.Errorf("table.name.format %q: the event's source block has no %q", p.cfg.tableFormat, f)
			}
			return v
		}
		err = fmt.Errorf("table.name.format %q: unknown placeholder %s (${topic}, ${source.db}, ${source.schema}, ${source.table})", p.cfg.tableFormat, m)
		return ""
	})
	return name, err
}

// keys adds the primary-key columns of pk.mode to o. row is the value (nil
// for deletes); before is a Debezium delete's old row.
func (p *planner) keys(o *op, r *connect.Record, row, before *connect.StructValue) error {
	switch p.cfg.pkMode {
	case pkNone:
		return nil
	case pkKafka:
		names := p.cfg.pkFields
		if len(names) == 0 {
			names = []string{"__connect_topic", "__connect_partition", "__connect_offset"}
		}
		p.add(o, column{names[0], &connect.Schema{Type: connect.String}, true}, r.Topic)
		p.add(o, column{names[1], &connect.Schema{Type: connect.Int32}, true}, r.Partition)
		return p.add(o, column{names[2], &connect.Schema{Type: connect.Int64}, true}, r.Offset)
	case pkRecordKey:
		if r.Key == nil {
			return errors.New("record has a null key but pk.mode=record_key (Debezium gives null keys for tables without a primary key: use pk.mode=record_value with pk.fields)")
		}
		ks := r.KeySchema
		if kv, ok := r.Key.(*connect.StructValue); ok {
			return p.structKeys(o, kv, "record key")
		}
		if ks == nil || ks.Type != connect.Struct {
			var err error
			if ks == nil {
				if ks, err = inferSchema(r.Key); err != nil {
					return fmt.Errorf("record key: %w", err)
				}
			}
			name := "__connect_key"
			switch len(p.cfg.pkFields) {
			case 0:
			case 1:
				name = p.cfg.pkFields[0]
			default:
				return fmt.Errorf("pk.fields names %d columns but the record key is a single %s", len(p.cfg.pkFields), ks.Type)
			}
			return p.add(o, column{name, ks, true}, r.Key)
		}
		return fmt.Errorf("record key is a %T, not a struct as its schema says", r.Key)
	case pkRecordValue:
		src := row
		if o.kind == opDelete {
			src = before
			if src == nil {
				return errors.New("debezium delete event has no before struct to take the pk.mode=record_value key from (set REPLICA IDENTITY, or use pk.mode=record_key)")
			}
		}
		return p.structKeys(o, src, "record value")
	}
	return fmt.Errorf("unknown pk.mode %q", p.cfg.pkMode)
}

func (p *planner) structKeys(o *op, sv *connect.StructValue, what string) error {
	names := p.cfg.pkFields
	if len(names) == 0 {
		for _, f := range sv.Schema.Fields {
			names = append(names, f.Name)
		}
	}
	for _, n := range names {
		f, i, ok := sv.Schema.Field(n)
		if !ok {
			return fmt.Errorf("pk.fields names %q but the %s has no such field", n, what)
		}
		if sv.Values[i] == nil {
			return fmt.Errorf("primary-key field %q of the %s is null", n, what)
		}
		if err := p.add(o, column{n, f.Schema, true}, sv.Values[i]); err != nil {
			return err
		}
	}
	return nil
}

// valueColumns adds the value's fields that are neither key columns nor
// left out by fields.whitelist.
func (p *planner) valueColumns(o *op, row *connect.StructValue) error {
	for i, f := range row.Schema.Fields {
		if p.cfg.fields != nil && !p.cfg.fields[f.Name] {
			continue
		}
		if isKey(o, f.Name) || unavailable(row.Values[i]) {
			continue
		}
		if err := p.add(o, column{f.Name, f.Schema, false}, row.Values[i]); err != nil {
			return err
		}
	}
	return nil
}

// unavailablePlaceholder is what Debezium's PostgreSQL connector writes for
// an unchanged TOASTed value it did not receive; the column is left out so
// that the row keeps its value.
const unavailablePlaceholder = "__debezium_unavailable_value"

func unavailable(v any) bool {
	switch x := v.(type) {
	case string:
		return x == unavailablePlaceholder
	case []byte:
		return string(x) == unavailablePlaceholder
	}
	return false
}

func isKey(o *op, name string) bool {
	for _, c := range o.cols[:o.nkeys] {
		if c.name == name {
			return true
		}
	}
	return false
}

func (p *planner) add(o *op, c column, v any) error {
	if c.schema == nil {
		return fmt.Errorf("field %q has no schema", c.name)
	}
	if v == nil && c.schema.Default != nil {
		v = c.schema.Default
	}
	b, err := bind(p.d, c.schema, v, p.cfg.loc)
	if err != nil {
		return fmt.Errorf("field %q: %w", c.name, err)
	}
	if b == nil && c.key {
		return fmt.Errorf("primary-key field %q is null", c.name)
	}
	o.cols = append(o.cols, c)
	o.values = append(o.values, b)
	if c.key {
		o.nkeys++
	}
	return nil
}

package plan

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/types"
)

func kindTitle(k ast.SourceKind) string {
	if k == ast.Table {
		return "Table"
	}
	return "Stream"
}

func (c *Catalog) lookupType(name string) (types.Type, bool) {
	t, ok := c.types[name]
	return t, ok
}

var headersType = types.ArrayOf(types.StructOf(types.F("KEY", types.StringType), types.F("VALUE", types.BytesType)))

// reservedColumns cannot be declared: they are pseudo columns.
var reservedColumns = map[string]bool{"ROWTIME": true, "ROWPARTITION": true, "ROWOFFSET": true,
	"WINDOWSTART": true, "WINDOWEND": true}

func (c *Catalog) columnsOf(kind ast.SourceKind, els []ast.TableElement) ([]Column, error) {
	var cols []Column
	seen := map[string]bool{}
	hasHeaders := false
	for _, el := range els {
		if reservedColumns[strings.ToUpper(el.Name)] {
			return nil, fmt.Errorf("'%s' is a reserved column name.", el.Name)
		}
		if seen[el.Name] {
			return nil, fmt.Errorf("Duplicate column names: %s", el.Name)
		}
		seen[el.Name] = true
		t, err := el.Type.Resolve(c.lookupType)
		if err != nil {
			return nil, err
		}
		col := Column{Name: el.Name, Type: t}
		switch el.Constraint {
		case ast.Key:
			if kind == ast.Table {
				return nil, fmt.Errorf("Column `%s` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\nTables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.", el.Name)
			}
			col.Kind = KeyColumn
		case ast.PrimaryKey:
			if kind == ast.Stream {
				return nil, fmt.Errorf("Column `%s` is a 'PRIMARY KEY' column: please use 'KEY' for streams.\nTables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.", el.Name)
			}
			col.Kind = KeyColumn
		case ast.Headers:
			if hasHeaders {
				return nil, fmt.Errorf("Schema already contains a HEADERS column.")
			}
			hasHeaders = true
			if !t.Equal(headersType) {
				return nil, fmt.Errorf("Invalid type for HEADERS column: expected ARRAY<STRUCT<`KEY` STRING, `VALUE` BYTES>>, got %s", t)
			}
			col.Kind = HeadersColumn
		case ast.Header:
			if t.Kind != types.Bytes {
				return nil, fmt.Errorf("Invalid type for HEADER('%s') column: expected BYTES, got %s", el.HeaderKey, t)
			}
			col.Kind, col.HeaderKey = HeaderColumn, el.HeaderKey
		}
		cols = append(cols, col)
	}
	return cols, nil
}

// checkFormats validates that the formats can hold the columns.
func checkFormats(key, value Format, cols []Column) error {
	var keyCols, valCols []Column
	for _, c := range cols {
		switch c.Kind {
		case KeyColumn:
			keyCols = append(keyCols, c)
		case ValueColumn:
			valCols = append(valCols, c)
		}
	}
	// Columns as ksqlDB lists them in format errors: "V0 INT, V1 VARCHAR".
	names := func(cs []Column) string {
		s := make([]string, len(cs))
		for i, c := range cs {
			t := c.Type.String()
			if c.Type.Kind == types.String {
				t = "VARCHAR"
			}
			s[i] = types.QuoteIdent(c.Name) + " " + t
		}
		return strings.Join(s, ", ")
	}
	if key.Name == "KAFKA" && len(keyCols) > 1 {
		return fmt.Errorf("The 'KAFKA' format only supports a single field. Got: %s", names(keyCols))
	}
	if key.Name == "NONE" && len(keyCols) > 0 {
		return fmt.Errorf("The 'NONE' format can only be used when no columns are defined. Got: %s", names(keyCols))
	}
	if value.Name == "KAFKA" && len(valCols) > 1 {
		return fmt.Errorf("The 'KAFKA' format only supports a single field. Got: %s", names(valCols))
	}
	if value.Unwrapped && len(valCols) != 1 {
		return fmt.Errorf("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas")
	}
	for _, side := range []struct {
		f    Format
		cols []Column
	}{{key, keyCols}, {value, valCols}} {
		for _, c := range side.cols {
			switch side.f.Name {
			case "KAFKA":
				switch c.Type.Kind {
				case types.Int, types.Bigint, types.Double, types.String, types.Bytes:
				default:
					return fmt.Errorf("The 'KAFKA' format does not support type '%s'", c.Type.Kind)
				}
			case "DELIMITED":
				if !c.Type.Kind.Primitive() {
					return fmt.Errorf("The 'DELIMITED' format does not support type '%s', column: `%s`", c.Type.Kind, c.Name)
				}
			}
		}
	}
	return nil
}

func (c *Catalog) createSource(ctx context.Context, s *ast.CreateSource, props map[string]string, text string) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kind := kindTitle(s.Kind)
	if old, ok := c.sources[s.Name]; ok {
		if s.IfNotExists {
			return &Result{Kind: DDL, Source: old, Message: fmt.Sprintf("Cannot add %s %s: A %s with the same name already exists.", strings.ToLower(kind), s.Name, strings.ToLower(kindTitle(old.Kind)))}, nil
		}
		if !s.OrReplace {
			return nil, fmt.Errorf("Cannot add %s '%s': A %s with the same name already exists", strings.ToLower(kind), s.Name, strings.ToLower(kindTitle(old.Kind)))
		}
		if old.Kind != s.Kind {
			return nil, fmt.Errorf("Cannot replace a %s with a %s", strings.ToLower(kindTitle(old.Kind)), strings.ToLower(kind))
		}
	}
	w, err := readProps(s.Props)
	if err != nil {
		return nil, err
	}
	topic, ok, err := w.str("KAFKA_TOPIC")
	if err != nil {
		return nil, err
	}
	if !ok || topic == "" {
		return nil, fmt.Errorf("Missing required property \"KAFKA_TOPIC\" which has no default value.")
	}
	key, value, err := w.formats(nil, props)
	if err != nil {
		return nil, err
	}
	cols, err := c.columnsOf(s.Kind, s.Elements)
	if err != nil {
		return nil, err
	}
	if len(s.Elements) == 0 || !hasValueColumns(cols) {
		inferred, err := c.inferColumns(ctx, topic, key, value, cols)
		if err != nil {
			return nil, err
		}
		cols = inferred
	}
	hasKey := false
	for _, col := range cols {
		if col.Kind == KeyColumn {
			hasKey = true
		}
	}
	if s.Kind == ast.Table && !hasKey {
		return nil, fmt.Errorf("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.\nUse a partial schema to define the primary key and still let the value columns be inferred from the schema registry, e.g.: CREATE TABLE %s (ID INT PRIMARY KEY) WITH (...);", s.Name)
	}
	// ksqlDB (CreateSourceFactory) refuses CREATE OR REPLACE of a source
	// stream or table, and over one: a source table's CST query is never
	// replaced, so one CST query at most materializes a table. Command logs
	// of older versions may hold a CREATE OR REPLACE SOURCE that created a
	// new source: replayed, it still creates it.
	if s.OrReplace {
		old, exists := c.sources[s.Name]
		if exists && (s.Source || old.ReadOnly) || !exists && s.Source && !c.restoring {
			k := strings.ToLower(kind)
			return nil, fmt.Errorf("Cannot add %s '%s': CREATE OR REPLACE is not supported on source %ss.", k, s.Name, k)
		}
	}
	if err := checkFormats(key, value, cols); err != nil {
		return nil, err
	}
	src := &Source{Name: s.Name, Kind: s.Kind, ReadOnly: s.Source, Columns: cols, Topic: topic,
		KeyFormat: key, ValueFormat: value, SQL: text}
	if err := c.sourceTiming(src, w); err != nil {
		return nil, err
	}
	spec, err := topicSpec(w, src, false)
	if err != nil {
		return nil, err
	}
	if wt, ok, err := w.str("WINDOW_TYPE"); err != nil {
		return nil, err
	} else if ok {
		wt = strings.ToUpper(wt)
		if wt != "TUMBLING" && wt != "HOPPING" && wt != "SESSION" {
			return nil, fmt.Errorf("WINDOW_TYPE must be TUMBLING, HOPPING or SESSION, not %s", wt)
		}
		src.Window = &Window{Type: wt}
		size, hasSize, err := w.str("WINDOW_SIZE")
		if err != nil {
			return nil, err
		}
		switch {
		case wt == "SESSION" && hasSize:
			return nil, fmt.Errorf("'WINDOW_SIZE' should not be set for SESSION windows.")
		case wt != "SESSION" && !hasSize:
			return nil, fmt.Errorf("Tumbling and Hopping window types should set WINDOW_SIZE in the WITH clause.")
		case hasSize:
			ms, err := parseWindowSize(size)
			if err != nil {
				return nil, err
			}
			src.Window.Size = ms
		}
	} else if w.has("WINDOW_SIZE") {
		return nil, fmt.Errorf("'WINDOW_SIZE' is only valid with WINDOW_TYPE")
	}
	// Build the decoder once to surface format errors now.
	if _, err := c.decoder(src, 0); err != nil {
		return nil, err
	}
	if old, ok := c.sources[s.Name]; ok && s.OrReplace {
		// ksqlDB's metastore accepts a replacement only when it is
		// compatible (upgrade.go), and keeps what the old version was to
		// the other statements: the query writing it, its references.
		if msg := old.canUpgradeTo(src); msg != "" {
			return nil, fmt.Errorf("Cannot upgrade data source: %s", msg)
		}
		src.Query, src.References = old.Query, old.References
	}
	c.sources[s.Name] = src
	if s.Source && s.Kind == ast.Table {
		return c.materializeSourceTable(src, spec, text, kind+" created"), nil
	}
	return &Result{Kind: DDL, Source: src, Topic: spec, Message: kind + " created"}, nil
}

// materializeSourceTable makes a CREATE SOURCE TABLE queryable as ksqlDB
// does: a hidden persistent query CST_<TABLE>_<n> reads the topic into a
// store that pull queries read. It shows in SHOW QUERIES and is stopped by
// DROP TABLE. Caller holds c.mu.
func (c *Catalog) materializeSourceTable(src *Source, spec TopicSpec, text, message string) *Result {
	id := c.nextQueryID("CST_" + src.Name)
	src.Query = id
	c.queries[id] = &QueryInfo{ID: id, SQL: text, Sink: src.Name}
	q := &Query{ID: id, Exec: exec.NewSourceTable(id, src.Topic, src.Window != nil), Sink: src,
		Sources: []string{src.Name}, SourceTopics: []string{src.Topic}, SQL: text, FromEarliest: true}
	return &Result{Kind: PersistentQuery, Source: src, Topic: spec, Query: q, Message: message}
}

func hasValueColumns(cols []Column) bool {
	for _, c := range cols {
		if c.Kind == ValueColumn {
			return true
		}
	}
	return false
}

// sourceTiming reads TIMESTAMP and TIMESTAMP_FORMAT.
func (c *Catalog) sourceTiming(src *Source, w withProps) error {
	ts, ok, err := w.str("TIMESTAMP")
	if err != nil || !ok {
		if w.has("TIMESTAMP_FORMAT") && err == nil {
			return fmt.Errorf("TIMESTAMP_FORMAT requires the TIMESTAMP property")
		}
		return err
	}
	name := strings.ToUpper(ts)
	if strings.HasPrefix(ts, "`") && strings.HasSuffix(ts, "`") && len(ts) > 1 {
		name = ts[1 : len(ts)-1]
	}
	col, idx := src.Column(name)
	if idx < 0 {
		return fmt.Errorf("The TIMESTAMP column set in the WITH clause does not exist in the schema: '%s'", name)
	}
	src.Timestamp = col.Name
	f, _, err := w.str("TIMESTAMP_FORMAT")
	if err != nil {
		return err
	}
	src.TimestampFormat = f
	switch col.Type.Kind {
	case types.Bigint, types.Timestamp:
	case types.String:
		if f == "" {
			return fmt.Errorf("A String timestamp field has been specified without also specifying the TIMESTAMP_FORMAT property.")
		}
	default:
		return fmt.Errorf("Timestamp column, `%s`, should be LONG(INT64), TIMESTAMP, or a String with a TIMESTAMP_FORMAT specified.", col.Name)
	}
	return nil
}

func topicSpec(w withProps, src *Source, create bool) (TopicSpec, error) {
	spec := TopicSpec{Name: src.Topic, Create: create, KeyFormat: src.KeyFormat.Name, ValueFormat: src.ValueFormat.Name,
		Config: map[string]string{}}
	if n, ok, err := w.integer("PARTITIONS"); err != nil {
		return spec, err
	} else if ok {
		if n < 1 {
			return spec, fmt.Errorf("Invalid number of partitions: %d", n)
		}
		spec.Partitions, spec.Create = int(n), true
		src.Partitions = int(n)
	}
	if n, ok, err := w.integer("REPLICAS"); err != nil {
		return spec, err
	} else if ok {
		spec.Replicas = int(n)
		src.Replicas = int(n)
	}
	if n, ok, err := w.integer("RETENTION_MS"); err != nil {
		return spec, err
	} else if ok {
		spec.Config["retention.ms"] = fmt.Sprint(n)
	}
	if p, ok, err := w.str("CLEANUP_POLICY"); err != nil {
		return spec, err
	} else if ok {
		spec.Config["cleanup.policy"] = strings.ToLower(p)
	}
	if src.Kind == ast.Table && spec.Config["cleanup.policy"] == "" && create {
		spec.Config["cleanup.policy"] = "compact"
	}
	return spec, nil
}

func (c *Catalog) createType(s *ast.CreateType) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.types[s.Name]; ok {
		if s.IfNotExists {
			return &Result{Kind: DDL, Message: fmt.Sprintf("Type %s already exists", s.Name)}, nil
		}
		return nil, fmt.Errorf("Cannot register custom type '%s' since it is already registered with type: %s", s.Name, c.types[s.Name])
	}
	t, err := s.Type.Resolve(c.lookupType)
	if err != nil {
		return nil, err
	}
	c.types[s.Name] = t
	return &Result{Kind: DDL, Message: fmt.Sprintf("Registered custom type with name '%s' and SQL type %s", s.Name, t)}, nil
}

func (c *Catalog) dropType(s *ast.DropType) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.types[s.Name]; !ok {
		if s.IfExists {
			return &Result{Kind: DDL, Message: fmt.Sprintf("Type %s does not exist.", s.Name)}, nil
		}
		return nil, fmt.Errorf("Type %s does not exist.", s.Name)
	}
	delete(c.types, s.Name)
	return &Result{Kind: DDL, Message: fmt.Sprintf("Dropped type '%s'", s.Name)}, nil
}

func (c *Catalog) dropSource(s *ast.DropSource) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	src, ok := c.sources[s.Name]
	if !ok {
		if s.IfExists {
			return &Result{Kind: DDL, Message: fmt.Sprintf("Source `%s` does not exist.", s.Name)}, nil
		}
		return nil, fmt.Errorf("%s %s does not exist.", kindTitle(s.Kind), s.Name)
	}
	if src.Kind != s.Kind {
		return nil, fmt.Errorf("Incompatible data source type is %s, but statement was DROP %s", strings.ToUpper(kindTitle(src.Kind)), strings.ToUpper(kindTitle(s.Kind)))
	}
	// As ksqlDB (since confluentinc/ksql#6143): sources created from this
	// one must be dropped first; INSERT INTO queries reading or writing it
	// must be terminated first; the query that creates it (CSAS/CTAS, or a
	// source table's CST query) is terminated with it.
	if refs := c.referencing(s.Name); len(refs) > 0 {
		if !c.restoring {
			return nil, fmt.Errorf("Cannot drop %s.\nThe following streams and/or tables read from this source: [%s].\nYou need to drop them before dropping %s.",
				s.Name, strings.Join(refs, ", "), s.Name)
		}
		for _, r := range refs {
			ref := c.sources[r]
			ref.References = slices.DeleteFunc(slices.Clone(ref.References), func(n string) bool { return n == s.Name })
		}
	}
	readers, writers := c.queriesUsing(s.Name)
	stop := ""
	if _, ok := c.queries[src.Query]; ok {
		stop = src.Query
		own := func(id string) bool { return id == stop }
		readers = slices.DeleteFunc(readers, own)
		writers = slices.DeleteFunc(writers, own)
	}
	if len(readers) > 0 || len(writers) > 0 {
		return nil, fmt.Errorf("Cannot drop %s.\nThe following queries read from this source: [%s].\nThe following queries write into this source: [%s].\nYou need to terminate them before dropping %s.",
			s.Name, strings.Join(readers, ", "), strings.Join(writers, ", "), s.Name)
	}
	delete(c.sources, s.Name)
	if stop != "" {
		delete(c.queries, stop)
	}
	res := &Result{Kind: DDL, Dropped: s.Name, StopQuery: stop, Message: fmt.Sprintf("Source `%s` (topic: %s) was dropped.", s.Name, src.Topic)}
	if s.DeleteTopic {
		res.Topic = TopicSpec{Name: src.Topic}
	}
	return res, nil
}

func (c *Catalog) alterSource(s *ast.AlterSource) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	src, ok := c.sources[s.Name]
	if !ok {
		return nil, fmt.Errorf("Source %s does not exist.", s.Name)
	}
	if src.Kind != s.Kind {
		return nil, fmt.Errorf("Incompatible data source type is %s, but statement was ALTER %s", strings.ToUpper(kindTitle(src.Kind)), strings.ToUpper(kindTitle(s.Kind)))
	}
	if src.Query != "" {
		return nil, fmt.Errorf("ALTER command is not supported for CREATE ... AS statements.")
	}
	if src.ValueFormat.UsesRegistry() {
		return nil, fmt.Errorf("ALTER command is not supported for %s", src.ValueFormat.Name)
	}
	added, err := c.columnsOf(s.Kind, s.Columns)
	if err != nil {
		return nil, err
	}
	next := *src
	next.Columns = append(append([]Column(nil), src.Columns...), added...)
	for _, a := range added {
		if _, i := src.Column(a.Name); i >= 0 {
			return nil, fmt.Errorf("Cannot add column `%s` to schema. A column with the same name already exists.", a.Name)
		}
	}
	next.SQL = src.SQL
	c.sources[s.Name] = &next
	return &Result{Kind: DDL, Source: &next, Message: kindTitle(s.Kind) + " altered"}, nil
}

// parseWindowSize reads WINDOW_SIZE ('10 SECONDS') as milliseconds.
func parseWindowSize(s string) (int64, error) {
	fields := strings.Fields(s)
	bad := fmt.Errorf("Invalid WINDOW_SIZE property : '%s'. WINDOW_SIZE should be in the form '<number> <time unit>', e.g. '10 SECONDS'.", s)
	if len(fields) != 2 {
		return 0, bad
	}
	n, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil || n <= 0 {
		return 0, bad
	}
	unit := strings.TrimSuffix(strings.ToUpper(fields[1]), "S")
	mult := map[string]int64{"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}[unit]
	if mult == 0 {
		return 0, bad
	}
	return n * mult, nil
}

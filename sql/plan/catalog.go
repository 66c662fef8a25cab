package plan

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// ColumnKind is where a column's value comes from.
type ColumnKind int

// The column kinds.
const (
	ValueColumn   ColumnKind = iota // in the record value
	KeyColumn                       // in the record key (KEY / PRIMARY KEY)
	HeadersColumn                   // HEADERS: every header
	HeaderColumn                    // HEADER('k'): one header's last value
)

// Column is a column of a stream or table.
type Column struct {
	Name      string
	Type      types.Type
	Kind      ColumnKind
	HeaderKey string // for HeaderColumn
}

// Format is a key or value format with its properties.
type Format struct {
	// Name is KAFKA, JSON, DELIMITED, AVRO, JSON_SR, PROTOBUF or NONE.
	Name string
	// Delimiter is DELIMITED's field separator ("" = ',').
	Delimiter string
	// Unwrapped is WRAP_SINGLE_VALUE=false (value formats only).
	Unwrapped bool
	// SchemaID pins a registry schema id (KEY_SCHEMA_ID/VALUE_SCHEMA_ID).
	SchemaID int
	// FullName is the schema's record/message full name.
	FullName string
}

// UsesRegistry reports whether the format keeps schemas in a registry.
func (f Format) UsesRegistry() bool {
	switch f.Name {
	case "AVRO", "JSON_SR", "PROTOBUF":
		return true
	}
	return false
}

// Window describes a windowed source (part 2: windowed aggregations write
// windowed keys).
type Window struct {
	Type string // TUMBLING, HOPPING or SESSION
	Size int64  // milliseconds; 0 for sessions
}

// Source is a stream or table in the catalog.
type Source struct {
	Name string
	Kind ast.SourceKind
	// ReadOnly marks CREATE SOURCE STREAM/TABLE.
	ReadOnly bool
	Columns  []Column
	Topic    string
	// KeyFormat and ValueFormat are the record formats.
	KeyFormat, ValueFormat Format
	// Timestamp names the column used as event time ("" = record time) and
	// TimestampFormat its pattern when it is a STRING.
	Timestamp, TimestampFormat string
	Window                     *Window
	// Partitions and Replicas are the topic's, when the statement gave them.
	Partitions, Replicas int
	// SQL is the statement that created the source.
	SQL string
	// Query is the id of the persistent query that writes it (CSAS/CTAS),
	// "" for sources declared on existing topics.
	Query string
	// References are the sources a CSAS/CTAS reads: while this source
	// exists they cannot be dropped (ksqlDB's drop constraints, kept even
	// after its query is terminated).
	References []string
}

// Schema returns the source's columns as a row schema (header columns are
// value columns there).
func (s *Source) Schema() types.Schema {
	out := types.Schema{Columns: make([]types.Column, len(s.Columns))}
	for i, c := range s.Columns {
		out.Columns[i] = types.Column{Name: c.Name, Type: c.Type, Key: c.Kind == KeyColumn}
	}
	return out
}

// Column returns the column named name and its index, or -1.
func (s *Source) Column(name string) (Column, int) {
	for i, c := range s.Columns {
		if c.Name == name {
			return c, i
		}
	}
	return Column{}, -1
}

// HasHeaderColumns reports whether some column is read from headers.
func (s *Source) HasHeaderColumns() bool {
	for _, c := range s.Columns {
		if c.Kind == HeadersColumn || c.Kind == HeaderColumn {
			return true
		}
	}
	return false
}

// QueryInfo is a persistent query the catalog knows about.
type QueryInfo struct {
	ID      string
	SQL     string
	Sink    string
	Sources []string
	// steps is a CSAS/CTAS plan as the upgrade check sees it (upgrade.go).
	steps []planStep
}

// Catalog holds the streams, tables, custom types and persistent queries
// of one engine, plus what planning needs: the function registry, a schema
// registry client and the processing log. It is safe for concurrent use;
// statements are applied one at a time.
type Catalog struct {
	mu       sync.Mutex
	sources  map[string]*Source
	types    map[string]types.Type
	queries  map[string]*QueryInfo
	querySeq int
	// keyLookups are the prepared key lookups by table and key column
	// (pull_lookup.go); an entry whose table changed is planned again.
	keyLookups map[[2]string]*KeyLookup
	// restoring is set while the engine replays its command log: DROP then
	// ignores drop constraints, as ksqlDB's metastore does on restore, so
	// that logs written before the constraints existed replay as they ran.
	restoring bool

	// streamTable is the stream-table join settings of the statement being
	// planned (join_temporal.go).
	streamTable streamTableConfig

	funcs    *funcs.Registry
	registry *srclient.Client
	plog     exec.ProcessingLog
	logger   *slog.Logger
	clock    func() int64
	// serviceID is ksql.service.id (repartition topic names).
	serviceID string
}

// Option configures a Catalog.
type Option func(*Catalog)

// WithSchemaRegistry sets the registry used by AVRO, JSON_SR and PROTOBUF
// sources and sinks and for schema inference.
func WithSchemaRegistry(c *srclient.Client) Option { return func(cat *Catalog) { cat.registry = c } }

// WithProcessingLog sets where queries report per-record errors.
func WithProcessingLog(l exec.ProcessingLog) Option { return func(cat *Catalog) { cat.plog = l } }

// WithFunctions sets the function registry (default funcs.New()).
func WithFunctions(r *funcs.Registry) Option { return func(cat *Catalog) { cat.funcs = r } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(cat *Catalog) { cat.logger = l } }

// NewCatalog returns an empty catalog.
func NewCatalog(opts ...Option) *Catalog {
	c := &Catalog{sources: map[string]*Source{}, types: map[string]types.Type{}, queries: map[string]*QueryInfo{}}
	for _, o := range opts {
		o(c)
	}
	if c.funcs == nil {
		c.funcs = funcs.New()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Source returns the stream or table named name.
func (c *Catalog) Source(name string) (*Source, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sources[name]
	return s, ok
}

// Sources lists the streams and tables by name.
func (c *Catalog) Sources() []*Source {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Source, 0, len(c.sources))
	for _, s := range c.sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Type returns the custom type named name.
func (c *Catalog) Type(name string) (types.Type, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.types[strings.ToUpper(name)]
	if !ok {
		t, ok = c.types[name]
	}
	return t, ok
}

// Queries lists the persistent queries by id.
func (c *Catalog) Queries() []*QueryInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*QueryInfo, 0, len(c.queries))
	for _, q := range c.queries {
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RemoveQuery forgets a persistent query (TERMINATE).
func (c *Catalog) RemoveQuery(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.queries[id]
	if !ok {
		return fmt.Errorf("Unknown queryId: %s", id)
	}
	delete(c.queries, id)
	if s, ok := c.sources[q.Sink]; ok && s.Query == id {
		s.Query = ""
	}
	return nil
}

// AbortQuery undoes the catalog changes of a persistent query the caller
// could not start (its topic or command could not be written): a CSAS/CTAS
// sink goes back to what it was (nothing, or the replaced version), other
// queries are forgotten.
func (c *Catalog) AbortQuery(q *Query) {
	if q.undo == nil {
		c.RemoveQuery(q.ID)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q.undo()
}

// IsSourceTableQuery reports whether id is the query that materializes a
// source table (CST_...): TERMINATE refuses it, DROP TABLE ends it.
func (c *Catalog) IsSourceTableQuery(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.queries[id]
	if !ok {
		return false
	}
	s, ok := c.sources[q.Sink]
	return ok && s.ReadOnly && s.Kind == ast.Table && s.Query == id
}

// SetRestoring marks the replay of a command log (on) and its end (off).
func (c *Catalog) SetRestoring(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.restoring = on
}

// referencing lists the sources created from source name, sorted.
func (c *Catalog) referencing(name string) []string {
	var out []string
	for _, s := range c.sources {
		if s.Name != name && slices.Contains(s.References, name) {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

func (c *Catalog) nextQueryID(prefix string) string {
	id := fmt.Sprintf("%s_%d", prefix, c.querySeq)
	c.querySeq++
	return id
}

// queriesUsing lists the queries reading and writing source name.
func (c *Catalog) queriesUsing(name string) (readers, writers []string) {
	for _, q := range c.queries {
		for _, s := range q.Sources {
			if s == name {
				readers = append(readers, q.ID)
			}
		}
		if q.Sink == name {
			writers = append(writers, q.ID)
		}
	}
	sort.Strings(readers)
	sort.Strings(writers)
	return readers, writers
}

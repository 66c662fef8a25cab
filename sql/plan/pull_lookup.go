package plan

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/types"
)

// Prepared key lookups. The most frequent pull query is
//
//	SELECT * FROM T WHERE K = '<key>'
//
// on a materialized table whose one key column K is a STRING. Planning it
// for each request (analysis, key extraction, operators, decoders, JSON
// encoders) costs more than reading the row. A KeyLookup is that plan made
// once per table and column, for any key: the key is serialized per
// request and the rows go through a pooled pipeline of SELECT * FROM T.
//
// Why dropping the WHERE is exact: the general plan looks up the key
// serialized in the table's key format and then filters the rows read with
// K = '<key>'. For a STRING key in the KAFKA or JSON key format a stored
// key equal to the serialized literal decodes to the literal itself, so
// that filter keeps every row the lookup returns. Anything else (other key
// types or formats, several key columns, windowed tables, tables no query
// materializes) is planned the general way.

// KeyLookup is a prepared pull query SELECT * FROM Table WHERE Column =
// '<key>' (Catalog.PrepareKeyLookup).
type KeyLookup struct {
	// Table is the queried table; QueryID the persistent query whose state
	// holds it.
	Table   *Source
	QueryID string
	// Columns are the result columns (those of SELECT *).
	Columns []types.Column

	cat    *Catalog
	column string
	key    serde.Serializer
	query  *ast.Query          // SELECT * FROM Table, planned for each pooled pipeline
	pipes  chan *exec.Pipeline // idle pipelines

	memoOnce sync.Once
	memo     any
}

// idleKeyLookupPipelines bounds the pipelines a KeyLookup keeps for reuse:
// about the number of lookups that run at once.
const idleKeyLookupPipelines = 16

// errKeyLookupStale says the catalog changed under a prepared lookup.
var errKeyLookupStale = errors.New("plan: the table of a prepared key lookup changed")

// PrepareKeyLookup returns the prepared lookup SELECT * FROM table WHERE
// column = '<key>' and the id of a new transient query to run it as, or
// false when that statement is not a plain key lookup (table is not a
// materialized, unwindowed table whose one key column is column, a STRING
// in the KAFKA or JSON key format). The caller then plans the statement the
// general way, which also gives the errors. Names are as the parser reads
// them (parser.MatchKeyLookup).
func (c *Catalog) PrepareKeyLookup(table, column string) (*KeyLookup, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	src, ok := c.sources[table]
	if !ok {
		return nil, "", false
	}
	k := [2]string{table, column}
	l := c.keyLookups[k]
	if l == nil || l.Table != src || l.QueryID != src.Query {
		if l = c.prepareKeyLookup(src, column); l == nil {
			delete(c.keyLookups, k)
			return nil, "", false
		}
		if c.keyLookups == nil {
			c.keyLookups = map[[2]string]*KeyLookup{}
		}
		c.keyLookups[k] = l
	}
	// nextQueryID, without fmt.
	id := "transient_" + src.Name + "_" + strconv.Itoa(c.querySeq)
	c.querySeq++
	return l, id, true
}

// prepareKeyLookup checks that column is src's key lookup and plans it, or
// returns nil. Caller holds c.mu.
func (c *Catalog) prepareKeyLookup(src *Source, column string) *KeyLookup {
	if src.Kind != ast.Table || src.Query == "" || src.Window != nil || src.HasHeaderColumns() {
		return nil
	}
	var keys []Column
	for _, col := range src.Columns {
		if col.Kind == KeyColumn {
			keys = append(keys, col)
		}
	}
	if len(keys) != 1 || keys[0].Name != column || keys[0].Type.Kind != types.String {
		return nil
	}
	if f := src.KeyFormat.Name; f != "KAFKA" && f != "JSON" {
		return nil
	}
	kf, err := c.serde(src.KeyFormat)
	if err != nil {
		return nil
	}
	keyCols := []types.Column{{Name: column, Type: keys[0].Type, Key: true}}
	ser, err := kf.Serializer(types.Schema{Columns: keyCols}.KeyType(), true)
	if err != nil {
		return nil
	}
	l := &KeyLookup{Table: src, QueryID: src.Query, cat: c, column: column, key: ser,
		query: &ast.Query{Select: []ast.SelectItem{&ast.SelectAll{}}, From: &ast.Source{Name: src.Name}},
		pipes: make(chan *exec.Pipeline, idleKeyLookupPipelines)}
	if validatePull(l.query) != nil {
		return nil
	}
	// Plan one pipeline now: it gives the columns and proves the plan.
	p, err := l.plan("transient_" + src.Name)
	if err != nil {
		return nil
	}
	l.Columns = p.Columns()
	l.pipes <- p
	return l
}

// plan builds a pipeline of SELECT * FROM Table. Caller holds c.mu.
func (l *KeyLookup) plan(id string) (*exec.Pipeline, error) {
	if l.cat.sources[l.Table.Name] != l.Table {
		return nil, errKeyLookupStale
	}
	p, err := l.cat.planSelect(l.query, pushKind, "")
	if err != nil {
		return nil, err
	}
	p.setNext(exec.Collect{})
	return exec.NewPushPipeline(id, p.inputs, p.columns, l.cat.plog)
}

// Key serializes key in the table's key format: what to look up.
func (l *KeyLookup) Key(ctx context.Context, key string) ([]byte, error) {
	return l.key.Serialize(ctx, l.Table.Topic, types.StructVal{{Name: l.column, Value: key}})
}

// Pipeline returns a pipeline of SELECT * FROM Table named id, to process
// the records the lookup reads (decode, projection, JSON row). Release
// gives it back for the next lookup; it is not safe for concurrent use.
func (l *KeyLookup) Pipeline(id string) (*exec.Pipeline, error) {
	select {
	case p := <-l.pipes:
		p.SetID(id)
		return p, nil
	default:
	}
	l.cat.mu.Lock()
	defer l.cat.mu.Unlock()
	return l.plan(id)
}

// Release keeps p for another lookup (or drops it when enough are idle).
func (l *KeyLookup) Release(p *exec.Pipeline) {
	select {
	case l.pipes <- p:
	default:
	}
}

// Memo returns what fn returned the first time Memo was called on l: what
// a caller derives once per prepared lookup (the engine, its REST column
// names and types).
func (l *KeyLookup) Memo(fn func() any) any {
	l.memoOnce.Do(func() { l.memo = fn() })
	return l.memo
}

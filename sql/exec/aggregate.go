package exec

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// Aggregation operators (GROUP BY) keep one state per group in a store of
// the query and emit, for each input row, the group's new aggregated row:
//
//	StreamAggregate  a stream grouped without a window (KeyValueStore)
//	TableAggregate   a table grouped: old row retracted, new row added
//	WindowAggregate  TUMBLING and HOPPING windows (WindowStore), window.go
//	SessionAggregate SESSION windows (SessionStore), session.go
//
// The aggregated row holds the grouping key values, then one value per
// aggregate call (Grouping.Row); windowed rows carry their window in
// Row.Win. HAVING and the final projection run on that row downstream.
//
// Store names follow ksqlDB's (Aggregate-Aggregate-Materialize for the
// aggregate, KsqlTopic-Reduce for a materialized source table), so
// changelog topics are named as ksqlDB names them.

// Store names of the aggregation operators.
const (
	AggregateStoreName = "Aggregate-Aggregate-Materialize"
	SourceTableStore   = "KsqlTopic-Reduce"
	SuppressStoreName  = "Aggregate-Suppress"
)

// AggCall is one aggregate function call: the bound aggregate and its
// non-literal arguments (Agg.Inputs) as expressions over the input row, with
// their types.
type AggCall struct {
	Agg      *funcs.Aggregate
	Args     []Eval
	ArgTypes []types.Type
}

// Grouping says how input rows map to groups and aggregate inputs, and how
// group keys and states are stored: keys and states are written with the
// aggregate state codec (funcs.EncodeValue), so equal keys are equal bytes.
type Grouping struct {
	Keys     []Eval
	KeyTypes []types.Type
	// KeyNames name the grouping expressions in processing-log entries.
	KeyNames []string
	Calls    []AggCall

	keyType, stateType types.Type
}

// Init prepares the codecs; call it once the fields are set.
func (g *Grouping) Init() {
	var kf, sf []types.Field
	for i, t := range g.KeyTypes {
		kf = append(kf, types.F(fmt.Sprintf("K%d", i), t))
	}
	for i, call := range g.Calls {
		sf = append(sf, types.F(fmt.Sprintf("S%d", i), call.Agg.State))
	}
	g.keyType, g.stateType = types.StructOf(kf...), types.StructOf(sf...)
}

// key evaluates r's grouping key. ok is false when a grouping expression
// is NULL or fails: ksqlDB excludes the row and logs it.
func (g *Grouping) key(c *Context, r *Row) ([]types.Value, bool) {
	vals := make([]types.Value, len(g.Keys))
	for i, k := range g.Keys {
		v, err := k(r)
		if err != nil {
			c.logError(RecordProcessingError, fmt.Errorf("error computing GROUP BY expression %s: %w", g.KeyNames[i], err))
			return nil, false
		}
		if v == nil {
			c.logError(RecordProcessingError, fmt.Errorf("Group-by column with index %d resolved to null. The source row will be excluded from the table.", i))
			return nil, false
		}
		vals[i] = v
	}
	return vals, true
}

// keyOf is key for a stored row, already reported when it was added: no
// processing-log entries.
func (g *Grouping) keyOf(r *Row) ([]types.Value, bool) {
	vals := make([]types.Value, len(g.Keys))
	for i, k := range g.Keys {
		v, err := k(r)
		if err != nil || v == nil {
			return nil, false
		}
		vals[i] = v
	}
	return vals, true
}

func (g *Grouping) encodeKey(vals []types.Value) ([]byte, error) {
	return funcs.EncodeValue(nil, g.keyType, structOf(g.keyType, vals))
}

func (g *Grouping) decodeKey(b []byte) ([]types.Value, error) {
	v, _, err := funcs.DecodeValue(b, g.keyType)
	if err != nil {
		return nil, err
	}
	return fieldValues(v), nil
}

func (g *Grouping) initStates() []types.Value {
	s := make([]types.Value, len(g.Calls))
	for i, call := range g.Calls {
		s[i] = call.Agg.Init()
	}
	return s
}

func (g *Grouping) encodeStates(s []types.Value) ([]byte, error) {
	return funcs.EncodeValue(nil, g.stateType, structOf(g.stateType, s))
}

func (g *Grouping) decodeStates(b []byte) ([]types.Value, error) {
	v, _, err := funcs.DecodeValue(b, g.stateType)
	if err != nil {
		return nil, err
	}
	return fieldValues(v), nil
}

// inputs evaluates the arguments of every call for r; a failing argument
// is logged and read as NULL, as ksqlDB does.
func (g *Grouping) inputs(c *Context, r *Row) [][]types.Value {
	out := make([][]types.Value, len(g.Calls))
	for i, call := range g.Calls {
		in := make([]types.Value, len(call.Args))
		for j, a := range call.Args {
			v, err := a(r)
			if err != nil {
				c.logError(RecordProcessingError, fmt.Errorf("error computing argument of %s: %w", call.Agg.Function.Name, err))
				v = nil
			}
			in[j] = v
		}
		out[i] = in
	}
	return out
}

// add folds one row's inputs into the states; seq orders the row for the
// *_BY_OFFSET functions.
func (g *Grouping) add(c *Context, states []types.Value, in [][]types.Value, seq int64) {
	for i, call := range g.Calls {
		args := in[i]
		if call.Agg.Sequence {
			args = append(append([]types.Value(nil), args...), seq)
		}
		s, err := call.Agg.Add(states[i], args...)
		if err != nil {
			c.logError(RecordProcessingError, err)
			continue
		}
		states[i] = s
	}
}

func (g *Grouping) retract(c *Context, states []types.Value, in [][]types.Value) {
	// Retract is only planned for retractable aggregates (table sources).
	for i, call := range g.Calls {
		s, err := call.Agg.Retract(states[i], in[i]...)
		if err != nil {
			c.logError(RecordProcessingError, err)
			continue
		}
		states[i] = s
	}
}

// merge folds the states of a session into acc (session windows merging).
func (g *Grouping) merge(c *Context, acc, other []types.Value) {
	for i, call := range g.Calls {
		s, err := call.Agg.Merge(acc[i], other[i])
		if err != nil {
			c.logError(RecordProcessingError, err)
			continue
		}
		acc[i] = s
	}
}

// Row is the aggregated row of a group: key values, then the result of
// each call.
func (g *Grouping) Row(c *Context, keys, states []types.Value, ts int64, win *Window, headers []Header) *Row {
	cols := make([]types.Value, 0, len(keys)+len(states))
	cols = append(cols, keys...)
	for i, call := range g.Calls {
		v, err := call.Agg.Value(states[i])
		if err != nil {
			c.logError(RecordProcessingError, err)
			v = nil
		}
		cols = append(cols, v)
	}
	return &Row{Cols: cols, Timestamp: ts, Headers: headers, Win: win, Partition: c.Source.Partition, Offset: c.Source.Offset}
}

// tombstone is the delete of a group (a session merged away).
func (g *Grouping) tombstone(c *Context, keys []types.Value, ts int64, win *Window, headers []Header) *Row {
	cols := make([]types.Value, len(keys)+len(g.Calls))
	copy(cols, keys)
	return &Row{Cols: cols, Timestamp: ts, Headers: headers, Win: win, Tombstone: true, Partition: c.Source.Partition, Offset: c.Source.Offset}
}

func structOf(t types.Type, vals []types.Value) types.StructVal {
	s := make(types.StructVal, len(vals))
	for i, v := range vals {
		s[i] = types.FieldValue{Name: t.Fields[i].Name, Value: v}
	}
	return s
}

func fieldValues(v types.Value) []types.Value {
	s, _ := v.(types.StructVal)
	out := make([]types.Value, len(s))
	for i, f := range s {
		out[i] = f.Value
	}
	return out
}

// kvStore opens the operator's key-value store for the record's partition.
func kvStore(c *Context, name string) (*state.KeyValueStore, error) {
	if c.State == nil {
		return nil, fmt.Errorf("store %s: the query was run without state stores", name)
	}
	return c.State.KeyValue(c.Ctx, name, c.Source.Partition)
}

// StreamAggregate aggregates a stream without a window: each row updates
// its group and the group's new row goes downstream. Null values
// (tombstones) and rows with a NULL grouping key are skipped, as in Kafka
// Streams' groupBy.
//
// Rows are grouped in the task that reads them: when the grouping key is
// not the source's key, the planner puts a repartition topic in front
// (repartition.go, docs/decisions/0029-repartition-topics.md).
type StreamAggregate struct {
	G     *Grouping
	Store string
	Next  Operator
}

// Push implements Operator.
func (a *StreamAggregate) Push(c *Context, r *Row) error {
	if r.Tombstone {
		return nil
	}
	keys, ok := a.G.key(c, r)
	if !ok {
		return nil
	}
	kv, err := kvStore(c, a.Store)
	if err != nil {
		return err
	}
	kb, err := a.G.encodeKey(keys)
	if err != nil {
		return fmt.Errorf("aggregate: group key: %w", err)
	}
	states, ts, err := loadStates(a.G, kv, kb, r.Timestamp)
	if err != nil {
		return err
	}
	a.G.add(c, states, a.G.inputs(c, r), r.Offset)
	if err := storeStates(a.G, kv, kb, states, ts); err != nil {
		return err
	}
	return a.Next.Push(c, a.G.Row(c, keys, states, ts, nil, r.Headers))
}

// loadStates reads a group's states, or new ones; ts is the timestamp of
// the updated group: the later of the row's and the stored one (Kafka
// Streams' timestamped aggregations).
func loadStates(g *Grouping, kv *state.KeyValueStore, kb []byte, rowTS int64) ([]types.Value, int64, error) {
	raw, ts, found, err := kv.GetWithTimestamp(kb)
	if err != nil {
		return nil, 0, err
	}
	if !found {
		return g.initStates(), rowTS, nil
	}
	states, err := g.decodeStates(raw)
	if err != nil {
		return nil, 0, fmt.Errorf("store %s: %w", kv.Name(), err)
	}
	return states, max(ts, rowTS), nil
}

func storeStates(g *Grouping, kv *state.KeyValueStore, kb []byte, states []types.Value, ts int64) error {
	b, err := g.encodeStates(states)
	if err != nil {
		return fmt.Errorf("store %s: %w", kv.Name(), err)
	}
	return kv.Put(kb, b, ts)
}

// TableAggregate aggregates a table: a row replaces the previous row of its
// key, so the previous row's inputs are retracted from its group and the new
// row's added to its own. Like Kafka Streams' KTable groupBy, the two are
// separate updates: a change that stays in one group emits the group after
// the retraction, then after the addition. A tombstone only retracts. The
// previous rows are kept in Rows (the materialized source table).
type TableAggregate struct {
	G     *Grouping
	Rows  *TableRows
	Store string
	Next  Operator
}

// Push implements Operator.
func (a *TableAggregate) Push(c *Context, r *Row) error {
	skb, err := a.Rows.Key(r)
	if err != nil {
		return fmt.Errorf("aggregate: source key: %w", err)
	}
	old, err := a.Rows.Get(c, skb)
	if err != nil {
		return err
	}
	kv, err := kvStore(c, a.Store)
	if err != nil {
		return err
	}
	if old != nil {
		if keys, ok := a.G.keyOf(old); ok {
			if err := a.update(c, kv, keys, old, r, a.G.retract); err != nil {
				return err
			}
		}
	}
	if err := a.Rows.Put(c, skb, r); err != nil {
		return err
	}
	if r.Tombstone {
		return nil
	}
	keys, ok := a.G.key(c, r)
	if !ok {
		return nil
	}
	return a.update(c, kv, keys, r, r, func(c *Context, states []types.Value, in [][]types.Value) {
		a.G.add(c, states, in, r.Offset)
	})
}

// update applies one row's inputs to its group with op and emits the group;
// cur is the record being processed (its time and headers).
func (a *TableAggregate) update(c *Context, kv *state.KeyValueStore, keys []types.Value, row, cur *Row,
	op func(*Context, []types.Value, [][]types.Value)) error {
	kb, err := a.G.encodeKey(keys)
	if err != nil {
		return err
	}
	states, ts, err := loadStates(a.G, kv, kb, cur.Timestamp)
	if err != nil {
		return err
	}
	op(c, states, a.G.inputs(c, row))
	if err := storeStates(a.G, kv, kb, states, ts); err != nil {
		return err
	}
	return a.Next.Push(c, a.G.Row(c, keys, states, ts, nil, cur.Headers))
}

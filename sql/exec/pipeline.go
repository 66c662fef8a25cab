package exec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// Input is one source of a pipeline: its decoder and the operator its rows
// go to.
type Input struct {
	Decoder *Decoder
	Next    Operator
}

// Pipeline is a Query built from operators: each input topic's records are
// decoded and pushed through the operator graph; the sink operators collect
// the records (persistent queries) or rows (push queries) to return.
//
// A Pipeline is not safe for concurrent Process calls: a query processes its
// records one at a time, in order, like a Kafka Streams task.
type Pipeline struct {
	id        string
	sinkTopic string
	topics    []string
	inputs    map[string][]Input
	log       ProcessingLog
	stats     Stats

	// scratch is the per-record context, reused: Process is not concurrent.
	scratch Context

	// stateful is set by the planner when an operator keeps state; state is
	// given by the runner (UseState).
	stateful bool
	state    *state.Stores
	// mat keeps the result table for pull queries (MaterializeSink).
	mat *sinkMaterialization

	// FailOnInvalidTimestamp makes an invalid event time stop the query
	// (ksql.timestamp.throw.on.invalid) instead of skipping the record.
	FailOnInvalidTimestamp bool

	// push queries: result columns and their JSON encoders
	columns []types.Column
	colEnc  []serde.Serializer
	// rowSize is the longest JSON row written so far: the next row's
	// buffer starts that large.
	rowSize int
}

// NewPipeline returns a persistent query writing to sinkTopic. The inputs'
// operators must end in Sink operators.
func NewPipeline(id, sinkTopic string, inputs []Input, log ProcessingLog) *Pipeline {
	p := &Pipeline{id: id, sinkTopic: sinkTopic, inputs: map[string][]Input{}, log: log}
	for _, in := range inputs {
		t := in.Decoder.spec.Topic
		if _, ok := p.inputs[t]; !ok {
			p.topics = append(p.topics, t)
		}
		p.inputs[t] = append(p.inputs[t], in)
	}
	return p
}

// NewPushPipeline returns a push query whose inputs' operators end in
// Collect; the result rows have the given columns. Its Process returns one
// record per row, the row as a JSON array in Value (the row format of
// ksqlDB's /query-stream), Key nil.
func NewPushPipeline(id string, inputs []Input, columns []types.Column, log ProcessingLog) (*Pipeline, error) {
	p := NewPipeline(id, "", inputs, log)
	p.columns = columns
	for _, c := range columns {
		s, err := serde.JSON{UnwrapSingle: true}.Serializer(types.StructOf(types.F(c.Name, c.Type)), false)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		p.colEnc = append(p.colEnc, s)
	}
	return p, nil
}

// MarkStateful says that operators of the pipeline keep state, so the
// runner must give it stores (UseState) before the first Process.
func (p *Pipeline) MarkStateful() { p.stateful = true }

// Stateful implements StatefulQuery.
func (p *Pipeline) Stateful() bool { return p.stateful }

// UseState implements StatefulQuery.
func (p *Pipeline) UseState(s *state.Stores) { p.state = s }

// ID implements Query.
func (p *Pipeline) ID() string { return p.id }

// SetID renames the query, for a push pipeline reused by one transient
// query after another (prepared pull queries): errors and the processing
// log name the query that runs.
func (p *Pipeline) SetID(id string) { p.id = id }

// SourceTopics implements Query.
func (p *Pipeline) SourceTopics() []string { return append([]string(nil), p.topics...) }

// SinkTopic implements Query.
func (p *Pipeline) SinkTopic() string { return p.sinkTopic }

// Columns are a push query's result columns.
func (p *Pipeline) Columns() []types.Column { return p.columns }

// Stats returns the query's counters.
func (p *Pipeline) Stats() *Stats { return &p.stats }

// Close implements Query.
func (p *Pipeline) Close() error { return nil }

// Process implements Query.
func (p *Pipeline) Process(ctx context.Context, in Record) ([]Record, error) {
	c, err := p.run(ctx, &in)
	if err != nil {
		return nil, err
	}
	if p.columns == nil {
		if p.mat != nil {
			if err := p.mat.write(c, c.out); err != nil {
				return nil, fmt.Errorf("query %s: %w", p.id, err)
			}
		}
		p.stats.Out.Add(int64(len(c.out)))
		return c.out, nil
	}
	out := make([]Record, 0, len(c.rows))
	for _, r := range c.rows {
		b, err := p.appendRow(ctx, make([]byte, 0, p.rowSize), r)
		if err != nil {
			return nil, err
		}
		if len(b) > p.rowSize {
			p.rowSize = len(b)
		}
		out = append(out, Record{Value: b, Timestamp: r.Timestamp})
	}
	p.stats.Out.Add(int64(len(out)))
	return out, nil
}

// AppendJSONRows is Process for a push query, appending its rows (JSON
// arrays) to dst and reading in in place: what a pull query collects.
func (p *Pipeline) AppendJSONRows(ctx context.Context, in *Record, dst []json.RawMessage) ([]json.RawMessage, error) {
	if p.columns == nil {
		return dst, fmt.Errorf("query %s: not a push query", p.id)
	}
	c, err := p.run(ctx, in)
	if err != nil {
		return dst, err
	}
	for _, r := range c.rows {
		b, err := p.appendRow(ctx, make([]byte, 0, p.rowSize), r)
		if err != nil {
			return dst, err
		}
		if len(b) > p.rowSize {
			p.rowSize = len(b)
		}
		dst = append(dst, b)
	}
	p.stats.Out.Add(int64(len(c.rows)))
	return dst, nil
}

// appendRow appends a push query's row as a JSON array of its columns,
// each written as colEnc writes it (serde.AppendJSON, one buffer for the
// row); colEnc itself gives the error of a column that does not fit.
func (p *Pipeline) appendRow(ctx context.Context, b []byte, r *Row) ([]byte, error) {
	b = append(b, '[')
	for i, col := range p.columns {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = serde.AppendJSON(b, col.Type, r.Cols[i]); err != nil {
			_, err = p.colEnc[i].Serialize(ctx, "", types.StructVal{{Name: col.Name, Value: r.Cols[i]}})
			if err == nil {
				err = fmt.Errorf("serialize %s: %v", col.Type, r.Cols[i])
			}
			return nil, fmt.Errorf("query %s: column %s: %w", p.id, col.Name, err)
		}
	}
	return append(b, ']'), nil
}

// ProcessRows is Process for push queries, returning the result rows
// themselves.
func (p *Pipeline) ProcessRows(ctx context.Context, in Record) ([]*Row, error) {
	c, err := p.run(ctx, &in)
	if err != nil {
		return nil, err
	}
	p.stats.Out.Add(int64(len(c.rows)))
	return c.rows, nil
}

func (p *Pipeline) run(ctx context.Context, in *Record) (*Context, error) {
	p.stats.In.Add(1)
	c := &p.scratch
	*c = Context{Ctx: ctx, QueryID: p.id, Log: p.log, Source: in, State: p.state, stats: &p.stats}
	if p.columns != nil && p.stateful {
		// A push query is one task reading every partition, with no
		// repartition topic: its state is one store partition, so that the
		// rows of a group or join key meet whatever partition they come
		// from. Rows keep their own partition (ROWPARTITION).
		one := *in
		one.Partition = 0
		c.Source = &one
	}
	if p.stateful && p.state == nil {
		return nil, fmt.Errorf("query %s: stateful query run without state stores (UseState)", p.id)
	}
	for _, input := range p.inputs[in.Topic] {
		row, err := input.Decoder.Decode(c, in)
		if err != nil {
			var te errTimestamp
			if errors.As(err, &te) {
				if p.FailOnInvalidTimestamp {
					return nil, fmt.Errorf("query %s: invalid timestamp in record %s/%d@%d: %w", p.id, in.Topic, in.Partition, in.Offset, err)
				}
				c.logError(RecordProcessingError, err)
			} else {
				c.logError(DeserializationError, err)
			}
			continue
		}
		if row == nil {
			continue
		}
		if err := pushSafely(c, input.Next, row); err != nil {
			return nil, fmt.Errorf("query %s: %w", p.id, err)
		}
	}
	return c, nil
}

// pushSafely runs the operators for one row, turning a panic (a bug in an
// operator or a function) into a processing-log entry for that record, so
// that one bad record cannot take a server down.
func pushSafely(c *Context, op Operator, row *Row) (err error) {
	n := len(c.out)
	defer func() {
		if r := recover(); r != nil {
			c.out = c.out[:n]
			c.logError(RecordProcessingError, fmt.Errorf("internal error processing the record: %v", r))
			err = nil
		}
	}()
	return op.Push(c, row)
}

// Package exec runs the operators of SQL queries over records.
//
// The boundary with the outside world is small on purpose: a Query takes raw
// Kafka records one at a time and returns the raw records to write. Who feeds
// it decides the delivery: the ksql-test-runner compatible `sluice test` feeds
// in-memory topics; the engine feeds it from a Kafka consumer group and writes
// the outputs with a (transactional) producer. Stateful operators (part 2 of
// the SQL work) keep their state behind the same interface.
//
// The pieces: Decoder turns a source's records into positional Rows (key,
// value and header columns, event time); Compiler turns AST expressions into
// Eval closures over rows, binding functions, casts and arithmetic through
// sql/funcs once, at plan time; the Operators (Filter, FlatMap for table
// functions, Project, Sink, Collect) form the graph a Pipeline runs for each
// record; Encoder writes output rows in the sink's formats. Per-record
// problems go to a ProcessingLog and never stop a query. sql/plan builds
// all of this from statements.
package exec

import (
	"context"

	"github.com/sluicedata/sluice/sql/state"
)

// Record is a raw Kafka record as a query sees it.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte // nil is a null key
	Value     []byte // nil is a tombstone
	Timestamp int64  // milliseconds since the epoch
	Headers   []Header
}

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Query is a running persistent or push query.
type Query interface {
	// ID is the query id (CSAS_OUT_1 ...).
	ID() string
	// SourceTopics are the topics the query reads.
	SourceTopics() []string
	// SinkTopic is the topic it writes ("" for push queries).
	SinkTopic() string
	// Process handles one input record to completion and returns the records
	// to write, in order (ksqlDB's behaviour with caching off). Records that
	// cannot be decoded or evaluated are not an error: they are counted and
	// reported to the processing log, and Process returns no output for them.
	// An error means the query cannot continue.
	Process(ctx context.Context, in Record) ([]Record, error)
	// Close releases the query's resources.
	Close() error
}

// StatefulQuery is a Query that may keep state in stores. When Stateful is
// true the runner calls UseState before the first Process, and ends each
// batch of processed records with state.Stores.Commit once the outputs and
// changelog writes are acknowledged (under exactly_once_v2: once the
// transaction committed), or Abort when they are not. Operators open their
// stores by name for the input record's partition (Context.State).
type StatefulQuery interface {
	Query
	Stateful() bool
	UseState(*state.Stores)
}

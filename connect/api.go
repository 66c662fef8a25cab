package connect

import (
	"context"
	"log/slog"
)

// The interfaces a connector implements. They follow Kafka Connect's split: a
// connector validates its config and divides the work into task configs; tasks
// do the work, one goroutine each, started and stopped by the runtime.

// SourceConnector is the connector half of a source plugin.
type SourceConnector interface {
	// TaskConfigs divides the work among at most maxTasks tasks and returns one
	// config per task (usually cfg plus task-specific keys).
	TaskConfigs(cfg Config, maxTasks int) ([]Config, error)
	// NewTask returns a task to be started with one of the task configs.
	NewTask() SourceTask
}

// SinkConnector is the connector half of a sink plugin.
type SinkConnector interface {
	TaskConfigs(cfg Config, maxTasks int) ([]Config, error)
	NewTask() SinkTask
}

// TaskContext is what the runtime offers a running task.
type TaskContext interface {
	// Connector is the connector's name; TaskID the task number.
	Connector() string
	TaskID() int
	Logger() *slog.Logger
	// Offset returns the last committed source offset of a source partition,
	// or nil when none was committed. Source tasks call it in Start to resume.
	Offset(partition map[string]any) (map[string]any, error)
}

// SourceTask produces records from an external system.
type SourceTask interface {
	// Start prepares the task; it must not block for long.
	Start(ctx context.Context, cfg Config, tc TaskContext) error
	// Poll blocks until it has records or ctx is done, and returns them. A nil
	// slice with a nil error is fine (nothing yet). Records must carry a
	// SourcePartition and SourceOffset when the task wants to resume.
	Poll(ctx context.Context) ([]*Record, error)
	// Commit is called after every record returned by Poll up to now was
	// acknowledged by the broker and its offset stored, so the task may
	// acknowledge upstream (delete a file, confirm a replication slot).
	Commit(ctx context.Context) error
	// Stop releases the task's resources. Poll is not running when it is called.
	Stop() error
}

// CheckpointingSourceTask is a SourceTask that can acknowledge upstream a
// prefix of what Poll returned while later records are still on their way
// to the broker. The runtime calls Commit only once everything polled is
// stored, so under a steady flow it has to stop polling now and then to
// let the records in flight drain (once a second): a task that implements
// this interface is told of each stored prefix instead, and the runtime
// never stops polling for it.
type CheckpointingSourceTask interface {
	SourceTask
	// Checkpoint names everything Poll returned so far. The runtime calls
	// it right after each Poll that returned records, on the goroutine that
	// calls Poll.
	Checkpoint() any
	// CommitCheckpoint is called once every record returned by Poll before
	// Checkpoint returned cp was acknowledged by the broker and its offset
	// stored, as Commit is for everything. Checkpoints are committed in the
	// order they were made, some skipped, never one older than a Commit.
	// Calls come from the goroutine that calls Poll.
	CommitCheckpoint(ctx context.Context, cp any) error
}

// SinkTask writes records to an external system.
type SinkTask interface {
	Start(ctx context.Context, cfg Config, tc TaskContext) error
	// Put hands over a batch. The task may write it at once or buffer it.
	// An error marked Retriable is retried per errors.retry.*; others fail
	// the batch's records (to the dead-letter topic with errors.tolerance=all)
	// or the task.
	Put(ctx context.Context, records []*Record) error
	// Flush makes every record handed to Put so far durable in the external
	// system. The runtime commits consumer offsets only after Flush returns nil.
	Flush(ctx context.Context) error
	Stop() error
}

// ValueSinkTask is a SinkTask whose Put reads only a record's topic,
// partition, offset, timestamp and value with its schema, never its key,
// key schema or headers, and keeps no *Record after it returns (values it
// may keep): FileStreamSink writes each value as it comes. When no
// transform runs, the runtime hands such a task records without key and
// headers instead of building them from the Kafka bytes for nothing (it
// still checks that they would convert, so a record fails exactly when
// it would otherwise), and reuses the records' memory for the next batch.
type ValueSinkTask interface {
	SinkTask
	ReadsValuesOnly()
}

// RecordError lets a sink report which records of a batch failed, so that the
// runtime dead-letters those and keeps the rest.
type RecordError struct {
	Failed map[*Record]error
}

func (e *RecordError) Error() string { return "some records of the batch failed" }

// Retriable marks an error that may succeed when tried again (a timeout, a
// connection refused). Wrap errors with it; the runtime retries them.
type Retriable struct{ Err error }

func (e Retriable) Error() string { return e.Err.Error() }
func (e Retriable) Unwrap() error { return e.Err }

// Transform is a single message transform. Configure is called once with the
// transform's keys (without the transforms.<alias>. prefix).
type Transform interface {
	Configure(cfg Config) error
	// Apply returns the transformed record, or nil to drop it. It must not
	// modify r in place; use r.Clone.
	Apply(r *Record) (*Record, error)
}

// OwnedTransform is a Transform that can rewrite a record in place. The
// runtime calls ApplyOwned instead of Apply when r and the maps of its key
// and value belong to the chain alone: a sink record just converted from
// Kafka bytes, seen by no other transform yet. Transforms that copy a map
// per record (ReplaceField, InsertField, Cast) spent most of their time on
// the copy. ApplyOwned returns r changed, a new record, or nil to drop it,
// with the result Apply would give.
type OwnedTransform interface {
	Transform
	ApplyOwned(r *Record) (*Record, error)
}

// Predicate decides whether a transform applies to a record.
type Predicate interface {
	Configure(cfg Config) error
	Test(r *Record) bool
}

// TopicPredicate is a Predicate that looks at the record's topic only
// (TopicNameMatches): TestTopic(t) is Test of any record of topic t. The sink
// runtime uses it to know, before converting a record, that a Filter will
// drop it.
type TopicPredicate interface {
	Predicate
	TestTopic(topic string) bool
}

// DropAll is a Transform that drops every record it is applied to (Filter).
type DropAll interface {
	Transform
	DropsAll()
}

// Converter turns Connect data into Kafka bytes and back (key.converter,
// value.converter). isKey tells which side it serves, for subject names.
type Converter interface {
	Configure(cfg Config, isKey bool) error
	FromConnect(topic string, schema *Schema, value any) ([]byte, error)
	ToConnect(topic string, data []byte) (*Schema, any, error)
}

// AppendingConverter is a Converter that can write into a caller's buffer,
// so that the runtime can reuse the memory of records the broker has
// acknowledged instead of allocating a fresh buffer per value.
type AppendingConverter interface {
	// AppendFromConnect appends to dst the bytes FromConnect returns and
	// returns the extended slice; null says FromConnect returns nil (dst is
	// returned as it is).
	AppendFromConnect(dst []byte, topic string, schema *Schema, value any) (out []byte, null bool, err error)
}

// JSONTextConverter is a Converter that writes a value given as JSON text
// (Record.ValueJSON) without decoding it. With a nil schema the text must
// be what FromConnect would write for the decoded value without a schema
// envelope; with a schema, what FromConnect writes as the payload of a
// value of that schema.
type JSONTextConverter interface {
	FromJSONText(topic string, schema *Schema, text []byte) ([]byte, error)
}

// JSONTextSourceTask is a SourceTask that can give its values as JSON text
// with their schema (Record.ValueJSON and ValueSchema, Value nil) instead
// of as Go values. The runtime calls UseJSONText before Start when the
// values go unchanged to a JSONTextConverter (no transforms); only then
// may the task do so. The text must be the payload the JsonConverter
// writes for the value, under any of its settings.
//
// After UseJSONText the runtime is done with the records a Poll returned,
// their ValueJSON bytes and header slices included, when it calls Poll
// again or Stop: it copies what it produces. The task may reuse their
// memory for the next batch.
type JSONTextSourceTask interface {
	SourceTask
	UseJSONText()
}

// CheckingConverter is a Converter that can tell whether ToConnect would
// succeed on data without building the value. Kafka Connect converts a
// record before its transforms run, so a record that a Filter drops must
// still fail on bad bytes; Check lets the sink runtime drop such records
// without the cost of the value. Check must be true only when ToConnect
// returns no error; false means "run ToConnect" (to get its error).
type CheckingConverter interface {
	Check(topic string, data []byte) bool
}

// SharingConverter is a Converter whose value may share memory with the
// bytes it was built from: a string over data itself instead of a copy.
// The sink runtime uses it for tasks that read only values
// (ValueSinkTask) when no transform runs: the fetched bytes are never
// changed, and such a task keeps nothing of a record after Put, so the
// value's memory is the fetch's. ToConnectShared must return what
// ToConnect returns, error included.
type SharingConverter interface {
	ToConnectShared(topic string, data []byte) (*Schema, any, error)
}

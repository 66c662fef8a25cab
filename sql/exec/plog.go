package exec

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
)

// ErrorKind classifies processing-log entries as ksqlDB's
// KSQL_PROCESSING_LOG does.
type ErrorKind int

// The kinds of processing errors.
const (
	// DeserializationError: a record's key or value could not be read.
	DeserializationError ErrorKind = iota
	// RecordProcessingError: an expression failed on a row (the result is
	// NULL) or the row's timestamp was invalid (the row is dropped).
	RecordProcessingError
	// SerializationError: an output row could not be written in the sink's
	// formats (the row is dropped).
	SerializationError
)

var errorKindNames = [...]string{"DESERIALIZATION_ERROR", "RECORD_PROCESSING_ERROR", "SERIALIZATION_ERROR"}

func (k ErrorKind) String() string { return errorKindNames[k] }

// Entry is one processing-log record.
type Entry struct {
	QueryID string
	Kind    ErrorKind
	Message string
	// Record is the input record being processed (nil when unknown).
	Record *Record
}

// JSON renders the entry in the shape of ksqlDB's KSQL_PROCESSING_LOG
// messages: level, logger (processing.<query id>) and a message holding the
// error type number and one object for that type with the error message,
// the topic and the raw record as base64 (recordB64).
func (e Entry) JSON() []byte {
	detail := map[string]any{"errorMessage": e.Message, "cause": []string{}}
	if e.Record != nil {
		detail["topic"] = e.Record.Topic
		detail["partition"] = e.Record.Partition
		detail["offset"] = e.Record.Offset
		if e.Record.Value != nil {
			detail["recordB64"] = base64.StdEncoding.EncodeToString(e.Record.Value)
		}
	}
	if e.Kind != RecordProcessingError {
		detail["target"] = "value"
		if strings.Contains(e.Message, " key ") || strings.Contains(e.Message, "deserialize key") || strings.Contains(e.Message, "serialize key") {
			detail["target"] = "key"
		}
	}
	name := map[ErrorKind]string{DeserializationError: "deserializationError",
		RecordProcessingError: "recordProcessingError", SerializationError: "serializationError"}[e.Kind]
	msg := map[string]any{"level": "ERROR", "logger": "processing." + e.QueryID, "message": map[string]any{
		"type": int(e.Kind), name: detail}}
	b, _ := json.Marshal(msg)
	return b
}

// ProcessingLog receives the per-record errors of queries, which never stop
// a query (ksqlDB's KSQL_PROCESSING_LOG). Implementations must be safe for
// concurrent use.
type ProcessingLog interface {
	Log(Entry)
}

// LogFunc adapts a function to ProcessingLog.
type LogFunc func(Entry)

// Log calls f.
func (f LogFunc) Log(e Entry) { f(e) }

// MemoryLog keeps entries in memory, for tests and `sluice test`.
type MemoryLog struct {
	mu      sync.Mutex
	entries []Entry
}

// Log appends e.
func (l *MemoryLog) Log(e Entry) {
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
}

// Entries returns a copy of the entries logged so far.
func (l *MemoryLog) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Entry(nil), l.entries...)
}

// Package rest serves ksqlDB's REST API (default port 8088) so existing
// ksqlDB clients, the ksql CLI and `sluice sql` work against Sluice:
// /ksql, /query, /query-stream (HTTP/1.1 chunked and cleartext HTTP/2, JSON
// and delimited), /inserts-stream, /close-query, /info, /healthcheck,
// /status and /is_valid_property.
//
// The package knows only the HTTP shapes; a Backend (the engine) runs the
// statements.
package rest

import (
	"context"
	"encoding/json"
)

// Request is the body of /ksql and /query (and, with its own field names,
// /query-stream).
type Request struct {
	KSQL              string         `json:"ksql"`
	StreamsProperties map[string]any `json:"streamsProperties"`
	SessionVariables  map[string]any `json:"sessionVariables"`
	CommandSequence   *int64         `json:"commandSequenceNumber,omitempty"`
}

// Properties returns the request's properties as strings, as the engine
// takes them.
func (r *Request) Properties() map[string]string { return stringMap(r.StreamsProperties) }

// Variables returns the session variables as strings.
func (r *Request) Variables() map[string]string { return stringMap(r.SessionVariables) }

func stringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case nil:
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out
}

// Error is a ksqlDB error answer: an HTTP status, ksqlDB's error code
// (40001 bad statement, 40002 wrong endpoint, 40400 not found, 50000 server
// error ...) and a message.
type Error struct {
	Status        int
	Code          int
	Message       string
	StatementText string
}

func (e *Error) Error() string { return e.Message }

// Stream is a running query whose rows are streamed to a client.
type Stream struct {
	QueryID string
	// ColumnNames and ColumnTypes describe the rows (ksqlDB type syntax).
	ColumnNames []string
	ColumnTypes []string
	// Rows delivers each row as a JSON array. It is closed when the query
	// ends by itself (LIMIT reached, pull query done); Err then tells why if
	// it failed.
	Rows <-chan json.RawMessage
	// Err is valid after Rows is closed.
	Err func() error
	// LimitReached is true after Rows closed because of LIMIT.
	LimitReached func() bool
	// Close stops the query (client gone or /close-query).
	Close func()
	// Text marks a PRINT: rows are lines of text, written as they are.
	Text bool
	// Complete marks an answer whose rows are all in Rows already (a pull
	// query on a table): the handlers write it without a flush per row, so
	// a key lookup costs one write instead of one per row and header.
	Complete bool
}

// Status is one command's status for /status.
type Status struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// Backend runs statements for the REST API.
type Backend interface {
	// Execute runs the statements of a /ksql request and returns one entity
	// per statement, each a JSON-marshalable value in ksqlDB's shapes (with
	// "@type"). A failing statement stops the request with an *Error.
	Execute(ctx context.Context, req *Request) ([]any, error)
	// Query starts a push or pull query (or PRINT) and streams its rows.
	Query(ctx context.Context, req *Request) (*Stream, error)
	// Insert writes rows (JSON objects) into a stream, for /inserts-stream.
	Insert(ctx context.Context, target string, row map[string]any) error
	// Statuses lists command statuses by command id.
	Statuses() map[string]Status
	// ValidProperty reports whether name is a property the server knows.
	ValidProperty(name string) bool
	// ClusterID is the Kafka cluster id; ServiceID ksql.service.id.
	ClusterID() string
	ServiceID() string
	// Healthy reports the health of the parts /healthcheck lists.
	Healthy(ctx context.Context) (metastore, kafka, commandRunner bool)
}

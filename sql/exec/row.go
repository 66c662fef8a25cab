package exec

import (
	"context"
	"sync/atomic"

	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// Row is one row flowing through a query's operators. Cols are indexed by
// the column positions of the schema at that point of the plan; the planner
// fixes those positions when it compiles expressions, so operators never look
// columns up by name. Timestamp, Partition, Offset and Headers are the
// record's metadata (the ROWTIME, ROWPARTITION and ROWOFFSET pseudo columns
// and the headers copied to the output record, as Kafka Streams does).
type Row struct {
	Cols      []types.Value
	Timestamp int64
	Partition int32
	Offset    int64
	Headers   []Header
	// Tombstone marks a record whose value was null: only its key columns
	// are set. As in ksqlDB, a stream's projection passes it on as a null
	// value (keeping the key); filters, table functions and push queries
	// drop it.
	Tombstone bool
	// Win is the window of a windowed row (windowed aggregations and
	// windowed sources), nil otherwise: the WINDOWSTART and WINDOWEND
	// pseudo columns and the window suffix of the record key.
	Win *Window
}

// Window is the bounds of a windowed row, in milliseconds. Time windows
// (tumbling, hopping) end exclusively at Start + size; a session window's
// End is its last record's time.
type Window struct {
	Start, End int64
	Session    bool
}

// with returns a copy of r's metadata holding cols.
func (r *Row) with(cols []types.Value) *Row {
	return &Row{Cols: cols, Timestamp: r.Timestamp, Partition: r.Partition, Offset: r.Offset, Headers: r.Headers,
		Tombstone: r.Tombstone, Win: r.Win}
}

// Context is what an operator sees while one input record is processed.
type Context struct {
	Ctx     context.Context
	QueryID string
	Log     ProcessingLog
	// Source is the raw record being processed, for processing-log entries.
	// Stateful operators use its Partition to pick their stores.
	Source *Record
	// State holds the stores of stateful operators (nil for stateless
	// queries).
	State *state.Stores
	stats *Stats
	out   []Record
	rows  []*Row
}

// Stats counts what a query did. Its fields are updated atomically and may
// be read while the query runs.
type Stats struct {
	In     atomic.Int64 // records given to Process
	Out    atomic.Int64 // records produced
	Errors atomic.Int64 // records or rows that hit an error (see the processing log)
	// Late counts the window updates dropped because the record came after
	// the window closed (window end + grace period <= stream time), as Kafka
	// Streams' dropped-records sensor: a hopping record late for two
	// windows counts twice.
	Late atomic.Int64
}

// logError records a per-row error: counted and sent to the processing log.
func (c *Context) logError(kind ErrorKind, err error) {
	if c.stats != nil {
		c.stats.Errors.Add(1)
	}
	if c.Log != nil {
		c.Log.Log(Entry{QueryID: c.QueryID, Kind: kind, Message: err.Error(), Record: c.Source})
	}
}

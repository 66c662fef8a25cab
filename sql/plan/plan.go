// Package plan analyses ksqlDB statements against a Catalog and turns them
// into what the engine must do: catalog changes, persistent queries to run,
// push queries, records to insert, or listings.
//
// The API is one call per statement:
//
//	cat := plan.NewCatalog(plan.WithSchemaRegistry(sr), plan.WithProcessingLog(plog))
//	res, err := plan.Execute(ctx, cat, stmt, props)
//
// props are the session properties (SET), e.g.
// ksql.persistence.default.format.key. The Result says what happened:
//
//   - DDL (CREATE STREAM/TABLE, CREATE TYPE, DROP, ALTER): already applied to
//     the catalog; Source is the created or altered source and Topic the
//     topic it needs (Topic.Create when the statement gave PARTITIONS).
//   - PersistentQuery (CSAS, CTAS, INSERT INTO ... SELECT): Query.Exec is the
//     exec.Query to run from the earliest offset of its source topics; its
//     outputs go to Query.SinkTopic, which must exist with the Topic spec.
//     For CSAS/CTAS the sink source is already in the catalog.
//   - PushQuery (SELECT ... EMIT CHANGES, or a pull query over a stream,
//     Query.Pull): Query.Exec's outputs are result rows (JSON arrays),
//     Query.Columns their schema, Query.Limit the row limit.
//   - Insert (INSERT INTO ... VALUES): Records to produce to their topic.
//   - Info (SHOW, LIST, DESCRIBE, EXPLAIN): Info holds a listing as data.
//   - Property (SET, UNSET, ALTER SYSTEM, DEFINE, UNDEFINE): the caller
//     updates its session.
//
// Errors are ksqlDB's messages for the same mistakes, so users of ksqlDB
// recognise them; nothing is applied when Execute fails.
//
// Part 2 (aggregations, windows, joins) plugs in at planQuery: the operator
// graph built there is a tree of exec.Operators fed by one exec.Input per
// source, so joins add inputs and stateful operators without changing the
// Result shape.
package plan

import (
	"context"
	"fmt"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/types"
)

// ResultKind says what a statement did.
type ResultKind int

// The result kinds.
const (
	DDL ResultKind = iota + 1
	PersistentQuery
	PushQuery
	Insert
	Info
	Property
)

// TopicSpec is a topic a statement needs.
type TopicSpec struct {
	Name string
	// Create is true when the statement asks for the topic to be created
	// if missing (CSAS/CTAS sinks, CREATE with PARTITIONS).
	Create     bool
	Partitions int // 0 = as the source topic / broker default
	Replicas   int
	Config     map[string]string // cleanup.policy, retention.ms
	// KeyFormat and ValueFormat are the record formats, for display.
	KeyFormat, ValueFormat string
}

// Query is a persistent or push query to run.
type Query struct {
	ID   string
	Exec exec.Query
	// Sink is the written stream or table (persistent queries).
	Sink *Source
	// SinkTopic is the topic written (persistent queries).
	SinkTopic TopicSpec
	// Sources are the names of the streams and tables read, and
	// SourceTopics their topics.
	Sources      []string
	SourceTopics []string
	// RepartitionTopics are the query's own repartition topics: the caller
	// creates them before the query starts; Exec reads and writes them.
	RepartitionTopics []RepartitionTopic
	// FromEarliest makes the query read its sources from the start
	// whatever auto.offset.reset says (a source table's CST query must
	// see the whole topic).
	FromEarliest bool
	// Columns are a push query's result columns.
	Columns []types.Column
	// Limit is a push query's LIMIT (nil = none).
	Limit *int64
	// Pull marks a pull query over a stream (SELECT without EMIT): run it
	// like a push query from the earliest offsets and stop at the end
	// offsets seen when it started.
	Pull bool
	// Table is set for a pull query on a materialized table: the rows come
	// from the state of Table.QueryID, not from the topics.
	Table *PullTable
	SQL   string
	// Upgrade marks a CREATE OR REPLACE that replaces the running query
	// with the same ID in place (ksqlDB's query upgrades): the caller stops
	// the old version without deleting its internal topics or state, and
	// starts this one in the same consumer group, so it continues from the
	// old version's committed offsets with its state stores.
	Upgrade bool
	// undo restores the catalog as it was before the statement (AbortQuery).
	undo func()
}

// Listing is tabular information: SHOW/DESCRIBE answers.
type Listing struct {
	// Type names the listing as ksqlDB's REST API does (streams, tables,
	// sourceDescription, queries, type_list, properties ...).
	Type    string
	Columns []string
	Rows    [][]string
	// Source is set for DESCRIBE.
	Source *Source
}

// Result is what Execute did or asks the caller to do.
type Result struct {
	Kind ResultKind
	// Message is ksqlDB's status message ("Stream created").
	Message string
	Source  *Source
	Dropped string
	// StopQuery is the persistent query a DROP ends with its source (the
	// CSAS/CTAS that writes it, or a source table's CST query): the engine
	// stops it and deletes its internal topics and state.
	StopQuery string
	Topic     TopicSpec
	Query     *Query
	// Records are INSERT VALUES rows, already serialized.
	Records []exec.Record
	Info    *Listing
	// Name and Value are the property a SET/UNSET/DEFINE changes
	// (Value "" with Unset).
	Name, Value string
	Unset       bool
	// TerminateID is the query to stop for TERMINATE (ALL: "ALL").
	TerminateID string
}

// Execute analyses stmt against cat with the session properties props and
// applies its catalog changes.
func Execute(ctx context.Context, cat *Catalog, stmt ast.Statement, props map[string]string) (*Result, error) {
	if props == nil {
		props = map[string]string{}
	}
	text := ast.Format(stmt)
	switch s := stmt.(type) {
	case *ast.CreateSource:
		return cat.createSource(ctx, s, props, text)
	case *ast.CreateAsSelect:
		return cat.createAsSelect(ctx, s, props, text)
	case *ast.InsertInto:
		return cat.insertInto(ctx, s, props, text)
	case *ast.InsertValues:
		return cat.insertValues(ctx, s, props)
	case *ast.Query:
		return cat.pushQuery(ctx, s, props, text)
	case *ast.CreateType:
		return cat.createType(s)
	case *ast.DropType:
		return cat.dropType(s)
	case *ast.DropSource:
		return cat.dropSource(s)
	case *ast.AlterSource:
		return cat.alterSource(s)
	case *ast.Show:
		return cat.show(s, props)
	case *ast.Describe:
		return cat.describe(s)
	case *ast.DescribeSources:
		return cat.describeSources(s)
	case *ast.DescribeFunction:
		return cat.describeFunction(s)
	case *ast.Explain:
		return cat.explain(ctx, s, props)
	case *ast.Terminate:
		if s.All {
			for _, q := range cat.Queries() {
				if cat.IsSourceTableQuery(q.ID) {
					continue // ended only by DROP TABLE
				}
				if err := cat.RemoveQuery(q.ID); err != nil {
					return nil, err
				}
			}
			return &Result{Kind: Info, TerminateID: "ALL", Message: "Query terminated."}, nil
		}
		if cat.IsSourceTableQuery(s.QueryID) {
			return nil, fmt.Errorf("Cannot terminate query '%s' because it is linked to a source table.", s.QueryID)
		}
		if err := cat.RemoveQuery(s.QueryID); err != nil {
			return nil, err
		}
		return &Result{Kind: Info, TerminateID: s.QueryID, Message: "Query terminated."}, nil
	case *ast.SetProperty:
		return &Result{Kind: Property, Name: s.Name, Value: s.Value,
			Message: fmt.Sprintf("Successfully changed local property '%s' to '%s'.", s.Name, s.Value)}, nil
	case *ast.AlterSystem:
		return &Result{Kind: Property, Name: s.Name, Value: s.Value}, nil
	case *ast.UnsetProperty:
		return &Result{Kind: Property, Name: s.Name, Unset: true,
			Message: fmt.Sprintf("Successfully unset local property '%s'.", s.Name)}, nil
	case *ast.DefineVariable:
		return &Result{Kind: Property, Name: s.Name, Value: s.Value}, nil
	case *ast.UndefineVariable:
		return &Result{Kind: Property, Name: s.Name, Unset: true}, nil
	}
	return nil, fmt.Errorf("statement not supported by the SQL planner: %s", text)
}

package engine

import (
	"context"
	"sort"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/plan"
)

// listing answers SHOW, LIST, DESCRIBE and EXPLAIN with ksqlDB's entity
// shapes. Streams, tables, queries and topics are built here from the
// catalog and the cluster; everything else comes from the planner's Listing.
// Caller holds e.mu.
func (e *Engine) listing(ctx context.Context, stmt ast.Statement, text string, res *plan.Result) (any, error) {
	switch s := stmt.(type) {
	case *ast.DescribeFunction:
		return e.describeFunction(s.Name, text)
	case *ast.Show:
		switch s.What {
		case ast.ShowFunctions:
			var list []any
			for _, f := range e.funcs.List() {
				list = append(list, map[string]any{"name": f.Name, "type": f.Kind.String(), "category": string(f.Category)})
			}
			return map[string]any{"@type": "function_names", "statementText": text, "functions": list, "warnings": []any{}}, nil
		case ast.ShowStreams, ast.ShowTables:
			kind, key := ast.Stream, "streams"
			if s.What == ast.ShowTables {
				kind, key = ast.Table, "tables"
			}
			var list []any
			for _, src := range e.cat.Sources() {
				if src.Kind == kind {
					list = append(list, sourceSummary(src))
				}
			}
			if list == nil {
				list = []any{}
			}
			return map[string]any{"@type": key, "statementText": text, key: list, "warnings": []any{}}, nil
		case ast.ShowQueries:
			var list []any
			for _, q := range e.cat.Queries() {
				list = append(list, e.queryEntity(q))
			}
			if list == nil {
				list = []any{}
			}
			return map[string]any{"@type": "queries", "statementText": text, "queries": list, "warnings": []any{}}, nil
		case ast.ShowTopics:
			return e.topicsEntity(ctx, text, s.All)
		}
	case *ast.Describe:
		src, ok := e.cat.Source(s.Name)
		if ok {
			return map[string]any{"@type": "sourceDescription", "statementText": text,
				"sourceDescription": e.sourceDescription(src, s.Extended), "warnings": []any{}}, nil
		}
	case *ast.DescribeSources:
		var list []any
		for _, src := range e.cat.Sources() {
			if src.Kind == s.Kind {
				list = append(list, e.sourceDescription(src, s.Extended))
			}
		}
		if list == nil {
			list = []any{}
		}
		return map[string]any{"@type": "source_descriptions", "statementText": text, "sourceDescriptions": list, "warnings": []any{}}, nil
	}
	return genericListing(text, res), nil
}

func sourceSummary(src *plan.Source) map[string]any {
	return map[string]any{"type": src.Kind.String(), "name": src.Name, "topic": src.Topic,
		"keyFormat": src.KeyFormat.Name, "valueFormat": src.ValueFormat.Name, "isWindowed": src.Window != nil}
}

func (e *Engine) queryEntity(q *plan.QueryInfo) map[string]any {
	state := "RUNNING"
	if r := e.running[q.ID]; r != nil {
		st, _ := r.State()
		state = string(st)
	}
	sinkTopic := ""
	if src, ok := e.cat.Source(q.Sink); ok {
		sinkTopic = src.Topic
	}
	sinks, topics := []string{}, []string{}
	if q.Sink != "" {
		sinks, topics = []string{q.Sink}, []string{sinkTopic}
	}
	return map[string]any{"queryString": q.SQL, "sinks": sinks, "sinkKafkaTopics": topics, "id": q.ID,
		"statusCount": map[string]int{state: 1}, "queryType": "PERSISTENT", "state": state}
}

// sourceDescription is ksqlDB's SourceDescription.
func (e *Engine) sourceDescription(src *plan.Source, extended bool) map[string]any {
	var fields []any
	for _, c := range src.Columns {
		f := map[string]any{"name": c.Name, "schema": map[string]any{"type": c.Type.Kind.String(), "fields": nil, "memberSchema": nil}}
		switch c.Kind {
		case plan.KeyColumn:
			if src.Kind == ast.Table {
				f["type"] = "PRIMARY_KEY"
			} else {
				f["type"] = "KEY"
			}
		case plan.HeaderColumn:
			f["type"] = "HEADER"
			f["headerKey"] = c.HeaderKey
		case plan.HeadersColumn:
			f["type"] = "HEADER"
		}
		if c.Type.Kind.Primitive() {
			f["schema"].(map[string]any)["type"] = c.Type.String()
		} else {
			f["schema"].(map[string]any)["type"] = c.Type.Kind.String()
			f["schema"].(map[string]any)["fullType"] = c.Type.String()
		}
		fields = append(fields, f)
	}
	var readQ, writeQ []any
	for _, q := range e.cat.Queries() {
		if q.Sink == src.Name {
			writeQ = append(writeQ, map[string]any{"queryString": q.SQL, "id": q.ID, "sinks": []string{q.Sink}, "queryType": "PERSISTENT"})
		}
		for _, s := range q.Sources {
			if s == src.Name {
				readQ = append(readQ, map[string]any{"queryString": q.SQL, "id": q.ID, "sinks": []string{q.Sink}, "queryType": "PERSISTENT"})
			}
		}
	}
	if readQ == nil {
		readQ = []any{}
	}
	if writeQ == nil {
		writeQ = []any{}
	}
	ts := src.Timestamp
	windowType := ""
	if src.Window != nil {
		windowType = src.Window.Type
	}
	return map[string]any{
		"name": src.Name, "windowType": windowType, "readQueries": readQ, "writeQueries": writeQ,
		"fields": fields, "type": src.Kind.String(), "timestamp": ts, "statistics": "", "errorStats": "",
		"extended": extended, "keyFormat": src.KeyFormat.Name, "valueFormat": src.ValueFormat.Name,
		"topic": src.Topic, "partitions": src.Partitions, "replication": src.Replicas, "statement": src.SQL,
		"sourceConstraints": []any{}, "clusterStatistics": []any{}, "clusterErrorStats": []any{},
	}
}

func (e *Engine) topicsEntity(ctx context.Context, text string, all bool) (any, error) {
	td, err := e.adm.ListTopics(ctx)
	if err != nil {
		return nil, err
	}
	names := td.Names()
	sort.Strings(names)
	var list []any
	for _, n := range names {
		if !all && (strings.HasPrefix(n, "_") || strings.HasPrefix(n, "__")) {
			continue
		}
		reps := make([]int, len(td[n].Partitions))
		for i := range reps {
			reps[i] = 1
		}
		list = append(list, map[string]any{"name": n, "replicaInfo": reps})
	}
	if list == nil {
		list = []any{}
	}
	return map[string]any{"@type": "kafka_topics", "statementText": text, "topics": list, "warnings": []any{}}, nil
}

// describeFunction answers DESCRIBE FUNCTION in ksqlDB's describe_function
// shape: one entry per variant with its arguments and return type.
func (e *Engine) describeFunction(name, text string) (any, error) {
	d, err := e.funcs.Describe(name)
	if err != nil {
		return nil, err
	}
	var variants []any
	for _, v := range d.Variations {
		var args []any
		var argTypes []string
		for _, p := range v.Params {
			args = append(args, map[string]any{"name": p.Name, "type": p.Type.String(), "description": p.Doc})
			argTypes = append(argTypes, p.Type.String())
		}
		if args == nil {
			args = []any{}
		}
		variants = append(variants, map[string]any{"arguments": args, "argumentTypes": argTypes, "returnType": v.Returns,
			"description": v.Description, "signature": v.Signature})
	}
	return map[string]any{"@type": "describe_function", "statementText": text, "name": d.Name, "description": d.Overview,
		"author": "Sluice", "version": "", "path": "internal", "type": d.Kind.String(), "category": string(d.Category),
		"functions": variants, "warnings": []any{}}, nil
}

// genericListing renders a planner Listing: its Type as the entity type and
// its rows as objects keyed by column name.
func genericListing(text string, res *plan.Result) any {
	if res.Info != nil {
		switch res.Info.Type {
		case "properties":
			var props []any
			for _, r := range res.Info.Rows {
				props = append(props, map[string]any{"name": r[0], "scope": "KSQL", "value": r[1]})
			}
			if props == nil {
				props = []any{}
			}
			return map[string]any{"@type": "properties", "statementText": text, "properties": props,
				"overwrittenProperties": []any{}, "defaultProperties": []any{}, "warnings": []any{}}
		case "type_list":
			typs := map[string]any{}
			for _, r := range res.Info.Rows {
				typs[r[0]] = map[string]any{"type": r[1]}
			}
			return map[string]any{"@type": "type_list", "statementText": text, "types": typs, "warnings": []any{}}
		}
	}
	if res.Info == nil {
		st := map[string]any{"status": "SUCCESS", "message": res.Message}
		return map[string]any{"@type": "currentStatus", "statementText": text, "commandStatus": st, "warnings": []any{}}
	}
	rows := make([]any, 0, len(res.Info.Rows))
	for _, r := range res.Info.Rows {
		m := map[string]any{}
		for i, c := range res.Info.Columns {
			if i < len(r) {
				m[c] = r[i]
			}
		}
		rows = append(rows, m)
	}
	return map[string]any{"@type": res.Info.Type, "statementText": text, "rows": rows, "columns": res.Info.Columns, "warnings": []any{}}
}

package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
)

func (c *Catalog) show(s *ast.Show, props map[string]string) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &Listing{}
	switch s.What {
	case ast.ShowStreams, ast.ShowTables:
		kind := ast.Stream
		l.Type = "streams"
		if s.What == ast.ShowTables {
			kind, l.Type = ast.Table, "tables"
		}
		l.Columns = []string{kindTitle(kind) + " Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"}
		for _, src := range c.sortedSources() {
			if src.Kind == kind {
				l.Rows = append(l.Rows, []string{src.Name, src.Topic, src.KeyFormat.Name, src.ValueFormat.Name, fmt.Sprint(src.Window != nil)})
			}
		}
	case ast.ShowQueries:
		l.Type, l.Columns = "queries", []string{"Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic", "Query String"}
		ids := make([]string, 0, len(c.queries))
		for id := range c.queries {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			q := c.queries[id]
			topic := ""
			if s, ok := c.sources[q.Sink]; ok {
				topic = s.Topic
			}
			l.Rows = append(l.Rows, []string{q.ID, "PERSISTENT", "RUNNING", q.Sink, topic, q.SQL})
		}
	case ast.ShowTypes:
		l.Type, l.Columns = "type_list", []string{"Type Name", "Schema"}
		names := make([]string, 0, len(c.types))
		for n := range c.types {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			l.Rows = append(l.Rows, []string{n, c.types[n].String()})
		}
	case ast.ShowProperties:
		l.Type, l.Columns = "properties", []string{"Property", "Value"}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			l.Rows = append(l.Rows, []string{n, props[n]})
		}
	case ast.ShowFunctions:
		l.Type, l.Columns = "function_names", []string{"Function Name", "Category"}
		for _, f := range c.funcs.List() {
			l.Rows = append(l.Rows, []string{f.Name, string(f.Category)})
		}
	default:
		return nil, fmt.Errorf("SHOW of this kind is answered by the engine, not the SQL planner")
	}
	return &Result{Kind: Info, Info: l}, nil
}

func (c *Catalog) sortedSources() []*Source {
	out := make([]*Source, 0, len(c.sources))
	for _, s := range c.sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func describeRows(src *Source) [][]string {
	var rows [][]string
	for _, col := range src.Columns {
		extra := ""
		switch col.Kind {
		case KeyColumn:
			extra = "(key)"
			if src.Kind == ast.Table {
				extra = "(primary key)"
			}
		case HeadersColumn:
			extra = "(headers)"
		case HeaderColumn:
			extra = fmt.Sprintf("(header('%s'))", col.HeaderKey)
		}
		rows = append(rows, []string{col.Name, strings.TrimSpace(col.Type.String() + " " + extra)})
	}
	return rows
}

func (c *Catalog) describe(s *ast.Describe) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	src, ok := c.sources[s.Name]
	if !ok {
		return nil, fmt.Errorf("Could not find STREAM/TABLE '%s' in the Metastore", s.Name)
	}
	l := &Listing{Type: "sourceDescription", Columns: []string{"Field", "Type"}, Rows: describeRows(src), Source: src}
	return &Result{Kind: Info, Info: l}, nil
}

func (c *Catalog) describeSources(s *ast.DescribeSources) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &Listing{Type: "source_descriptions", Columns: []string{"Name", "Field", "Type"}}
	for _, src := range c.sortedSources() {
		if src.Kind != s.Kind {
			continue
		}
		for _, r := range describeRows(src) {
			l.Rows = append(l.Rows, append([]string{src.Name}, r...))
		}
	}
	return &Result{Kind: Info, Info: l}, nil
}

func (c *Catalog) describeFunction(s *ast.DescribeFunction) (*Result, error) {
	d, err := c.funcs.Describe(s.Name)
	if err != nil {
		return nil, err
	}
	l := &Listing{Type: "describe_function", Columns: []string{"Name", "Category", "Overview"},
		Rows: [][]string{{d.Name, string(d.Category), d.Overview}}}
	return &Result{Kind: Info, Info: l}, nil
}

// explain plans a statement without applying it and describes the plan.
func (c *Catalog) explain(ctx context.Context, s *ast.Explain, props map[string]string) (*Result, error) {
	if s.QueryID != "" {
		c.mu.Lock()
		q, ok := c.queries[s.QueryID]
		c.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("Query with id:%s does not exist, use SHOW QUERIES to view the full set of queries.", s.QueryID)
		}
		return &Result{Kind: Info, Info: &Listing{Type: "queryDescription", Columns: []string{"Query ID", "SQL", "Sink", "Sources"},
			Rows: [][]string{{q.ID, q.SQL, q.Sink, strings.Join(q.Sources, ", ")}}}}, nil
	}
	q, ok := s.Statement.(*ast.Query)
	if !ok {
		if cas, isCAS := s.Statement.(*ast.CreateAsSelect); isCAS {
			q = cas.Query
		} else if ins, isIns := s.Statement.(*ast.InsertInto); isIns {
			q = ins.Query
		} else {
			return nil, fmt.Errorf("EXPLAIN needs a query or a query id")
		}
	}
	c.mu.Lock()
	p, err := c.planSelect(q, pushKind, "")
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	l := &Listing{Type: "queryDescription", Columns: []string{"Field", "Type"}}
	for _, col := range p.columns {
		l.Rows = append(l.Rows, []string{col.Name, col.Type.String()})
	}
	return &Result{Kind: Info, Info: l}, nil
}

package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/types"
)

// sinkTimestamp reads a CSAS TIMESTAMP property naming an output column.
func (c *Catalog) sinkTimestamp(w withProps, cols []types.Column) (func(*exec.Row) (int64, error), string, string, error) {
	ts, ok, err := w.str("TIMESTAMP")
	if err != nil || !ok {
		return nil, "", "", err
	}
	name := strings.ToUpper(ts)
	for i, col := range cols {
		if col.Name != name {
			continue
		}
		f, _, err := w.str("TIMESTAMP_FORMAT")
		if err != nil {
			return nil, "", "", err
		}
		parse, err := c.timestampParser(f)
		if err != nil {
			return nil, "", "", err
		}
		fn, err := exec.TimestampColumn(col.Name, i, col.Type, parse)
		return fn, col.Name, f, err
	}
	return nil, "", "", fmt.Errorf("The TIMESTAMP column set in the WITH clause does not exist in the schema: '%s'", name)
}

func (c *Catalog) createAsSelect(ctx context.Context, s *ast.CreateAsSelect, props map[string]string, text string) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	replacing, exists := c.sources[s.Name]
	if exists {
		if s.IfNotExists {
			return &Result{Kind: DDL, Source: replacing, Message: fmt.Sprintf("Cannot add %s %s: A %s with the same name already exists.", strings.ToLower(kindTitle(s.Kind)), s.Name, strings.ToLower(kindTitle(replacing.Kind)))}, nil
		}
		if !s.OrReplace {
			return nil, fmt.Errorf("Cannot add %s '%s': A %s with the same name already exists", strings.ToLower(kindTitle(s.Kind)), s.Name, strings.ToLower(kindTitle(replacing.Kind)))
		}
	}
	kind := persistentKind
	if s.Kind == ast.Table {
		// A table from a table by projection and filter needs no state;
		// aggregations (GROUP BY, WINDOW) make a table from either.
		if from, ok := s.Query.From.(*ast.Source); ok && len(s.Query.GroupBy) == 0 && s.Query.Window == nil {
			if src, ok := c.sources[from.Name]; ok && src.Kind == ast.Stream && !c.hasAggregate(s.Query) {
				return nil, fmt.Errorf("Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead.")
			}
		}
		kind = tableKind
	}
	if s.Query.Limit != nil {
		return nil, fmt.Errorf("CREATE %s AS SELECT statements don't support LIMIT clause.", strings.ToUpper(kindTitle(s.Kind)))
	}
	w, err := readProps(s.Props)
	if err != nil {
		return nil, err
	}
	if err := c.useFunctionConfig(props); err != nil {
		return nil, err
	}
	if err := c.useJoinConfig(props); err != nil {
		return nil, err
	}
	p, err := c.planSelect(s.Query, kind, s.Name)
	if err != nil {
		return nil, err
	}
	topic, ok, err := w.str("KAFKA_TOPIC")
	if err != nil {
		return nil, err
	}
	if !ok {
		topic = props[PropOutputTopicPrefix] + s.Name
	}
	key, value, err := w.formats(&[2]Format{p.source.KeyFormat, p.source.ValueFormat}, props)
	if err != nil {
		return nil, err
	}
	// A keyless source (KEY_FORMAT NONE) gives a keyed result the default
	// key format, as ksqlDB does (GROUP BY, PARTITION BY).
	if key.Name == "NONE" && !w.has("KEY_FORMAT") && !w.has("FORMAT") && hasKeyColumn(p.columns) {
		key = Format{Name: "KAFKA"}
		if d := props[PropDefaultKeyFormat]; d != "" {
			key.Name = strings.ToUpper(d)
		}
	}
	// A sink with one value column inherits the source's unwrapping only if
	// it still has one value column.
	sink := &Source{Name: s.Name, Kind: s.Kind, Topic: topic, KeyFormat: key, ValueFormat: value, SQL: text, Window: p.window}
	for _, col := range p.columns {
		if col.Key {
			sink.Columns = append(sink.Columns, Column{Name: col.Name, Type: col.Type, Kind: KeyColumn})
		}
	}
	if len(sink.Columns) == 0 && w.has("KEY_FORMAT") {
		return nil, fmt.Errorf("Key format specified for stream without key columns.")
	}
	nval := 0
	for _, col := range p.columns {
		if !col.Key {
			sink.Columns = append(sink.Columns, Column{Name: col.Name, Type: col.Type})
			nval++
		}
	}
	if nval != 1 && sink.ValueFormat.Unwrapped && !w.has("WRAP_SINGLE_VALUE") {
		sink.ValueFormat.Unwrapped = false
	}
	if err := checkFormats(sink.KeyFormat, sink.ValueFormat, sink.Columns); err != nil {
		return nil, err
	}
	tsFn, tsCol, tsFmt, err := c.sinkTimestamp(w, p.columns)
	if err != nil {
		return nil, err
	}
	sink.Timestamp, sink.TimestampFormat = tsCol, tsFmt
	spec, err := topicSpec(w, sink, true)
	if err != nil {
		return nil, err
	}
	sink.Partitions, sink.Replicas = spec.Partitions, spec.Replicas
	steps := c.upgradeSteps(s.Query, s.Kind)
	// CREATE OR REPLACE over a source: its writing query, if any, is
	// upgraded in place (upgrade.go); a source without one is replaced by
	// a new query when the sinks are compatible.
	id := ""
	var prevInfo *QueryInfo
	if exists {
		_, writers := c.queriesUsing(s.Name)
		if len(writers) > 1 || len(writers) == 1 && writers[0] != replacing.Query {
			return nil, fmt.Errorf("REPLACE for sink %s is not supported because there are multiple queries writing into it: [%s]", s.Name, strings.Join(writers, ", "))
		}
		if len(writers) == 1 && !createOrReplaceEnabled(props) {
			kind := strings.ToLower(kindTitle(s.Kind))
			return nil, fmt.Errorf("Cannot add %s '%s': A %s with the same name already exists", kind, s.Name, kind)
		}
		if msg := replacing.canUpgradeTo(sink); msg != "" {
			return nil, fmt.Errorf("Cannot upgrade data source: %s", msg)
		}
		if len(writers) == 1 {
			prevInfo = c.queries[writers[0]]
			if err := validateUpgrade(prevInfo.steps, steps); err != nil {
				return nil, err
			}
			id = prevInfo.ID
		}
	}
	prefix := "CSAS_"
	if s.Kind == ast.Table {
		prefix = "CTAS_"
	}
	if id == "" {
		id = c.nextQueryID(prefix + s.Name)
	}
	q, err := c.persistent(id, p, sink, tsFn, props)
	if err != nil {
		return nil, err
	}
	q.SinkTopic, q.SQL = spec, text
	q.Upgrade = prevInfo != nil
	sink.Query = id
	for _, name := range q.Sources {
		if name != s.Name && !slices.Contains(sink.References, name) {
			sink.References = append(sink.References, name)
		}
	}
	c.sources[s.Name] = sink
	c.queries[id] = &QueryInfo{ID: id, SQL: text, Sink: s.Name, Sources: q.Sources, steps: steps}
	q.undo = func() {
		if exists {
			c.sources[s.Name] = replacing
		} else {
			delete(c.sources, s.Name)
		}
		if prevInfo != nil {
			c.queries[id] = prevInfo
		} else {
			delete(c.queries, id)
		}
	}
	return &Result{Kind: PersistentQuery, Source: sink, Topic: spec, Query: q,
		Message: fmt.Sprintf("Created query with ID %s", id)}, nil
}

// persistent wires a planned select to a sink and returns the query.
func (c *Catalog) persistent(id string, p *planned, sink *Source, ts func(*exec.Row) (int64, error), props map[string]string) (*Query, error) {
	kf, err := c.serde(sink.KeyFormat)
	if err != nil {
		return nil, err
	}
	vf, err := c.serde(sink.ValueFormat)
	if err != nil {
		return nil, err
	}
	enc, err := exec.NewEncoder(exec.SinkSpec{Topic: sink.Topic, Columns: p.columns, KeyFormat: kf, ValueFormat: vf, Timestamp: ts,
		Windowed: sink.Window != nil})
	if err != nil {
		return nil, err
	}
	p.setNext(&exec.Sink{Enc: enc})
	var resultKey []types.Column
	for _, col := range p.columns {
		if col.Key {
			resultKey = append(resultKey, col)
		}
	}
	reparts, err := c.bindRepartitions(id, p, resultKey, sink.KeyFormat)
	if err != nil {
		return nil, err
	}
	pipe := exec.NewPipeline(id, sink.Topic, p.inputs, c.plog)
	pipe.FailOnInvalidTimestamp = strings.EqualFold(props[PropTimestampThrowOnInvalid], "true")
	if p.stateful {
		pipe.MarkStateful()
	}
	if sink.Kind == ast.Table {
		// A CTAS result is queryable (pull queries read its state).
		pipe.MaterializeSink(sink.Window != nil)
	}
	return &Query{ID: id, Exec: pipe, Sink: sink, Sources: p.sourceNames(), SourceTopics: p.sourceTopics(),
		RepartitionTopics: reparts}, nil
}

func (c *Catalog) insertInto(ctx context.Context, s *ast.InsertInto, props map[string]string, text string) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	target, ok := c.sources[s.Target]
	if !ok {
		return nil, fmt.Errorf("%s does not exist.", s.Target)
	}
	if target.Kind == ast.Table {
		return nil, fmt.Errorf("INSERT INTO can only be used to insert into a stream. %s is a table.", s.Target)
	}
	if target.ReadOnly {
		return nil, fmt.Errorf("Cannot insert into read-only stream: %s", s.Target)
	}
	if target.HasHeaderColumns() {
		return nil, fmt.Errorf("Cannot insert into %s because it has header columns", s.Target)
	}
	if s.Query.Limit != nil {
		return nil, fmt.Errorf("INSERT INTO statements don't support LIMIT clause.")
	}
	if err := c.useFunctionConfig(props); err != nil {
		return nil, err
	}
	if err := c.useJoinConfig(props); err != nil {
		return nil, err
	}
	p, err := c.planSelect(s.Query, persistentKind, s.Target)
	if err != nil {
		return nil, err
	}
	// The result must have the target's schema (names, types, keys).
	want := target.Schema()
	if len(want.Columns) != len(p.columns) {
		return nil, incompatible(s.Target, p.columns, want)
	}
	// Reorder the output to the target's column order (DELIMITED values
	// are positional).
	order := make([]int, len(want.Columns))
	for i, wc := range want.Columns {
		j := -1
		for k, pc := range p.columns {
			if pc.Name == wc.Name {
				j = k
			}
		}
		if j < 0 || !p.columns[j].Type.Equal(wc.Type) || p.columns[j].Key != wc.Key {
			return nil, incompatible(s.Target, p.columns, want)
		}
		order[i] = j
	}
	p.reorder(order)
	id := c.nextQueryID("INSERTQUERY")
	q, err := c.persistent(id, p, target, nil, props)
	if err != nil {
		return nil, err
	}
	q.SQL = text
	q.SinkTopic = TopicSpec{Name: target.Topic, KeyFormat: target.KeyFormat.Name, ValueFormat: target.ValueFormat.Name}
	c.queries[id] = &QueryInfo{ID: id, SQL: text, Sink: s.Target, Sources: q.Sources}
	return &Result{Kind: PersistentQuery, Source: target, Topic: q.SinkTopic, Query: q,
		Message: fmt.Sprintf("Created query with ID %s", id)}, nil
}

func incompatible(target string, got []types.Column, want types.Schema) error {
	return fmt.Errorf("Incompatible schema between results and sink.\nResult schema is %s\nSink schema is %s",
		types.Schema{Columns: got}, want)
}

func (c *Catalog) pushQuery(ctx context.Context, q *ast.Query, props map[string]string, text string) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pull := q.Emit == ast.EmitNone
	if pull {
		if err := validatePull(q); err != nil {
			return nil, err
		}
		// A pull query over a stream reads what the stream holds when it
		// starts (ksql.query.pull.stream.enabled); it plans like a push
		// query and the caller stops at the end offsets. A table is read
		// from the state of the query that materializes it.
		if from, ok := q.From.(*ast.Source); ok {
			if src, ok := c.sources[from.Name]; ok && src.Kind == ast.Table {
				return c.pullTable(ctx, q, src, props, text)
			}
		}
	}
	if err := c.useFunctionConfig(props); err != nil {
		return nil, err
	}
	if err := c.useJoinConfig(props); err != nil {
		return nil, err
	}
	p, err := c.planSelect(q, pushKind, "")
	if err != nil {
		return nil, err
	}
	p.setNext(exec.Collect{})
	id := c.nextQueryID("transient_" + p.source.Name)
	pipe, err := exec.NewPushPipeline(id, p.inputs, p.columns, c.plog)
	if err != nil {
		return nil, err
	}
	if p.stateful {
		pipe.MarkStateful()
	}
	return &Result{Kind: PushQuery, Query: &Query{ID: id, Exec: pipe, Sources: p.sourceNames(),
		SourceTopics: p.sourceTopics(), Columns: p.columns, Limit: q.Limit, SQL: text, Pull: pull}}, nil
}

func hasKeyColumn(cols []types.Column) bool {
	for _, c := range cols {
		if c.Key {
			return true
		}
	}
	return false
}

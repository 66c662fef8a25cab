package testrunner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/sql/types"
)

// Options configure a test run.
type Options struct {
	// Registry is the schema registry for AVRO, JSON_SR and PROTOBUF
	// (nil: statements using them fail).
	Registry *srclient.Client
	// Props are initial session properties.
	Props map[string]string
}

// Run is the outcome of a test run.
type Run struct {
	// Actual are the records written to the topics named in the expected
	// outputs, deserialized.
	Actual []Actual
	// Log holds the processing-log entries (records skipped and why).
	Log []exec.Entry
}

// StatementError is a statement that failed to plan or run; ksqlDB's
// runner reports it as the test failure.
type StatementError struct {
	Statement string
	Err       error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("Test failure for statement: %s: %v", e.Statement, e.Err)
}

func (e *StatementError) Unwrap() error { return e.Err }

// RunFiles runs a ksql-test-runner triple from files (inputPath may be "")
// and returns nil when the outputs match.
func RunFiles(ctx context.Context, statementsPath, inputPath, outputPath string, opts Options) (*Run, error) {
	sql, err := os.ReadFile(statementsPath)
	if err != nil {
		return nil, fmt.Errorf("Invalid arguments: %w", err)
	}
	var inputs []Record
	if inputPath != "" {
		if inputs, err = ReadInputs(inputPath); err != nil {
			return nil, err
		}
	}
	outputs, err := ReadOutputs(outputPath)
	if err != nil {
		return nil, err
	}
	return RunTest(ctx, string(sql), inputs, inputPath != "", outputs, opts)
}

// RunTest executes the statements with ksql-test-runner's execution model
// and compares what the queries wrote with the expected outputs: each
// persistent query, when its statement runs, consumes the input records of
// its source topics in file order, then the records already in its source
// topics (written by INSERT VALUES or by earlier queries). The returned
// error is ksqlDB's failure reason; Run is returned even on failure.
func RunTest(ctx context.Context, sql string, inputs []Record, hadInputFile bool, outputs []Record, opts Options) (*Run, error) {
	log := &exec.MemoryLog{}
	cat := plan.NewCatalog(plan.WithSchemaRegistry(opts.Registry), plan.WithProcessingLog(log),
		plan.WithClock(func() int64 { return 0 }))
	props := map[string]string{}
	for k, v := range opts.Props {
		props[k] = v
	}
	run := &Run{}
	parsed, err := parser.ParseScript(sql, nil)
	if err != nil {
		return run, err
	}
	topics := map[string][]exec.Record{}
	// fed are the queries run so far, by id: an upgraded query (CREATE OR
	// REPLACE) continues from where its previous version stopped.
	fed := map[string]*fedQuery{}
	defer func() {
		for _, f := range fed {
			if f.stores != nil {
				f.stores.Close()
			}
		}
	}()
	for _, p := range parsed {
		res, err := plan.Execute(ctx, cat, p.Statement, props)
		if err != nil {
			return run, &StatementError{Statement: p.Text, Err: err}
		}
		switch res.Kind {
		case plan.Property:
			if res.Unset {
				delete(props, res.Name)
			} else if _, isSet := p.Statement.(*ast.SetProperty); isSet {
				props[res.Name] = res.Value
			}
		case plan.Insert:
			for _, r := range res.Records {
				topics[r.Topic] = append(topics[r.Topic], r)
			}
		case plan.PersistentQuery:
			var prev *fedQuery
			if res.Query.Upgrade {
				prev = fed[res.Query.ID]
			}
			f, err := feed(ctx, cat, res.Query, inputs, topics, prev)
			if f != nil {
				fed[res.Query.ID] = f
			}
			if err != nil {
				return run, &StatementError{Statement: p.Text, Err: err}
			}
		case plan.PushQuery:
			return run, &StatementError{Statement: p.Text, Err: errors.New("push queries cannot run in a test; use CREATE STREAM AS SELECT")}
		}
	}
	run.Log = log.Entries()
	// A topic read back holds its input.json records first, then what
	// statements wrote to it.
	written := map[string][]exec.Record{}
	for _, in := range inputs {
		if !expectsTopic(outputs, in.Topic) {
			continue
		}
		r, err := serializeInput(ctx, cat, in)
		if err != nil {
			return run, err
		}
		written[in.Topic] = append(written[in.Topic], r)
	}
	for t, recs := range topics {
		written[t] = append(written[t], recs...)
	}
	actual, err := readActual(ctx, cat, outputs, written)
	if err != nil {
		return run, err
	}
	run.Actual = actual
	return run, Compare(outputs, actual, hadInputFile)
}

// fedQuery is what a query consumed: its state stores (stateful queries)
// and, per topic, how many records it read (source topics: input.json
// records first, then the records of statements; repartition topics).
type fedQuery struct {
	stores *state.Stores
	read   map[string]int64
}

// feed runs a query over its inputs and stores its outputs. prev is the
// replaced version of an upgraded query: the query continues with its
// state after the records prev read, as it would from prev's committed
// offsets.
func feed(ctx context.Context, cat *plan.Catalog, q *plan.Query, inputs []Record, topics map[string][]exec.Record, prev *fedQuery) (*fedQuery, error) {
	isSource := map[string]bool{}
	for _, t := range q.SourceTopics {
		isSource[t] = true
	}
	f := &fedQuery{read: map[string]int64{}}
	skip := map[string]int64{}
	if prev != nil {
		f.stores = prev.stores
		for t, n := range prev.read {
			f.read[t], skip[t] = n, n
		}
	}
	if sq, ok := q.Exec.(exec.StatefulQuery); ok && sq.Stateful() {
		if f.stores == nil {
			// In memory, no changelog: the test runner has no broker.
			// Each record is committed on its own, as with caching off.
			stores, err := state.NewStores(state.Options{Local: true, QueryID: q.Exec.ID(), Partitions: math.MaxInt32})
			if err != nil {
				return nil, err
			}
			f.stores = stores
		}
		sq.UseState(f.stores)
	}
	stores := f.stores
	var out []exec.Record
	internal := map[string]bool{}
	for _, t := range q.RepartitionTopics {
		internal[t.Name] = true
	}
	// process runs one record, then the records the query wrote to its own
	// repartition topics, in order, as Kafka's TopologyTestDriver does:
	// they are read back by the query, not outputs.
	process := func(r exec.Record) error {
		queue := []exec.Record{r}
		for len(queue) > 0 {
			recs, err := q.Exec.Process(ctx, queue[0])
			if err != nil {
				return err
			}
			queue = queue[1:]
			if stores != nil {
				if err := stores.Commit(); err != nil {
					return err
				}
			}
			for _, rec := range recs {
				if !internal[rec.Topic] {
					out = append(out, rec)
					continue
				}
				rec.Offset = f.read[rec.Topic]
				f.read[rec.Topic]++
				queue = append(queue, rec)
			}
		}
		return nil
	}
	// next numbers a source record; false when the previous version
	// already read it.
	seen := map[string]int64{}
	next := func(r *exec.Record) bool {
		n := seen[r.Topic]
		seen[r.Topic]++
		if n < skip[r.Topic] {
			return false
		}
		r.Offset = n
		f.read[r.Topic] = n + 1
		return true
	}
	for _, in := range inputs {
		if !isSource[in.Topic] {
			continue
		}
		r, err := serializeInput(ctx, cat, in)
		if err != nil {
			return f, err
		}
		if !next(&r) {
			continue
		}
		if err := process(r); err != nil {
			return f, err
		}
	}
	for _, t := range q.SourceTopics {
		for _, r := range topics[t] {
			if !next(&r) {
				continue
			}
			if err := process(r); err != nil {
				return f, err
			}
		}
	}
	for _, r := range out {
		topics[r.Topic] = append(topics[r.Topic], r)
	}
	return f, nil
}

// sourceOn returns the first stream or table declared on topic.
func sourceOn(cat *plan.Catalog, topic string) *plan.Source {
	var found *plan.Source
	for _, s := range cat.Sources() {
		if s.Topic != topic {
			continue
		}
		// Prefer the source a query writes (its formats are what was written).
		if found == nil || s.Query != "" && found.Query == "" {
			found = s
		}
	}
	return found
}

func rowTypes(src *plan.Source) (key, value types.Type, nKey int) {
	var kc, vc []types.Column
	for _, c := range src.Columns {
		switch c.Kind {
		case plan.KeyColumn:
			kc = append(kc, types.Column{Name: c.Name, Type: c.Type, Key: true})
		case plan.ValueColumn:
			vc = append(vc, types.Column{Name: c.Name, Type: c.Type})
		}
	}
	return types.Schema{Columns: kc}.KeyType(), types.Schema{Columns: vc}.ValueType(), len(kc)
}

// serializeInput writes an input.json record in its source's formats. JSON
// keys and values are written as they appear in the file (so records a
// query cannot read stay unreadable); other formats go through the typed
// row.
func serializeInput(ctx context.Context, cat *plan.Catalog, in Record) (exec.Record, error) {
	r := exec.Record{Topic: in.Topic}
	if in.Timestamp != nil {
		r.Timestamp = *in.Timestamp
	}
	for _, h := range in.Headers {
		r.Headers = append(r.Headers, exec.Header{Key: h.Key, Value: h.Value})
	}
	src := sourceOn(cat, in.Topic)
	if src == nil {
		return r, fmt.Errorf("input topic %s has no stream or table", in.Topic)
	}
	kt, vt, nKey := rowTypes(src)
	var err error
	if in.Key != nil && nKey > 0 {
		if r.Key, err = serializeJSON(ctx, cat, src.KeyFormat, kt, true, in.Key, in.Topic); err != nil {
			return r, fmt.Errorf("input record key %s: %w", describeJSON(in.Key), err)
		}
	} else if in.Key != nil {
		// Keyless source: write the key as its JSON text, it is not read.
		r.Key, _ = json.Marshal(in.Key)
	}
	if src.Window != nil && r.Key != nil {
		// Windowed sources read the window after the key bytes.
		if in.Window == nil {
			return r, fmt.Errorf("input record for windowed source %s needs a window", src.Name)
		}
		r.Key = exec.AppendWindow(r.Key, &exec.Window{Start: in.Window.Start, End: in.Window.End, Session: src.Window.Type == "SESSION"})
	}
	if in.Value != nil {
		if r.Value, err = serializeJSON(ctx, cat, src.ValueFormat, vt, false, in.Value, in.Topic); err != nil {
			return r, fmt.Errorf("input record value %s: %w", describeJSON(in.Value), err)
		}
	}
	return r, nil
}

func serializeJSON(ctx context.Context, cat *plan.Catalog, f plan.Format, t types.Type, key bool, v any, topic string) ([]byte, error) {
	switch f.Name {
	case "JSON":
		return json.Marshal(v)
	case "DELIMITED":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
		if key {
			return json.Marshal(v) // a bare number key reads as its text
		}
		return nil, fmt.Errorf("a DELIMITED value must be written as a string such as \"1,foo\"")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	unwrapped := key || f.Unwrapped || f.Name == "KAFKA"
	de, err := serde.JSON{UnwrapSingle: unwrapped}.Deserializer(t, key)
	if err != nil {
		return nil, err
	}
	val, err := de.Deserialize(ctx, topic, raw)
	if err != nil {
		return nil, err
	}
	sf, err := plan.SerdeFormat(cat, f)
	if err != nil {
		return nil, err
	}
	ser, err := sf.Serializer(t, key)
	if err != nil {
		return nil, err
	}
	return ser.Serialize(ctx, topic, val)
}

// readActual deserializes the records of the expected topics with the
// formats of the sources declared on them.
func readActual(ctx context.Context, cat *plan.Catalog, outputs []Record, topics map[string][]exec.Record) ([]Actual, error) {
	seen := map[string]bool{}
	var out []Actual
	for _, e := range outputs {
		if seen[e.Topic] {
			continue
		}
		seen[e.Topic] = true
		recs := topics[e.Topic]
		if len(recs) == 0 {
			continue
		}
		src := sourceOn(cat, e.Topic)
		if src == nil {
			return nil, fmt.Errorf("topic %s has no stream or table to read it with", e.Topic)
		}
		kt, vt, nKey := rowTypes(src)
		kf, err := plan.SerdeFormat(cat, src.KeyFormat)
		if err != nil {
			return nil, err
		}
		vf, err := plan.SerdeFormat(cat, src.ValueFormat)
		if err != nil {
			return nil, err
		}
		var kd serde.Deserializer
		if nKey > 0 {
			if kd, err = kf.Deserializer(kt, true); err != nil {
				return nil, err
			}
		}
		vd, err := vf.Deserializer(vt, false)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			a := Actual{Topic: r.Topic, Timestamp: r.Timestamp}
			for _, h := range r.Headers {
				a.Headers = append(a.Headers, Header{Key: h.Key, Value: h.Value})
			}
			key := r.Key
			if src.Window != nil && key != nil {
				session := src.Window.Type == "SESSION"
				k, w, err := exec.SplitWindow(key, session, src.Window.Size)
				if err != nil {
					return nil, fmt.Errorf("topic %s: read key: %w", r.Topic, err)
				}
				key = k
				a.Window = &Window{Start: w.Start, End: w.End, Type: "TIME"}
				if session {
					a.Window.Type = "SESSION"
				}
			}
			if kd != nil && key != nil {
				k, err := kd.Deserialize(ctx, r.Topic, key)
				if err != nil {
					return nil, fmt.Errorf("topic %s: read key: %w", r.Topic, err)
				}
				a.Key = bareKey(k)
			}
			if r.Value != nil {
				if src.ValueFormat.Name == "DELIMITED" {
					a.Value = string(r.Value)
				} else {
					v, err := vd.Deserialize(ctx, r.Topic, r.Value)
					if err != nil {
						return nil, fmt.Errorf("topic %s: read value: %w", r.Topic, err)
					}
					if src.ValueFormat.Unwrapped || src.ValueFormat.Name == "KAFKA" {
						if s, ok := v.(types.StructVal); ok && len(s) == 1 {
							v = s[0].Value
						}
					}
					a.Value = v
				}
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// bareKey unwraps single-column keys as ksqlDB's test files write them.
func bareKey(k types.Value) types.Value {
	if s, ok := k.(types.StructVal); ok && len(s) == 1 {
		return s[0].Value
	}
	return k
}

func expectsTopic(outputs []Record, topic string) bool {
	for _, o := range outputs {
		if o.Topic == topic {
			return true
		}
	}
	return false
}

// Package datagen is a source connector that generates test data, compatible
// with Confluent's kafka-connect-datagen: the same config keys, quickstarts
// with the same fields and value shapes, and Avro schemas annotated with
// avro-random-generator's arg.properties.
//
// Every record is a pure function of (random.seed, task id, iteration): the
// source offset is the next iteration, so a restarted task continues the
// count and, with a fixed random.seed, regenerates exactly the same data.
//
// Example (POST /connectors):
//
//	{"name": "orders-gen", "config": {
//	  "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
//	  "kafka.topic": "orders", "quickstart": "orders", "max.interval": "100",
//	  "value.converter": "io.confluent.connect.avro.AvroConverter",
//	  "value.converter.schema.registry.url": "http://localhost:8081"}}
//
// With a schema of one's own:
//
//	"schema.string": "{\"type\":\"record\",\"name\":\"tick\",\"fields\":[
//	  {\"name\":\"sym\",\"type\":{\"type\":\"string\",\"arg.properties\":{\"options\":[\"A\",\"B\"]}}},
//	  {\"name\":\"px\",\"type\":{\"type\":\"double\",\"arg.properties\":{\"range\":{\"min\":1,\"max\":2}}}}]}",
//	"schema.keyfield": "sym"
package datagen

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
)

//go:embed quickstarts/*.avsc
var quickstartFS embed.FS

// quickstartKeys are the default key fields of the quickstarts.
var quickstartKeys = map[string]string{
	"campaign_finance":       "cand_id",
	"clickstream":            "ip",
	"clickstream_codes":      "code",
	"clickstream_users":      "user_id",
	"credit_cards":           "card_id",
	"fleet_mgmt_description": "vehicle_id",
	"fleet_mgmt_location":    "vehicle_id",
	"fleet_mgmt_sensors":     "vehicle_id",
	"inventory":              "id",
	"orders":                 "orderid",
	"pageviews":              "viewtime",
	"pizza_orders":           "store_id",
	"product":                "id",
	"purchases":              "id",
	"ratings":                "rating_id",
	"shoe_clickstream":       "product_id",
	"shoe_customers":         "id",
	"shoe_orders":            "order_id",
	"shoes":                  "id",
	"stock_trades":           "symbol",
	"stores":                 "store_id",
	"transactions":           "transaction_id",
	"users":                  "userid",
}

// Quickstarts lists the quickstart names, sorted.
func Quickstarts() []string {
	entries, _ := quickstartFS.ReadDir("quickstarts")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".avsc"))
	}
	return out
}

// Source partition and offset keys, and header names, as Confluent's datagen
// writes them.
const (
	keyTaskID     = "task.id"
	keyIteration  = "current.iteration"
	keyGeneration = "task.generation"
)

// Spec declares the connector's configuration.
var Spec = connect.Spec{
	Name:    "datagen",
	Aliases: []string{"io.confluent.kafka.connect.datagen.DatagenConnector", "DatagenConnector", "Datagen"},
	Kind:    connect.SourceKind,
	Version: "1.0.0",
	Doc: "Generates test data from a quickstart or an Avro schema annotated with avro-random-generator " +
		"arg.properties (options, range, regex, iteration, length, odds). Records carry a struct schema, " +
		"so any value converter (JSON, Avro, Protobuf, JSON Schema) can write them. The key is the string " +
		"form of schema.keyfield (a quickstart has a default key field); without a key field the key is null. " +
		"With a fixed random.seed the data is reproducible, also across restarts. The source offset (the next " +
		"iteration) is on the last record of each poll's batch; a restart resumes at a batch boundary.",
	Fields: []connect.FieldSpec{
		{Name: "kafka.topic", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "Datagen",
			Doc: "Topic to write the generated records to."},
		{Name: "quickstart", Type: connect.TypeString, Importance: "HIGH", Group: "Datagen",
			Recommended: Quickstarts(),
			Doc: "Name of a built-in schema: " + strings.Join(Quickstarts(), ", ") +
				". Exactly one of quickstart, schema.string and schema.filename must be set."},
		{Name: "schema.string", Type: connect.TypeString, Importance: "HIGH", Group: "Datagen",
			Doc: "An Avro record schema (JSON) whose types may carry arg.properties telling how to generate values.",
			Validate: func(v string) error {
				_, err := compileSchema(v)
				return err
			}},
		{Name: "schema.filename", Type: connect.TypeString, Importance: "HIGH", Group: "Datagen",
			Doc: "Path of a file holding an Avro schema as for schema.string."},
		{Name: "schema.keyfield", Type: connect.TypeString, Importance: "MEDIUM", Group: "Datagen",
			Doc: "Top-level field whose value, as a string, becomes the record key. Overrides a quickstart's default key field."},
		{Name: "max.interval", Type: connect.TypeLong, Default: "500", Importance: "MEDIUM", Group: "Datagen",
			Doc: "Upper bound in milliseconds of the random pause before each record. 0 generates as fast as " +
				"possible, batch.size records per poll.",
			Validate: nonNegative},
		{Name: "iterations", Type: connect.TypeLong, Default: "-1", Importance: "MEDIUM", Group: "Datagen",
			Doc: "Number of records each task generates before it goes idle; less than 1 means no limit."},
		{Name: "random.seed", Type: connect.TypeLong, Importance: "LOW", Group: "Datagen",
			Doc: "Seed of the random generator. Set it for reproducible data; each task derives its own stream from it."},
		{Name: "batch.size", Type: connect.TypeInt, Default: "1000", Importance: "LOW", Group: "Datagen",
			Doc:      "Maximum records returned by one poll when max.interval is 0.",
			Validate: positive},
		{Name: "tasks.max", Type: connect.TypeInt, Default: "1", Importance: "HIGH", Group: "Common",
			Doc:      "Number of tasks. Each task generates its own stream (its own iteration count and random sequence).",
			Validate: positive},
	},
}

func init() {
	connect.Register(connect.Plugin{Spec: Spec, NewSource: func() connect.SourceConnector { return connector{} }})
}

func nonNegative(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n < 0 {
		return errors.New("must be 0 or more")
	}
	return nil
}

func positive(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

type connector struct{}

// TaskConfigs checks the config and gives each task its task.id.
func (connector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	if _, _, err := loadSchema(cfg); err != nil {
		return nil, err
	}
	out := make([]connect.Config, max(maxTasks, 1))
	for i := range out {
		c := make(connect.Config, len(cfg)+1)
		for k, v := range cfg {
			c[k] = v
		}
		c[keyTaskID] = strconv.Itoa(i)
		out[i] = c
	}
	return out, nil
}

func (connector) NewTask() connect.SourceTask { return &task{} }

// loadSchema validates cfg and returns the compiled schema and the key field
// ("" for none).
func loadSchema(cfg connect.Config) (*compiled, string, error) {
	if errs := Spec.Validate(cfg); len(errs) > 0 {
		return nil, "", errors.Join(fieldErrors(errs)...)
	}
	qs, str, file := cfg["quickstart"], cfg["schema.string"], cfg["schema.filename"]
	set := 0
	for _, v := range []string{qs, str, file} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return nil, "", errors.New("datagen: set exactly one of quickstart, schema.string and schema.filename")
	}
	keyField := cfg["schema.keyfield"]
	var text string
	switch {
	case qs != "":
		name := strings.ToLower(qs)
		b, err := quickstartFS.ReadFile("quickstarts/" + name + ".avsc")
		if err != nil {
			return nil, "", fmt.Errorf("datagen: unknown quickstart %q (known: %s)", qs, strings.Join(Quickstarts(), ", "))
		}
		text = string(b)
		if keyField == "" {
			keyField = quickstartKeys[name]
		}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("datagen: schema.filename: %w", err)
		}
		text = string(b)
	default:
		text = str
	}
	c, err := compileSchema(text)
	if err != nil {
		return nil, "", fmt.Errorf("datagen: %w", err)
	}
	if keyField != "" {
		if _, _, ok := c.schema.Field(keyField); !ok {
			return nil, "", fmt.Errorf("datagen: schema.keyfield %q is not a top-level field of %s", keyField, c.schema.Name)
		}
	}
	return c, keyField, nil
}

func fieldErrors(errs []connect.FieldError) []error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return out
}

var int64Schema = &connect.Schema{Type: connect.Int64}
var stringSchema = &connect.Schema{Type: connect.String}

type task struct {
	topic       string
	gen         genFunc
	fields      []genFunc // top-level field generators, nil for records from options
	schema      *connect.Schema
	keyIndex    int // -1: no key
	seed        uint64
	taskID      int64
	generation  int64
	iter        int64 // next iteration to generate
	limit       int64 // < 1: none
	maxInterval time.Duration
	batch       int
	partition   map[string]any
	ctx         genCtx
	sleep       *rand.Rand
	tc          connect.TaskContext
	doneLogged  bool

	// generation and taskID as header values, boxed once.
	generationValue, taskIDValue any

	// With text (asked for by the runtime through UseJSONText and possible
	// for the schema), values are generated as JSON text: texts and keys
	// write the top-level fields, lastSize is the size of the last
	// record's text.
	useText bool
	text    bool
	texts   []textFunc
	keys    [][]byte
	// A record schema with options: its values and their text.
	options     []any
	optionTexts [][]byte
	keyType     connect.SchemaType
	lastSize    int
	// The memory of the last text batch, reused by the next: the runtime
	// is done with it when it polls again (connect.JSONTextSourceTask).
	textOut     []*connect.Record
	textRecs    []connect.Record
	textHeaders []connect.Header
	textBuf     []byte
}

// UseJSONText lets the task give its values as JSON text
// (connect.JSONTextSourceTask).
func (t *task) UseJSONText() { t.useText = true }

// textKeyOK reports whether a key can be read from the JSON text of its
// field: a string or integer without a logical type, never null.
func textKeyOK(s *connect.Schema) bool {
	if s.Optional || s.Name != "" {
		return false
	}
	switch s.Type {
	case connect.String, connect.Int32, connect.Int64:
		return true
	}
	return false
}

func (t *task) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	c, keyField, err := loadSchema(cfg)
	if err != nil {
		return err
	}
	t.tc = tc
	t.topic = cfg["kafka.topic"]
	t.gen, t.fields, t.schema = c.gen, c.fields, c.schema
	t.keyIndex = -1
	if keyField != "" {
		_, t.keyIndex, _ = c.schema.Field(keyField)
	}
	t.text = t.useText && (c.optionTexts != nil || c.texts != nil && (t.keyIndex < 0 || textKeyOK(c.schema.Fields[t.keyIndex].Schema)))
	if t.text {
		t.texts, t.keys, t.options, t.optionTexts = c.texts, c.keys, c.options, c.optionTexts
		if t.keyIndex >= 0 {
			t.keyType = c.schema.Fields[t.keyIndex].Schema.Type
		}
	}
	t.taskID, _ = strconv.ParseInt(cfg[keyTaskID], 10, 64)
	if s, ok := cfg["random.seed"]; ok && s != "" {
		n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		t.seed = uint64(n)
	} else {
		t.seed = rand.Uint64()
	}
	t.limit = cfg.Int(&Spec, "iterations")
	t.maxInterval = time.Duration(cfg.Int(&Spec, "max.interval")) * time.Millisecond
	t.batch = int(cfg.Int(&Spec, "batch.size"))
	t.sleep = rand.New(rand.NewPCG(t.seed, uint64(t.taskID)))
	t.partition = map[string]any{keyTaskID: t.taskID}

	off, err := tc.Offset(t.partition)
	if err != nil {
		return fmt.Errorf("datagen: read offset of task %d: %w", t.taskID, err)
	}
	if off != nil {
		if t.iter, err = offsetInt(off, keyIteration); err != nil {
			return fmt.Errorf("datagen: stored offset of task %d: %w", t.taskID, err)
		}
		t.generation, _ = offsetInt(off, keyGeneration)
		t.generation++ // a new lifetime of the task
	}
	t.generationValue, t.taskIDValue = t.generation, t.taskID
	tc.Logger().Info("datagen task started", "topic", t.topic, "schema", t.schema.Name,
		"task", t.taskID, "iteration", t.iter, "generation", t.generation)
	return nil
}

// offsetInt reads a number from a stored offset, whatever numeric type the
// offset store decoded it as.
func offsetInt(off map[string]any, key string) (int64, error) {
	switch v := off[key].(type) {
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case float64:
		return int64(v), nil
	case interface{ Int64() (int64, error) }:
		return v.Int64()
	case nil:
		return 0, fmt.Errorf("%s is missing", key)
	default:
		return 0, fmt.Errorf("%s is a %T, not a number", key, v)
	}
}

func (t *task) Poll(ctx context.Context) ([]*connect.Record, error) {
	n := t.batch
	if t.maxInterval > 0 {
		n = 1
		d := time.Duration(t.sleep.Int64N(int64(t.maxInterval) + 1))
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, nil
		case <-timer.C:
		}
	}
	if t.limit > 0 {
		if left := t.limit - t.iter; left < int64(n) {
			n = int(max(left, 0))
		}
		if n == 0 {
			if !t.doneLogged {
				t.doneLogged = true
				t.tc.Logger().Info("datagen task generated all its iterations; idle", "task", t.taskID, "iterations", t.limit)
			}
			<-ctx.Done()
			return nil, nil
		}
	}
	now := time.Now()
	if t.text {
		return t.pollText(n, now)
	}
	out := make([]*connect.Record, n)
	// One allocation each for the batch's records, headers, structs and
	// top-level values: generation is allocation-bound.
	recs := make([]connect.Record, n)
	headers := make([]connect.Header, 3*n)
	var structs []connect.StructValue
	var values []any
	nf := len(t.fields)
	if t.fields != nil {
		structs, values = make([]connect.StructValue, n), make([]any, n*nf)
	}
	for i := range recs {
		var sv *connect.StructValue
		if t.fields != nil {
			sv = &structs[i]
			sv.Schema, sv.Values = t.schema, values[i*nf:(i+1)*nf:(i+1)*nf]
		}
		out[i] = t.next(&recs[i], sv, headers[3*i:3*i+3:3*i+3], now)
	}
	// Only the last record of a batch carries the source offset: records
	// are pure functions of their iteration, so resuming at a batch
	// boundary regenerates identical records, and one offset map per batch
	// instead of per record saves a fifth of the allocations.
	t.setOffset(&recs[n-1])
	return out, nil
}

func (t *task) setOffset(last *connect.Record) {
	last.SourcePartition = t.partition
	last.SourceOffset = map[string]any{keyIteration: t.iter, keyGeneration: t.generation}
}

// pollText generates n records with their values as JSON text, in one
// buffer for the batch.
func (t *task) pollText(n int, now time.Time) ([]*connect.Record, error) {
	if cap(t.textRecs) < n {
		t.textOut, t.textRecs = make([]*connect.Record, n), make([]connect.Record, n)
	}
	if cap(t.textHeaders) < 3*n {
		t.textHeaders = make([]connect.Header, 3*n)
	}
	if size := n * (t.lastSize + t.lastSize/4 + 16); cap(t.textBuf) < size {
		t.textBuf = make([]byte, 0, size)
	}
	out, recs, headers, buf := t.textOut[:n], t.textRecs[:n], t.textHeaders[:3*n], t.textBuf[:0]
	for i := range recs {
		r := &recs[i]
		*r = connect.Record{}
		start := len(buf)
		t.ctx.iter = t.iter
		t.ctx.r.seed(t.seed, t.taskID, t.iter)
		if t.optionTexts != nil {
			// As the options' genFunc draws.
			k := t.ctx.r.intn(uint64(len(t.optionTexts)))
			buf = append(buf, t.optionTexts[k]...)
			if t.keyIndex >= 0 {
				r.Key, r.KeySchema = keyString(t.options[k].(*connect.StructValue).Values[t.keyIndex]), stringSchema
			}
		}
		for j, text := range t.texts {
			buf = append(buf, t.keys[j]...)
			at := len(buf)
			buf = text(&t.ctx, buf)
			if j == t.keyIndex {
				r.Key, r.KeySchema = textKey(buf[at:], t.keyType), stringSchema
			}
		}
		if t.texts != nil {
			buf = append(buf, '}')
		}
		if t.ctx.err != nil {
			err := t.ctx.err
			t.ctx.err = nil
			return nil, fmt.Errorf("datagen: iteration %d: %w", t.iter, err)
		}
		t.lastSize = len(buf) - start
		r.ValueJSON, r.ValueSchema = buf[start:len(buf):len(buf)], t.schema
		t.fill(r, headers[3*i:3*i+3:3*i+3], now)
		out[i] = r
	}
	if cap(buf) > cap(t.textBuf) {
		t.textBuf = buf[:0] // grown: keep the larger one
	}
	t.setOffset(&recs[n-1])
	return out, nil
}

// textKey is the key of a record whose key field's JSON text is b, as
// keyString makes it from the value.
func textKey(b []byte, typ connect.SchemaType) any {
	if typ != connect.String {
		return string(b) // an integer's JSON text is its decimal form
	}
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b[1 : len(b)-1])
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return string(b)
	}
	return s
}

// next fills r with the record of iteration t.iter and advances it. sv,
// when given, is the struct to fill.
func (t *task) next(r *connect.Record, sv *connect.StructValue, headers []connect.Header, now time.Time) *connect.Record {
	t.ctx.iter = t.iter
	t.ctx.r.seed(t.seed, t.taskID, t.iter)
	var v *connect.StructValue
	if sv != nil {
		for i, g := range t.fields {
			sv.Values[i] = g(&t.ctx)
		}
		v = sv
	} else {
		v = t.gen(&t.ctx).(*connect.StructValue)
	}
	r.Value, r.ValueSchema = v, t.schema
	if t.keyIndex >= 0 {
		r.Key, r.KeySchema = keyString(v.Values[t.keyIndex]), stringSchema
	}
	t.fill(r, headers, now)
	return r
}

// fill sets what r has besides its key and value, and advances the
// iteration.
func (t *task) fill(r *connect.Record, headers []connect.Header, now time.Time) {
	r.Topic = t.topic
	r.Partition = -1
	r.Timestamp = now
	headers[0] = connect.Header{Key: keyGeneration, Value: t.generationValue, Schema: int64Schema}
	headers[1] = connect.Header{Key: keyTaskID, Value: t.taskIDValue, Schema: int64Schema}
	headers[2] = connect.Header{Key: keyIteration, Value: t.iter, Schema: int64Schema}
	r.Headers = headers
	t.iter++
}

// keyString renders a key field value as Confluent's datagen does (Java's
// toString of the value).
func keyString(v any) any {
	switch k := v.(type) {
	case nil:
		return nil
	case string:
		return k
	case int32:
		return strconv.FormatInt(int64(k), 10)
	case int64:
		return strconv.FormatInt(k, 10)
	case time.Time:
		return strconv.FormatInt(k.UnixMilli(), 10)
	default:
		return fmt.Sprint(k)
	}
}

func (t *task) Commit(context.Context) error { return nil }
func (t *task) Stop() error                  { return nil }

// Package connecttest holds small connectors, a converter, a transform and a
// predicate for the runtime's and the REST API's tests. Register makes them
// known; only tests and the connecttest build of cmd/sluice register them.
package connecttest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// Class names.
const (
	Source    = "test.Source"
	Sink      = "test.Sink"
	Converter = "test.StringConverter"
	Upper     = "test.Upper"
	ValueIs   = "test.ValueIs"
)

var once sync.Once

// Register registers the test plugins (once per process).
func Register() {
	once.Do(func() {
		connect.Register(connect.Plugin{Spec: connect.Spec{Name: Source, Aliases: []string{"org.sluice.test.TestSourceConnector"}, Kind: connect.SourceKind, Version: "1.0",
			Doc: "Counts up: value v<n> with key k<n>, offset {\"n\": n}.",
			Fields: []connect.FieldSpec{
				{Name: "topic", Type: connect.TypeString, Required: true, Doc: "Topic to write."},
				{Name: "count", Type: connect.TypeLong, Default: "0", Doc: "Records per task; 0: no end."},
				{Name: "batch", Type: connect.TypeInt, Default: "10", Doc: "Records per poll."},
				{Name: "panic.at", Type: connect.TypeLong, Default: "-1", Doc: "Panic in poll when reaching this record."},
				{Name: "fail.start", Type: connect.TypeBoolean, Default: "false", Doc: "Fail in Start."},
				{Name: "poll.delay.ms", Type: connect.TypeLong, Default: "0", Doc: "Pause before each poll's records, to spread them in time."},
			}},
			NewSource: func() connect.SourceConnector { return sourceConnector{} }})
		connect.Register(connect.Plugin{Spec: connect.Spec{Name: Sink, Kind: connect.SinkKind, Version: "1.0",
			Doc: "Keeps records in memory per connector.",
			Fields: []connect.FieldSpec{
				{Name: "fail.odd", Type: connect.TypeBoolean, Default: "false", Doc: "Fail records whose value ends in an odd number."},
				{Name: "mode", Type: connect.TypeString, Default: "ok", Recommended: []string{"ok", "fail"}, Doc: "fail: every Put fails."},
				{Name: "retriable.failures", Type: connect.TypeInt, Default: "0", Doc: "The first N Puts fail with a retriable error."},
			}},
			NewSink: func() connect.SinkConnector { return sinkConnector{} }})
		connect.Register(connect.Plugin{Spec: connect.Spec{Name: Converter, Kind: connect.ConverterKind, Version: "1.0"},
			NewConverter: func() connect.Converter { return stringConverter{} }})
		connect.Register(connect.Plugin{Spec: connect.Spec{Name: Upper, Kind: connect.TransformKind, Version: "1.0"},
			NewTransform: func() connect.Transform { return upper{} }})
		connect.Register(connect.Plugin{Spec: connect.Spec{Name: ValueIs, Kind: connect.PredicateKind, Version: "1.0",
			Fields: []connect.FieldSpec{{Name: "value", Type: connect.TypeString, Required: true}}},
			NewPredicate: func() connect.Predicate { return &valueIs{} }})
	})
}

type sourceConnector struct{}

func (sourceConnector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	out := make([]connect.Config, maxTasks)
	for i := range out {
		out[i] = connect.Config{}
		for k, v := range cfg {
			out[i][k] = v
		}
		out[i]["task.index"] = strconv.Itoa(i)
	}
	return out, nil
}

func (sourceConnector) NewTask() connect.SourceTask { return &sourceTask{} }

type sourceTask struct {
	topic       string
	next, count int64
	batch       int64
	panicAt     int64
	delay       time.Duration
	part        map[string]any
}

func (t *sourceTask) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	if cfg["fail.start"] == "true" {
		return errors.New("told to fail at start")
	}
	t.topic = cfg["topic"]
	t.count, _ = strconv.ParseInt(cfg["count"], 10, 64)
	t.batch, _ = strconv.ParseInt(cfg["batch"], 10, 64)
	if t.batch <= 0 {
		t.batch = 10
	}
	t.panicAt = -1
	if v, ok := cfg["panic.at"]; ok {
		t.panicAt, _ = strconv.ParseInt(v, 10, 64)
	}
	if ms, err := strconv.Atoi(cfg["poll.delay.ms"]); err == nil {
		t.delay = time.Duration(ms) * time.Millisecond
	}
	t.part = map[string]any{"task": cfg["task.index"]}
	off, err := tc.Offset(t.part)
	if err != nil {
		return err
	}
	if off != nil {
		n, ok := off["n"].(int64)
		if !ok {
			return fmt.Errorf("stored offset %v has no integer n", off)
		}
		t.next = n + 1
	}
	return nil
}

func (t *sourceTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	if t.count > 0 && t.next >= t.count {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
		return nil, nil
	}
	if t.delay > 0 {
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(t.delay):
		}
	}
	var out []*connect.Record
	for i := int64(0); i < t.batch && (t.count == 0 || t.next < t.count); i++ {
		if t.next == t.panicAt {
			panic(fmt.Sprintf("told to panic at %d", t.next))
		}
		n := t.next
		out = append(out, &connect.Record{Topic: t.topic, Partition: -1,
			Key: fmt.Sprintf("k%d", n), KeySchema: &connect.Schema{Type: connect.String},
			Value: fmt.Sprintf("v%d", n), ValueSchema: &connect.Schema{Type: connect.String},
			Headers:         []connect.Header{{Key: "n", Value: strconv.FormatInt(n, 10)}},
			SourcePartition: t.part, SourceOffset: map[string]any{"n": n}})
		t.next++
	}
	return out, nil
}

func (t *sourceTask) Commit(context.Context) error { return nil }
func (t *sourceTask) Stop() error                  { return nil }

type sinkConnector struct{}

func (sinkConnector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	return sourceConnector{}.TaskConfigs(cfg, maxTasks)
}
func (sinkConnector) NewTask() connect.SinkTask { return &sinkTask{} }

// Store holds what test sinks flushed, per connector.
var store = struct {
	mu      sync.Mutex
	values  map[string][]string
	changed chan struct{}
}{values: map[string][]string{}, changed: make(chan struct{})}

// Written returns the values flushed by the sink connector name.
func Written(name string) []string {
	store.mu.Lock()
	defer store.mu.Unlock()
	return append([]string(nil), store.values[name]...)
}

// WaitWritten waits until the sink connector name flushed at least n values.
func WaitWritten(ctx context.Context, name string, n int) ([]string, error) {
	for {
		store.mu.Lock()
		vals, ch := append([]string(nil), store.values[name]...), store.changed
		store.mu.Unlock()
		if len(vals) >= n {
			return vals, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return vals, fmt.Errorf("sink %s flushed %d of %d values: %w", name, len(vals), n, ctx.Err())
		}
	}
}

type sinkTask struct {
	name    string
	failOdd bool
	failAll bool
	retries int
	buf     []string
}

func (t *sinkTask) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	t.name = tc.Connector()
	t.failOdd = cfg["fail.odd"] == "true"
	t.failAll = cfg["mode"] == "fail"
	t.retries, _ = strconv.Atoi(cfg["retriable.failures"])
	return nil
}

func (t *sinkTask) Put(ctx context.Context, recs []*connect.Record) error {
	if t.failAll {
		return errors.New("told to fail every put")
	}
	if t.retries > 0 {
		t.retries--
		return connect.Retriable{Err: errors.New("not now, try again")}
	}
	failed := map[*connect.Record]error{}
	for _, r := range recs {
		v := fmt.Sprint(r.Value)
		if t.failOdd {
			if n, err := strconv.Atoi(strings.TrimLeft(v, "vV")); err == nil && n%2 == 1 {
				failed[r] = fmt.Errorf("odd value %s refused", v)
				continue
			}
		}
		t.buf = append(t.buf, v)
	}
	if len(failed) > 0 {
		return &connect.RecordError{Failed: failed}
	}
	return nil
}

func (t *sinkTask) Flush(ctx context.Context) error {
	store.mu.Lock()
	store.values[t.name] = append(store.values[t.name], t.buf...)
	t.buf = nil
	close(store.changed)
	store.changed = make(chan struct{})
	store.mu.Unlock()
	return nil
}

func (t *sinkTask) Stop() error { return nil }

type stringConverter struct{}

func (stringConverter) Configure(connect.Config, bool) error { return nil }
func (stringConverter) FromConnect(topic string, s *connect.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return []byte(fmt.Sprint(v)), nil
}
func (stringConverter) ToConnect(topic string, b []byte) (*connect.Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	if strings.HasPrefix(string(b), "bad") {
		return nil, nil, fmt.Errorf("cannot convert %q", b)
	}
	return &connect.Schema{Type: connect.String, Optional: true}, string(b), nil
}

type upper struct{}

func (upper) Configure(connect.Config) error { return nil }
func (upper) Apply(r *connect.Record) (*connect.Record, error) {
	c := r.Clone()
	if s, ok := r.Value.(string); ok {
		c.Value = strings.ToUpper(s)
	}
	return c, nil
}

type valueIs struct{ v string }

func (p *valueIs) Configure(cfg connect.Config) error {
	p.v = cfg["value"]
	if p.v == "" {
		return errors.New("value must be set")
	}
	return nil
}
func (p *valueIs) Test(r *connect.Record) bool { return fmt.Sprint(r.Value) == p.v }

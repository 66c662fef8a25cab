package runtime

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connecttest"
	_ "github.com/sluicedata/sluice/connect/converters"
	_ "github.com/sluicedata/sluice/connect/transforms"
)

// valueSink is a connect.ValueSinkTask that notes what it was given: the
// value, and whether a key or headers came with it.
const valueSinkClass = "test.ValueSink"

var valueSinkSeen = struct {
	sync.Mutex
	m map[string][]string // by connector
}{m: map[string][]string{}}

func init() {
	registerTestSink(valueSinkClass, func() connect.SinkTask { return &valueSinkTask{} })
}

// registerTestSink registers a sink connector class whose one task, made
// by newTask, gets the connector's config.
func registerTestSink(class string, newTask func() connect.SinkTask) {
	connect.Register(connect.Plugin{Spec: connect.Spec{Name: class, Kind: connect.SinkKind, Version: "1.0"},
		NewSink: func() connect.SinkConnector { return oneTaskSink(newTask) }})
}

// oneTaskSink is a sink connector with one task, made by the function.
type oneTaskSink func() connect.SinkTask

func (oneTaskSink) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	return []connect.Config{cfg}, nil
}
func (f oneTaskSink) NewTask() connect.SinkTask { return f() }

type valueSinkTask struct{ name string }

func (t *valueSinkTask) ReadsValuesOnly() {}
func (t *valueSinkTask) Start(_ context.Context, _ connect.Config, tc connect.TaskContext) error {
	t.name = tc.Connector()
	return nil
}
func (t *valueSinkTask) Put(_ context.Context, recs []*connect.Record) error {
	valueSinkSeen.Lock()
	defer valueSinkSeen.Unlock()
	for _, r := range recs {
		valueSinkSeen.m[t.name] = append(valueSinkSeen.m[t.name],
			fmt.Sprintf("%v key=%v headers=%d", r.Value, r.Key != nil, len(r.Headers)))
	}
	return nil
}
func (t *valueSinkTask) Flush(context.Context) error { return nil }
func (t *valueSinkTask) Stop() error                 { return nil }

func valueSinkGot(name string) []string {
	valueSinkSeen.Lock()
	defer valueSinkSeen.Unlock()
	return append([]string(nil), valueSinkSeen.m[name]...)
}

// A sink task that reads only values gets records without key and headers
// when no transform runs, but a record whose key or headers would not
// convert still fails in that converter's stage, as it does for any sink;
// with a transform, the task gets the whole record.
func TestValueSinkSkipsKeyAndHeaders(t *testing.T) {
	valueSinkSeen.Lock()
	clear(valueSinkSeen.m) // from an earlier run (-count)
	valueSinkSeen.Unlock()
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	prod := client(t, b.Addr(), kgo.AllowAutoTopicCreation())
	hdr := func(v string) []kgo.RecordHeader { return []kgo.RecordHeader{{Key: "h", Value: []byte(v)}} }
	recs := []*kgo.Record{
		{Topic: "vals", Key: []byte("k0"), Value: []byte("v0"), Headers: hdr("x")},
		{Topic: "vals", Key: []byte("\xff"), Value: []byte("v1"), Headers: hdr("x")}, // the key is not UTF-8
		{Topic: "vals", Key: []byte("k2"), Value: []byte("v2"), Headers: hdr("bad header")},
		{Topic: "vals", Key: []byte("k3"), Value: []byte("\xfe")}, // nor is the value
		{Topic: "vals", Value: []byte("v4")},
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, b.Addr())
	defer w.Close()
	base := func(name string, extra ...string) connect.Config {
		cfg := connect.Config{"connector.class": valueSinkClass, "topics": "vals",
			"key.converter":    "org.apache.kafka.connect.storage.StringConverter",
			"value.converter":  "org.apache.kafka.connect.storage.StringConverter",
			"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq-" + name,
			"errors.deadletterqueue.context.headers.enable": "true"}
		for i := 0; i < len(extra); i += 2 {
			cfg[extra[i]] = extra[i+1]
		}
		return cfg
	}
	cases := []struct {
		name string
		cfg  connect.Config
		got  string
		dead string
	}{
		{"plain", base("plain"),
			"v0 key=false headers=0|v2 key=false headers=0|v4 key=false headers=0",
			"\xff/" + StageKeyConverter + " k3/" + StageValueConverter},
		{"headerconv", base("headerconv", "header.converter", connecttest.Converter),
			// A header converter may fail: records with headers are built whole.
			"v0 key=true headers=1|v4 key=false headers=0",
			"\xff/" + StageKeyConverter + " k2/" + StageHeaderConverter + " k3/" + StageValueConverter},
		// A key converter that cannot check: records with a key are built whole.
		{"uncheckedkey", base("uncheckedkey", "key.converter", connecttest.Converter),
			"v0 key=true headers=1|v1 key=true headers=1|v2 key=true headers=1|v4 key=false headers=0",
			"k3/" + StageValueConverter},
		{"transformed", base("transformed", "transforms", "up", "transforms.up.type", connecttest.Upper),
			"V0 key=true headers=1|V2 key=true headers=1|V4 key=false headers=0",
			"\xff/" + StageKeyConverter + " k3/" + StageValueConverter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := w.Create(ctx, c.name, c.cfg, ""); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "consumer offsets committed to the end", func() bool {
				offs, err := w.Offsets(ctx, c.name)
				if err != nil || len(offs) != 1 {
					return false
				}
				n, _ := offs[0].Offset["kafka_offset"].(int64)
				return n == int64(len(recs))
			})
			if got := strings.Join(valueSinkGot(c.name), "|"); got != c.got {
				t.Errorf("sink got %q, want %q", got, c.got)
			}
			var dead []string
			for _, r := range readTopic(t, b.Addr(), "dlq-"+c.name, false) {
				for _, x := range r.Headers {
					if x.Key == "__connect.errors.stage" {
						dead = append(dead, fmt.Sprintf("%s/%s", r.Key, x.Value))
					}
				}
			}
			sort.Strings(dead)
			want := strings.Fields(c.dead)
			sort.Strings(want)
			if got := strings.Join(dead, " "); got != strings.Join(want, " ") {
				t.Errorf("dead-lettered %q, want %q", got, c.dead)
			}
		})
	}
}

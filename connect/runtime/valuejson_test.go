package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	connectconv "github.com/sluicedata/sluice/connect/converters"
	_ "github.com/sluicedata/sluice/connect/datagen"
	_ "github.com/sluicedata/sluice/connect/file"
	_ "github.com/sluicedata/sluice/connect/transforms"
)

// The file source hands JSON lines over as text (Record.ValueJSON). Whatever
// reads the value, the topic must hold the bytes the converter writes for
// the decoded value: a JSON converter with and without schemas takes the
// text as it is, a transform or another converter gets it decoded.
func TestSourceValueJSONReachesEveryConverter(t *testing.T) {
	lines := []string{
		`{"b": 2, "a": "x", "n": {"z": 1.50, "y": [1, "é", null]}}`,
		`{"id":1e3,"s":"tab\there"}`,
	}
	path := filepath.Join(t.TempDir(), "in.jsonl")
	text := ""
	for _, l := range lines {
		text += l + "\n"
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	decoded := make([]any, len(lines))
	for i, l := range lines {
		v, err := connectconv.ParseSchemaless([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		decoded[i] = v
	}
	withField := func(v any) any {
		m := map[string]any{"src": "file"}
		for k, x := range v.(map[string]any) {
			m[k] = x
		}
		return m
	}
	jsonConv := "org.apache.kafka.connect.json.JsonConverter"
	cases := []struct {
		name string
		cfg  connect.Config
		conv connect.Converter
		want func(v any) any
	}{
		{"json", connect.Config{"value.converter": jsonConv, "value.converter.schemas.enable": "false"},
			newConv(t, connectconv.NewJSON(), connect.Config{"schemas.enable": "false"}), nil},
		{"json-envelope", connect.Config{"value.converter": jsonConv},
			newConv(t, connectconv.NewJSON(), connect.Config{}), nil},
		{"string", connect.Config{"value.converter": "org.apache.kafka.connect.storage.StringConverter"},
			newConv(t, connectconv.String{}, connect.Config{}), nil},
		{"transformed", connect.Config{"value.converter": jsonConv, "value.converter.schemas.enable": "false",
			"transforms": "tag", "transforms.tag.type": "org.apache.kafka.connect.transforms.InsertField$Value",
			"transforms.tag.static.field": "src", "transforms.tag.static.value": "file"},
			newConv(t, connectconv.NewJSON(), connect.Config{"schemas.enable": "false"}), withField},
	}
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	w := newWorker(t, b.Addr())
	defer w.Close()
	for _, tc := range cases {
		cfg := connect.Config{"connector.class": "FileStreamSource", "file": path, "topic": "vj-" + tc.name, "format": "json",
			"key.converter": "org.apache.kafka.connect.storage.StringConverter"}
		for k, v := range tc.cfg {
			cfg[k] = v
		}
		if _, err := w.Create(ctx, "vj-"+tc.name, cfg, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		topic := "vj-" + tc.name
		waitFor(t, topic+" written", func() bool {
			n, err := w.Offsets(ctx, topic)
			return err == nil && len(n) == 1 && fmt.Sprint(n[0].Offset["position"]) == fmt.Sprint(len(text))
		})
		got := readTopic(t, b.Addr(), topic, false)
		if len(got) != len(lines) {
			t.Fatalf("%s: %d records, want %d", tc.name, len(got), len(lines))
		}
		for i, r := range got {
			v := decoded[i]
			if tc.want != nil {
				v = tc.want(v)
			}
			want, err := tc.conv.FromConnect(topic, nil, v)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Value) != string(want) {
				t.Errorf("%s line %d: topic holds %s, want %s", tc.name, i, r.Value, want)
			}
		}
	}
}

func newConv(t *testing.T, c connect.Converter, cfg connect.Config) connect.Converter {
	t.Helper()
	if err := c.Configure(cfg, false); err != nil {
		t.Fatal(err)
	}
	return c
}

// Datagen gives its values as JSON text when they go straight to a JSON
// converter (connect.JSONTextSourceTask), and as Go values otherwise (here
// because of a Filter that drops nothing). The topics must not tell the
// two apart: same keys, values and headers, with and without schemas.
func TestDatagenJSONTextSameTopic(t *testing.T) {
	const n = 300
	jsonConv := "org.apache.kafka.connect.json.JsonConverter"
	keep := connect.Config{"transforms": "keep", "transforms.keep.type": "org.apache.kafka.connect.transforms.Filter",
		"transforms.keep.predicate": "none", "predicates": "none",
		"predicates.none.type": "org.apache.kafka.connect.transforms.predicates.HasHeaderKey", "predicates.none.name": "absent"}
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	w := newWorker(t, b.Addr())
	defer w.Close()
	names := []string{}
	for _, schemas := range []string{"false", "true"} {
		for _, filtered := range []bool{false, true} {
			name := fmt.Sprintf("dg-%s-%v", schemas, filtered)
			cfg := connect.Config{"connector.class": "datagen", "kafka.topic": name, "quickstart": "orders",
				"max.interval": "0", "iterations": fmt.Sprint(n), "random.seed": "3", "batch.size": "64",
				"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
				"value.converter": jsonConv, "value.converter.schemas.enable": schemas}
			if filtered {
				for k, v := range keep {
					cfg[k] = v
				}
			}
			if _, err := w.Create(ctx, name, cfg, ""); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
	}
	topics := map[string][]*kgo.Record{}
	for _, name := range names {
		waitFor(t, name+" written", func() bool {
			ends, err := kadm.NewClient(client(t, b.Addr())).ListEndOffsets(ctx, name)
			var sum int64
			ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
			return err == nil && sum == n
		})
		topics[name] = readTopic(t, b.Addr(), name, false)
	}
	for i := 0; i < len(names); i += 2 {
		text, values := topics[names[i]], topics[names[i+1]]
		if len(text) != n || len(values) != n {
			t.Fatalf("%s: %d records, %s: %d, want %d", names[i], len(text), names[i+1], len(values), n)
		}
		byKey := map[string]*kgo.Record{}
		for _, r := range values {
			byKey[string(r.Key)] = r
		}
		for _, r := range text {
			v := byKey[string(r.Key)]
			if v == nil || string(v.Value) != string(r.Value) || fmt.Sprint(v.Headers) != fmt.Sprint(r.Headers) {
				t.Fatalf("%s key %s: %s %v, %s has %v", names[i], r.Key, r.Value, r.Headers, names[i+1], v)
			}
		}
	}
	if !strings.Contains(string(topics["dg-true-false"][0].Value), `"schema":{"type":"struct"`) {
		t.Fatalf("envelope %s", topics["dg-true-false"][0].Value)
	}
}

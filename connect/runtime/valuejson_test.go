package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	connectconv "github.com/sluicedata/sluice/connect/converters"
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

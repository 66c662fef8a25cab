package transforms

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/converters"
)

// Fixture files under testdata/ read as Kafka's documentation examples:
//
//	# a comment
//	run
//	transforms=f                      the chain keys, as in a connector config
//	transforms.f.type=Flatten$Value
//	topic=orders                      the input record (default topic "t")
//	key=<JSON>                        key and value in JsonConverter form: an
//	value=<JSON>                      {"schema","payload"} envelope, or plain
//	header.h=text                     JSON read schemaless; headers as strings
//	----
//	topic: orders                     the output: topic, key, value, headers,
//	value: struct{...} {...}          or "dropped", or "error: <text>"
//
// go test -run TestFixtures -rewrite rewrites the expected outputs.
func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runFixtureFile(t, f) })
	}
}

type fixture struct {
	lines []string // the input block, as written
	want  []string
}

func runFixtureFile(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var cur *fixture
	inWant := false
	flush := func() {
		if cur == nil {
			return
		}
		got := runFixture(t, cur.lines)
		for _, l := range cur.lines {
			out.WriteString(l + "\n")
		}
		out.WriteString("----\n")
		for _, l := range got {
			out.WriteString(l + "\n")
		}
		if !*rewrite && strings.Join(got, "\n") != strings.Join(cur.want, "\n") {
			t.Errorf("%s, block at %q:\n got:\n%s\nwant:\n%s", path, cur.lines[0], strings.Join(got, "\n"), strings.Join(cur.want, "\n"))
		}
		cur = nil
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && (line == "" || strings.HasPrefix(line, "#")):
			out.WriteString(line + "\n")
		case cur == nil && line == "run":
			cur = &fixture{lines: []string{line}}
			inWant = false
		case cur != nil && !inWant && line == "----":
			inWant = true
		case cur != nil && !inWant:
			cur.lines = append(cur.lines, line)
		case cur != nil && inWant && line == "":
			flush()
			out.WriteString("\n")
		case cur != nil && inWant:
			cur.want = append(cur.want, line)
		default:
			t.Fatalf("%s: unexpected line %q", path, line)
		}
	}
	flush()
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runFixture(t *testing.T, lines []string) []string {
	cfg := connect.Config{}
	r := &connect.Record{Topic: "t", Partition: 0, Timestamp: ts0}
	js := converters.NewJSON()
	read := func(text string) (*connect.Schema, any, error) {
		if strings.HasPrefix(text, `{"schema"`) {
			return js.ToConnect(r.Topic, []byte(text))
		}
		plain := converters.NewJSON()
		if err := plain.Configure(connect.Config{"schemas.enable": "false"}, false); err != nil {
			return nil, nil, err
		}
		return plain.ToConnect(r.Topic, []byte(text))
	}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return []string{"error: bad fixture line " + l}
		}
		var err error
		switch {
		case k == "topic":
			r.Topic = v
		case k == "key":
			r.KeySchema, r.Key, err = read(v)
		case k == "value":
			r.ValueSchema, r.Value, err = read(v)
		case strings.HasPrefix(k, "header."):
			r.Headers = append(r.Headers, connect.Header{Key: strings.TrimPrefix(k, "header."), Value: v})
		default:
			cfg[k] = v
		}
		if err != nil {
			return []string{"error: fixture input: " + err.Error()}
		}
	}
	chain, err := NewChain(cfg)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out, err := chain.Apply(r)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	if out == nil {
		return []string{"dropped"}
	}
	got := []string{"topic: " + out.Topic}
	if out.Key != nil || out.KeySchema != nil {
		got = append(got, "key: "+show(out.KeySchema, out.Key))
	}
	got = append(got, "value: "+show(out.ValueSchema, out.Value))
	if len(out.Headers) > 0 {
		got = append(got, "headers: "+showHeaders(out.Headers))
	}
	return got
}

package shell

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitter(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  []string
	}{
		{[]string{"SHOW STREAMS;"}, []string{"SHOW STREAMS;"}},
		{[]string{"SELECT *", "FROM s", "EMIT CHANGES;"}, []string{"SELECT *\nFROM s\nEMIT CHANGES;"}},
		{[]string{"a; b;"}, []string{"a;", "b;"}},
		{[]string{"INSERT INTO s VALUES ('x;y', 'it''s;');"}, []string{"INSERT INTO s VALUES ('x;y', 'it''s;');"}},
		{[]string{"SELECT `a;b` FROM s; -- done; really"}, []string{"SELECT `a;b` FROM s;"}},
		{[]string{"SELECT /* ; */ 1", "FROM s;"}, []string{"SELECT /* ; */ 1\nFROM s;"}},
		{[]string{"SELECT 'multi", "line;' FROM s;"}, []string{"SELECT 'multi\nline;' FROM s;"}},
		{[]string{";", "  ;"}, nil},
	} {
		var sp splitter
		var got []string
		for _, l := range tc.lines {
			got = append(got, sp.add(l)...)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.lines, got, tc.want)
		}
		if sp.pending() {
			t.Errorf("%q: text left pending: %q", tc.lines, sp.rest())
		}
	}
}

func TestSchemaColumns(t *testing.T) {
	got := SchemaColumns("`ID` INTEGER KEY, `S` STRUCT<`A` STRING, `B` INTEGER>, `M` MAP<STRING, DECIMAL(4, 2)>, `we,ird` STRING")
	want := []string{"ID", "S", "M", "we,ird"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
}

// server answers like ksqlDB's REST API and records what it was sent.
type server struct {
	requests []map[string]any
	paths    []string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	s.requests = append(s.requests, body)
	s.paths = append(s.paths, r.URL.Path)
	stmt, _ := body["ksql"].(string)
	switch {
	case r.URL.Path == "/query":
		io.WriteString(w, `[{"header":{"queryId":"transient_1","schema":"`+"`ID` INTEGER, `NAME` STRING"+`"}},
{"row":{"columns":[1,"alice"]}},
{"row":{"columns":[2,null]}},
{"finalMessage":"Limit Reached"}]`)
	case strings.HasPrefix(stmt, "SHOW STREAMS"):
		io.WriteString(w, `[{"@type":"streams","statementText":"SHOW STREAMS;","streams":[{"type":"STREAM","name":"PAGEVIEWS","topic":"pageviews","keyFormat":"KAFKA","valueFormat":"JSON","isWindowed":false}]}]`)
	case strings.HasPrefix(stmt, "BAD"):
		w.WriteHeader(400)
		io.WriteString(w, `{"@type":"statement_error","error_code":40001,"message":"line 1:1: Syntax Error","statementText":"BAD;","entities":[]}`)
	default:
		io.WriteString(w, `[{"@type":"currentStatus","statementText":"x","commandId":"stream/X/create","commandStatus":{"status":"SUCCESS","message":"Stream created"}}]`)
	}
}

func TestRunScript(t *testing.T) {
	srv := &server{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var out strings.Builder
	sh := New(ts.URL, &out)

	dir := t.TempDir()
	script := filepath.Join(dir, "more.sql")
	os.WriteFile(script, []byte("CREATE STREAM Y (A INT) WITH (KAFKA_TOPIC='y', VALUE_FORMAT='JSON');\n"), 0o644)

	in := `SET 'auto.offset.reset'='earliest';
DEFINE topic = 'pageviews';
CREATE STREAM X (ID INT KEY)
  WITH (KAFKA_TOPIC='${topic}', VALUE_FORMAT='JSON');
SHOW STREAMS;
SELECT * FROM X EMIT CHANGES LIMIT 2;
RUN SCRIPT '` + script + `';
UNSET 'auto.offset.reset';
SHOW STREAMS;
SHOW VARIABLES;
exit
SHOW STREAMS;
`
	if err := sh.RunScript(context.Background(), strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/ksql", "/ksql", "/query", "/ksql", "/ksql"}; !reflect.DeepEqual(srv.paths, want) {
		t.Fatalf("paths %v, want %v (exit must stop the script)", srv.paths, want)
	}
	first := srv.requests[0]
	if !strings.Contains(first["ksql"].(string), "KAFKA_TOPIC='${topic}'") {
		t.Errorf("the shell must leave substitution to the server: %v", first["ksql"])
	}
	if v := first["sessionVariables"].(map[string]any)["topic"]; v != "pageviews" {
		t.Errorf("sessionVariables: %v", first["sessionVariables"])
	}
	if v := first["streamsProperties"].(map[string]any)["auto.offset.reset"]; v != "earliest" {
		t.Errorf("streamsProperties: %v", first["streamsProperties"])
	}
	if p := srv.requests[4]["streamsProperties"].(map[string]any); len(p) != 0 {
		t.Errorf("after UNSET: %v", p)
	}
	text := out.String()
	for _, want := range []string{
		"Successfully changed local property 'auto.offset.reset' to 'earliest'.",
		"| Stream created |",
		"| PAGEVIEWS   | pageviews   | KAFKA      | JSON         | false    |",
		"| ID         | NAME       |",
		"| 1          | alice      |",
		"| 2          | null       |",
		"Limit Reached",
		"| topic         | pageviews |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

func TestErrorsStopScript(t *testing.T) {
	srv := &server{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	sh := New(ts.URL, io.Discard)
	err := sh.RunScript(context.Background(), strings.NewReader("BAD;\nSHOW STREAMS;\n"))
	if err == nil || err.Error() != "line 1:1: Syntax Error" {
		t.Fatalf("got %v", err)
	}
	if len(srv.paths) != 1 {
		t.Fatalf("the script went on after an error: %v", srv.paths)
	}
	if err := sh.RunScript(context.Background(), strings.NewReader("SHOW STREAMS")); err == nil || !strings.Contains(err.Error(), "not terminated") {
		t.Fatalf("unterminated: %v", err)
	}
	down := New("http://127.0.0.1:1", io.Discard)
	if err := down.RunScript(context.Background(), strings.NewReader("SHOW STREAMS;")); err == nil || !strings.Contains(err.Error(), "cannot reach the server") {
		t.Fatalf("down: %v", err)
	}
}

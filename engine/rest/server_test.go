package rest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// backend is a test Backend: it answers statements by their first word and
// streams the rows it is given.
type backend struct {
	mu       sync.Mutex
	inserted []map[string]any
	closed   chan string
	rows     []string
	limit    bool
	// complete answers as a pull query on a table does: every row
	// already in Rows, Complete set; fail makes the stream end in error.
	complete bool
	fail     error
}

func (b *backend) Execute(_ context.Context, req *Request) ([]any, error) {
	if strings.HasPrefix(req.KSQL, "BAD") {
		return nil, &Error{Status: 400, Code: 40001, Message: "line 1:1: mismatched input 'BAD'"}
	}
	return []any{map[string]any{"@type": "currentStatus", "statementText": req.KSQL,
		"commandStatus": map[string]any{"status": "SUCCESS", "message": "props=" + fmt.Sprint(req.Properties())}}}, nil
}

func (b *backend) Query(ctx context.Context, req *Request) (*Stream, error) {
	if strings.Contains(req.KSQL, "MISSING") {
		return nil, &Error{Status: 400, Code: 40001, Message: "MISSING does not exist."}
	}
	if b.complete {
		rows := make(chan json.RawMessage, len(b.rows))
		for _, r := range b.rows {
			rows <- json.RawMessage(r)
		}
		close(rows)
		return &Stream{QueryID: "transient_X_1", ColumnNames: []string{"ID", "M"}, ColumnTypes: []string{"STRING", "MAP<STRING, INTEGER>"},
			Rows: rows, Err: func() error { return b.fail }, LimitReached: func() bool { return false }, Close: func() {}, Complete: true}, nil
	}
	rows := make(chan json.RawMessage)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(rows)
		for _, r := range b.rows {
			select {
			case rows <- json.RawMessage(r):
			case <-done:
				return
			}
		}
		if !b.limit {
			<-done // a push query without LIMIT runs until closed
		}
	}()
	return &Stream{QueryID: "transient_X_1", ColumnNames: []string{"ID", "NAME"}, ColumnTypes: []string{"INTEGER", "STRING"},
		Rows: rows, Err: func() error { return nil }, LimitReached: func() bool { return b.limit },
		Close: func() {
			once.Do(func() {
				close(done)
				if b.closed != nil {
					b.closed <- "transient_X_1"
				}
			})
		}}, nil
}

func (b *backend) Insert(_ context.Context, target string, row map[string]any) error {
	if row["ID"] == nil {
		return errors.New("column ID is required")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	row["@target"] = target
	b.inserted = append(b.inserted, row)
	return nil
}
func (b *backend) Statuses() map[string]Status {
	return map[string]Status{"stream/`X`/create": {Status: "SUCCESS", Message: "Stream created"}}
}
func (b *backend) ValidProperty(n string) bool { return n == "auto.offset.reset" }
func (b *backend) ClusterID() string           { return "cluster-1" }
func (b *backend) ServiceID() string           { return "default_" }
func (b *backend) Healthy(context.Context) (bool, bool, bool) {
	return true, true, true
}

func serve(t *testing.T, b Backend) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { New(b, nil).Serve(ctx, l); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + l.Addr().String()
}

func post(t *testing.T, cl *http.Client, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestKSQLEndpoint(t *testing.T) {
	url := serve(t, &backend{})
	resp, body := post(t, http.DefaultClient, url+"/ksql", `{"ksql":"CREATE STREAM X (A INT) WITH (KAFKA_TOPIC='x', VALUE_FORMAT='JSON');","streamsProperties":{"auto.offset.reset":"earliest"}}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.ksql.v1+json" ||
		!strings.Contains(body, `"@type":"currentStatus"`) || !strings.Contains(body, "auto.offset.reset:earliest") {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"ksql":"BAD;"}`, `{"@type":"statement_error","entities":[],"error_code":40001,"message":"line 1:1: mismatched input 'BAD'","statementText":"BAD;"}`},
		{`{"ksql":""}`, `{"@type":"generic_error","error_code":40000,"message":"\"ksql\" field must be populated"}`},
		{`{"ksql":"SELECT * FROM X;"}`, `"error_code":40002`},
		{`not json`, `"error_code":40000`},
	} {
		resp, body := post(t, http.DefaultClient, url+"/ksql", tc.body)
		if resp.StatusCode != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.body, resp.StatusCode, body)
		}
	}
}

func TestQueryEndpointStreamsChunkedArray(t *testing.T) {
	url := serve(t, &backend{rows: []string{`[1,"a"]`, `[2,null]`}, limit: true})
	resp, body := post(t, http.DefaultClient, url+"/query", `{"ksql":"SELECT * FROM X EMIT CHANGES LIMIT 2;"}`)
	want := "[{\"header\":{\"queryId\":\"transient_X_1\",\"schema\":\"`ID` INTEGER, `NAME` STRING\"}},\n" +
		"{\"row\":{\"columns\":[1,\"a\"]}},\n{\"row\":{\"columns\":[2,null]}},\n{\"finalMessage\":\"Limit Reached\"}]\n"
	if resp.StatusCode != 200 || body != want {
		t.Fatalf("%d\n%q\nwant\n%q", resp.StatusCode, body, want)
	}
	var parsed []map[string]any
	if err := json.Unmarshal([]byte(body), &parsed); err != nil || len(parsed) != 4 {
		t.Fatalf("not a JSON array: %v", err)
	}
	resp, body = post(t, http.DefaultClient, url+"/query", `{"ksql":"SELECT * FROM MISSING EMIT CHANGES;"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "MISSING does not exist.") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// /query-stream over cleartext HTTP/2, delimited: the metadata line, rows,
// and /close-query ending a push query that has no LIMIT.
func TestQueryStreamHTTP2AndCloseQuery(t *testing.T) {
	b := &backend{rows: []string{`[1,"a"]`}, closed: make(chan string, 1)}
	url := serve(t, b)
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	req, _ := http.NewRequest("POST", url+"/query-stream", strings.NewReader(`{"sql":"SELECT * FROM X EMIT CHANGES;","properties":{}}`))
	resp, err := h2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.Header.Get("Content-Type") != "application/vnd.ksqlapi.delimited.v1" {
		t.Fatalf("proto %s, content type %s", resp.Proto, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	meta, _ := rd.ReadString('\n')
	row, _ := rd.ReadString('\n')
	if meta != `{"columnNames":["ID","NAME"],"columnTypes":["INTEGER","STRING"],"queryId":"transient_X_1"}`+"\n" || row != "[1,\"a\"]\n" {
		t.Fatalf("meta %q row %q", meta, row)
	}
	r2, body := post(t, h2, url+"/close-query", `{"queryId":"transient_X_1"}`)
	if r2.StatusCode != 200 {
		t.Fatalf("close-query: %d %s", r2.StatusCode, body)
	}
	if id := <-b.closed; id != "transient_X_1" {
		t.Fatal(id)
	}
	if rest, _ := io.ReadAll(rd); len(rest) != 0 {
		t.Fatalf("rows after close: %q", rest)
	}
	r3, body := post(t, h2, url+"/close-query", `{"queryId":"nope"}`)
	if r3.StatusCode != 400 || !strings.Contains(body, "No query with id nope") {
		t.Fatalf("%d %s", r3.StatusCode, body)
	}
}

func TestQueryStreamJSON(t *testing.T) {
	url := serve(t, &backend{rows: []string{`[1,"a"]`, `[2,"b"]`}, limit: true})
	resp, body := post(t, http.DefaultClient, url+"/query-stream", `{"sql":"SELECT * FROM X EMIT CHANGES LIMIT 2;"}`, "Accept", "application/json")
	var arr []json.RawMessage
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &arr) != nil || len(arr) != 3 || string(arr[2]) != `[2,"b"]` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestInsertsStream(t *testing.T) {
	b := &backend{}
	url := serve(t, b)
	resp, body := post(t, http.DefaultClient, url+"/inserts-stream", `{"target":"X"}
{"ID":1,"NAME":"a"}
{"NAME":"no id"}
{"ID":2}
`)
	want := `{"seq":0,"status":"ok"}` + "\n" + `{"error_code":40000,"message":"column ID is required","seq":1,"status":"error"}` + "\n" + `{"seq":2,"status":"ok"}` + "\n"
	if resp.StatusCode != 200 || body != want {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if len(b.inserted) != 2 || b.inserted[0]["@target"] != "X" {
		t.Fatalf("%v", b.inserted)
	}
	resp, body = post(t, http.DefaultClient, url+"/inserts-stream", `{"nottarget":1}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "target") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestInfoHealthStatus(t *testing.T) {
	url := serve(t, &backend{})
	get := func(path string) (int, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/info", 200, `{"KsqlServerInfo":{"kafkaClusterId":"cluster-1","ksqlServiceId":"default_","serverStatus":"RUNNING","version":"0.29.0"}}`},
		{"/healthcheck", 200, `{"details":{"commandRunner":{"isHealthy":true},"kafka":{"isHealthy":true},"metastore":{"isHealthy":true}},"isHealthy":true}`},
		{"/status", 200, "{\"commandStatuses\":{\"stream/`X`/create\":\"SUCCESS\"}}"},
		{"/status/stream/`X`/create", 200, `{"status":"SUCCESS","message":"Stream created"}`},
		{"/status/stream/`Y`/create", 404, "\"error_code\":40400"},
		{"/is_valid_property/auto.offset.reset", 200, "true"},
		{"/is_valid_property/bogus", 400, "Not recognizable"},
	} {
		status, body := get(tc.path)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.path, status, body)
		}
	}
}

// A complete answer (a pull query on a table) is written whole: the same
// bytes as row by row, in both formats, with an error at the end.
func TestQueryStreamComplete(t *testing.T) {
	for _, tc := range []struct {
		rows       []string
		fail       error
		json, text string
	}{
		{[]string{`["a",{"k":1}]`, `["b",null]`}, nil,
			`[{"columnNames":["ID","M"],"columnTypes":["STRING","MAP\u003cSTRING, INTEGER\u003e"],"queryId":"transient_X_1"},["a",{"k":1}],["b",null]]`,
			`{"columnNames":["ID","M"],"columnTypes":["STRING","MAP\u003cSTRING, INTEGER\u003e"],"queryId":"transient_X_1"}` + "\n" + `["a",{"k":1}]` + "\n" + `["b",null]` + "\n"},
		{nil, nil,
			`[{"columnNames":["ID","M"],"columnTypes":["STRING","MAP\u003cSTRING, INTEGER\u003e"],"queryId":"transient_X_1"}]`,
			`{"columnNames":["ID","M"],"columnTypes":["STRING","MAP\u003cSTRING, INTEGER\u003e"],"queryId":"transient_X_1"}` + "\n"},
		{[]string{`["a",null]`}, errors.New("store <closed>"),
			`[{"columnNames":["ID","M"],"columnTypes":["STRING","MAP\u003cSTRING, INTEGER\u003e"],"queryId":"transient_X_1"},["a",null],{"@type":"generic_error","error_code":50000,"message":"store \u003cclosed\u003e"}]`,
			`{"columnNames":["ID","M"],"columnTypes":["STRING","MAP\u003cSTRING, INTEGER\u003e"],"queryId":"transient_X_1"}` + "\n" + `["a",null]` + "\n" + `{"@type":"generic_error","error_code":50000,"message":"store \u003cclosed\u003e"}` + "\n"},
	} {
		url := serve(t, &backend{rows: tc.rows, complete: true, fail: tc.fail})
		resp, body := post(t, http.DefaultClient, url+"/query-stream", `{"sql":"SELECT * FROM X WHERE ID = 'a';"}`, "Accept", "application/json")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || body != tc.json {
			t.Errorf("JSON: %d %s\n%s\nwant\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.json)
		}
		resp, body = post(t, http.DefaultClient, url+"/query-stream", `{"sql":"SELECT * FROM X WHERE ID = 'a';"}`)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.ksqlapi.delimited.v1" || body != tc.text {
			t.Errorf("delimited: %d %s\n%s\nwant\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.text)
		}
	}
}

// appendMeta writes what json.Marshal writes for the metadata map.
func TestAppendMeta(t *testing.T) {
	for _, st := range []*Stream{
		{QueryID: "transient_X_1", ColumnNames: []string{"ID", "NAME"}, ColumnTypes: []string{"INTEGER", "STRING"}},
		{QueryID: "q", ColumnNames: []string{}, ColumnTypes: nil},
		{QueryID: "q<&>", ColumnNames: []string{"a\"b", "c\\d", "tab\t", "nl\n", "\x01", "é", "\u2028", "\xff", "`x`"},
			ColumnTypes: []string{"MAP<STRING, ARRAY<INTEGER>>", "STRUCT<`A b` STRING>", "DECIMAL(4, 2)", "", "&", "\x7f", "~", " ", "'"}},
	} {
		want, _ := json.Marshal(map[string]any{"queryId": st.QueryID, "columnNames": st.ColumnNames, "columnTypes": st.ColumnTypes})
		if got := appendMeta([]byte("x"), st); string(got) != "x"+string(want) {
			t.Errorf("appendMeta\n%s\nwant\nx%s", got, want)
		}
	}
}

// decodeQueryStream reads what decodeBody reads, through onlySQL or not.
func TestDecodeQueryStream(t *testing.T) {
	for _, body := range []string{
		`{"sql":"SELECT * FROM T WHERE ID = 'a';"}`,
		` { "sql" : "SELECT 1" } ` + "\n",
		`{"sql":"é ü"}`,
		`{"sql":"a\"b"}`,
		`{"sql":"\u003c"}`,
		`{"sql":"x","properties":{"auto.offset.reset":"earliest","n":1}}`,
		`{"properties":{},"sql":"x"}`,
		`{"sql":"x","sessionVariables":{"v":"1"}}`,
		`{"SQL":"case-insensitive field"}`,
		`{"sql":"x","sql":"y"}`,
		`{"sql":"x"} trailing`,
		`{"sql":"x"}{"sql":"y"}`,
		`{"sql":"` + "\xff" + `"}`,
		`{"sql":"tab` + "\t" + `"}`,
		`{"sql":1}`,
		`{"sql":null}`,
		`{"sql":"x"`,
		`{}`,
		`[]`,
		`not json`,
		``,
	} {
		var want queryStreamRequest
		wantErr := decodeBody(&http.Request{Body: io.NopCloser(strings.NewReader(body))}, &want)
		for _, length := range []int64{int64(len(body)), -1} {
			r := &http.Request{Body: io.NopCloser(strings.NewReader(body)), ContentLength: length}
			got, err := decodeQueryStream(r)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
				t.Errorf("%q (length %d): %#v %v\nwant %#v %v", body, length, got, err, want, wantErr)
			}
		}
	}
}

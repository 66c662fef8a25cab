package http

import (
	"context"
	"encoding/json"
	"io"
	nethttp "net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
)

func startWebhook(t *testing.T, cfg connect.Config) (*sourceTask, *connectortest.TaskContext, string) {
	t.Helper()
	base := connect.Config{"topic": "hooks", "http.listen": "127.0.0.1:0", "http.path": "/hook"}
	for k, v := range cfg {
		base[k] = v
	}
	cfgs, err := sourceConnector{}.TaskConfigs(base, 3)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("task configs: %v %v", cfgs, err)
	}
	tc := connectortest.NewTaskContext(t, "webhook", 0, nil)
	tk := &sourceTask{}
	if err := tk.Start(context.Background(), cfgs[0], tc); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { tk.Stop() })
	return tk, tc, "http://" + tk.Addr() + "/hook"
}

type answer struct {
	status int
	body   string
	header nethttp.Header
}

// post sends a request in the background; the answer arrives on the channel.
func post(t *testing.T, url, token, body string) chan answer {
	ch := make(chan answer, 1)
	req, _ := nethttp.NewRequest("POST", url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	go func() {
		resp, err := nethttp.DefaultClient.Do(req)
		if err != nil {
			ch <- answer{status: -1, body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ch <- answer{resp.StatusCode, string(b), resp.Header}
	}()
	return ch
}

func wait(t *testing.T, ch chan answer) answer {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("no answer within 5s")
		return answer{}
	}
}

func pending(ch chan answer) bool {
	select {
	case a := <-ch:
		ch <- a
		return false
	default:
		return true
	}
}

func TestWebhookAnswersAfterCommit(t *testing.T) {
	tk, tc, url := startWebhook(t, connect.Config{"key.field": "id"})
	ch := post(t, url, "", `{"id": "a", "n": 1, "f": 1.5, "nested": {"x": [1, "y"]}}`)
	recs := connectortest.PollN(t, tk, tc, 1, false, 5*time.Second)
	want := map[string]any{"id": "a", "n": int64(1), "f": 1.5, "nested": map[string]any{"x": []any{int64(1), "y"}}}
	if !reflect.DeepEqual(recs[0].Value, want) || recs[0].Key != "a" || recs[0].Topic != "hooks" || recs[0].ValueSchema != nil {
		t.Fatalf("record %+v", recs[0])
	}
	if recs[0].SourcePartition["webhook"] != "/hook" || recs[0].SourceOffset["received"] != int64(1) {
		t.Fatalf("source partition %v offset %v", recs[0].SourcePartition, recs[0].SourceOffset)
	}
	// Polled but not committed: the client is still waiting.
	if !pending(ch) {
		t.Fatalf("answered before commit: %+v", wait(t, ch))
	}
	if err := tk.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := wait(t, ch); a.status != 200 || strings.TrimSpace(a.body) != `{"records":1}` {
		t.Fatalf("answer %+v", a)
	}
}

func TestWebhookBodies(t *testing.T) {
	tk, tc, url := startWebhook(t, connect.Config{"batch.size": "2"})
	for _, c := range []struct {
		body string
		want []any
	}{
		{`[{"a":1},{"a":2},{"a":3}]`, []any{map[string]any{"a": int64(1)}, map[string]any{"a": int64(2)}, map[string]any{"a": int64(3)}}},
		{"{\"a\":1}\n{\"a\":2}\n\n", []any{map[string]any{"a": int64(1)}, map[string]any{"a": int64(2)}}},
		{`[[1,2],"s"]`, []any{[]any{int64(1), int64(2)}, "s"}},
	} {
		ch := post(t, url, "", c.body)
		var got []any
		for len(got) < len(c.want) {
			recs := connectortest.PollN(t, tk, tc, 1, false, 5*time.Second)
			if len(recs) > 2 {
				t.Fatalf("poll returned %d records, batch.size is 2", len(recs))
			}
			for _, r := range recs {
				got = append(got, r.Value)
			}
			tk.Commit(context.Background())
			if len(got) < len(c.want) && !pending(ch) {
				t.Fatalf("%s: answered after %d of %d records were committed", c.body, len(got), len(c.want))
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%s: values %#v", c.body, got)
		}
		if a := wait(t, ch); a.status != 200 {
			t.Fatalf("%s: answer %+v", c.body, a)
		}
	}
	if a := wait(t, post(t, url, "", "  ")); a.status != 200 || !strings.Contains(a.body, `"records":0`) {
		t.Fatalf("empty body: %+v", a)
	}
}

func TestWebhookRejects(t *testing.T) {
	_, _, url := startWebhook(t, connect.Config{"auth.token": "s3cret", "http.max.body.bytes": "64"})
	cases := []struct {
		name, url, token, body string
		status                 int
		msg                    string
	}{
		{"no token", url, "", `{}`, 401, "bearer token"},
		{"wrong token", url, "nope", `{}`, 401, "bearer token"},
		{"bad json", url, "s3cret", `{"a":`, 400, "invalid JSON in value 1"},
		{"bad second value", url, "s3cret", "{}\n{x}", 400, "invalid JSON in value 2"},
		{"too large", url, "s3cret", `{"a":"` + strings.Repeat("x", 100) + `"}`, 413, "larger than 64 bytes"},
		{"wrong path", strings.TrimSuffix(url, "/hook") + "/other", "s3cret", `{}`, 404, "no webhook at /other"},
	}
	for _, c := range cases {
		a := wait(t, post(t, c.url, c.token, c.body))
		var e struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		json.Unmarshal([]byte(a.body), &e)
		if a.status != c.status || e.Code != c.status || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, a.status, a.body, c.status, c.msg)
		}
		if c.status == 401 && a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate header", c.name)
		}
	}
	resp, err := nethttp.Get(url)
	if err != nil || resp.StatusCode != 405 {
		t.Fatalf("GET: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestWebhookAckOnPoll(t *testing.T) {
	tk, tc, url := startWebhook(t, connect.Config{"ack.mode": "poll"})
	ch := post(t, url, "", `{"a":1}`)
	connectortest.PollN(t, tk, tc, 1, false, 5*time.Second)
	if a := wait(t, ch); a.status != 200 {
		t.Fatalf("answer %+v", a)
	}
}

func TestWebhookTimeout(t *testing.T) {
	tk, _, url := startWebhook(t, connect.Config{"ack.timeout.ms": "30"})
	// Nobody polls: the request times out and its records are withdrawn.
	a := wait(t, post(t, url, "", `[{"a":1},{"a":2}]`))
	if a.status != 503 || a.header.Get("Retry-After") == "" {
		t.Fatalf("timeout answer %+v", a)
	}
	if recs := connectortest.PollQuiet(t, tk, 20*time.Millisecond); len(recs) != 0 {
		t.Fatalf("withdrawn records were polled: %d", len(recs))
	}
	// Polled but never committed in time: 503, and a late commit is harmless.
	ch := post(t, url, "", `{"a":3}`)
	connectortest.PollN(t, tk, &connectortest.TaskContext{Offsets: connectortest.NewOffsets()}, 1, false, 5*time.Second)
	if a := wait(t, ch); a.status != 503 {
		t.Fatalf("uncommitted answer %+v", a)
	}
	if err := tk.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if tk.queued != 0 || len(tk.inflight) != 0 {
		t.Fatalf("after the late commit: %d queued, %d in flight", tk.queued, len(tk.inflight))
	}
}

func TestWebhookQueueFullAndStop(t *testing.T) {
	tk, _, url := startWebhook(t, connect.Config{"queue.max.records": "2"})
	// Fill the queue with a request that waits, then one more does not fit.
	first := post(t, url, "", `[{"a":1},{"a":2}]`)
	for {
		tk.mu.Lock()
		n := tk.queued
		tk.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond) // polling a condition: the first request is queued
	}
	if a := wait(t, post(t, url, "", `{"a":3}`)); a.status != 503 || !strings.Contains(a.body, "queue full") {
		t.Fatalf("queue full answer %+v", a)
	}
	// Stop answers the waiting request.
	tk.Stop()
	if a := wait(t, first); a.status != 503 {
		t.Fatalf("answer after stop %+v", a)
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  connect.Config
		want string
	}{
		{connect.Config{}, `"topic"`},
		{connect.Config{"topic": "t", "http.listen": "nope"}, "http.listen"},
		{connect.Config{"topic": "t", "http.path": "hook"}, "must start with /"},
		{connect.Config{"topic": "t", "ack.mode": "never"}, "must be one of commit, poll"},
	}
	for _, c := range cases {
		_, err := sourceConnector{}.TaskConfigs(c.cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
}

package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connecttest"
	"github.com/sluicedata/sluice/connect/rest"
	"github.com/sluicedata/sluice/connect/runtime"
	"github.com/sluicedata/sluice/testkit"
)

func init() { connecttest.Register() }

type api struct {
	t   *testing.T
	url string
	w   *runtime.Worker
}

func start(t *testing.T) *api {
	t.Helper()
	b := testkit.StartBroker(t, func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := runtime.New(ctx, runtime.Options{Brokers: []string{b.Addr()}, WorkerID: "127.0.0.1:8083", Distributed: true,
		WorkerConfig: connect.Config{"key.converter": connecttest.Converter, "value.converter": connecttest.Converter}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rest.Handler(w, rest.Options{}))
	t.Cleanup(func() { srv.Close(); w.Close() })
	return &api{t: t, url: srv.URL, w: w}
}

// call sends a request and checks the status; it returns the decoded body.
func (a *api) call(method, path string, body any, wantCode int) any {
	a.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantCode {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, wantCode, data)
	}
	if len(data) == 0 {
		return nil
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		a.t.Fatalf("%s %s: body %q is not JSON: %v", method, path, data, err)
	}
	if resp.StatusCode >= 400 {
		m := out.(map[string]any)
		if m["error_code"] != float64(resp.StatusCode) || m["message"] == "" {
			a.t.Fatalf("%s %s: error body %s lacks error_code/message", method, path, data)
		}
	}
	return out
}

func (a *api) message(method, path string, body any, code int) string {
	a.t.Helper()
	return a.call(method, path, body, code).(map[string]any)["message"].(string)
}

// waitState polls a status until the connector (and, unless the connector
// is STOPPED, its first task) shows want.
func (a *api) waitState(path, want string) map[string]any {
	a.t.Helper()
	return a.waitStates(path, want, want)
}

// waitStates polls a connector's status until the connector shows conn and
// its first task task ("" for the task: no condition).
func (a *api) waitStates(path, conn, task string) map[string]any {
	a.t.Helper()
	if conn == "STOPPED" {
		task = ""
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := a.call("GET", path, nil, 200).(map[string]any)
		ok := st["connector"].(map[string]any)["state"] == conn
		if tasks := st["tasks"].([]any); task != "" && (len(tasks) == 0 || tasks[0].(map[string]any)["state"] != task) {
			ok = false
		}
		if ok {
			return st
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("GET %s: %v, want connector %s task %s", path, st, conn, task)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConnectorLifecycle(t *testing.T) {
	a := start(t)
	root := a.call("GET", "/", nil, 200).(map[string]any)
	if root["version"] == "" || root["kafka_cluster_id"] == "" || root["commit"] == nil {
		t.Errorf("GET / = %v", root)
	}
	if got := a.call("GET", "/connectors", nil, 200).([]any); len(got) != 0 {
		t.Errorf("GET /connectors = %v, want []", got)
	}

	src := map[string]any{"name": "src", "config": map[string]any{"connector.class": connecttest.Source, "topic": "t1", "count": 100, "batch": "10", "tasks.max": "1"}}
	created := a.call("POST", "/connectors", src, 201).(map[string]any)
	if created["name"] != "src" || created["type"] != "source" || created["config"].(map[string]any)["count"] != "100" {
		t.Errorf("POST /connectors = %v", created)
	}
	if msg := a.message("POST", "/connectors", src, 409); !strings.Contains(msg, "already exists") {
		t.Errorf("duplicate: %q", msg)
	}
	a.waitState("/connectors/src/status", "RUNNING")

	info := a.call("GET", "/connectors/src", nil, 200).(map[string]any)
	if tasks := info["tasks"].([]any); len(tasks) != 1 || tasks[0].(map[string]any)["connector"] != "src" {
		t.Errorf("GET /connectors/src tasks = %v", info["tasks"])
	}
	cfg := a.call("GET", "/connectors/src/config", nil, 200).(map[string]any)
	if cfg["name"] != "src" || cfg["topic"] != "t1" {
		t.Errorf("config = %v", cfg)
	}
	tasks := a.call("GET", "/connectors/src/tasks", nil, 200).([]any)
	if id := tasks[0].(map[string]any)["id"].(map[string]any); id["connector"] != "src" || id["task"] != float64(0) {
		t.Errorf("tasks = %v", tasks)
	}
	ts := a.call("GET", "/connectors/src/tasks/0/status", nil, 200).(map[string]any)
	if ts["id"] != float64(0) || ts["state"] != "RUNNING" || ts["worker_id"] != "127.0.0.1:8083" {
		t.Errorf("task status = %v", ts)
	}
	a.call("GET", "/connectors/src/tasks/7/status", nil, 404)

	list := a.call("GET", "/connectors?expand=status&expand=info", nil, 200).(map[string]any)
	e := list["src"].(map[string]any)
	if e["status"].(map[string]any)["name"] != "src" || e["info"].(map[string]any)["type"] != "source" {
		t.Errorf("expand = %v", list)
	}

	// PUT: 200 when updating, 201 when creating; PATCH merges and deletes.
	a.call("PUT", "/connectors/src/config", map[string]any{"connector.class": connecttest.Source, "topic": "t1", "count": "100", "batch": "5"}, 200)
	a.call("PUT", "/connectors/other/config", map[string]any{"connector.class": connecttest.Sink, "topics": "t1"}, 201)
	patched := a.call("PATCH", "/connectors/other/config", map[string]any{"fail.odd": "false", "topics": nil, "topics.regex": "t.*"}, 200).(map[string]any)
	pc := patched["config"].(map[string]any)
	if _, ok := pc["topics"]; ok || pc["topics.regex"] != "t.*" || pc["fail.odd"] != "false" {
		t.Errorf("PATCH result config = %v", pc)
	}
	a.call("PATCH", "/connectors/nope/config", map[string]any{"a": "b"}, 404)
	if msg := a.message("PUT", "/connectors/other/config", map[string]any{"connector.class": connecttest.Sink, "name": "different", "topics": "x"}, 400); !strings.Contains(msg, "doesn't match") {
		t.Errorf("name mismatch: %q", msg)
	}

	// Pause, resume, restart.
	a.call("PUT", "/connectors/src/pause", nil, 202)
	a.waitState("/connectors/src/status", "PAUSED")
	a.call("PUT", "/connectors/src/resume", nil, 202)
	a.waitState("/connectors/src/status", "RUNNING")
	a.call("POST", "/connectors/src/restart", nil, 204)
	st := a.call("POST", "/connectors/src/restart?includeTasks=true&onlyFailed=false", nil, 202).(map[string]any)
	if st["connector"].(map[string]any)["state"] != "RESTARTING" || st["tasks"].([]any)[0].(map[string]any)["state"] != "RESTARTING" {
		t.Errorf("restart includeTasks = %v", st)
	}
	st = a.call("POST", "/connectors/src/restart?includeTasks=true&onlyFailed=true", nil, 202).(map[string]any)
	if st["connector"].(map[string]any)["state"] == "RESTARTING" {
		t.Errorf("onlyFailed restarted a healthy connector: %v", st)
	}
	a.call("POST", "/connectors/src/restart?includeTasks=maybe", nil, 400)
	a.call("POST", "/connectors/src/tasks/0/restart", nil, 204)
	a.call("POST", "/connectors/src/tasks/9/restart", nil, 404)
	a.waitState("/connectors/src/status", "RUNNING")

	// Topics used.
	deadline := time.Now().Add(30 * time.Second)
	for {
		tp := a.call("GET", "/connectors/src/topics", nil, 200).(map[string]any)
		if got := tp["src"].(map[string]any)["topics"].([]any); len(got) == 1 && got[0] == "t1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topics = %v", tp)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.call("PUT", "/connectors/src/topics/reset", nil, 202)
	if tp := a.call("GET", "/connectors/src/topics", nil, 200).(map[string]any); len(tp["src"].(map[string]any)["topics"].([]any)) != 0 {
		t.Errorf("topics after reset = %v", tp)
	}

	// Offsets: readable any time, writable only when STOPPED.
	deadline = time.Now().Add(30 * time.Second)
	for {
		offs := a.call("GET", "/connectors/src/offsets", nil, 200).(map[string]any)["offsets"].([]any)
		if len(offs) == 1 && offs[0].(map[string]any)["offset"].(map[string]any)["n"] == float64(99) {
			if p := offs[0].(map[string]any)["partition"].(map[string]any); p["task"] != "0" {
				t.Errorf("offset partition = %v", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets = %v", offs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	alter := map[string]any{"offsets": []any{map[string]any{"partition": map[string]any{"task": "0"}, "offset": map[string]any{"n": 49}}}}
	if msg := a.message("PATCH", "/connectors/src/offsets", alter, 400); !strings.Contains(msg, "STOPPED") {
		t.Errorf("PATCH offsets while running: %q", msg)
	}
	a.call("DELETE", "/connectors/src/offsets", nil, 400)
	a.call("PUT", "/connectors/src/stop", nil, 204)
	a.call("PUT", "/connectors/src/stop", nil, 204) // idempotent
	stopped := a.waitState("/connectors/src/status", "STOPPED")
	if len(stopped["tasks"].([]any)) != 0 {
		t.Errorf("stopped connector still has tasks: %v", stopped)
	}
	if got := a.call("GET", "/connectors/src/tasks", nil, 200).([]any); len(got) != 0 {
		t.Errorf("tasks of a stopped connector = %v", got)
	}
	if m := a.call("PATCH", "/connectors/src/offsets", alter, 200).(map[string]any); !strings.Contains(m["message"].(string), "altered successfully") {
		t.Errorf("PATCH offsets = %v", m)
	}
	offs := a.call("GET", "/connectors/src/offsets", nil, 200).(map[string]any)["offsets"].([]any)
	if len(offs) != 1 || offs[0].(map[string]any)["offset"].(map[string]any)["n"] != float64(49) {
		t.Errorf("offsets after PATCH = %v", offs)
	}
	a.call("PATCH", "/connectors/src/offsets", `{"offsets": []}`, 400)
	if m := a.call("DELETE", "/connectors/src/offsets", nil, 200).(map[string]any); !strings.Contains(m["message"].(string), "reset successfully") {
		t.Errorf("DELETE offsets = %v", m)
	}
	if offs := a.call("GET", "/connectors/src/offsets", nil, 200).(map[string]any)["offsets"].([]any); len(offs) != 0 {
		t.Errorf("offsets after DELETE = %v", offs)
	}
	// Resuming a stopped connector starts from the reset offsets: all 100 again.
	a.call("PUT", "/connectors/src/resume", nil, 202)
	a.waitState("/connectors/src/status", "RUNNING")

	// Sink offsets live in the group connect-<name>.
	a.call("PUT", "/connectors/other/stop", nil, 204)
	a.waitState("/connectors/other/status", "STOPPED")
	sinkAlter := map[string]any{"offsets": []any{map[string]any{"partition": map[string]any{"kafka_topic": "t1", "kafka_partition": 0}, "offset": map[string]any{"kafka_offset": 3}}}}
	a.call("PATCH", "/connectors/other/offsets", sinkAlter, 200)
	so := a.call("GET", "/connectors/other/offsets", nil, 200).(map[string]any)["offsets"].([]any)
	if len(so) != 1 || so[0].(map[string]any)["offset"].(map[string]any)["kafka_offset"] != float64(3) {
		t.Errorf("sink offsets = %v", so)
	}
	a.call("DELETE", "/connectors/other/offsets", nil, 200)
	if so := a.call("GET", "/connectors/other/offsets", nil, 200).(map[string]any)["offsets"].([]any); len(so) != 0 {
		t.Errorf("sink offsets after DELETE = %v", so)
	}

	// Delete.
	a.call("DELETE", "/connectors/other", nil, 204)
	a.call("DELETE", "/connectors/other", nil, 404)
	a.call("GET", "/connectors/other", nil, 404)
	if got := a.call("GET", "/connectors", nil, 200).([]any); len(got) != 1 || got[0] != "src" {
		t.Errorf("GET /connectors = %v", got)
	}
}

func TestUnknownConnector404(t *testing.T) {
	a := start(t)
	for _, c := range []struct{ method, path string }{
		{"GET", "/connectors/x"}, {"DELETE", "/connectors/x"}, {"GET", "/connectors/x/config"}, {"GET", "/connectors/x/status"},
		{"GET", "/connectors/x/tasks"}, {"GET", "/connectors/x/tasks/0/status"}, {"POST", "/connectors/x/tasks/0/restart"},
		{"POST", "/connectors/x/restart"}, {"PUT", "/connectors/x/pause"}, {"PUT", "/connectors/x/resume"}, {"PUT", "/connectors/x/stop"},
		{"GET", "/connectors/x/offsets"}, {"DELETE", "/connectors/x/offsets"}, {"GET", "/connectors/x/topics"}, {"PUT", "/connectors/x/topics/reset"},
		{"GET", "/no/such/path"},
	} {
		a.call(c.method, c.path, nil, 404)
	}
	a.call("DELETE", "/connectors", nil, 405)
	a.call("POST", "/connectors/x/status", nil, 405)
	if msg := a.message("GET", "/connectors/x", nil, 404); msg != "Connector x not found" {
		t.Errorf("message %q", msg)
	}
}

func TestCreateErrors(t *testing.T) {
	a := start(t)
	// Unknown class.
	if msg := a.message("POST", "/connectors", map[string]any{"name": "a", "config": map[string]any{"connector.class": "com.example.Nope"}}, 400); !strings.Contains(msg, "com.example.Nope") {
		t.Errorf("unknown class: %q", msg)
	}
	// No class.
	a.call("POST", "/connectors", map[string]any{"name": "a", "config": map[string]any{}}, 400)
	// No name.
	a.call("POST", "/connectors", map[string]any{"config": map[string]any{"connector.class": connecttest.Sink, "topics": "x"}}, 400)
	// Bad JSON.
	a.call("POST", "/connectors", `{"name": `, 400)
	// Invalid config: every bad field is named.
	msg := a.message("POST", "/connectors", map[string]any{"name": "a", "config": map[string]any{
		"connector.class": connecttest.Sink, "tasks.max": "zero", "errors.tolerance": "some", "mode": "weird",
		"transforms": "u", "transforms.u.type": "no.Such"}}, 400)
	for _, f := range []string{"tasks.max", "errors.tolerance", "topics", "mode", "transforms.u.type", "6 error(s)"} {
		if !strings.Contains(msg, f) {
			t.Errorf("message does not name %s:\n%s", f, msg)
		}
	}
	// Bad initial state.
	a.call("POST", "/connectors", map[string]any{"name": "a", "initial_state": "SLEEPING", "config": map[string]any{"connector.class": connecttest.Sink, "topics": "x"}}, 400)
	// initial_state STOPPED and PAUSED.
	a.call("POST", "/connectors", map[string]any{"name": "s", "initial_state": "STOPPED", "config": map[string]any{"connector.class": connecttest.Sink, "topics": "x"}}, 201)
	a.waitState("/connectors/s/status", "STOPPED")
	a.call("POST", "/connectors", map[string]any{"name": "p", "initial_state": "PAUSED", "config": map[string]any{"connector.class": connecttest.Sink, "topics": "x"}}, 201)
	a.waitState("/connectors/p/status", "PAUSED")
}

func TestPluginsAndValidate(t *testing.T) {
	a := start(t)
	plugins := a.call("GET", "/connector-plugins", nil, 200).([]any)
	classes := map[string]string{}
	for _, p := range plugins {
		m := p.(map[string]any)
		classes[m["class"].(string)] = m["type"].(string)
		if m["version"] == "" {
			t.Errorf("plugin without version: %v", m)
		}
	}
	if classes["org.sluice.test.TestSourceConnector"] != "source" || classes[connecttest.Sink] != "sink" || classes[connecttest.Upper] != "" {
		t.Errorf("GET /connector-plugins = %v", classes)
	}
	all := a.call("GET", "/connector-plugins?connectorsOnly=false", nil, 200).([]any)
	types := map[string]bool{}
	for _, p := range all {
		types[p.(map[string]any)["type"].(string)] = true
	}
	for _, k := range []string{"source", "sink", "transformation", "predicate", "converter"} {
		if !types[k] {
			t.Errorf("connectorsOnly=false lacks %s plugins: %v", k, all)
		}
	}
	defs := a.call("GET", "/connector-plugins/"+connecttest.Source+"/config", nil, 200).([]any)
	if d := defs[0].(map[string]any); d["name"] != "topic" || d["type"] != "STRING" || d["required"] != true {
		t.Errorf("config defs = %v", defs[0])
	}
	a.call("GET", "/connector-plugins/no.Such/config", nil, 404)

	ok := a.call("PUT", "/connector-plugins/"+connecttest.Sink+"/config/validate", map[string]any{"name": "v", "topics": "a"}, 200).(map[string]any)
	if ok["error_count"] != float64(0) || ok["name"] != connecttest.Sink {
		t.Errorf("valid config: %v", ok)
	}
	bad := a.call("PUT", "/connector-plugins/"+connecttest.Sink+"/config/validate", map[string]any{"name": "v", "mode": "weird", "errors.tolerance": "x"}, 200).(map[string]any)
	if bad["error_count"] != float64(4) { // mode, errors.tolerance, topics, topics.regex
		t.Errorf("error_count = %v", bad["error_count"])
	}
	errs := map[string][]any{}
	names := map[string]bool{}
	for _, c := range bad["configs"].([]any) {
		v := c.(map[string]any)["value"].(map[string]any)
		names[v["name"].(string)] = true
		if e := v["errors"].([]any); len(e) > 0 {
			errs[v["name"].(string)] = e
		}
		if _, ok := c.(map[string]any)["definition"].(map[string]any)["importance"]; !ok {
			t.Errorf("definition without importance: %v", c)
		}
	}
	for _, k := range []string{"mode", "errors.tolerance", "topics", "topics.regex"} {
		if len(errs[k]) == 0 {
			t.Errorf("no error for %s: %v", k, errs)
		}
	}
	for _, k := range []string{"name", "connector.class", "tasks.max", "key.converter", "value.converter", "transforms", "predicates", "errors.retry.timeout", "errors.deadletterqueue.topic.name", "fail.odd"} {
		if !names[k] {
			t.Errorf("validate lacks key %s", k)
		}
	}
	a.call("PUT", "/connector-plugins/no.Such/config/validate", map[string]any{}, 400)
	a.call("PUT", "/connector-plugins/"+connecttest.Sink+"/config/validate", map[string]any{"connector.class": connecttest.Source}, 400)
}

func TestFailedTaskAndRestartOnlyFailed(t *testing.T) {
	a := start(t)
	a.call("POST", "/connectors", map[string]any{"name": "f", "config": map[string]any{"connector.class": connecttest.Source, "topic": "f", "fail.start": "true"}}, 201)
	st := a.waitStates("/connectors/f/status", "RUNNING", "FAILED")
	task := st["tasks"].([]any)[0].(map[string]any)
	if !strings.Contains(task["trace"].(string), "told to fail at start") {
		t.Errorf("trace = %v", task["trace"])
	}
	st = a.call("POST", "/connectors/f/restart?includeTasks=true&onlyFailed=true", nil, 202).(map[string]any)
	if st["connector"].(map[string]any)["state"] != "RUNNING" || st["tasks"].([]any)[0].(map[string]any)["state"] != "RESTARTING" {
		t.Errorf("restart onlyFailed = %v", st)
	}
	a.waitStates("/connectors/f/status", "RUNNING", "FAILED")
	// Fixing the config restarts the task with the new config.
	a.call("PATCH", "/connectors/f/config", map[string]any{"fail.start": "false"}, 200)
	a.waitState("/connectors/f/status", "RUNNING")
}

// startOn starts a distributed worker whose id is its REST address.
func startOn(t *testing.T, brokerAddr string) *api {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := srv.Listener.Addr().String()
	w, err := runtime.New(ctx, runtime.Options{Brokers: []string{brokerAddr}, WorkerID: id, URL: "http://" + id, Distributed: true,
		WorkerConfig: connect.Config{"key.converter": connecttest.Converter, "value.converter": connecttest.Converter}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = rest.Handler(w, rest.Options{})
	srv.Start()
	t.Cleanup(func() { srv.Close(); w.Close() })
	return &api{t: t, url: srv.URL, w: w}
}

// Two workers: any of them answers for any connector, and a task restart
// sent to the worker that does not run the task is forwarded to the one
// that does.
func TestTwoWorkers(t *testing.T) {
	b := testkit.StartBroker(t, func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 })
	a1 := startOn(t, b.Addr())
	a2 := startOn(t, b.Addr())
	a1.call("POST", "/connectors", map[string]any{"name": "two", "config": map[string]any{"connector.class": connecttest.Source,
		"topic": "two", "tasks.max": "2", "poll.delay.ms": "50", "batch": "1"}}, 201)
	var st map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		// a2 learns of the connector when it reads the configs topic.
		if resp, err := http.Get(a2.url + "/connectors/two"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				continue
			}
		}
		st = a2.call("GET", "/connectors/two/status", nil, 200).(map[string]any)
		tasks := st["tasks"].([]any)
		if len(tasks) == 2 && tasks[0].(map[string]any)["state"] == "RUNNING" && tasks[1].(map[string]any)["state"] == "RUNNING" &&
			tasks[0].(map[string]any)["worker_id"] != tasks[1].(map[string]any)["worker_id"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks not spread over both workers: %v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Restart, through each worker, the task the other one runs.
	for _, a := range []*api{a1, a2} {
		me := strings.TrimPrefix(a.url, "http://")
		for _, ts := range st["tasks"].([]any) {
			task := ts.(map[string]any)
			if task["worker_id"] != me {
				a.restartTask("two", int(task["id"].(float64)))
			}
		}
	}
	a1.waitState("/connectors/two/status", "RUNNING")
}

// restartTask restarts a task, retrying while the workers rebalance (409),
// as Kafka Connect clients must.
func (a *api) restartTask(name string, task int) {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("POST", a.url+"/connectors/"+name+"/tasks/"+strconv.Itoa(task)+"/restart", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			a.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNoContent {
			return
		}
		if resp.StatusCode != http.StatusConflict || time.Now().After(deadline) {
			a.t.Fatalf("restart task %s-%d: %d %s", name, task, resp.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

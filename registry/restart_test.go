package registry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/testkit"
)

// TestRestart: schemas, ids, versions, soft deletes, configs and modes
// survive a restart of the registry and of the broker under it.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	// Started by hand: the broker's Close must run once, here, not again in
	// testkit's cleanup.
	b1, err := broker.New(broker.Config{DataDir: dir, Listen: "127.0.0.1:0", NodeID: 1, AutoCreateTopics: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	go b1.Serve()
	closed := false
	t.Cleanup(func() {
		if !closed {
			b1.Close()
		}
	})
	r1, c := startRegistry(t, b1.Addr().String())
	c.expect("POST", "/subjects/a/versions", schemaBody(userV1), 200, `{"id":1}`)
	c.expect("POST", "/subjects/a/versions", schemaBody(userV2), 200, `{"id":2}`)
	c.expect("POST", "/subjects/b/versions", schemaBody(userV2), 200, `{"id":2}`)
	c.expect("POST", "/subjects/gone/versions", schemaBody(`"string"`), 200, `{"id":3}`)
	c.expect("DELETE", "/subjects/gone", "", 200, `[1]`)
	c.expect("DELETE", "/subjects/gone?permanent=true", "", 200, `[1]`)
	c.expect("DELETE", "/subjects/a/versions/1", "", 200, `1`)
	c.expect("PUT", "/config", `{"compatibility":"FULL"}`, 200, "")
	c.expect("PUT", "/config/b", `{"compatibility":"NONE"}`, 200, "")
	c.expect("PUT", "/mode/b", `{"mode":"READONLY"}`, 200, "")
	r1.Close()

	// Registry restart against the same broker.
	_, c = startRegistry(t, b1.Addr().String())
	checkRestored := func(c *client) {
		t.Helper()
		c.expect("GET", "/subjects", "", 200, `["a","b"]`)
		c.expect("GET", "/subjects/a/versions", "", 200, `[2]`)
		c.expect("GET", "/subjects/a/versions?deleted=true", "", 200, `[1,2]`)
		c.expect("GET", "/subjects/b/versions/1", "", 200, `{"subject":"b","version":1,"id":2,"schema":`+string(mustJSON(userV2))+`}`)
		c.expect("GET", "/schemas/ids/1", "", 200, `{"schema":`+string(mustJSON(userV1))+`}`)
		c.expectCode("GET", "/schemas/ids/3", "", 404, 40403)
		c.expect("GET", "/config", "", 200, `{"compatibilityLevel":"FULL"}`)
		c.expect("GET", "/config/b", "", 200, `{"compatibilityLevel":"NONE"}`)
		c.expect("GET", "/mode/b", "", 200, `{"mode":"READONLY"}`)
		c.expect("GET", "/mode", "", 200, `{"mode":"READWRITE"}`)
	}
	checkRestored(c)

	// Broker restart from the same data directory.
	b1.Close()
	closed = true
	b2 := testkit.StartBroker(t, func(c *broker.Config) { c.DataDir = dir })
	_, c = startRegistry(t, b2.Addr())
	checkRestored(c)
	// The id of the permanently deleted schema (3) is not given again.
	c.expect("POST", "/subjects/c/versions", schemaBody(`"int"`), 200, `{"id":4}`)
	c.expect("POST", "/subjects/a/versions", schemaBody(userV2), 200, `{"id":2}`)
}

// TestTwoNodes: two registries sharing one topic see each other's writes.
func TestTwoNodes(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c1 := startRegistry(t, b.Addr())
	_, c2 := startRegistry(t, b.Addr())
	c1.expect("POST", "/subjects/a/versions", schemaBody(userV1), 200, `{"id":1}`)
	eventually(t, func() bool { return c2.do("GET", "/schemas/ids/1", "").status == 200 })
	// Node 2 syncs to the topic before writing, so ids continue.
	c2.expect("POST", "/subjects/a/versions", schemaBody(userV2), 200, `{"id":2}`)
	c2.expect("POST", "/subjects/b/versions", schemaBody(userV1), 200, `{"id":1}`)
	eventually(t, func() bool { return c1.do("GET", "/subjects/b/versions/1", "").status == 200 })
	c1.expect("GET", "/subjects/a/versions", "", 200, `[1,2]`)
}

func eventually(t *testing.T, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}

// TestConcurrentRegister: concurrent registrations on one node get distinct
// ids and versions, and the same schema always the same id.
func TestConcurrentRegister(t *testing.T) {
	b := testkit.StartBroker(t)
	r, _ := startRegistry(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	ids := make([]int, 20)
	errs := make([]error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			schema := fmt.Sprintf(`{"type":"record","name":"R%d","fields":[]}`, i%10)
			ids[i], errs[i] = r.Register(ctx, fmt.Sprintf("s%d", i%10), SchemaRequest{Schema: schema}, false)
		}()
	}
	wg.Wait()
	seen := map[int]int{}
	for i, id := range ids {
		if errs[i] != nil {
			t.Fatalf("register %d: %v", i, errs[i])
		}
		if j, ok := seen[id]; ok && j%10 != i%10 {
			t.Fatalf("id %d given to schemas %d and %d", id, j, i)
		}
		seen[id] = i
	}
	if len(seen) != 10 {
		t.Fatalf("%d distinct ids, want 10", len(seen))
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	c := &client{t: t, url: srv.URL}
	for i := range 10 {
		res := c.do("GET", fmt.Sprintf("/subjects/s%d/versions", i), "")
		if strings.TrimSpace(res.body) != "[1]" {
			t.Fatalf("subject s%d versions %s", i, res.body)
		}
	}
}

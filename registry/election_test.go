package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/testkit"
)

// electedNode is a registry node in a writer election, served over HTTP.
type electedNode struct {
	r     *Registry
	c     *client
	url   string
	close func()
}

func startElected(t *testing.T, brokerAddr string) *electedNode {
	t.Helper()
	var mu sync.Mutex
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		hh := h
		mu.Unlock()
		hh.ServeHTTP(w, req)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := Open(ctx, []string{brokerAddr}, WithWriterElection("sr-writers", srv.URL), WithLogger(testLogger(t)),
		WithElectionTimeouts(6*time.Second, 100*time.Millisecond))
	if err != nil {
		srv.Close()
		t.Fatalf("open registry: %v", err)
	}
	mu.Lock()
	h = r.Handler()
	mu.Unlock()
	var once sync.Once
	n := &electedNode{r: r, c: &client{t: t, url: srv.URL}, url: srv.URL, close: func() { once.Do(func() { r.Close(); srv.Close() }) }}
	t.Cleanup(n.close)
	return n
}

// TestWriterElection: two registry nodes over one broker elect one writer;
// both accept registrations (the follower forwards them), ids never
// collide, and when the writer stops the follower takes over.
func TestWriterElection(t *testing.T) {
	b := testkit.StartBroker(t)
	nodes := []*electedNode{startElected(t, b.Addr()), startElected(t, b.Addr())}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Wait until the group has both members and is stable, so that no
	// rebalance moves the role under the test, then until each node
	// knows the writer that won the last rebalance.
	adm := kadm.NewClient(mustClient(t, b.Addr()))
	for {
		gs, err := adm.DescribeGroups(ctx, "sr-writers")
		if err != nil {
			t.Fatal(err)
		}
		if g := gs["sr-writers"]; g.State == "Stable" && len(g.Members) == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the election group never became stable with two members: %+v", gs)
		case <-time.After(20 * time.Millisecond): // polling the group's state
		}
	}
	byURL := map[string]*electedNode{nodes[0].url: nodes[0], nodes[1].url: nodes[1]}
	var urls []string
	for _, n := range nodes {
		var u string
		err := n.r.awaitElection(ctx, func() bool {
			u = n.r.WriterURL()
			return byURL[u] != nil
		})
		if err == nil { // the announced writer sets its flag just after
			err = byURL[u].r.awaitElection(ctx, byURL[u].r.IsWriter)
		}
		if err != nil {
			for _, n := range nodes {
				n.r.s.mu.RLock()
				w := n.r.s.st.writer
				n.r.s.mu.RUnlock()
				t.Logf("node %s: writer=%v announced=%+v", n.url, n.r.IsWriter(), w)
			}
			t.Fatalf("no writer elected: %v", err)
		}
		urls = append(urls, u)
	}
	if urls[0] != urls[1] {
		t.Fatalf("nodes disagree on the writer: %v", urls)
	}
	writer, follower := nodes[0], nodes[1]
	if follower.url == urls[0] {
		writer, follower = follower, writer
	}
	if !writer.r.IsWriter() || follower.r.IsWriter() {
		t.Fatalf("writer flags: %v %v", writer.r.IsWriter(), follower.r.IsWriter())
	}

	// Registrations through both nodes at once: distinct schemas get
	// distinct, dense ids.
	const n = 20
	ids := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := nodes[i%2]
			r := node.c.do("POST", fmt.Sprintf("/subjects/sub-%d/versions", i), schemaBody(recordSchema(i)))
			if r.status != 200 {
				t.Errorf("register %d through %s: %d %s", i, node.url, r.status, r.body)
				return
			}
			var out struct{ ID int }
			json.Unmarshal([]byte(r.body), &out)
			ids[i] = out.ID
		}()
	}
	wg.Wait()
	sorted := append([]int(nil), ids...)
	sort.Ints(sorted)
	for i, id := range sorted {
		if id != i+1 {
			t.Fatalf("ids %v are not 1..%d", ids, n)
		}
	}
	// A forwarded write is visible on the follower as soon as it answers.
	follower.c.expect("POST", "/subjects/late/versions", schemaBody(recordSchema(100)), 200, `{"id":21}`)
	follower.c.expect("GET", "/subjects/late/versions/1", "", 200, "")
	follower.c.expect("PUT", "/config/late", `{"compatibility":"NONE"}`, 200, `{"compatibility":"NONE"}`)
	writer.c.expect("GET", "/config/late", "", 200, `{"compatibilityLevel":"NONE"}`)

	// The writer stops: the follower takes over and keeps the id sequence.
	writer.close()
	if err := follower.r.awaitElection(ctx, follower.r.IsWriter); err != nil {
		t.Fatalf("the follower did not take over: %v", err)
	}
	follower.c.expect("POST", "/subjects/after/versions", schemaBody(recordSchema(101)), 200, `{"id":22}`)
	follower.c.expect("POST", "/subjects/sub-3/versions", schemaBody(recordSchema(3)), 200, fmt.Sprintf(`{"id":%d}`, ids[3]))
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func mustClient(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func recordSchema(i int) string {
	return fmt.Sprintf(`{"type":"record","name":"R%d","fields":[{"name":"f","type":"long"}]}`, i)
}

// TestDeposedWriterFenced: a state record carrying an epoch below the last
// announced writer's is ignored, so a writer that lost the election without
// noticing cannot change state.
func TestDeposedWriterFenced(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(key, value string, epoch int) {
		t.Helper()
		rec := &kgo.Record{Topic: "_schemas", Key: []byte(key), Value: []byte(value)}
		if epoch >= 0 {
			rec.Headers = []kgo.RecordHeader{{Key: epochHeader, Value: []byte(fmt.Sprint(epoch))}}
		}
		if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	schema := func(subject string, id int) string {
		return fmt.Sprintf(`{"subject":%q,"version":1,"id":%d,"schema":"\"string\"","deleted":false}`, subject, id)
	}
	produce(`{"keytype":"SLUICE_WRITER","epoch":5,"magic":0}`, `{"node":"n1","url":"http://a","epoch":5}`, -1)
	produce(`{"keytype":"SCHEMA","subject":"old","version":1,"magic":1}`, schema("old", 7), 4)
	produce(`{"keytype":"SCHEMA","subject":"new","version":1,"magic":1}`, schema("new", 8), 5)
	produce(`{"keytype":"SCHEMA","subject":"legacy","version":1,"magic":1}`, schema("legacy", 9), -1)
	// A registration syncs with the topic first: everything above is read.
	c.expect("POST", "/subjects/x/versions", schemaBody(`"int"`), 200, `{"id":10}`)
	c.expect("GET", "/subjects", "", 200, `["legacy","new","x"]`)
}

// Package pull benchmarks pull queries: key lookups on a materialized table
// of 100k keys, answered by the engine from the table's state store, through
// the engine's Query call and through the REST API (/query-stream). Run with
// `make bench-pull`.
package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/engine"
	"github.com/sluicedata/sluice/engine/queries"
	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/testkit"
)

const keys = 100_000

var (
	setupOnce sync.Once
	eng       *engine.Engine
	apiURL    string
	setupErr  error
)

func key(i int) string { return fmt.Sprintf("user-%06d", i) }

// setup starts a broker, an engine and its REST API once for all
// benchmarks, fills the table topic with 100k keys and waits until the
// CTAS has materialized the last one.
func setup(b *testing.B) {
	b.Helper()
	setupOnce.Do(func() {
		br := testkit.StartBroker(b, func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 })
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		e, err := engine.Start(context.Background(), engine.Config{Brokers: []string{br.Addr()}, StateDir: b.TempDir(),
			Logger: quiet, Metrics: queries.NewMetrics(prometheus.NewRegistry()), StateMetrics: state.NewMetrics(prometheus.NewRegistry())})
		if err != nil {
			setupErr = err
			return
		}
		eng = e
		ksql := func(sql string) {
			if _, err := e.Execute(context.Background(), &rest.Request{KSQL: sql, StreamsProperties: map[string]any{"auto.offset.reset": "earliest"}}); err != nil && setupErr == nil {
				setupErr = fmt.Errorf("%s: %w", sql, err)
			}
		}
		ksql(`CREATE TABLE USERS (ID STRING PRIMARY KEY, NAME STRING, REGION STRING, SCORE INT) WITH (KAFKA_TOPIC='users', PARTITIONS=1, VALUE_FORMAT='JSON');`)
		ksql(`CREATE TABLE USERS_BY_ID AS SELECT * FROM USERS;`)
		cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ProducerLinger(5*time.Millisecond))
		if err != nil {
			setupErr = err
			return
		}
		defer cl.Close()
		for i := 0; i < keys; i++ {
			cl.Produce(context.Background(), &kgo.Record{Topic: "users", Key: []byte(key(i)),
				Value: fmt.Appendf(nil, `{"NAME":"name %d","REGION":"region-%d","SCORE":%d}`, i, i%17, i%1000)}, nil)
		}
		if err := cl.Flush(context.Background()); err != nil {
			setupErr = err
			return
		}
		deadline := time.Now().Add(5 * time.Minute)
		for {
			rows, err := lookupEngine(key(keys - 1))
			if err == nil && rows == 1 {
				break
			}
			if time.Now().After(deadline) {
				setupErr = fmt.Errorf("table not materialized after 5 minutes (%d rows, %v)", rows, err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			setupErr = err
			return
		}
		apiURL = "http://" + ln.Addr().String()
		go rest.New(e, quiet).Serve(context.Background(), ln)
	})
	if setupErr != nil {
		b.Fatal(setupErr)
	}
}

func lookupEngine(k string) (int, error) {
	st, err := eng.Query(context.Background(), &rest.Request{KSQL: "SELECT * FROM USERS_BY_ID WHERE ID = '" + k + "';"})
	if err != nil {
		return 0, err
	}
	n := 0
	for range st.Rows {
		n++
	}
	st.Close()
	return n, st.Err()
}

var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

func lookupHTTP(k string) (int, error) { return lookupURL(apiURL, k) }

// lookupURL runs one key lookup over /query-stream at the REST API base
// and returns the number of rows.
func lookupURL(base, k string) (int, error) {
	body, _ := json.Marshal(map[string]string{"sql": "SELECT * FROM USERS_BY_ID WHERE ID = '" + k + "';"})
	req, _ := http.NewRequest("POST", base+"/query-stream", bytes.NewReader(body))
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("%d %s", resp.StatusCode, data)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil {
		return 0, err
	}
	return len(parts) - 1, nil
}

// run looks up b.N random keys one after the other and reports lookups per
// second (wall), lookups per CPU-second of the whole process (engine,
// embedded broker, and for HTTP the client too) and latency percentiles.
func run(b *testing.B, lookup func(string) (int, error)) {
	setup(b)
	lat := make([]time.Duration, 0, b.N)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	cpu0 := processCPU(b)
	for i := 0; i < b.N; i++ {
		start := time.Now()
		n, err := lookup(key(rng.IntN(keys)))
		lat = append(lat, time.Since(start))
		if err != nil || n != 1 {
			b.Fatalf("lookup: %d rows, %v", n, err)
		}
	}
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkKeyLookupEngine: parse, plan, state lookup, decode, project and
// JSON row, as the REST handlers get it.
func BenchmarkKeyLookupEngine(b *testing.B) { run(b, lookupEngine) }

// BenchmarkKeyLookupHTTP: the same over /query-stream (HTTP/1.1, JSON).
func BenchmarkKeyLookupHTTP(b *testing.B) { run(b, lookupHTTP) }

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

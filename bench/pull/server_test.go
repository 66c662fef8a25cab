package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/bench/devproc"
)

var (
	sluiceBinary  = flag.String("pull.sluice-binary", "", "sluice executable for BenchmarkKeyLookupServer (default: built from this checkout)")
	pullClients   = flag.Int("pull.clients", 4, "concurrent clients of BenchmarkKeyLookupServer's second run")
	serverProfile = flag.String("pull.server-cpuprofile", "", "write a CPU profile of the server during BenchmarkKeyLookupServer's lookups to this file")
)

// server is a `sluice dev` subprocess holding the 100k-key table, so that
// the lookups' CPU is the server's alone: the client's HTTP and JSON work
// runs in this process and is reported separately.
type server struct {
	proc *devproc.Proc
	ksql string
	http string // metrics and pprof
}

func startServer(b *testing.B) *server {
	b.Helper()
	bin := *sluiceBinary
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "sluice")
		build := exec.Command("go", "build", "-o", bin, "github.com/sluicedata/sluice/cmd/sluice")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			b.Fatalf("build sluice: %v", err)
		}
	}
	addr, err := devproc.FreeAddr()
	if err != nil {
		b.Fatal(err)
	}
	ksql, err := devproc.FreeAddr()
	if err != nil {
		b.Fatal(err)
	}
	httpAddr, err := devproc.FreeAddr()
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"dev", "--data-dir", filepath.Join(b.TempDir(), "data"), "--listen", addr,
		"--ksql-listen", ksql, "--connect-listen", "", "--http-listen", httpAddr, "--registry-listen", "",
		"--group-initial-rebalance-delay", "0"}
	p, err := devproc.Start(context.Background(), bin, args, 32<<10, "ksqlDB REST API", devproc.HTTPReady("http://"+ksql+"/healthcheck"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Stop(15 * time.Second) })
	s := &server{proc: p, ksql: "http://" + ksql, http: "http://" + httpAddr}
	s.statement(b, `CREATE TABLE USERS (ID STRING PRIMARY KEY, NAME STRING, REGION STRING, SCORE INT) WITH (KAFKA_TOPIC='users', PARTITIONS=1, VALUE_FORMAT='JSON');`)
	s.statement(b, `CREATE TABLE USERS_BY_ID AS SELECT * FROM USERS;`)

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < keys; i++ {
		cl.Produce(context.Background(), &kgo.Record{Topic: "users", Key: []byte(key(i)),
			Value: fmt.Appendf(nil, `{"NAME":"name %d","REGION":"region-%d","SCORE":%d}`, i, i%17, i%1000)}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		rows, err := s.lookup(key(keys - 1))
		if err == nil && rows == 1 {
			return s
		}
		if time.Now().After(deadline) {
			b.Fatalf("table not materialized after 5 minutes (%d rows, %v)\n%s", rows, err, p.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) statement(b *testing.B, sql string) {
	body, _ := json.Marshal(map[string]any{"ksql": sql, "streamsProperties": map[string]string{"auto.offset.reset": "earliest"}})
	resp, err := http.Post(s.ksql+"/ksql", "application/vnd.ksql.v1+json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d %s", sql, resp.StatusCode, data)
	}
}

func (s *server) lookup(k string) (int, error) {
	return lookupURL(s.ksql, k)
}

// BenchmarkKeyLookupServer: the same lookups as BenchmarkKeyLookupHTTP
// against `sluice dev` in its own process. lookups/cpu-s counts the
// server's CPU only (broker, engine and REST API); client-cpu-µs is what
// this process spent per lookup on the HTTP client and JSON.
func BenchmarkKeyLookupServer(b *testing.B) {
	s := startServer(b)
	b.Run("clients=1", func(b *testing.B) { lookupsAgainst(b, s, 1) })
	b.Run(fmt.Sprintf("clients=%d", *pullClients), func(b *testing.B) { lookupsAgainst(b, s, *pullClients) })
}

// lookupsAgainst runs b.N random key lookups from clients goroutines, each
// waiting for its answer before the next (one in flight per client). With
// one client the server idles between requests and every lookup pays a
// wake-up on each side; several keep it busy, as concurrent dashboards do.
func lookupsAgainst(b *testing.B, s *server, clients int) {
	lats := make([][]time.Duration, clients)
	b.ResetTimer()
	srv0, err := devproc.CPUTime(s.proc.PID())
	if err != nil {
		b.Fatal(err)
	}
	cli0 := processCPU(b)
	var profile chan error
	if *serverProfile != "" {
		profile = make(chan error, 1)
		go func() { profile <- s.cpuProfile(*serverProfile, lookupProfileSeconds) }()
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(1, uint64(c)))
			n := b.N / clients
			if c < b.N%clients {
				n++
			}
			lat := make([]time.Duration, 0, n)
			for range n {
				start := time.Now()
				rows, err := s.lookup(key(rng.IntN(keys)))
				lat = append(lat, time.Since(start))
				if err != nil || rows != 1 {
					errs <- fmt.Errorf("lookup: %d rows, %v", rows, err)
					return
				}
			}
			lats[c] = lat
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	cli := processCPU(b) - cli0
	srv1, err := devproc.CPUTime(s.proc.PID())
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if profile != nil {
		if err := <-profile; err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	for _, l := range lats {
		lat = append(lat, l...)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(b.N)/(srv1-srv0).Seconds(), "lookups/cpu-s")
	b.ReportMetric(float64(cli.Microseconds())/float64(b.N), "client-cpu-µs")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// lookupProfileSeconds is how long -pull.server-cpuprofile samples; give
// -benchtime enough lookups to last that long.
const lookupProfileSeconds = 5

// cpuProfile saves the server's CPU profile of the next seconds to file.
func (s *server) cpuProfile(file string, seconds int) error {
	resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.http, seconds))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile: %d %s", resp.StatusCode, data)
	}
	return os.WriteFile(file, data, 0o644)
}

package cdc

// Benchmarks of the mysql-cdc source: row changes per second decoded from
// the binlog into Connect records, against mariadb-binlog
// --read-from-remote-server (decode-rows, verbose) and go-mysql's raw event
// parse on the same binlog range in the same run; and latency from commit
// to Poll at 5,000 changes/s.
//
//	go test -run '^$' -bench MySQL -benchtime 1x ./bench/cdc/
//
// Needs the local MariaDB with a row-based binlog (.ci/services.sh) and
// mariadb-binlog on PATH.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/connect/mysql"
)

type mysqlFixture struct {
	conn *client.Conn
	db   string
}

func mysqlSetup(b *testing.B) *mysqlFixture {
	c, err := client.Connect("127.0.0.1:3306", "root", "", "")
	if err != nil {
		b.Skipf("MariaDB not reachable: %v", err)
	}
	f := &mysqlFixture{conn: c, db: fmt.Sprintf("bench_%08x", rand.Uint32())}
	for _, q := range []string{"CREATE DATABASE " + f.db, "USE " + f.db,
		"CREATE TABLE orders (id BIGINT PRIMARY KEY, customer INT, amount DECIMAL(12,2), note VARCHAR(64), created DATETIME(3))"} {
		if _, err := c.Execute(q); err != nil {
			b.Fatal(q, err)
		}
	}
	b.Cleanup(func() { c.Execute("DROP DATABASE " + f.db); c.Close() })
	return f
}

type binlogPos struct {
	file  string
	pos   uint32
	gtids string
}

func (f *mysqlFixture) position(b *testing.B) binlogPos {
	r, err := f.conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		b.Fatal(err)
	}
	var p binlogPos
	p.file, _ = r.GetString(0, 0)
	n, _ := r.GetUint(0, 1)
	p.pos = uint32(n)
	g, err := f.conn.Execute("SELECT @@gtid_binlog_pos")
	if err != nil {
		b.Fatal(err)
	}
	p.gtids, _ = g.GetString(0, 0)
	return p
}

// insert writes rows [from, from+n) in transactions of batch rows.
func (f *mysqlFixture) insert(b *testing.B, from, n, batch int) {
	for i := from; i < from+n; i += batch {
		var vals []string
		for j := i; j < min(i+batch, from+n); j++ {
			vals = append(vals, fmt.Sprintf("(%d,%d,%d.%02d,'note %d',NOW(3))", j, j%1000, j, j%100, j))
		}
		if _, err := f.conn.Execute("INSERT INTO orders VALUES " + strings.Join(vals, ",")); err != nil {
			b.Fatal(err)
		}
	}
}

func (f *mysqlFixture) config() connect.Config {
	return connect.Config{"database.hostname": "127.0.0.1", "database.user": "root", "topic.prefix": "bench",
		"database.server.id": fmt.Sprint(20000 + rand.IntN(10000)), "database.include.list": f.db, "snapshot.mode": "no_data"}
}

const mysqlRows = 100_000

// BenchmarkMySQLDecode reports rows/s of mysql-cdc (binlog to Connect
// records), of go-mysql's raw parse and of mariadb-binlog on one range.
func BenchmarkMySQLDecode(b *testing.B) {
	f := mysqlSetup(b)
	start := f.position(b)
	f.insert(b, 0, mysqlRows, 500)
	end := f.position(b)
	for range b.N {
		// mysql-cdc: start from the stored position, poll every row.
		offsets := connectortest.NewOffsets()
		offsets.Put(map[string]any{"server": "bench"}, map[string]any{"file": start.file, "pos": start.pos})
		tc := connectortest.NewTaskContext(b, "bench", 0, offsets)
		task := mysql.Connector{}.NewTask()
		t0 := time.Now()
		cpu0 := selfCPU()
		if err := task.Start(context.Background(), f.config(), tc); err != nil {
			b.Fatal(err)
		}
		n := 0
		var first time.Duration
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		for n < mysqlRows {
			recs, err := task.Poll(ctx)
			if err != nil || ctx.Err() != nil {
				b.Fatalf("poll after %d: %v %v", n, err, ctx.Err())
			}
			for _, r := range recs {
				if r.Topic == "bench."+f.db+".orders" {
					if n == 0 {
						first = time.Since(t0)
					}
					n++
				}
			}
		}
		cancel()
		cdc := time.Since(t0)
		cdcCPU := selfCPU() - cpu0
		task.Stop()

		// go-mysql raw parse: the same events, no conversion.
		syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{ServerID: uint32(30000 + rand.IntN(10000)), Flavor: gomysql.MariaDBFlavor,
			Host: "127.0.0.1", Port: 3306, User: "root", ParseTime: true})
		t0 = time.Now()
		cpu0 = selfCPU()
		bs, err := syncer.StartSync(gomysql.Position{Name: start.file, Pos: start.pos})
		if err != nil {
			b.Fatal(err)
		}
		raw := 0
		for raw < mysqlRows {
			ev, err := bs.GetEvent(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if re, ok := ev.Event.(*replication.RowsEvent); ok && string(re.Table.Schema) == f.db {
				raw += len(re.Rows)
			}
		}
		rawDur := time.Since(t0)
		rawCPU := selfCPU() - cpu0
		syncer.Close()

		// mariadb-binlog decoding the rows to text.
		var tool, toolCPU time.Duration
		if _, err := exec.LookPath("mariadb-binlog"); err == nil && start.file == end.file {
			cmd := exec.Command("mariadb-binlog", "--read-from-remote-server", "--host=127.0.0.1", "--user=root",
				"--base64-output=decode-rows", "--verbose", fmt.Sprintf("--start-position=%d", start.pos), fmt.Sprintf("--stop-position=%d", end.pos), start.file)
			t0 = time.Now()
			if out, err := cmd.Output(); err != nil {
				b.Fatalf("mariadb-binlog: %v", err)
			} else if got := strings.Count(string(out), "### INSERT INTO `"+f.db+"`.`orders`"); got != mysqlRows {
				// Other databases' traffic in the range is decoded too, as
				// mysql-cdc reads and filters it.
				b.Fatalf("mariadb-binlog decoded %d rows of the table, want %d", got, mysqlRows)
			}
			tool = time.Since(t0)
			toolCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		b.ReportMetric(float64(mysqlRows)/cdc.Seconds(), "cdc_rows/s")
		b.ReportMetric(float64(first.Milliseconds()), "cdc_first_ms")
		b.ReportMetric(float64(mysqlRows)/rawDur.Seconds(), "gomysql_raw_rows/s")
		// Per CPU-second: less sensitive to a shared, loaded machine.
		b.ReportMetric(float64(mysqlRows)/cdcCPU.Seconds(), "cdc_rows/cpu-s")
		b.ReportMetric(float64(mysqlRows)/rawCPU.Seconds(), "gomysql_raw_rows/cpu-s")
		if tool > 0 {
			b.ReportMetric(float64(mysqlRows)/tool.Seconds(), "mariadb-binlog_rows/s")
			b.ReportMetric(float64(mysqlRows)/toolCPU.Seconds(), "mariadb-binlog_rows/cpu-s")
		}
	}
}

// BenchmarkMySQLLatency writes 5,000 rows/s (50 rows every 10 ms) for 3 s and
// reports the time from each INSERT's return to the Poll that returned its
// change event.
func BenchmarkMySQLLatency(b *testing.B) {
	f := mysqlSetup(b)
	for range b.N {
		offsets := connectortest.NewOffsets()
		tc := connectortest.NewTaskContext(b, "bench", 0, offsets)
		task := mysql.Connector{}.NewTask()
		if err := task.Start(context.Background(), f.config(), tc); err != nil {
			b.Fatal(err)
		}
		const perTick, ticks = 50, 300
		committed := make([]time.Time, perTick*ticks)
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for k := range ticks {
				<-tick.C
				var vals []string
				for j := k * perTick; j < (k+1)*perTick; j++ {
					vals = append(vals, fmt.Sprintf("(%d,1,1.00,'x',NOW(3))", j))
				}
				if _, err := f.conn.Execute("INSERT INTO orders VALUES " + strings.Join(vals, ",")); err != nil {
					panic(err)
				}
				now := time.Now()
				for j := k * perTick; j < (k+1)*perTick; j++ {
					committed[j] = now
				}
			}
		}()
		lat := make([]time.Duration, 0, perTick*ticks)
		received := make([]time.Time, perTick*ticks)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		for len(lat) < perTick*ticks {
			recs, err := task.Poll(ctx)
			if err != nil || ctx.Err() != nil {
				b.Fatalf("poll: %v %v", err, ctx.Err())
			}
			now := time.Now()
			for _, r := range recs {
				if r.Value == nil || r.Topic != "bench."+f.db+".orders" {
					continue
				}
				id := r.Key.(*connect.StructValue).Values[0].(int64)
				received[id] = now
				lat = append(lat, 0)
			}
		}
		cancel()
		<-done
		task.Stop()
		lat = lat[:0]
		for i := range committed {
			// A poll can beat the writer's clock read after INSERT returns.
			lat = append(lat, max(0, received[i].Sub(committed[i])))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	}
}

// selfCPU is the user+system CPU time of this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package sql

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
)

// query plans the statements and returns the last statement's query.
func query(tb testing.TB, sql string) exec.Query {
	tb.Helper()
	stmts, err := parser.ParseStatements(sql)
	if err != nil {
		tb.Fatal(err)
	}
	cat := plan.NewCatalog()
	var q exec.Query
	for _, s := range stmts {
		res, err := plan.Execute(context.Background(), cat, s, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if res.Query != nil {
			q = res.Query.Exec
		}
	}
	return q
}

// cpuTime is the CPU time the process has used (user + system). Records
// per CPU second is throughput per core, and unlike wall time it holds on a
// machine shared with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs body b.N times and reports records per CPU second and per
// wall second. Run with -cpu 1 so that one core does the work.
func measure(b *testing.B, body func(i int) int) {
	out := 0
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		out += body(i)
	}
	cpu := cpuTime() - start
	b.StopTimer()
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(out)/float64(b.N), "out/in")
}

// run pushes recs through q, b.N records in total.
func run(b *testing.B, q exec.Query, recs []exec.Record) {
	ctx := context.Background()
	measure(b, func(i int) int {
		res, err := q.Process(ctx, recs[i%len(recs)])
		if err != nil {
			b.Fatal(err)
		}
		return len(res)
	})
}

// ---- filter + projection over 1 KiB JSON records ----

const orderDDL = `CREATE STREAM ORDERS (ID BIGINT KEY, CUSTOMER STRING, EMAIL STRING, CITY STRING, COUNTRY STRING,
  ITEMS INT, AMOUNT DOUBLE, TAX DOUBLE, PAID BOOLEAN, STATUS STRING, CHANNEL STRING, CURRENCY STRING,
  WAREHOUSE INT, WEIGHT DOUBLE, PRIORITY INT, CREATED BIGINT, UPDATED BIGINT, VERSION INT, NOTE STRING)
  WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');`

const orderQuery = `CREATE STREAM BIG AS SELECT ID, CUSTOMER, CITY, AMOUNT * 1.2 AS GROSS, STATUS FROM ORDERS WHERE AMOUNT > 500 AND PAID;`

type order struct {
	Customer  string  `json:"CUSTOMER"`
	Email     string  `json:"EMAIL"`
	City      string  `json:"CITY"`
	Country   string  `json:"COUNTRY"`
	Items     int32   `json:"ITEMS"`
	Amount    float64 `json:"AMOUNT"`
	Tax       float64 `json:"TAX"`
	Paid      bool    `json:"PAID"`
	Status    string  `json:"STATUS"`
	Channel   string  `json:"CHANNEL"`
	Currency  string  `json:"CURRENCY"`
	Warehouse int32   `json:"WAREHOUSE"`
	Weight    float64 `json:"WEIGHT"`
	Priority  int32   `json:"PRIORITY"`
	Created   int64   `json:"CREATED"`
	Updated   int64   `json:"UPDATED"`
	Version   int32   `json:"VERSION"`
	Note      string  `json:"NOTE"`
}

// orders returns n 1 KiB JSON order records (the NOTE pads them), half of
// them matching the filter.
func orders(n int) []exec.Record {
	recs := make([]exec.Record, n)
	for i := range recs {
		o := order{Customer: "Customer " + strconv.Itoa(i), Email: fmt.Sprintf("c%d@example.com", i),
			City: "London", Country: "GB", Items: int32(i % 7), Amount: float64(i%1000) + 0.5, Tax: 21.5,
			Paid: true, Status: "SHIPPED", Channel: "web", Currency: "GBP", Warehouse: 7, Weight: 2.5,
			Priority: 1, Created: 1795680000000 + int64(i), Updated: 1795680100000, Version: 4}
		v, _ := json.Marshal(o)
		o.Note = strings.Repeat("n", 1024-len(v)-len(`"NOTE":""`)+len(`"NOTE":""`)-10)
		v, _ = json.Marshal(o)
		key := make([]byte, 8)
		for j := range 8 {
			key[7-j] = byte(i >> (8 * j))
		}
		recs[i] = exec.Record{Topic: "orders", Key: key, Value: v, Timestamp: int64(i)}
	}
	return recs
}

// BenchmarkFilterProject1KiB compares the SQL path with a hand-written loop
// doing the same work: decode the JSON value into a struct, filter, compute
// the projection and encode it with encoding/json.
func BenchmarkFilterProject1KiB(b *testing.B) {
	recs := orders(4096)
	b.Run("sluice", func(b *testing.B) {
		run(b, query(b, orderDDL+orderQuery), recs)
	})
	b.Run("handwritten", func(b *testing.B) {
		type out struct {
			Customer string  `json:"CUSTOMER"`
			City     string  `json:"CITY"`
			Gross    float64 `json:"GROSS"`
			Status   string  `json:"STATUS"`
		}
		var sink []exec.Record
		measure(b, func(i int) int {
			r := recs[i%len(recs)]
			var o order
			if err := json.Unmarshal(r.Value, &o); err != nil {
				b.Fatal(err)
			}
			if !(o.Amount > 500 && o.Paid) {
				return 0
			}
			v, err := json.Marshal(out{Customer: o.Customer, City: o.City, Gross: o.Amount * 1.2, Status: o.Status})
			if err != nil {
				b.Fatal(err)
			}
			sink = append(sink[:0], exec.Record{Topic: "BIG", Key: r.Key, Value: v, Timestamp: r.Timestamp})
			return 1
		})
	})
}

// ---- Nexmark q0-q2 ----

const bidDDL = `CREATE STREAM BID (AUCTION BIGINT, BIDDER BIGINT, PRICE BIGINT, CHANNEL STRING, URL STRING,
  DATETIME TIMESTAMP, EXTRA STRING) WITH (KAFKA_TOPIC='bid', KEY_FORMAT='NONE', VALUE_FORMAT='JSON');`

var nexmarkQueries = []struct{ name, sql string }{
	{"q0", `CREATE STREAM Q0 AS SELECT AUCTION, BIDDER, PRICE, DATETIME, EXTRA FROM BID;`},
	{"q1", `CREATE STREAM Q1 AS SELECT AUCTION, BIDDER, 0.908 * PRICE AS PRICE, DATETIME, EXTRA FROM BID;`},
	{"q2", `CREATE STREAM Q2 AS SELECT AUCTION, PRICE FROM BID WHERE AUCTION % 123 = 0;`},
}

func bids(n int) []exec.Record {
	g := NewBids(42)
	recs := make([]exec.Record, n)
	for i := range recs {
		recs[i] = exec.Record{Topic: "bid", Value: g.Next(), Timestamp: int64(i)}
	}
	return recs
}

// BenchmarkNexmark runs Nexmark q0 (passthrough), q1 (currency conversion)
// and q2 (selection) over generated bids, JSON in and out.
func BenchmarkNexmark(b *testing.B) {
	recs := bids(8192)
	for _, nq := range nexmarkQueries {
		b.Run(nq.name, func(b *testing.B) {
			run(b, query(b, bidDDL+nq.sql), recs)
		})
	}
}

// TestQueriesProduce checks the benchmark queries do what they claim, so a
// broken plan cannot pass for a fast one.
func TestQueriesProduce(t *testing.T) {
	ctx := context.Background()
	recs := bids(20000)
	for _, nq := range nexmarkQueries {
		q := query(t, bidDDL+nq.sql)
		n := 0
		for _, r := range recs {
			out, err := q.Process(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			n += len(out)
		}
		switch nq.name {
		case "q0", "q1":
			if n != len(recs) {
				t.Fatalf("%s: %d outputs for %d bids", nq.name, n, len(recs))
			}
		case "q2":
			if n == 0 || n >= len(recs)/2 {
				t.Fatalf("q2: %d outputs for %d bids, want a small selection", n, len(recs))
			}
		}
	}
	q := query(t, orderDDL+orderQuery)
	n := 0
	for _, r := range orders(1000) {
		out, _ := q.Process(ctx, r)
		n += len(out)
	}
	if n == 0 || n == 1000 {
		t.Fatalf("filter selected %d of 1000 orders", n)
	}
	if l := len(orders(1)[0].Value); l < 1000 || l > 1050 {
		t.Fatalf("order record is %d bytes, want about 1 KiB", l)
	}
	var sum int
	for _, r := range recs {
		sum += len(r.Value)
	}
	// The generator sizes `extra` as Nexmark does, against its 100-byte
	// estimate of a bid; the JSON field names come on top.
	if avg := sum / len(recs); avg < 140 || avg > 220 {
		t.Fatalf("bids average %d bytes of JSON, want about 175", avg)
	}
}

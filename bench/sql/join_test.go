package sql

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/state"
)

// Join benchmarks: orders enriched with a customer table (stream-table),
// orders matched with their payments within a minute (stream-stream), and
// customers joined with their accounts (table-table), next to the
// stateless filter over the same orders as the baseline of the run. State is
// in memory (state.Options Local, pebble without changelog) and committed
// every 1000 records, as a poll batch would be.

const joinDDL = `
CREATE STREAM ORDERS (ID BIGINT KEY, CUST BIGINT, AMOUNT DOUBLE, ITEM STRING) WITH (KAFKA_TOPIC='orders', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
CREATE STREAM PAYMENTS (ID BIGINT KEY, PAID DOUBLE, METHOD STRING) WITH (KAFKA_TOPIC='payments', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
CREATE TABLE CUSTOMERS (ID BIGINT PRIMARY KEY, NAME STRING, CITY STRING, TIER INT) WITH (KAFKA_TOPIC='customers', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
CREATE TABLE ACCOUNTS (ID BIGINT PRIMARY KEY, BALANCE DOUBLE) WITH (KAFKA_TOPIC='accounts', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
`

const customers = 10_000

func orderRec(i int64) exec.Record {
	cust := (i * 7919) % customers
	return exec.Record{Topic: "orders", Key: bigintKey(i), Timestamp: i * 10,
		Value: fmt.Appendf(nil, `{"CUST":%d,"AMOUNT":%d.%02d,"ITEM":"item-%d"}`, cust, 1+i%500, i%100, i%977)}
}

func paymentRec(i int64) exec.Record {
	return exec.Record{Topic: "payments", Key: bigintKey(i), Timestamp: i*10 + 5,
		Value: fmt.Appendf(nil, `{"PAID":%d.%02d,"METHOD":"card"}`, 1+i%500, i%100)}
}

// customerRec is reference data from time 0 on, older than every order, so
// that the temporal stream-table join finds it.
func customerRec(i int64) exec.Record {
	return exec.Record{Topic: "customers", Key: bigintKey(i % customers), Timestamp: 0,
		Value: fmt.Appendf(nil, `{"NAME":"customer-%d","CITY":"city-%d","TIER":%d}`, i, i%97, i%3)}
}

func accountRec(i int64) exec.Record {
	return exec.Record{Topic: "accounts", Key: bigintKey(i % customers), Timestamp: i,
		Value: fmt.Appendf(nil, `{"BALANCE":%d.5}`, i%10000)}
}

// statefulQuery plans sql and gives it in-memory stores.
func statefulQuery(tb testing.TB, sql string) (*joinQuery, *state.Stores) {
	tb.Helper()
	stmts, err := parser.ParseStatements(sql)
	if err != nil {
		tb.Fatal(err)
	}
	cat := plan.NewCatalog()
	var q *plan.Query
	props := map[string]string{}
	for _, s := range stmts {
		res, err := plan.Execute(context.Background(), cat, s, props)
		if err != nil {
			tb.Fatal(err)
		}
		if res.Kind == plan.Property {
			props[res.Name] = res.Value
		}
		if res.Query != nil {
			q = res.Query
		}
	}
	st, err := state.NewStores(state.Options{Local: true, QueryID: "CSAS_OUT_0", Partitions: math.MaxInt32})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if sq, ok := q.Exec.(exec.StatefulQuery); ok && sq.Stateful() {
		sq.UseState(st)
	}
	jq := &joinQuery{q: q.Exec, internal: map[string]bool{}}
	for _, t := range q.RepartitionTopics {
		jq.internal[t.Name] = true
	}
	return jq, st
}

// joinQuery runs a query as the engine does on one partition: records it
// writes to its own repartition topics are read back at once (a re-keyed
// join side), only the others are results.
type joinQuery struct {
	q        exec.Query
	internal map[string]bool
	queue    []exec.Record
}

// Process returns the results of one input record.
func (jq *joinQuery) Process(ctx context.Context, r exec.Record) ([]exec.Record, error) {
	var out []exec.Record
	jq.queue = append(jq.queue[:0], r)
	for i := 0; i < len(jq.queue); i++ {
		recs, err := jq.q.Process(ctx, jq.queue[i])
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			if jq.internal[rec.Topic] {
				jq.queue = append(jq.queue, rec)
			} else {
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

type joinBench struct {
	name string
	sql  string
	// setup records are processed before the timer starts.
	setup func(i int64) exec.Record
	nset  int64
	// rec is the i-th measured record.
	rec func(i int64) exec.Record
}

var joinBenches = []joinBench{
	{name: "baseline-stateless-filter", sql: `CREATE STREAM OUT AS SELECT ID, CUST, AMOUNT FROM ORDERS WHERE AMOUNT > 0;`,
		rec: orderRec},
	{name: "stream-table", sql: `CREATE STREAM OUT AS SELECT O.CUST, O.ID AS OID, AMOUNT, NAME, CITY FROM ORDERS O JOIN CUSTOMERS C ON O.CUST = C.ID;`,
		setup: customerRec, nset: customers, rec: orderRec},
	{name: "stream-table-latest", sql: `SET 'sluice.join.stream.table.temporal' = 'false';
CREATE STREAM OUT AS SELECT O.CUST, O.ID AS OID, AMOUNT, NAME, CITY FROM ORDERS O JOIN CUSTOMERS C ON O.CUST = C.ID;`,
		setup: customerRec, nset: customers, rec: orderRec},
	{name: "stream-stream", sql: `CREATE STREAM OUT AS SELECT O.ID, AMOUNT, PAID FROM ORDERS O JOIN PAYMENTS P WITHIN 1 MINUTE ON O.ID = P.ID;`,
		rec: func(i int64) exec.Record {
			if i%2 == 0 {
				return orderRec(i / 2)
			}
			return paymentRec(i / 2)
		}},
	{name: "stream-stream-left-grace", sql: `CREATE STREAM OUT AS SELECT O.ID, AMOUNT, PAID FROM ORDERS O LEFT JOIN PAYMENTS P WITHIN 1 MINUTE GRACE PERIOD 10 SECONDS ON O.ID = P.ID;`,
		rec: func(i int64) exec.Record {
			switch {
			case i%2 == 0:
				return orderRec(i / 2)
			case (i/2)%5 == 0: // every fifth order stays unpaid; another order comes instead
				r := orderRec(1_000_000 + i/2)
				r.Timestamp = i/2*10 + 5
				return r
			}
			return paymentRec(i / 2)
		}},
	{name: "table-table", sql: `CREATE TABLE OUT AS SELECT C.ID, NAME, BALANCE FROM CUSTOMERS C JOIN ACCOUNTS A ON C.ID = A.ID;`,
		setup: customerRec, nset: customers, rec: accountRec},
}

// BenchmarkJoin runs each join over b.N input records.
func BenchmarkJoin(b *testing.B) {
	for _, jb := range joinBenches {
		b.Run(jb.name, func(b *testing.B) {
			q, st := statefulQuery(b, joinDDL+jb.sql)
			ctx := context.Background()
			for i := range jb.nset {
				if _, err := q.Process(ctx, jb.setup(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := st.Commit(); err != nil {
				b.Fatal(err)
			}
			measure(b, func(i int) int {
				out, err := q.Process(ctx, jb.rec(int64(i)))
				if err != nil {
					b.Fatal(err)
				}
				if i%1000 == 999 {
					if err := st.Commit(); err != nil {
						b.Fatal(err)
					}
				}
				return len(out)
			})
		})
	}
}

// TestJoinBenchesProduce checks each benchmark query joins what it should.
func TestJoinBenchesProduce(t *testing.T) {
	ctx := context.Background()
	want := map[string]int{"baseline-stateless-filter": 2000, "stream-table": 2000, "stream-table-latest": 2000, "stream-stream": 1000,
		"stream-stream-left-grace": 800, "table-table": 2000}
	for _, jb := range joinBenches {
		q, _ := statefulQuery(t, joinDDL+jb.sql)
		for i := range jb.nset {
			if _, err := q.Process(ctx, jb.setup(i)); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for i := range int64(2000) {
			out, err := q.Process(ctx, jb.rec(i))
			if err != nil {
				t.Fatal(err)
			}
			n += len(out)
		}
		if n < want[jb.name]*9/10 || n > want[jb.name] {
			t.Errorf("%s: %d results from 2000 records, want about %d", jb.name, n, want[jb.name])
		}
	}
}

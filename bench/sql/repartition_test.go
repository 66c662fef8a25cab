package sql

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/state"
)

// The cost of a repartition split in the query itself: the same GROUP BY
// (16 groups, COUNT and SUM) keyed by the source key (no split) and by a
// value column (split: each row encoded to the repartition topic's record,
// decoded and aggregated when read back). The broker hop is not included:
// records written to the repartition topic are processed at once, as the
// test runner does.

const clicksDDL = `CREATE STREAM CLICKS (USER_ID INT KEY, PAGE STRING, REGION STRING, MS BIGINT)
  WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=4);`

func clicks(n int) []exec.Record {
	recs := make([]exec.Record, n)
	for i := range recs {
		recs[i] = exec.Record{Topic: "clicks", Partition: int32(i % 4), Offset: int64(i / 4), Timestamp: int64(i),
			Key:   binary.BigEndian.AppendUint32(nil, uint32(i%16)),
			Value: []byte(fmt.Sprintf(`{"PAGE":"/p/%d","REGION":"region-%d","MS":%d}`, i%97, i%16, i%500))}
	}
	return recs
}

// statefulQuery plans the statements and gives the last query in-memory
// stores.
func statefulQuery(tb testing.TB, sql string) (*plan.Query, *state.Stores) {
	tb.Helper()
	stmts, err := parser.ParseStatements(sql)
	if err != nil {
		tb.Fatal(err)
	}
	cat := plan.NewCatalog()
	var q *plan.Query
	for _, s := range stmts {
		res, err := plan.Execute(context.Background(), cat, s, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if res.Query != nil {
			q = res.Query
		}
	}
	st, err := state.NewStores(state.Options{Local: true, QueryID: q.ID, Partitions: math.MaxInt32})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	q.Exec.(exec.StatefulQuery).UseState(st)
	return q, st
}

// processLoop runs one record and what it writes to the query's own
// repartition topics; it returns the outputs.
func processLoop(ctx context.Context, q *plan.Query, internal map[string]bool, r exec.Record) ([]exec.Record, error) {
	var out []exec.Record
	queue := []exec.Record{r}
	for len(queue) > 0 {
		recs, err := q.Exec.Process(ctx, queue[0])
		if err != nil {
			return nil, err
		}
		queue = queue[1:]
		for _, rec := range recs {
			if internal[rec.Topic] {
				queue = append(queue, rec)
			} else {
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

func BenchmarkGroupByRepartition(b *testing.B) {
	for _, c := range []struct{ name, sql string }{
		{"by-key", `CREATE TABLE T AS SELECT USER_ID, COUNT(*) AS N, SUM(MS) AS TOTAL FROM CLICKS GROUP BY USER_ID;`},
		{"repartitioned", `CREATE TABLE T AS SELECT REGION, COUNT(*) AS N, SUM(MS) AS TOTAL FROM CLICKS GROUP BY REGION;`},
	} {
		b.Run(c.name, func(b *testing.B) {
			q, st := statefulQuery(b, clicksDDL+c.sql)
			internal := map[string]bool{}
			for _, rt := range q.RepartitionTopics {
				internal[rt.Name] = true
			}
			if (len(internal) > 0) != (c.name == "repartitioned") {
				b.Fatalf("%s: repartition topics %v", c.name, q.RepartitionTopics)
			}
			recs := clicks(4096)
			ctx := context.Background()
			measure(b, func(i int) int {
				out, err := processLoop(ctx, q, internal, recs[i%len(recs)])
				if err != nil {
					b.Fatal(err)
				}
				if i%100 == 99 {
					if err := st.Commit(); err != nil {
						b.Fatal(err)
					}
				}
				return len(out)
			})
		})
	}
}

package sql

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/exec"
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

// processAll processes r, then the records the query wrote to its own
// repartition topics (the only "-repartition" topics a query writes; it
// reads them back), in order, as the engine's consumer would deliver them;
// it returns the other outputs.
func processAll(ctx context.Context, q exec.Query, r exec.Record) ([]exec.Record, error) {
	var out []exec.Record
	queue := []exec.Record{r}
	for len(queue) > 0 {
		recs, err := q.Process(ctx, queue[0])
		if err != nil {
			return nil, err
		}
		queue = queue[1:]
		for _, rec := range recs {
			if strings.HasSuffix(rec.Topic, "-repartition") {
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
			if split := len(q.q.SourceTopics()) > 1; split != (c.name == "repartitioned") {
				b.Fatalf("%s: source topics %v", c.name, q.q.SourceTopics())
			}
			recs := clicks(4096)
			ctx := context.Background()
			measure(b, func(i int) int {
				out, err := q.Process(ctx, recs[i%len(recs)])
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

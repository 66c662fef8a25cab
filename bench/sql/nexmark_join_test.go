package sql

import (
	"context"
	"testing"

	"github.com/sluicedata/sluice/sql/exec"
)

// Nexmark q3 (local item suggestion) in ksqlDB's form: persons are a table,
// auctions a keyless stream re-keyed on SELLER by the join.
const q3DDL = `
CREATE TABLE PERSON (ID BIGINT PRIMARY KEY, NAME STRING, EMAILADDRESS STRING, CREDITCARD STRING, CITY STRING,
  STATE STRING, DATETIME TIMESTAMP, EXTRA STRING) WITH (KAFKA_TOPIC='person', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
CREATE STREAM AUCTION (ID BIGINT, ITEMNAME STRING, DESCRIPTION STRING, INITIALBID BIGINT, RESERVE BIGINT,
  DATETIME TIMESTAMP, EXPIRES TIMESTAMP, SELLER BIGINT, CATEGORY BIGINT, EXTRA STRING)
  WITH (KAFKA_TOPIC='auction', KEY_FORMAT='NONE', VALUE_FORMAT='JSON');
CREATE STREAM Q3 AS SELECT A.SELLER, P.NAME, P.CITY, P.STATE, A.ID FROM AUCTION A JOIN PERSON P ON A.SELLER = P.ID
  WHERE A.CATEGORY = 10 AND P.STATE IN ('OR', 'ID', 'CA');`

func peopleAuctions(n int) []exec.Record {
	g := NewPeopleAuctions(42)
	recs := make([]exec.Record, n)
	for i := range recs {
		topic, key, value, ts := g.Next()
		recs[i] = exec.Record{Topic: topic, Key: key, Value: value, Timestamp: ts}
	}
	return recs
}

// BenchmarkNexmarkJoin runs q3 over persons and auctions (1:3) in event
// order; records/cpu-s counts persons and auctions.
func BenchmarkNexmarkJoin(b *testing.B) {
	b.Run("q3", func(b *testing.B) {
		recs := peopleAuctions(b.N)
		q, st := statefulQuery(b, q3DDL)
		ctx := context.Background()
		measure(b, func(i int) int {
			out, err := q.Process(ctx, recs[i])
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

// TestQ3Produces checks q3 selects about what Nexmark's rules predict:
// category 10 (1 in 5) and a state among three of six (1 in 2), for the
// auctions whose seller exists (most: hot sellers and recent persons).
func TestQ3Produces(t *testing.T) {
	ctx := context.Background()
	q, _ := statefulQuery(t, q3DDL)
	auctions, out := 0, 0
	for _, r := range peopleAuctions(40000) {
		if r.Topic == "auction" {
			auctions++
		}
		res, err := q.Process(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		out += len(res)
	}
	if out < auctions/20 || out > auctions/7 {
		t.Fatalf("q3: %d results for %d auctions, want about a tenth", out, auctions)
	}
}

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

// Nexmark q8 (new users) joins persons with the auctions they open in the
// same 10-second tumbling window. ksqlDB has no windowed join of windowed
// tables, so this is its stream-stream form: a person and an auction of the
// person within 10 s of each other (a sliding rather than tumbling window;
// the output is the pairs, not distinct ones).
const q8DDL = `
CREATE STREAM PERSON_S (ID BIGINT KEY, NAME STRING, EMAILADDRESS STRING, CREDITCARD STRING, CITY STRING,
  STATE STRING, DATETIME TIMESTAMP, EXTRA STRING) WITH (KAFKA_TOPIC='person', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
CREATE STREAM AUCTION (ID BIGINT, ITEMNAME STRING, DESCRIPTION STRING, INITIALBID BIGINT, RESERVE BIGINT,
  DATETIME TIMESTAMP, EXPIRES TIMESTAMP, SELLER BIGINT, CATEGORY BIGINT, EXTRA STRING)
  WITH (KAFKA_TOPIC='auction', KEY_FORMAT='NONE', VALUE_FORMAT='JSON');
CREATE STREAM Q8 AS SELECT P.ID, P.NAME, A.ID AS AUCTION_ID FROM PERSON_S P JOIN AUCTION A WITHIN 10 SECONDS GRACE PERIOD 1 SECOND
  ON P.ID = A.SELLER;`

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
	for _, nq := range []struct{ name, ddl string }{{"q3", q3DDL}, {"q8-stream-stream", q8DDL}} {
		b.Run(nq.name, func(b *testing.B) { nexmarkJoin(b, nq.ddl) })
	}
}

func nexmarkJoin(b *testing.B, ddl string) {
	{
		recs := peopleAuctions(b.N)
		q, st := statefulQuery(b, ddl)
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
	}
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

// TestQ8Produces checks the q8 form: at Nexmark's 10,000 events/s a seller
// is always one of the last thousand persons (5 s), so each auction joins
// its seller's person event exactly once.
func TestQ8Produces(t *testing.T) {
	ctx := context.Background()
	q, _ := statefulQuery(t, q8DDL)
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
	if out < auctions*9/10 || out > auctions {
		t.Fatalf("q8: %d results for %d auctions", out, auctions)
	}
	t.Logf("q8: %d results for %d auctions", out, auctions)
}

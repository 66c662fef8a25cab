package sql

import (
	"context"
	"testing"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/state"
)

// Aggregations over Nexmark bids, with state in pebble stores (in memory or
// on disk, no changelog: the store and operator cost without the broker).
// Stores are committed every commitEvery records, as the engine commits
// once per poll batch. GROUP BYs on other columns than the key write to
// their repartition topic; feeder reads those records back in-process.

const commitEvery = 500

var aggQueries = []struct{ name, sql string }{
	// q0 again, as this run's stateless baseline.
	{"q0-baseline", `CREATE STREAM Q0 AS SELECT AUCTION, BIDDER, PRICE, DATETIME, EXTRA FROM BID;`},
	{"count-per-auction", `CREATE TABLE C AS SELECT AUCTION, COUNT(*) AS N, MAX(PRICE) AS TOP FROM BID GROUP BY AUCTION;`},
	// Nexmark q5's windowing (hot items): bids per auction in 10 s windows sliding by 2 s.
	{"q5-hopping", `CREATE TABLE Q5 AS SELECT AUCTION, COUNT(*) AS NUM FROM BID
		WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS) GROUP BY AUCTION;`},
	// Nexmark q7's windowing (highest bid per 10 s window), per auction.
	{"q7-tumbling-max", `CREATE TABLE Q7 AS SELECT AUCTION, MAX(PRICE) AS PRICE FROM BID
		WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY AUCTION;`},
	{"session-per-bidder", `CREATE TABLE SB AS SELECT BIDDER, COUNT(*) AS N FROM BID
		WINDOW SESSION (10 SECONDS) GROUP BY BIDDER;`},
}

// statefulRun is run for queries that keep state.
func statefulRun(b *testing.B, q exec.Query, recs []exec.Record, dir string) {
	ctx := context.Background()
	sq, ok := q.(exec.StatefulQuery)
	var stores *state.Stores
	if ok && sq.Stateful() {
		var err error
		stores, err = state.NewStores(state.Options{Local: true, Dir: dir, QueryID: q.ID(), Partitions: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer stores.Close()
		sq.UseState(stores)
	}
	feed := feeder(q)
	measure(b, func(i int) int {
		r := recs[i%len(recs)]
		// Time keeps going forward across passes over the records, so
		// windows keep closing and expiring as in a live stream.
		r.Timestamp += int64(i/len(recs)) * int64(len(recs))
		res, err := feed(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		if stores != nil && i%commitEvery == commitEvery-1 {
			if err := stores.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		return len(res)
	})
}

// feeder processes a record and, at once, the records the query writes to
// its own repartition topic (a re-keying GROUP BY), as the test runner
// does; it returns the query's other outputs. The repartition round trip
// (encode, decode) is part of the measured cost; the broker's is not.
func feeder(q exec.Query) func(context.Context, exec.Record) ([]exec.Record, error) {
	own := map[string]bool{}
	for _, t := range q.SourceTopics() {
		own[t] = true
	}
	var out, queue []exec.Record
	return func(ctx context.Context, r exec.Record) ([]exec.Record, error) {
		out, queue = out[:0], append(queue[:0], r)
		for len(queue) > 0 {
			recs, err := q.Process(ctx, queue[0])
			if err != nil {
				return nil, err
			}
			queue = queue[1:]
			for _, rec := range recs {
				if own[rec.Topic] {
					queue = append(queue, rec)
				} else {
					out = append(out, rec)
				}
			}
		}
		return out, nil
	}
}

// BenchmarkAggregate runs the aggregations over generated bids, one record
// a millisecond, with stores in memory and on disk.
func BenchmarkAggregate(b *testing.B) {
	recs := bids(8192)
	for _, where := range []string{"memory", "disk"} {
		for _, aq := range aggQueries {
			b.Run(where+"/"+aq.name, func(b *testing.B) {
				dir := ""
				if where == "disk" {
					dir = b.TempDir()
				}
				statefulRun(b, query(b, bidDDL+aq.sql), recs, dir)
			})
		}
	}
}

// TestAggregationsProduce checks the aggregation benchmarks aggregate: one
// output per input update, and counts that grow.
func TestAggregationsProduce(t *testing.T) {
	ctx := context.Background()
	recs := bids(5000)
	for _, aq := range aggQueries[1:] {
		q := query(t, bidDDL+aq.sql)
		stores, err := state.NewStores(state.Options{Local: true, QueryID: q.ID(), Partitions: 1})
		if err != nil {
			t.Fatal(err)
		}
		q.(exec.StatefulQuery).UseState(stores)
		n := 0
		feed := feeder(q)
		for _, r := range recs {
			out, err := feed(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			n += len(out)
		}
		stores.Close()
		switch aq.name {
		case "q5-hopping":
			// A bid at t ms is in min(t/2000+1, 5) windows (none start
			// before 0).
			want := 0
			for _, r := range recs {
				want += int(min(r.Timestamp/2000+1, 5))
			}
			if n != want {
				t.Fatalf("%s: %d outputs for %d bids, want %d", aq.name, n, len(recs), want)
			}
		case "session-per-bidder":
			if n < len(recs) {
				t.Fatalf("%s: %d outputs for %d bids, want at least one a bid", aq.name, n, len(recs))
			}
		default:
			if n != len(recs) {
				t.Fatalf("%s: %d outputs for %d bids", aq.name, n, len(recs))
			}
		}
	}
}

package nexmark

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/parser"
)

func TestQueriesParse(t *testing.T) {
	if _, err := parser.ParseScript(DDL, nil); err != nil {
		t.Fatalf("DDL: %v", err)
	}
	for _, q := range Queries {
		stmts, err := parser.ParseScript(q.SQL, nil)
		if err != nil {
			t.Errorf("%s: %v", q.Name, err)
			continue
		}
		if !strings.Contains(q.SQL, "CREATE STREAM "+q.Sink+" ") && !strings.Contains(q.SQL, "CREATE TABLE "+q.Sink+" ") {
			t.Errorf("%s: no statement creates its sink %s", q.Name, q.Sink)
		}
		if len(stmts) == 0 || len(q.Inputs) == 0 {
			t.Errorf("%s: %d statements, inputs %v", q.Name, len(stmts), q.Inputs)
		}
	}
}

// The baselines run today: every bid comes out, once.
func TestBaselinesRunInProcess(t *testing.T) {
	ev, err := Generate(DefaultConfig(), 20_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range Queries {
		if !q.Baseline {
			continue
		}
		r := RunInProcess(context.Background(), q, ev, t.TempDir())
		if r.Err != nil {
			t.Fatalf("%s: %v", q.Name, r.Err)
		}
		if r.Events != ev.Count[KindBid] || r.Outputs != r.Events {
			t.Fatalf("%s: %d events in, %d out; want %d bids in and out", q.Name, r.Events, r.Outputs, ev.Count[KindBid])
		}
	}
}

// The stateful queries, once the planner takes them, produce results of
// the size their semantics give on 6,000 events at 200 events/s (30 s of
// event time, so windows close; few events, as EMIT FINAL's buffer on main
// rescans what it emitted on every record): some but not all auctions for q3, at
// least one hot auction per closed hop for q5, at least one highest bid per
// closed window for q7, some new sellers for q8. Until then the planner's
// refusal is reported as a skip naming the missing operator.
func TestStatefulQueriesInProcess(t *testing.T) {
	cfg := DefaultConfig()
	cfg.EventRate = 200
	ev, err := Generate(cfg, 6_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range Queries {
		if q.Baseline {
			continue
		}
		t.Run(q.Name, func(t *testing.T) {
			r := RunInProcess(context.Background(), q, ev, t.TempDir())
			if r.Err != nil {
				if strings.Contains(r.Err.Error(), "not supported by this engine yet") {
					t.Skipf("cannot run yet: %v", r.Err)
				}
				t.Fatal(r.Err)
			}
			if r.Events != ev.Inputs(q.Inputs) {
				t.Fatalf("consumed %d events, want %d", r.Events, ev.Inputs(q.Inputs))
			}
			switch q.Name {
			case "q3":
				// Category 10 is 1 in 5 auctions, three of six states.
				if a := ev.Count[KindAuction]; r.Outputs == 0 || r.Outputs > a/5 {
					t.Fatalf("%d results for %d auctions", r.Outputs, a)
				}
			case "q5", "q7":
				// 30 s of events close windows.
				if r.Outputs == 0 {
					t.Fatal("no results")
				}
			case "q8":
				if r.Outputs == 0 || r.Outputs > ev.Count[KindPerson] {
					t.Fatalf("%d new sellers for %d people", r.Outputs, ev.Count[KindPerson])
				}
			}
		})
	}
}

package nexmark

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/engine"
	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/testkit"
)

// startInProcess serves the SQL engine's REST API over an embedded broker
// in this process: the server side of `sluice bench nexmark` without a
// subprocess.
func startInProcess(t *testing.T) *sluice {
	t.Helper()
	br := testkit.StartBroker(t)
	ctx := context.Background()
	e, err := engine.Start(ctx, engine.Config{Brokers: []string{br.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = rest.New(e, nil).Serve(sctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		e.Close()
	})
	return &sluice{pid: os.Getpid(), addr: br.Addr(), ksql: ln.Addr().String()}
}

// The server path end to end: events loaded into the three topics, q0 run
// as a persistent query until its group caught up, every bid counted once
// in and once out; a stateful query the engine refuses comes back as an
// error naming the statement; restore reads back the last value.
func TestServerRun(t *testing.T) {
	s := startInProcess(t)
	ctx := context.Background()
	ev, err := Generate(DefaultConfig(), 5000)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := load(ctx, cl, ev); err != nil {
		t.Fatal(err)
	}
	ends, err := endOffsets(ctx, adm, []string{PersonTopic, AuctionTopic, BidTopic})
	if err != nil {
		t.Fatal(err)
	}
	if ends[PersonTopic] != ev.Count[KindPerson] || ends[AuctionTopic] != ev.Count[KindAuction] || ends[BidTopic] != ev.Count[KindBid] {
		t.Fatalf("topic ends %v, want %v", ends, ev.Count)
	}
	if _, err := s.execute(ctx, DDL); err != nil {
		t.Fatal(err)
	}
	q0, _ := QueryByName("q0")
	r := runServer(ctx, s, adm, q0, ev, 2*time.Minute)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Events != ev.Count[KindBid] || r.Outputs != r.Events || r.Wall <= 0 || r.CPU <= 0 {
		t.Fatalf("q0: %+v, want %d bids in and out", r, ev.Count[KindBid])
	}
	// q0 was terminated and dropped: running it again starts afresh.
	r = runServer(ctx, s, adm, q0, ev, 2*time.Minute)
	if r.Err != nil || r.Events != ev.Count[KindBid] || r.Outputs != r.Events {
		t.Fatalf("q0 again: %+v", r)
	}

	q3, _ := QueryByName("q3")
	if _, err := Plan(ctx, q3); err != nil {
		r = runServer(ctx, s, adm, q3, ev, time.Minute)
		if r.Err == nil {
			t.Fatalf("q3 does not plan here (%v) but ran in the server", err)
		}
	}

	rr := measureRestore(ctx, s, 2<<20, t.TempDir())
	if rr.Err != nil {
		t.Fatal(rr.Err)
	}
	if rr.Bytes < 2<<20 || rr.Wall <= 0 || rr.SecondsPerGB() <= 0 {
		t.Fatalf("restore: %+v", rr)
	}
}

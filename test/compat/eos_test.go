package compat

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// startEOSApp runs internal/eosapp and counts the transactions it reports.
func startEOSApp(t *testing.T, b *broker, in, out string, txns *atomic.Int64) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(eosAppBin, "-brokers", b.addr, "-in", in, "-out", out)
	dieWithParent(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "txn ") {
				txns.Add(1)
			}
		}
	}()
	return cmd
}

// TestExactlyOnceAppKilled runs a consume-transform-produce process (franz-go
// GroupTransactSession), kills it with SIGKILL at random moments while it
// works and starts it again, and checks that the output topic, read
// read_committed, holds every input record exactly once.
func TestExactlyOnceAppKilled(t *testing.T) {
	b := startBroker(t)
	in, out := topicName(t, "in"), topicName(t, "out")
	adm := b.admin(t)
	createTopic(t, adm, in, 4, nil)
	createTopic(t, adm, out, 2, nil)
	const n = 3000
	prod := b.client(t, kgo.DefaultProduceTopic(in), kgo.ProducerLinger(0))
	ctx := testCtx(t, 3*time.Minute)
	for i := 0; i < n; i++ {
		prod.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	var txns atomic.Int64
	for kill := 0; kill < 3; kill++ {
		app := startEOSApp(t, b, in, out, &txns)
		target := txns.Load() + 3 + int64(rand.IntN(5))
		deadline := time.Now().Add(60 * time.Second)
		for txns.Load() < target && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if txns.Load() < target {
			t.Fatalf("the app committed only %d transactions", txns.Load())
		}
		time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond) // land inside a transaction
		app.Process.Kill()
		app.Wait()
	}
	// A last run drains the input.
	app := startEOSApp(t, b, in, out, &txns)
	defer func() { app.Process.Kill(); app.Wait() }()

	c := b.client(t, kgo.ConsumeTopics(out), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := map[string]int{}
	for total := 0; total < n; {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("only %d of %d outputs after 3 minutes (%d transactions)", total, n, txns.Load())
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++; total++ })
	}
	// Anything more would be a duplicate: give it a moment to show up.
	c.PollFetches(testCtx(t, 2*time.Second)).EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
	for i := 0; i < n; i++ {
		if k := seen[fmt.Sprintf("out-%d", i)]; k != 1 {
			t.Errorf("input %d is in the output %d times", i, k)
		}
	}
	t.Logf("%d transactions committed across 4 runs of the app, 3 of them killed", txns.Load())
}

package compat

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ackProducer runs internal/ackproducer against a broker and collects what it
// reports on stdout.
type ackProducer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  interface{ Close() error }
	stderr bytes.Buffer
	exited chan struct{}

	mu      sync.Mutex
	acked   []int // in the order reported
	failed  map[int]string
	done    string // the final "done ..." line
	badLine string
	waitErr error
}

func startAckProducer(t *testing.T, b *broker, topic string) *ackProducer {
	t.Helper()
	ap := &ackProducer{t: t, failed: map[int]string{}, exited: make(chan struct{})}
	ap.cmd = exec.Command(ackProducerBin, "-brokers", b.addr, "-topic", topic)
	dieWithParent(ap.cmd)
	stdin, err := ap.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	ap.stdin = stdin
	stdout, err := ap.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ap.cmd.Stderr = &ap.stderr
	if err := ap.cmd.Start(); err != nil {
		t.Fatalf("starting ackproducer: %v", err)
	}
	t.Cleanup(func() {
		select {
		case <-ap.exited:
		default:
			_ = ap.cmd.Process.Kill()
			<-ap.exited
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			ap.line(sc.Text())
		}
		err := ap.cmd.Wait()
		ap.mu.Lock()
		ap.waitErr = err
		ap.mu.Unlock()
		close(ap.exited)
	}()
	return ap
}

func (ap *ackProducer) line(s string) {
	ap.mu.Lock()
	defer ap.mu.Unlock()
	switch {
	case strings.HasPrefix(s, "ack "):
		n, err := strconv.Atoi(s[4:])
		if err != nil {
			ap.badLine = s
			return
		}
		ap.acked = append(ap.acked, n)
	case strings.HasPrefix(s, "fail "):
		num, msg, _ := strings.Cut(s[5:], ": ")
		n, err := strconv.Atoi(num)
		if err != nil {
			ap.badLine = s
			return
		}
		ap.failed[n] = msg
	case strings.HasPrefix(s, "done "):
		ap.done = s
	default:
		ap.badLine = s
	}
}

func (ap *ackProducer) ackCount() int {
	ap.mu.Lock()
	defer ap.mu.Unlock()
	return len(ap.acked)
}

// waitAcks waits until at least n records have been acknowledged.
func (ap *ackProducer) waitAcks(n int, timeout time.Duration) {
	ap.t.Helper()
	deadline := time.Now().Add(timeout)
	for ap.ackCount() < n {
		select {
		case <-ap.exited:
			ap.t.Fatalf("ackproducer exited after %d acks, waiting for %d: %v\nstderr:\n%s", ap.ackCount(), n, ap.waitErr, tail(ap.stderr.String(), 20))
		default:
		}
		if time.Now().After(deadline) {
			ap.mu.Lock()
			nfail := len(ap.failed)
			ap.mu.Unlock()
			ap.t.Fatalf("only %d of %d records acknowledged after %v (%d failed)", ap.ackCount(), n, timeout, nfail)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// finish closes the producer's stdin and waits for it to flush and exit.
func (ap *ackProducer) finish(timeout time.Duration) {
	ap.t.Helper()
	_ = ap.stdin.Close()
	select {
	case <-ap.exited:
	case <-time.After(timeout):
		ap.t.Fatalf("ackproducer did not finish within %v of stdin closing", timeout)
	}
	if ap.waitErr != nil {
		ap.t.Fatalf("ackproducer: %v\nstderr:\n%s", ap.waitErr, tail(ap.stderr.String(), 20))
	}
	if ap.badLine != "" {
		ap.t.Fatalf("ackproducer printed unexpected line %q", ap.badLine)
	}
}

// TestKillDashNine kills the broker with SIGKILL at random moments while an
// idempotent acks=all producer is writing, restarts it on the same data
// directory and port, and checks that every acknowledged record is in the log
// exactly once and in order.
func TestKillDashNine(t *testing.T) {
	b := startBroker(t)
	topic := topicName(t, "t")
	createTopic(t, b.admin(t), topic, 1, nil)

	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))

	ap := startAckProducer(t, b, topic)
	const kills = 8
	for k := range kills {
		ap.waitAcks(ap.ackCount()+500+rng.IntN(5000), time.Minute)
		// A random moment between acknowledgements, not a synchronisation.
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		before := ap.ackCount()
		b.kill()
		t.Logf("kill %d: after %d acks", k+1, before)
		b.start()
	}
	// The producer goes on after the last restart.
	ap.waitAcks(ap.ackCount()+1000, time.Minute)
	ap.finish(3 * time.Minute)
	t.Logf("ackproducer: %s", ap.done)

	// Acknowledgements come in produce order, each once.
	for i := 1; i < len(ap.acked); i++ {
		if ap.acked[i] <= ap.acked[i-1] {
			t.Fatalf("ackproducer acknowledged %d after %d", ap.acked[i], ap.acked[i-1])
		}
	}
	if len(ap.failed) > 0 {
		var some []string
		for n, msg := range ap.failed {
			if len(some) < 5 {
				some = append(some, fmt.Sprintf("%d: %s", n, msg))
			}
		}
		t.Logf("%d records failed for good (allowed, not in the check), e.g. %s", len(ap.failed), strings.Join(some, "; "))
	}

	b.restart() // a clean stop and start on top: nothing changes
	ends := endOffsets(t, b.admin(t), topic)
	got := consumeAll(t, b, topic, ends)[0]
	present := make(map[int]bool, len(got))
	last := -1
	for _, r := range got {
		n, err := strconv.Atoi(string(r.Value))
		if err != nil {
			t.Fatalf("offset %d: value %q is not a record number", r.Offset, r.Value)
		}
		if n <= last {
			t.Fatalf("offset %d: record %d after record %d (duplicate or reordered)", r.Offset, n, last)
		}
		last = n
		present[n] = true
	}
	lost := 0
	for _, n := range ap.acked {
		if !present[n] {
			if lost++; lost <= 10 {
				t.Errorf("acknowledged record %d is not in the log", n)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged records lost", lost, len(ap.acked))
	}
	t.Logf("%d records in the log, %d acknowledged, %d kills", len(got), len(ap.acked), kills)
}

package broker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A transactional phase's note splits its Produce requests' time from the
// client's side, counting only Produce requests that were answered.
func TestProduceWireMeans(t *testing.T) {
	var w produceWire
	meta := kgo.BrokerMetadata{}
	w.OnBrokerE2E(meta, 0, kgo.BrokerE2E{WriteWait: 200 * time.Microsecond, TimeToWrite: 400 * time.Microsecond, ReadWait: 100 * time.Microsecond, TimeToRead: 1500 * time.Microsecond})
	w.OnBrokerE2E(meta, 0, kgo.BrokerE2E{WriteWait: 400 * time.Microsecond, TimeToWrite: 600 * time.Microsecond, ReadWait: 100 * time.Microsecond, TimeToRead: 1700 * time.Microsecond})
	w.OnBrokerE2E(meta, 26, kgo.BrokerE2E{WriteWait: time.Second}) // EndTxn: not a Produce
	w.OnBrokerE2E(meta, 0, kgo.BrokerE2E{WriteWait: time.Second, ReadErr: errors.New("connection reset")})

	got := txnPhases{Produce: 500 * time.Microsecond, Flush: 2500 * time.Microsecond, End: 3 * time.Millisecond, Wire: w.means(2)}
	want := "per transaction: produce calls 500 µs, flush 2.50 ms, end 3.00 ms; per Produce request (1.0 per transaction): built and queued 300 µs, written 500 µs, answered 1.70 ms"
	if got.String() != want {
		t.Errorf("note:\n got %q\nwant %q", got.String(), want)
	}

	w.reset()
	if m := w.means(2); m != (wireMeans{}) {
		t.Errorf("after reset: %+v, want no requests", m)
	}
	if s := (txnPhases{Produce: time.Millisecond}).String(); s != "per transaction: produce calls 1.00 ms, flush 0 µs, end 0 µs" {
		t.Errorf("without requests: %q", s)
	}
}

// The broker's part of a transactional row: each mean is taken over the
// requests (or syncs) made between the two scrapes only.
func TestBrokerWaitsNote(t *testing.T) {
	before := brokerUsage{ok: true, cpu: time.Second, syncs: 10, waits: map[string]histSum{
		"Produce": {sum: 1, count: 100},
		"EndTxn":  {sum: 2, count: 100},
		"sync":    {sum: 5, count: 10},
	}}
	after := brokerUsage{ok: true, cpu: 3 * time.Second, syncs: 30, waits: map[string]histSum{
		"Produce":     {sum: 1.05, count: 200},
		"EndTxn":      {sum: 2.3, count: 200},
		"commit data": {sum: 0.2, count: 100},
		"sync":        {sum: 5.04, count: 30},
	}}
	got := before.note(after, 1_000_000, 10)
	for _, want := range []string{
		"broker CPU 2.00 µs/record",
		"2.0 syncs/transaction",
		"Produce 500 µs",
		"EndTxn 3.00 ms",
		"its data sync 2.00 ms",
		"each sync 2.00 ms",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("note %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "decision sync") {
		t.Errorf("note %q names a wait that had no samples in the span", got)
	}
}

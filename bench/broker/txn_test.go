package broker

import (
	"errors"
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

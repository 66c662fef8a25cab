// Command ackproducer produces numbered records to one partition with franz-go's
// idempotent producer (acks=all, up to 5 requests in flight) and prints every
// acknowledged number to stdout as it is acknowledged. The compat tests run it
// while they kill and restart the broker, then check that every acknowledged
// record is in the log exactly once and in order.
//
// Output, one line each:
//
//	ack N          record N was acknowledged (acks=all)
//	fail N: ERR    record N failed for good (it may or may not be in the log)
//	done produced=P acked=A failed=F
//
// It stops producing when stdin closes (or after -max records), flushes what it
// has buffered, prints the done line and exits 0; it exits 1 if the flush does
// not finish within -flush-timeout.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "seed broker host:port")
	topic := flag.String("topic", "", "topic to produce to (partition 0)")
	maxRecords := flag.Int("max", 2_000_000, "stop after this many records")
	flushTimeout := flag.Duration("flush-timeout", 2*time.Minute, "how long to wait for outstanding records after stdin closes")
	flag.Parse()
	if *topic == "" {
		fmt.Fprintln(os.Stderr, "ackproducer: -topic is required")
		os.Exit(2)
	}

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(*brokers),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytes(4096), // many small batches, so several requests are in flight
		kgo.MaxBufferedRecords(5000),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ackproducer:", err)
		os.Exit(1)
	}

	var (
		outMu            sync.Mutex
		out              = bufio.NewWriter(os.Stdout)
		acked, failed    int
		stop             atomic.Bool
		ctx, cancelProds = context.WithCancel(context.Background())
	)
	defer cancelProds()
	printf := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, format, args...)
		out.Flush()
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop.Store(true)
	}()

	produced := 0
	for ; produced < *maxRecords && !stop.Load(); produced++ {
		n := produced
		r := &kgo.Record{Topic: *topic, Partition: 0, Value: []byte(strconv.Itoa(n))}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				printf("fail %d: %v\n", n, err)
				outMu.Lock()
				failed++
				outMu.Unlock()
				return
			}
			printf("ack %d\n", n)
			outMu.Lock()
			acked++
			outMu.Unlock()
		})
	}

	fctx, cancel := context.WithTimeout(context.Background(), *flushTimeout)
	defer cancel()
	flushErr := cl.Flush(fctx)
	outMu.Lock()
	a, f := acked, failed
	outMu.Unlock()
	printf("done produced=%d acked=%d failed=%d\n", produced, a, f)
	if flushErr != nil {
		fmt.Fprintf(os.Stderr, "ackproducer: flush: %v\n", flushErr)
		os.Exit(1)
	}
	cl.Close()
}

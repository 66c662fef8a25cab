package topictool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ParseLine splits one input line into key and value. With an empty
// separator the whole line is the value and the key is nil (no key, so the
// partitioner spreads records). Otherwise the line is cut at the first
// separator; a line without it is an error, because silently sending it
// without a key would change which partition it lands on.
func ParseLine(line []byte, sep string) (key, value []byte, err error) {
	if sep == "" {
		return nil, line, nil
	}
	k, v, ok := bytes.Cut(line, []byte(sep))
	if !ok {
		return nil, nil, fmt.Errorf("key separator %q not found (with a key separator every line is KEY%sVALUE)", sep, sep)
	}
	return k, v, nil
}

// ReadLines calls fn with each line of r, without its "\n" or "\r\n", and its
// 1-based line number. A last line with no newline counts; empty lines are
// passed on too (one record per line, as kafka-console-producer does). Lines
// have no length limit. fn must not keep line after it returns.
func ReadLines(r io.Reader, fn func(n int, line []byte) error) error {
	br := bufio.NewReader(r)
	var long []byte // holds a line longer than the reader's buffer
	n := 1
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
		}
		if len(line) > 0 {
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if ferr := fn(n, line); ferr != nil {
				return ferr
			}
			n++
		}
		long = nil
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read input line %d: %w", n, err)
		}
	}
}

// ProduceOptions say how input lines become records.
type ProduceOptions struct {
	// KeySeparator, when not empty, splits each line into key and value at
	// its first occurrence.
	KeySeparator string
	// Partition sends every record to this partition; -1 lets the client's
	// default partitioner choose (by key hash, or sticky for no key).
	Partition int32
}

// ProducerOpts are the client options Produce needs: acks from all in-sync
// replicas, and a manual partitioner when o.Partition is set.
func ProducerOpts(o ProduceOptions) []kgo.Opt {
	opts := []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}
	if o.Partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	return opts
}

// Produce reads lines from r and sends one record per line to topic, waiting
// for every record to be acknowledged. cl must have been built with
// ProducerOpts(o). It returns how many records were acknowledged; on error
// that count tells what got through before it. A line without the key
// separator stops the input there.
//
// When ctx ends (Ctrl-C while typing lines), Produce stops reading, still
// waits up to FlushTimeout for the records already sent, and returns no
// error: interrupting is a normal way to end interactive input.
func Produce(ctx context.Context, cl *kgo.Client, topic string, r io.Reader, o ProduceOptions) (int, error) {
	td, err := requireTopic(ctx, NewAdmin(cl), topic)
	if err != nil {
		return 0, err
	}
	if n := int32(len(td.Partitions)); o.Partition >= n {
		return 0, fmt.Errorf("topic %q has %d partition(s), numbered 0 to %d: --partition %d does not exist", topic, n, n-1, o.Partition)
	}
	// Records keep a context that ctx's end does not cancel, so that what
	// was read before Ctrl-C is still delivered.
	pctx := context.WithoutCancel(ctx)
	var (
		mu       sync.Mutex // guards the fields below and orders Produce calls against stopping
		stopped  bool
		acked    int
		firstErr error
	)
	done := func(_ *kgo.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			acked++
		} else if firstErr == nil {
			firstErr = err
		}
	}
	send := func(n int, line []byte) error {
		key, value, err := ParseLine(line, o.KeySeparator)
		if err != nil {
			return fmt.Errorf("input line %d: %w", n, err)
		}
		// The reader reuses line's memory, so the record gets copies.
		rec := &kgo.Record{Topic: topic, Partition: o.Partition, Value: bytes.Clone(value)}
		if key != nil {
			rec.Key = bytes.Clone(key)
		}
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return context.Canceled
		}
		cl.Produce(pctx, rec, done)
		return nil
	}
	// A read from a terminal cannot be interrupted, so lines are read in a
	// goroutine that is left blocked if ctx ends first.
	readDone := make(chan error, 1)
	go func() { readDone <- ReadLines(r, send) }()
	var readErr error
	select {
	case readErr = <-readDone:
	case <-ctx.Done():
		mu.Lock()
		stopped = true
		mu.Unlock()
	}

	fctx, cancel := context.WithTimeout(pctx, FlushTimeout)
	defer cancel()
	flushErr := cl.Flush(fctx)

	mu.Lock()
	defer mu.Unlock()
	switch {
	case firstErr != nil:
		return acked, fmt.Errorf("produce: %w", topicErr(topic, firstErr))
	case readErr != nil:
		return acked, readErr
	case flushErr != nil:
		return acked, fmt.Errorf("produce to topic %q: waiting for acks: %w", topic, flushErr)
	}
	return acked, nil
}

// FlushTimeout bounds the wait for acknowledgements once input has ended.
const FlushTimeout = 30 * time.Second

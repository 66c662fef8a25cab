package topictool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ConsumeOptions say where consumption starts, when it stops and how
// records print.
type ConsumeOptions struct {
	// FromBeginning starts at each partition's log start; otherwise only
	// records produced after the consumer starts are read. With a Group, a
	// committed offset wins over both (as in kafka-console-consumer).
	FromBeginning bool
	// Group, when set, joins this consumer group: partitions are shared with
	// other members and printed records' offsets are committed.
	Group string
	// Count stops after this many records; 0 means no limit.
	Count int
	// Idle stops when no record arrives for this long; 0 waits forever.
	Idle time.Duration
	// Format renders each record; nil means DefaultFormat. Each record is
	// followed by a newline.
	Format *Format
}

// ConsumerOpts are the client options Consume needs for topic.
func ConsumerOpts(topic string, o ConsumeOptions) []kgo.Opt {
	start := kgo.NewOffset().AtEnd()
	if o.FromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start)}
	if o.Group != "" {
		// Commit only what was printed: with plain autocommit, records
		// fetched but cut off by Count would be committed and skipped by
		// the next run.
		opts = append(opts, kgo.ConsumerGroup(o.Group), kgo.AutoCommitMarks())
	}
	return opts
}

// Consume prints records of topic to w until ctx is done, Count records have
// been printed, or nothing arrived for Idle. cl must have been built with
// ConsumerOpts(topic, o). It returns how many records it printed. Ending by
// ctx, Count or Idle is not an error.
func Consume(ctx context.Context, cl *kgo.Client, topic string, w io.Writer, o ConsumeOptions) (n int, err error) {
	if _, err := requireTopic(ctx, NewAdmin(cl), topic); err != nil {
		return 0, err
	}
	f := o.Format
	if f == nil {
		f, _ = ParseFormat(DefaultFormat)
	}
	if o.Group != "" {
		defer func() {
			// Commit even when ctx was cancelled (Ctrl-C), within a bound.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
				err = fmt.Errorf("group %q: commit offsets: %w", o.Group, cerr)
			}
		}()
	}

	bw := bufio.NewWriter(w)
	var buf []byte
	for o.Count == 0 || n < o.Count {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if o.Idle > 0 {
			pctx, cancel = context.WithTimeout(ctx, o.Idle)
		}
		fetches := cl.PollFetches(pctx)
		cancel()
		if pctx.Err() != nil && fetches.NumRecords() == 0 {
			return n, nil // idle timeout or ctx done
		}
		if err := fetchErr(fetches); err != nil {
			return n, fmt.Errorf("consume: %w", topicErr(topic, err))
		}
		for it := fetches.RecordIter(); !it.Done() && (o.Count == 0 || n < o.Count); {
			r := it.Next()
			buf = append(f.Append(buf[:0], r), '\n')
			if _, err := bw.Write(buf); err != nil {
				return n, fmt.Errorf("write output: %w", err)
			}
			if o.Group != "" {
				cl.MarkCommitRecords(r)
			}
			n++
		}
		// Flush per poll so that output in a pipe shows up as it arrives.
		if err := bw.Flush(); err != nil {
			return n, fmt.Errorf("write output: %w", err)
		}
	}
	return n, nil
}

// fetchErr returns the first fetch error that is not the poll context ending.
func fetchErr(fs kgo.Fetches) error {
	var first error
	fs.EachError(func(_ string, _ int32, err error) {
		if first == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			first = err
		}
	})
	return first
}

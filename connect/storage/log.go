// Package storage keeps the connector runtime's state in Kafka Connect's three
// internal compacted topics (configs, offsets, status), with Kafka Connect's
// exact key and value formats, so a node rebuilds its view by reading them.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicLog tails every partition of one topic from its start and hands each
// record to apply, in order per partition. It tracks how far it has read so a
// caller can wait until it has seen everything written before a point in time
// (readToEnd) or a write of its own (waitFor).
//
// Control records are kept (and not applied) so that the read position moves
// past transaction markers: with read_committed, a partition whose last entry
// is a commit marker would otherwise never look read to its end.
type topicLog struct {
	cl        *kgo.Client
	adm       *kadm.Client
	topic     string
	committed bool
	apply     func(*kgo.Record)
	logger    *slog.Logger

	mu      sync.Mutex
	next    map[int32]int64 // offset after the last entry read, per partition
	changed chan struct{}   // closed and replaced whenever next moves

	cancel context.CancelFunc
	done   chan struct{}
}

// TopicSpec is how an internal topic is created when missing.
type TopicSpec struct {
	Name       string
	Partitions int32
}

func ensureTopic(ctx context.Context, adm *kadm.Client, t TopicSpec) error {
	resp, err := adm.CreateTopics(ctx, t.Partitions, -1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, t.Name)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", t.Name, err)
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t.Name, r.Err)
		}
	}
	return nil
}

func openLog(ctx context.Context, brokers []string, t TopicSpec, readCommitted bool, logger *slog.Logger, apply func(*kgo.Record)) (*topicLog, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(t.Name),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.KeepControlRecords(),
		kgo.ProducerLinger(0),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.MetadataMinAge(250 * time.Millisecond),
	}
	if readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", t.Name, err)
	}
	adm := kadm.NewClient(cl)
	if err := ensureTopic(ctx, adm, t); err != nil {
		cl.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	l := &topicLog{cl: cl, adm: adm, topic: t.Name, committed: readCommitted, apply: apply, logger: logger,
		next: map[int32]int64{}, changed: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go l.readLoop(rctx)
	if err := l.readToEnd(ctx); err != nil {
		l.close()
		return nil, fmt.Errorf("read %s to its end: %w", t.Name, err)
	}
	return l, nil
}

func (l *topicLog) close() {
	l.cancel()
	<-l.done
	l.cl.Close()
}

func (l *topicLog) readLoop(ctx context.Context) {
	defer close(l.done)
	for {
		fetches := l.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fetches.EachError(func(t string, p int32, err error) {
			l.logger.Warn("connect: reading internal topic", "topic", t, "partition", p, "err", err)
		})
		moved := false
		fetches.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				l.apply(r)
			}
			l.mu.Lock()
			if r.Offset+1 > l.next[r.Partition] {
				l.next[r.Partition] = r.Offset + 1
				moved = true
			}
			l.mu.Unlock()
		})
		if moved {
			l.mu.Lock()
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		}
	}
}

// readToEnd waits until every record written to the topic before the call
// has been applied (for read_committed: every committed record).
func (l *topicLog) readToEnd(ctx context.Context) error {
	var ends kadm.ListedOffsets
	for attempt := 0; ; attempt++ {
		var err error
		if l.committed {
			ends, err = l.adm.ListCommittedOffsets(ctx, l.topic)
		} else {
			ends, err = l.adm.ListEndOffsets(ctx, l.topic)
		}
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			break
		}
		// A topic just created may not be in every metadata view yet.
		if !kerr.IsRetriable(err) || attempt >= 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
	for p, off := range want {
		if off > 0 {
			if err := l.waitFor(ctx, p, off-1); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitFor waits until the entry at offset of partition has been read.
func (l *topicLog) waitFor(ctx context.Context, partition int32, offset int64) error {
	for {
		l.mu.Lock()
		ok, ch := l.next[partition] > offset, l.changed
		l.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// write produces one record (value nil: a tombstone) and returns where it
// landed once the broker acknowledged it.
func (l *topicLog) write(ctx context.Context, key, value []byte) (*kgo.Record, error) {
	r, err := l.cl.ProduceSync(ctx, &kgo.Record{Topic: l.topic, Key: key, Value: value}).First()
	if err != nil {
		return nil, fmt.Errorf("write to %s: %w", l.topic, err)
	}
	return r, nil
}

// writeAndWait writes and waits until the record has been read back.
func (l *topicLog) writeAndWait(ctx context.Context, key, value []byte) error {
	r, err := l.write(ctx, key, value)
	if err != nil {
		return err
	}
	return l.waitFor(ctx, r.Partition, r.Offset)
}

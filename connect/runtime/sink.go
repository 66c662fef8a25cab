package runtime

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
)

// sinkRun holds what a sink task needs while running.
type sinkRun struct {
	w     *Worker
	t     *taskRun
	cc    *connectorConfig
	task  connect.SinkTask
	conv  *converters
	chain chain
	cl    *kgo.Client
	label []string

	// uncommitted is set once records were put but not yet flushed and
	// committed; lastCommit is when that last happened, and commitDue
	// when the records put since are to be committed at the latest.
	uncommitted bool
	lastCommit  time.Time
	commitDue   time.Time

	// lastHeaders are the headers of the last record converted without a
	// header.converter (see sameHeader).
	lastHeaders []connect.Header

	// valuesOnly is set when the task reads only values
	// (connect.ValueSinkTask) and no transform runs: records are handed
	// over without key and headers, which are only checked, and built in
	// recs, reused from poll to poll (the task keeps no record).
	valuesOnly bool
	recs       []connect.Record

	// Lists of a poll, reused by the next (see process).
	polled []*kgo.Record
	orig   []*kgo.Record
	batch  []*connect.Record
	topics map[string]bool
}

// maxPollRecords bounds a Put batch (consumer max.poll.records).
const maxPollRecords = 500

// sinkCommitInterval is how long a sink that is behind (its polls come
// back full, with more records waiting) may go without a flush and offset
// commit. Flushing every poll made the file sink fsync every 500 records;
// Kafka Connect's own default (offset.flush.interval.ms) is 60s. A
// stopping sink commits before it stops.
const sinkCommitInterval = time.Second

// sinkCommitSpacing is how soon after its last commit a sink that has
// caught up (its poll reached the high watermark) commits again: at once
// when the last commit is older, else when no record came by then. A sink
// that keeps up with a busy producer catches up on almost every poll; it
// committed after each (a file sink: an fsync, and an fsynced offset
// commit in the broker, 5 ms a time on a busy 2-CPU machine), which left
// it committing more than half of the time. Records that come in between
// are put and committed with those before them.
const sinkCommitSpacing = 100 * time.Millisecond

// runSink runs one sink task: it consumes in group connect-<name>, hands
// batches to Put, flushes and only then commits the consumed offsets.
func (w *Worker) runSink(ctx context.Context, t *taskRun) error {
	cc := t.cr.cc
	s := &sinkRun{w: w, t: t, cc: cc, label: []string{t.cr.name, strconv.Itoa(t.id)}}
	var err error
	if s.conv, err = buildConverters(w.opts.WorkerConfig, cc.raw); err != nil {
		return err
	}
	if s.chain, err = buildChain(cc.raw); err != nil {
		return err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(w.opts.Brokers...),
		kgo.ConsumerGroup("connect-" + t.cr.name),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // auto.offset.reset=earliest, as Connect sets it
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.ClientID(fmt.Sprintf("connector-consumer-%s-%d", t.cr.name, t.id)),
		kgo.AllowAutoTopicCreation(),
		kgo.MetadataMinAge(metadataRetry),
	}
	if cc.topicsRegex != "" {
		if _, err := regexp.Compile(cc.topicsRegex); err != nil {
			return fmt.Errorf("topics.regex: %w", err)
		}
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(anchored(cc.topicsRegex)), kgo.MetadataMaxAge(5*time.Second))
	} else {
		opts = append(opts, kgo.ConsumeTopics(cc.topics...))
	}
	if s.cl, err = kgo.NewClient(opts...); err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer s.cl.Close()
	// Close leaves the group, which waits for any rebalance a poll blocked.
	defer s.cl.AllowRebalance()
	if cc.dlqTopic != "" {
		if err := w.ensureDLQ(ctx, cc); err != nil {
			return err
		}
	}
	s.task = t.cr.plugin.NewSink().NewTask()
	if _, ok := s.task.(connect.ValueSinkTask); ok && len(s.chain) == 0 {
		s.valuesOnly = true
	}
	tc := &taskContext{w: w, name: t.cr.name, id: t.id, log: t.logger}
	if err := safe(func() error { return s.task.Start(ctx, t.cfg, tc) }); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer func() {
		if err := safe(s.task.Stop); err != nil {
			t.logger.Warn("connect: stopping sink task", "err", err)
		}
	}()
	t.running(ctx)
	for {
		if err := t.gate.wait(ctx); err != nil {
			return nil
		}
		// With records put but not committed, a poll waits no longer than
		// the commit is due.
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if s.uncommitted {
			pctx, cancel = context.WithDeadline(ctx, s.commitDue)
		}
		// Everything franz-go holds: it fetches the next records only once
		// the last fetch is taken whole, so taking it in polls of
		// maxPollRecords left the task without records for a fetch's
		// round trip and decoding after every fetch. process hands them
		// to Put in batches of maxPollRecords.
		fetches := s.cl.PollFetches(pctx)
		due := pctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return s.commit(ctx)
		}
		if due && fetches.NumRecords() == 0 {
			s.cl.AllowRebalance()
			if err := s.commit(ctx); err != nil {
				return err
			}
			continue
		}
		err := s.process(ctx, fetches)
		s.cl.AllowRebalance()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

func (w *Worker) ensureDLQ(ctx context.Context, cc *connectorConfig) error {
	rf := cc.dlqRF
	if meta, err := w.admin.BrokerMetadata(ctx); err == nil && len(meta.Brokers) < rf {
		rf = len(meta.Brokers)
	}
	resp, err := w.admin.CreateTopics(ctx, 1, int16(rf), nil, cc.dlqTopic)
	if err != nil {
		return fmt.Errorf("create dead-letter topic %s: %w", cc.dlqTopic, err)
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create dead-letter topic %s: %w", cc.dlqTopic, r.Err)
		}
	}
	return nil
}

// process handles one poll: convert, transform, put, dead-letter, flush,
// commit. Offsets are committed only when every record was either put and
// flushed or dead-lettered (or skipped with errors.tolerance=all).
func (s *sinkRun) process(ctx context.Context, fetches kgo.Fetches) error {
	fetches.EachError(func(topic string, p int32, err error) {
		s.t.logger.Warn("connect: consuming", "topic", topic, "partition", p, "err", err)
		s.w.metrics.errors.WithLabelValues(s.label[0], s.label[1], StageKafkaConsume).Inc()
	})
	// The poll's lists are reused from poll to poll: nothing keeps them
	// after process returns, except a task's batch, which only a task
	// that keeps nothing (valuesOnly) gets reused.
	polled := s.polled[:0]
	fetches.EachRecord(func(r *kgo.Record) { polled = append(polled, r) })
	s.polled = polled
	defer clear(polled) // let the fetch's records go
	if len(polled) == 0 {
		return s.commit(ctx) // caught up: commit what is pending
	}
	s.w.metrics.read.WithLabelValues(s.label...).Add(float64(len(polled)))
	// The offsets committed are those of everything polled
	// (CommitUncommittedOffsets): no commit before the last batch is put.
	for rest := polled; len(rest) > 0; {
		n := min(len(rest), maxPollRecords)
		if err := s.put(ctx, rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	s.uncommitted = true
	// Behind when the poll came back full and a partition had records
	// past its last one when it was fetched: they are waiting, commit
	// within sinkCommitInterval. Otherwise the sink has caught up: commit
	// within sinkCommitSpacing. (A full poll that ended at the high
	// watermark used to count as behind, and when it was the last of a
	// burst the commit waited up to a second with nothing left to read.)
	// Until then the next poll waits no longer than the commit is due.
	lag := pollLag(fetches)
	if due := s.lastCommit.Add(commitWait(len(polled), lag)); ctx.Err() == nil && time.Now().Before(due) {
		s.commitDue = due
		return nil
	}
	if err := s.commit(ctx); err != nil {
		return err
	}
	s.w.metrics.commitLag.WithLabelValues(s.label...).Set(float64(lag))
	return nil
}

// put converts and transforms one batch of consumed records, hands it to
// the task's Put, and reports (dead-letters) the records that failed.
func (s *sinkRun) put(ctx context.Context, polled []*kgo.Record) error {
	if s.topics == nil {
		s.topics = map[string]bool{}
	}
	topics := s.topics
	clear(topics)
	var batch []*connect.Record
	if s.valuesOnly {
		batch = s.batch[:0]
		defer func() { clear(batch); s.batch = batch[:0] }()
	}
	orig := s.orig[:0] // orig[i] is what batch[i] was converted from
	defer func() { clear(orig); s.orig = orig[:0] }()
	var failures []failure
	// The batch's Connect records and headers in one allocation each.
	nh := 0
	if !s.valuesOnly || s.conv.header != nil {
		// (A value-only sink builds headers only for records whose key
		// fails its check: convertOne makes room for those.)
		for _, kr := range polled {
			nh += len(kr.Headers)
		}
	}
	var recs []connect.Record
	if s.valuesOnly {
		if cap(s.recs) < len(polled) {
			s.recs = make([]connect.Record, len(polled))
		}
		recs = s.recs[:len(polled)] // convertOne sets every field
	} else {
		recs = make([]connect.Record, len(polled))
	}
	headers := make([]connect.Header, 0, nh)
	for i, kr := range polled {
		if !topics[kr.Topic] {
			topics[kr.Topic] = true
			if err := s.w.statuses.UseTopic(ctx, s.t.cr.name, s.t.id, kr.Topic); err != nil {
				s.t.logger.Warn("connect: recording active topic", "topic", kr.Topic, "err", err)
			}
		}
		r, f := s.convertOne(ctx, kr, &recs[i], &headers)
		if f != nil {
			failures = append(failures, *f)
			continue
		}
		if r != nil {
			batch = append(batch, r)
			orig = append(orig, kr)
		}
	}
	if err := s.report(ctx, failures); err != nil {
		return err
	}
	failures = failures[:0]
	if len(batch) > 0 {
		s.w.metrics.batch.WithLabelValues(s.label...).Observe(float64(len(batch)))
		err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error { return s.task.Put(ctx, batch) })
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		written := len(batch)
		if err != nil {
			var re *connect.RecordError
			if errors.As(err, &re) {
				for i, r := range batch {
					if e, ok := re.Failed[r]; ok {
						failures = append(failures, failure{stage: StageTaskPut, class: s.cc.class, err: e, orig: orig[i]})
					}
				}
				if len(failures) == 0 {
					return fmt.Errorf("put: %w (naming no record of the batch)", err)
				}
			} else {
				for i := range batch {
					failures = append(failures, failure{stage: StageTaskPut, class: s.cc.class, err: err, orig: orig[i]})
				}
			}
			written -= len(failures)
			if err := s.report(ctx, failures); err != nil {
				return err
			}
		}
		s.w.metrics.written.WithLabelValues(s.label...).Add(float64(written))
	}
	return nil
}

// commitWait is how long after its last commit a sink commits the records
// of a poll of n records that left lag records waiting.
func commitWait(n int, lag int64) time.Duration {
	if n >= maxPollRecords && lag > 0 {
		return sinkCommitInterval // behind
	}
	return sinkCommitSpacing // caught up
}

// pollLag is how many records the partitions of a poll held past its
// last record of each, by the high watermarks of their fetches.
func pollLag(fetches kgo.Fetches) int64 {
	var lag int64
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			lag += max(p.HighWatermark-(p.Records[n-1].Offset+1), 0)
		}
	})
	return lag
}

// commit flushes the task and commits the consumed offsets, when records
// were put since the last commit. It runs even when the task is being
// stopped, so a graceful stop redelivers nothing. A failed offset commit
// is logged: the records are redelivered after a restart (at-least-once).
func (s *sinkRun) commit(ctx context.Context) error {
	if !s.uncommitted {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error { return s.task.Flush(ctx) }); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	s.uncommitted, s.lastCommit = false, time.Now()
	if err := s.cl.CommitUncommittedOffsets(ctx); err != nil {
		s.t.logger.Warn("connect: committing consumer offsets", "err", err)
		return nil
	}
	s.w.metrics.commitTime.WithLabelValues(s.label...).Observe(time.Since(start).Seconds())
	return nil
}

// report handles failed records: with errors.tolerance=none the first fails
// the task; with all they are logged (errors.log.enable) and dead-lettered
// when a DLQ topic is set.
func (s *sinkRun) report(ctx context.Context, failures []failure) error {
	if len(failures) == 0 {
		return nil
	}
	var dlq []*kgo.Record
	for _, f := range failures {
		s.w.metrics.errors.WithLabelValues(s.label[0], s.label[1], f.stage).Inc()
		if s.cc.logErrors {
			logFailure(s.t.logger, f, s.cc.logMessages)
		}
		if !s.cc.tolerateAll {
			at := ""
			if f.orig != nil {
				at = fmt.Sprintf(" at %s-%d offset %d", f.orig.Topic, f.orig.Partition, f.orig.Offset)
			}
			return fmt.Errorf("%s (%s)%s: %w", f.stage, f.class, at, f.err)
		}
		if s.cc.dlqTopic != "" {
			dlq = append(dlq, dlqRecord(s.cc.dlqTopic, f, s.t.cr.name, s.t.id, s.cc.dlqHeaders))
		}
	}
	if len(dlq) > 0 {
		if err := s.cl.ProduceSync(ctx, dlq...).FirstErr(); err != nil {
			return fmt.Errorf("write to dead-letter topic %s: %w", s.cc.dlqTopic, err)
		}
		s.w.metrics.deadLettered.WithLabelValues(s.label...).Add(float64(len(dlq)))
	}
	return nil
}

// convertOne turns a consumed record into a Connect record and runs the
// transforms. A nil record with a nil failure was dropped by a transform.
// r is where to build it, and headers has room for its headers.
func (s *sinkRun) convertOne(ctx context.Context, kr *kgo.Record, r *connect.Record, headers *[]connect.Header) (*connect.Record, *failure) {
	if s.chain.dropsTopic(kr.Topic) && s.conv.convertible(kr) {
		// Kafka Connect converts before the transforms run, so only a
		// record that converts without error may be dropped unconverted.
		return nil, nil
	}
	*r = connect.Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, Timestamp: kr.Timestamp}
	if s.valuesOnly && s.conv.keyAndHeadersConvertible(kr) {
		// Nobody reads the key and headers, and they would convert: only
		// the value is built. (No chain: the record goes to Put as it is.)
		// The task keeps nothing after Put and the fetched bytes are not
		// changed: the value may share them (connect.SharingConverter).
		if err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error {
			var e error
			if sc, ok := s.conv.value.(connect.SharingConverter); ok {
				r.ValueSchema, r.Value, e = sc.ToConnectShared(kr.Topic, kr.Value)
				return e
			}
			r.ValueSchema, r.Value, e = s.conv.value.ToConnect(kr.Topic, kr.Value)
			return e
		}); err != nil {
			return nil, &failure{stage: StageValueConverter, class: s.conv.valueClass, err: err, orig: kr}
		}
		return r, nil
	}
	if err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error {
		var e error
		r.KeySchema, r.Key, e = s.conv.key.ToConnect(kr.Topic, kr.Key)
		return e
	}); err != nil {
		return nil, &failure{stage: StageKeyConverter, class: s.conv.keyClass, err: err, orig: kr}
	}
	if err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error {
		var e error
		r.ValueSchema, r.Value, e = s.conv.value.ToConnect(kr.Topic, kr.Value)
		return e
	}); err != nil {
		return nil, &failure{stage: StageValueConverter, class: s.conv.valueClass, err: err, orig: kr}
	}
	if len(kr.Headers) > 0 {
		if cap(*headers)-len(*headers) < len(kr.Headers) {
			*headers = make([]connect.Header, 0, len(kr.Headers))
		}
		n := len(*headers)
		r.Headers = (*headers)[n:n:cap(*headers)]
	}
	for i, h := range kr.Headers {
		if ch, ok := s.sameHeader(i, h); ok {
			r.Headers = append(r.Headers, ch)
			continue
		}
		var ch connect.Header
		if err := safe(func() error {
			var e error
			ch, e = s.conv.headerFromBytes(kr.Topic, h.Key, h.Value)
			return e
		}); err != nil {
			return nil, &failure{stage: StageHeaderConverter, class: s.conv.headerClass, err: err, orig: kr}
		}
		r.Headers = append(r.Headers, ch)
	}
	if s.conv.header == nil && len(r.Headers) > 0 {
		// A copy: transforms may change r's headers in place.
		s.lastHeaders = append(s.lastHeaders[:0], r.Headers...)
	}
	if len(r.Headers) > 0 {
		*headers = (*headers)[:len(*headers)+len(r.Headers)]
		r.Headers = r.Headers[:len(r.Headers):len(r.Headers)] // a transform's append must not run into the next record's
	}
	var out *connect.Record
	var failedClass string
	if err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error {
		var e error
		out, failedClass, e = s.chain.apply(r, true) // r was just converted: the chain owns it
		return e
	}); err != nil {
		return nil, &failure{stage: StageTransformation, class: failedClass, err: err, orig: kr}
	}
	return out, nil
}

// sameHeader returns the i-th header of the last record when h has its
// key and value: without a header.converter a header is read as an
// immutable string, so records whose headers repeat (a task id, a
// generation) share one string and its boxed value instead of
// allocating both for every record.
func (s *sinkRun) sameHeader(i int, h kgo.RecordHeader) (connect.Header, bool) {
	if s.conv.header != nil || i >= len(s.lastHeaders) || h.Value == nil {
		return connect.Header{}, false
	}
	last := s.lastHeaders[i]
	if v, ok := last.Value.(string); ok && last.Key == h.Key && v == string(h.Value) {
		return last, true
	}
	return connect.Header{}, false
}

// anchored makes a topics.regex match whole topic names, as Java's
// Pattern.matches does in Kafka Connect.
func anchored(re string) string { return "^(?:" + re + ")$" }

package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	connectconv "github.com/sluicedata/sluice/connect/converters"
	"github.com/sluicedata/sluice/connect/storage"
)

// manualPartition marks a record whose connector chose its partition.
type manualPartition struct{}

// sourcePartitioner honours a partition set by the connector and otherwise
// hashes the key with murmur2 as Kafka's default partitioner does; records
// without a key go round robin.
type sourcePartitioner struct{}

func (sourcePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return &sourceTopicPartitioner{keyed: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
}

type sourceTopicPartitioner struct {
	keyed kgo.TopicPartitioner
	mu    sync.Mutex
	next  int
}

func (p *sourceTopicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (p *sourceTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if n == 1 {
		return 0 // no need to hash the key (murmur2 over a 200-byte CDC key)
	}
	if r.Context != nil {
		if v, ok := r.Context.Value(manualPartition{}).(int32); ok && v >= 0 {
			return int(v) % n
		}
	}
	if r.Key != nil {
		return p.keyed.Partition(r, n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next = (p.next + 1) % n
	return p.next
}

// sourceRun holds what a source task needs while running.
type sourceRun struct {
	w     *Worker
	t     *taskRun
	cc    *connectorConfig
	task  connect.SourceTask
	conv  *converters
	chain chain
	cl    *kgo.Client
	eos   bool
	label []string // metric labels

	// Without exactly-once: the asynchronous produce pipeline
	// (sourcepipe.go); uncommitted is set once a batch was produced since
	// the last Commit.
	pipe        *pipeline
	uncommitted bool

	// cpTask is the task when it takes checkpoint commits (not with
	// exactly-once): polls counts its polls that returned records, and
	// committedPoll is the last poll whose records were committed to it.
	cpTask        connect.CheckpointingSourceTask
	polls         int64
	committedPoll int64

	// lastHeaders are the headers of the last record converted without
	// a header.converter (see sameHeader).
	lastHeaders []lastHeader
}

// metadataRetry is how soon a task's client asks for metadata again
// after it found a topic missing or without a leader, as Kafka's
// retry.backoff.ms (100 ms) does. franz-go waits 5 s by default: a source
// whose first records auto-create their topic sat idle for those 5 s.
const metadataRetry = 100 * time.Millisecond

// runSource runs one source task until ctx is done or it fails.
func (w *Worker) runSource(ctx context.Context, t *taskRun) error {
	cc := t.cr.cc
	s := &sourceRun{w: w, t: t, cc: cc, label: []string{t.cr.name, strconv.Itoa(t.id)}}
	var err error
	if s.conv, err = buildConverters(w.opts.WorkerConfig, cc.raw); err != nil {
		return err
	}
	if s.chain, err = buildChain(cc.raw); err != nil {
		return err
	}
	s.eos = w.opts.ExactlyOnceSource && (cc.exactlyOnce == "requested" || cc.exactlyOnce == "required" || cc.exactlyOnce == "")
	opts := []kgo.Opt{
		kgo.SeedBrokers(w.opts.Brokers...),
		kgo.RecordPartitioner(sourcePartitioner{}),
		// Kafka's producer default (compression.type=none), which Kafka
		// Connect keeps; franz-go would compress with snappy, a tenth of a
		// datagen record's CPU on the producer and again on the broker.
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.MetadataMinAge(metadataRetry),
		kgo.AllowAutoTopicCreation(),
		kgo.ClientID(fmt.Sprintf("connector-producer-%s-%d", t.cr.name, t.id)),
	}
	if s.eos {
		opts = append(opts, kgo.TransactionalID(fmt.Sprintf("%s-%s-%d", w.opts.GroupID, t.cr.name, t.id)))
	}
	if s.cl, err = kgo.NewClient(opts...); err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	abandoned := false
	defer func() {
		if !abandoned {
			s.cl.Close()
		}
	}()
	// With exactly-once, offsets of a zombie's open transaction are not
	// visible read_committed, and its first produce here fences it
	// (InitProducerID aborts that transaction): reading now is safe.
	if err := w.offsets.ReadToEnd(ctx); err != nil {
		return fmt.Errorf("read offsets: %w", err)
	}
	s.task = t.cr.plugin.NewSource().NewTask()
	if jt, ok := s.task.(connect.JSONTextSourceTask); ok && s.textValues() {
		jt.UseJSONText()
	}
	tc := &taskContext{w: w, name: t.cr.name, id: t.id, log: t.logger}
	if err := safe(func() error { return s.task.Start(ctx, t.cfg, tc) }); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer func() {
		if err := safe(s.task.Stop); err != nil {
			t.logger.Warn("connect: stopping source task", "err", err)
		}
	}()
	if cp, ok := s.task.(connect.CheckpointingSourceTask); ok && !s.eos {
		s.cpTask = cp
	}
	if !s.eos {
		s.startPipeline(ctx)
		defer s.stopPipeline() // before Stop
	}
	t.running(ctx)
	for {
		if !s.eos && t.gate.isPaused() {
			if err := s.settle(ctx, true); err != nil && ctx.Err() == nil {
				return err
			}
		}
		if err := t.gate.wait(ctx); err != nil {
			return nil
		}
		var recs []*connect.Record
		err := withRetry(ctx, cc.retryTimeout, cc.retryMax, func() error {
			var e error
			recs, e = s.task.Poll(ctx)
			return e
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.metrics.errors.WithLabelValues(s.label[0], s.label[1], StageTaskPoll).Inc()
			return fmt.Errorf("poll: %w", err)
		}
		if len(recs) == 0 {
			if !s.eos {
				// Idle: Commit once everything in flight is stored.
				if err := s.settle(ctx, true); err != nil {
					return err
				}
			}
			continue
		}
		w.metrics.polled.WithLabelValues(s.label...).Add(float64(len(recs)))
		w.metrics.batch.WithLabelValues(s.label...).Observe(float64(len(recs)))
		out, ar, mem, err := s.convert(ctx, recs)
		if err != nil {
			return err
		}
		offsets := latestOffsets(recs)
		if !s.eos {
			var cp checkpoint
			if s.cpTask != nil {
				s.polls++
				cp = checkpoint{poll: s.polls, cp: s.cpTask.Checkpoint()}
			}
			if err := s.produceAsync(ctx, out, offsets, cp, ar, mem); err != nil {
				return nil // stopping: stopPipeline stores what is acknowledged
			}
			s.uncommitted = true
			// A checkpointing task hears of every stored prefix: the
			// poll loop never waits for the batches in flight.
			if err := s.settle(ctx, s.cpTask == nil && time.Since(s.pipe.lastDone) >= sourceCommitInterval); err != nil {
				return err
			}
			continue
		}
		// Records polled are delivered and their offsets stored even when
		// the task is being stopped meanwhile: a graceful stop loses nothing
		// and duplicates nothing.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = s.deliver(wctx, out, offsets)
		cancel()
		if errors.Is(err, errAbandoned) {
			abandoned = true
			return nil
		}
		if err != nil {
			return err
		}
		if err := safe(func() error { return s.task.Commit(context.WithoutCancel(ctx)) }); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
}

var errAbandoned = errors.New("task abandoned (test hook)")

// deliver writes an exactly-once batch: records and offsets in one
// transaction (other batches go through produceAsync).
func (s *sourceRun) deliver(wctx context.Context, out []*kgo.Record, offsets []storage.SourceOffset) error {
	abandon, err := s.sendTransaction(wctx, out, offsets)
	if abandon {
		return errAbandoned
	}
	return err
}

// textValues reports whether values reach the value converter unchanged
// and it writes JSON text as it is: then a task may give its values as
// JSON text (connect.JSONTextSourceTask).
func (s *sourceRun) textValues() bool {
	_, ok := s.conv.value.(connect.JSONTextConverter)
	return ok && len(s.chain) == 0
}

// latestOffsets keeps the last offset of each source partition of a batch,
// in first-seen order.
func latestOffsets(recs []*connect.Record) []storage.SourceOffset {
	idx := map[string]int{}
	var out []storage.SourceOffset
	// Records of one source partition usually share its map: a record
	// whose partition is the previous record's map needs no encoded key
	// (encoding one per record was 4% of a file pipeline's CPU).
	var lastMap unsafe.Pointer
	last := -1
	for _, r := range recs {
		if r.SourceOffset == nil {
			continue
		}
		m := reflect.ValueOf(r.SourcePartition).UnsafePointer()
		if m != nil && m == lastMap {
			out[last].Offset = r.SourceOffset
			continue
		}
		k, _ := storage.Key("", r.SourcePartition)
		lastMap = m
		if i, ok := idx[string(k)]; ok {
			out[i].Offset = r.SourceOffset
			last = i
			continue
		}
		idx[string(k)] = len(out)
		last = len(out)
		out = append(out, storage.SourceOffset{Partition: r.SourcePartition, Offset: r.SourceOffset})
	}
	return out
}

// convert runs a batch through the transforms and converters. Records that
// fail are skipped with errors.tolerance=all, else the task fails. The
// arena holds the bytes of keys and values written by appending converters:
// it may be released once every record is done with.
func (s *sourceRun) convert(ctx context.Context, recs []*connect.Record) ([]*kgo.Record, *arena, *batchMem, error) {
	nh := 0
	for _, r := range recs {
		nh += len(r.Headers)
	}
	// The batch's Kafka records and their headers in one slab each, reused
	// from an earlier batch once its records were acknowledged (batchMem).
	m := getBatchMem(len(recs), nh)
	out, slab := m.ptrs, m.recs[:len(recs)]
	clear(slab)
	hs := &headerSlab{headers: m.headers}
	ar := &arena{}
	for i, r := range recs {
		kr, f := s.convertOne(ctx, r, &slab[i], hs, ar)
		if f != nil {
			s.w.metrics.errors.WithLabelValues(s.label[0], s.label[1], f.stage).Inc()
			if s.cc.logErrors {
				logFailure(s.t.logger, *f, s.cc.logMessages)
			}
			if !s.cc.tolerateAll {
				return nil, nil, nil, fmt.Errorf("%s (%s): %w", f.stage, f.class, f.err)
			}
			continue
		}
		if kr != nil {
			out = append(out, kr)
		}
	}
	m.headers = hs.headers
	return out, ar, m, nil
}

// convertOne transforms and converts r into kr, which it returns (nil when
// a transform dropped r).
func (s *sourceRun) convertOne(ctx context.Context, r *connect.Record, kr *kgo.Record, hs *headerSlab, ar *arena) (*kgo.Record, *failure) {
	textConv, _ := s.conv.value.(connect.JSONTextConverter)
	if r.ValueJSON != nil && (len(s.chain) > 0 || textConv == nil) {
		// Something other than a JSON converter reads the value: decode it.
		if r.ValueSchema != nil {
			// Only a schemaless value's text can be decoded, and a task
			// gives text with a schema only when asked (textValues).
			return nil, &failure{stage: StageTaskPoll, class: s.cc.class,
				err: errors.New("the task gave a value with a schema as JSON text without being asked to")}
		}
		if err := decodeValueJSON(r); err != nil {
			return nil, &failure{stage: StageTaskPoll, class: s.cc.class, err: err}
		}
	}
	var tr *connect.Record
	var failedClass string
	err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error {
		var e error
		tr, failedClass, e = s.chain.apply(r, false) // the task may still hold r's maps
		return e
	})
	if err != nil {
		return nil, &failure{stage: StageTransformation, class: failedClass, err: err}
	}
	if tr == nil {
		return nil, nil
	}
	if tr.Topic == "" {
		return nil, &failure{stage: StageKafkaProduce, class: s.cc.class, err: errors.New("record has no topic")}
	}
	kr.Topic, kr.Timestamp = tr.Topic, tr.Timestamp
	if err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error {
		var e error
		if ac, ok := s.conv.key.(connect.AppendingConverter); ok {
			kr.Key, e = ar.write(ac, tr.Topic, tr.KeySchema, tr.Key)
			return e
		}
		kr.Key, e = s.conv.key.FromConnect(tr.Topic, tr.KeySchema, tr.Key)
		return e
	}); err != nil {
		return nil, &failure{stage: StageKeyConverter, class: s.conv.keyClass, err: err}
	}
	if err := withRetry(ctx, s.cc.retryTimeout, s.cc.retryMax, func() error {
		var e error
		if tr.ValueJSON != nil {
			kr.Value, e = textConv.FromJSONText(tr.Topic, tr.ValueSchema, tr.ValueJSON)
			if e == nil && len(kr.Value) > 0 && unsafe.SliceData(kr.Value) == unsafe.SliceData(tr.ValueJSON) {
				// The text itself (no schema envelope): a copy, since a
				// JSONTextSourceTask may reuse it after the next Poll.
				kr.Value = ar.copy(kr.Value)
			}
			return e
		}
		if ac, ok := s.conv.value.(connect.AppendingConverter); ok {
			kr.Value, e = ar.write(ac, tr.Topic, tr.ValueSchema, tr.Value)
			return e
		}
		kr.Value, e = s.conv.value.FromConnect(tr.Topic, tr.ValueSchema, tr.Value)
		return e
	}); err != nil {
		return nil, &failure{stage: StageValueConverter, class: s.conv.valueClass, err: err}
	}
	if len(tr.Headers) > 0 {
		kr.Headers = hs.next(len(tr.Headers))
		// One safe call for all the headers: a panic fails the record
		// in this stage all the same.
		if err := safe(func() error {
			for i, h := range tr.Headers {
				b, ok := s.sameHeader(i, h)
				if !ok {
					if b, ok = s.nextHeader(i, h, hs); !ok {
						var e error
						if b, e = s.conv.headerToBytes(tr.Topic, h, hs); e != nil {
							return e
						}
					}
					s.noteHeader(i, h, b)
				}
				kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: b})
			}
			return nil
		}); err != nil {
			return nil, &failure{stage: StageHeaderConverter, class: s.conv.headerClass, err: err}
		}
	}
	hs.used(len(kr.Headers))
	if tr.Partition >= 0 {
		kr.Context = context.WithValue(context.Background(), manualPartition{}, tr.Partition)
	}
	return kr, nil
}

// lastHeader is a header of the last record converted without a
// header.converter, and its bytes.
type lastHeader struct {
	key    string
	schema *connect.Schema
	value  any // an int64 or a string
	bytes  []byte
}

// sameHeader returns the bytes of the i-th header of the last record when
// h has its key, schema and value: without a header.converter an integer
// or string header converts to the same bytes, which nothing changes
// (franz-go only reads them), so records whose headers repeat (datagen's
// task id and generation) share them.
func (s *sourceRun) sameHeader(i int, h connect.Header) ([]byte, bool) {
	if s.conv.header != nil || i >= len(s.lastHeaders) {
		return nil, false
	}
	last := &s.lastHeaders[i]
	if last.key != h.Key || last.schema != h.Schema {
		return nil, false
	}
	switch v := h.Value.(type) {
	case int64:
		if lv, ok := last.value.(int64); ok && lv == v {
			return last.bytes, true
		}
	case string:
		if lv, ok := last.value.(string); ok && lv == v {
			return last.bytes, true
		}
	}
	return nil, false
}

// nextHeader returns the text of an int64 header one more than the i-th
// header of the last record, made from that record's text: a counter such
// as datagen's current.iteration, which strconv formatted anew for every
// record. Without a header.converter an int64 header's bytes are its
// decimal text whatever its key and schema (headerToBytes).
func (s *sourceRun) nextHeader(i int, h connect.Header, hs *headerSlab) ([]byte, bool) {
	if s.conv.header != nil || i >= len(s.lastHeaders) {
		return nil, false
	}
	v, ok := h.Value.(int64)
	if !ok {
		return nil, false
	}
	last := &s.lastHeaders[i]
	if lv, ok := last.value.(int64); !ok || lv < 0 || v != lv+1 || len(last.bytes) == 0 {
		return nil, false
	}
	return hs.appendIncremented(last.bytes), true
}

// appendIncremented returns the decimal text of one more than the
// non-negative number whose text is t, in the slab's bytes.
func (hs *headerSlab) appendIncremented(t []byte) []byte {
	if cap(hs.text)-len(hs.text) < len(t)+1 {
		hs.text = make([]byte, 0, 4096)
	}
	l := len(hs.text)
	hs.text = append(hs.text, t...)
	out := hs.text[l:]
	i := len(out) - 1
	for ; i >= 0 && out[i] == '9'; i-- {
		out[i] = '0'
	}
	if i >= 0 {
		out[i]++
	} else {
		// All nines: 999 -> 1000.
		out[0] = '1'
		hs.text = append(hs.text, '0')
		out = hs.text[l:]
	}
	return out[:len(out):len(out)]
}

// noteHeader keeps the i-th header's bytes for sameHeader.
func (s *sourceRun) noteHeader(i int, h connect.Header, b []byte) {
	if s.conv.header != nil || b == nil {
		return
	}
	switch h.Value.(type) {
	case int64, string:
	default:
		return
	}
	for len(s.lastHeaders) <= i {
		s.lastHeaders = append(s.lastHeaders, lastHeader{})
	}
	s.lastHeaders[i] = lastHeader{key: h.Key, schema: h.Schema, value: h.Value, bytes: b}
}

// headerSlab holds the Kafka headers of a batch's records, and the bytes
// of their integer values, in few allocations.
type headerSlab struct {
	headers []kgo.RecordHeader
	text    []byte
}

// next returns an empty slice with room for n headers.
func (hs *headerSlab) next(n int) []kgo.RecordHeader {
	if cap(hs.headers)-len(hs.headers) < n {
		return make([]kgo.RecordHeader, 0, n)
	}
	l := len(hs.headers)
	return hs.headers[l:l:cap(hs.headers)]
}

// used marks n headers taken by the last next.
func (hs *headerSlab) used(n int) {
	if cap(hs.headers)-len(hs.headers) >= n {
		hs.headers = hs.headers[:len(hs.headers)+n]
	}
}

// appendInt returns the decimal text of n, in the slab's bytes.
func (hs *headerSlab) appendInt(n int64) []byte {
	if cap(hs.text)-len(hs.text) < 20 {
		hs.text = make([]byte, 0, 4096)
	}
	l := len(hs.text)
	hs.text = strconv.AppendInt(hs.text, n, 10)
	return hs.text[l:len(hs.text):len(hs.text)]
}

func (s *sourceRun) noteTopics(ctx context.Context, topics []string) {
	for _, t := range topics {
		if err := s.w.statuses.UseTopic(ctx, s.t.cr.name, s.t.id, t); err != nil {
			s.t.logger.Warn("connect: recording active topic", "topic", t, "err", err)
		}
	}
}

// topicsOf lists the topics of recs, each once.
func topicsOf(recs []*kgo.Record) []string {
	var topics []string
	last := ""
	for _, r := range recs {
		if r.Topic == last && last != "" {
			continue // records of a batch mostly share a topic
		}
		last = r.Topic
		if !slices.Contains(topics, r.Topic) {
			topics = append(topics, r.Topic)
		}
	}
	return topics
}

// decodeValueJSON turns a record's ValueJSON into its Value.
func decodeValueJSON(r *connect.Record) error {
	v, err := connectconv.ParseSchemaless(r.ValueJSON)
	if err != nil {
		return fmt.Errorf("decoding the value's JSON text: %w", err)
	}
	r.Value, r.ValueSchema, r.ValueJSON = v, nil, nil
	return nil
}

// sendTransaction writes a batch and its offsets in one transaction.
func (s *sourceRun) sendTransaction(ctx context.Context, recs []*kgo.Record, offsets []storage.SourceOffset) (abandon bool, err error) {
	offRecs, err := s.w.offsets.Records(s.t.cr.name, offsets)
	if err != nil {
		return false, err
	}
	if len(recs) == 0 && len(offRecs) == 0 {
		return false, nil
	}
	start := time.Now()
	if err := s.cl.BeginTransaction(); err != nil {
		return false, fmt.Errorf("begin transaction: %w", err)
	}
	abort := func(cause error) (bool, error) {
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.cl.EndTransaction(actx, kgo.TryAbort); err != nil {
			s.t.logger.Warn("connect: aborting transaction", "err", err)
		}
		if ctx.Err() != nil {
			return false, nil
		}
		return false, cause
	}
	var mu sync.Mutex
	var produceErr error
	for _, r := range append(recs, offRecs...) {
		s.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if produceErr == nil {
					produceErr = fmt.Errorf("produce to %s: %w", r.Topic, err)
				}
				mu.Unlock()
			}
		})
	}
	if err := s.cl.Flush(ctx); err != nil {
		return abort(err)
	}
	if produceErr != nil {
		return abort(produceErr)
	}
	if h := s.w.hooks.beforeTxnCommit; h != nil && h(s.t.cr.name, s.t.id) {
		return true, nil
	}
	if err := s.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return abort(fmt.Errorf("commit transaction: %w", err))
	}
	s.w.metrics.written.WithLabelValues(s.label...).Add(float64(len(recs)))
	s.w.metrics.commitTime.WithLabelValues(s.label...).Observe(time.Since(start).Seconds())
	s.noteTopics(ctx, topicsOf(recs))
	return false, nil
}

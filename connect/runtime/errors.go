package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
)

// Stage names where a record can fail, as Kafka Connect's errors.Stage.
const (
	StageKeyConverter    = "KEY_CONVERTER"
	StageValueConverter  = "VALUE_CONVERTER"
	StageHeaderConverter = "HEADER_CONVERTER"
	StageTransformation  = "TRANSFORMATION"
	StageTaskPut         = "TASK_PUT"
	StageTaskPoll        = "TASK_POLL"
	StageKafkaProduce    = "KAFKA_PRODUCE"
	StageKafkaConsume    = "KAFKA_CONSUME"
)

// Header names of dead-lettered records (DeadLetterQueueReporter).
const (
	hdrPrefix = "__connect.errors."
)

// retryInitial is the first backoff; each retry doubles it up to
// errors.retry.delay.max.ms (Kafka Connect starts at 300 ms too).
const retryInitial = 300 * time.Millisecond

// withRetry runs op until it succeeds, fails with an error that is not
// connect.Retriable, or errors.retry.timeout has passed (0: one attempt;
// negative: no limit). Waits grow exponentially with full jitter, capped at
// errors.retry.delay.max.ms.
func withRetry(ctx context.Context, timeout, maxDelay time.Duration, op func() error) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	delay := retryInitial
	for attempt := 0; ; attempt++ {
		err := safe(op)
		if err == nil {
			return nil
		}
		var r connect.Retriable
		var rp *connect.Retriable
		if (!errors.As(err, &r) && !errors.As(err, &rp)) || timeout == 0 || ctx.Err() != nil {
			return err
		}
		wait := delay
		if maxDelay > 0 && wait > maxDelay {
			wait = maxDelay
		}
		wait = time.Duration(rand.Int64N(int64(wait)) + 1)
		if timeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return fmt.Errorf("retries exhausted after %v: %w", timeout, err)
			}
			if wait > left {
				wait = left
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		if delay < time.Hour {
			delay *= 2
		}
	}
}

// failure describes one record that failed, for the log and the DLQ.
type failure struct {
	stage string
	class string // the class at that stage
	err   error
	orig  *kgo.Record // the consumed record (sinks), nil for sources
}

// exceptionClass names the error's Go type, the closest to Java's
// exception class name.
func exceptionClass(err error) string {
	var p *panicError
	if errors.As(err, &p) {
		return "panic"
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return fmt.Sprintf("%T", err)
		}
		err = u
	}
}

// trace is the text stored as a status trace and in the stacktrace header:
// the error, its chain of causes, and for a panic the goroutine's stack.
func trace(err error) string {
	var b strings.Builder
	b.WriteString(err.Error())
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		fmt.Fprintf(&b, "\nCaused by: %T: %v", u, u)
	}
	var p *panicError
	if errors.As(err, &p) {
		b.WriteString("\n")
		b.Write(p.stack)
	}
	return b.String()
}

// dlqRecord builds the dead-letter record of a failure: the original raw key,
// value and headers, plus context headers when enabled.
func dlqRecord(topic string, f failure, connector string, task int, headers bool) *kgo.Record {
	r := &kgo.Record{Topic: topic}
	if f.orig != nil {
		r.Key, r.Value = f.orig.Key, f.orig.Value
		r.Headers = append(r.Headers, f.orig.Headers...)
	}
	if headers {
		add := func(k, v string) {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: hdrPrefix + k, Value: []byte(v)})
		}
		if f.orig != nil {
			add("topic", f.orig.Topic)
			add("partition", strconv.Itoa(int(f.orig.Partition)))
			add("offset", strconv.FormatInt(f.orig.Offset, 10))
		}
		add("connector.name", connector)
		add("task.id", strconv.Itoa(task))
		add("stage", f.stage)
		add("class.name", f.class)
		add("exception.class.name", exceptionClass(f.err))
		add("exception.message", f.err.Error())
		add("exception.stacktrace", trace(f.err))
	}
	return r
}

// logFailure writes errors.log.enable's line.
func logFailure(l *slog.Logger, f failure, includeMessages bool) {
	attrs := []any{"stage", f.stage, "class", f.class, "err", f.err}
	if f.orig != nil {
		attrs = append(attrs, "topic", f.orig.Topic, "partition", f.orig.Partition, "offset", f.orig.Offset)
		if includeMessages {
			attrs = append(attrs, "key", string(f.orig.Key), "value", string(f.orig.Value))
		}
	}
	l.Error("connect: error processing record", attrs...)
}

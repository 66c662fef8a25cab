package rules

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Headers a DLQ action puts on the dead-letter record, Confluent's names.
const (
	HeaderRuleName      = "__rule.name"
	HeaderRuleMode      = "__rule.mode"
	HeaderRuleSubject   = "__rule.subject"
	HeaderRuleTopic     = "__rule.topic"
	HeaderRuleException = "__rule.exception"
)

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// DeadLetter is a record a DLQ action sends.
type DeadLetter struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
}

// DeadLetterWriter sends dead-letter records.
type DeadLetterWriter interface {
	WriteDeadLetter(ctx context.Context, dl DeadLetter) error
}

// KafkaDLQ writes dead letters with a franz-go client and waits for each to
// be acknowledged, so that a rule's error is returned only once its record is
// safe in the dead-letter topic.
type KafkaDLQ struct {
	Client *kgo.Client
}

// WriteDeadLetter implements DeadLetterWriter.
func (k KafkaDLQ) WriteDeadLetter(ctx context.Context, dl DeadLetter) error {
	rec := &kgo.Record{Topic: dl.Topic, Key: dl.Key, Value: dl.Value}
	for _, h := range dl.Headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	if err := k.Client.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("produce to %s: %w", dl.Topic, err)
	}
	return nil
}

type recordKeyCtx struct{}

// WithRecordKey attaches the serialized key of the record being written or
// read, so that a DLQ action on its value keeps the key.
func WithRecordKey(ctx context.Context, key []byte) context.Context {
	return context.WithValue(ctx, recordKeyCtx{}, key)
}

// RecordKey returns the key attached by WithRecordKey (nil if none).
func RecordKey(ctx context.Context) []byte {
	k, _ := ctx.Value(recordKeyCtx{}).([]byte)
	return k
}

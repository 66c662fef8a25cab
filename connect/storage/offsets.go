package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Offsets is the view of the source offsets topic, read read_committed so
// that offsets written in an aborted exactly-once transaction never count.
//
// Key: the JSON array ["<connector>", {<source partition>}]; value: the JSON
// offset map, or null to forget the partition (Kafka Connect's
// OffsetStorageWriter with JsonConverter, schemas.enable=false).
type Offsets struct {
	log   *topicLog
	topic string

	mu sync.RWMutex
	by map[string]map[string]SourceOffset // connector -> canonical partition JSON -> offset

	logger *slog.Logger
}

// SourceOffset is a source partition and the offset stored for it.
type SourceOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// OpenOffsets creates the topic when missing (with partitions partitions)
// and reads it to its end.
func OpenOffsets(ctx context.Context, brokers []string, topic string, partitions int32, logger *slog.Logger) (*Offsets, error) {
	o := &Offsets{topic: topic, by: map[string]map[string]SourceOffset{}, logger: logger}
	l, err := openLog(ctx, brokers, TopicSpec{Name: topic, Partitions: partitions}, true, logger, o.apply)
	if err != nil {
		return nil, err
	}
	o.log = l
	return o, nil
}

// Close stops tailing the topic.
func (o *Offsets) Close() { o.log.close() }

// Topic is the offsets topic's name (exactly-once tasks write to it in their
// own transactions).
func (o *Offsets) Topic() string { return o.topic }

// ReadToEnd waits until every committed offset written before the call has
// been applied. Run it before starting a task so it resumes from the latest.
func (o *Offsets) ReadToEnd(ctx context.Context) error { return o.log.readToEnd(ctx) }

// Key encodes the record key of a connector's source partition.
func Key(connector string, partition map[string]any) ([]byte, error) {
	if partition == nil {
		partition = map[string]any{}
	}
	b, err := json.Marshal([]any{connector, partition})
	if err != nil {
		return nil, fmt.Errorf("source partition %v: %w", partition, err)
	}
	return b, nil
}

// Value encodes an offset map (nil: a tombstone).
func Value(offset map[string]any) ([]byte, error) {
	if offset == nil {
		return nil, nil
	}
	b, err := json.Marshal(offset)
	if err != nil {
		return nil, fmt.Errorf("source offset %v: %w", offset, err)
	}
	return b, nil
}

// canonical returns a partition's lookup key: its JSON with sorted keys, so
// that keys written by Kafka Connect in another key order still match.
func canonical(partition map[string]any) string {
	b, _ := json.Marshal(partition)
	return string(b)
}

func (o *Offsets) apply(r *kgo.Record) {
	var key []json.RawMessage
	if err := json.Unmarshal(r.Key, &key); err != nil || len(key) != 2 {
		o.logger.Warn("connect: skipping offsets record with a bad key", "key", string(r.Key), "offset", r.Offset)
		return
	}
	var connector string
	var partition map[string]any
	if err := json.Unmarshal(key[0], &connector); err != nil {
		o.logger.Warn("connect: skipping offsets record with a bad key", "key", string(r.Key), "err", err)
		return
	}
	if err := decodeJSON(key[1], &partition); err != nil {
		o.logger.Warn("connect: skipping offsets record with a bad key", "key", string(r.Key), "err", err)
		return
	}
	var offset map[string]any
	if r.Value != nil {
		if err := decodeJSON(r.Value, &offset); err != nil {
			o.logger.Warn("connect: skipping offsets record with a bad value", "key", string(r.Key), "err", err)
			return
		}
	}
	o.set(connector, partition, offset)
}

func (o *Offsets) set(connector string, partition, offset map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.by[connector]
	if offset == nil {
		delete(m, canonical(partition))
		if len(m) == 0 {
			delete(o.by, connector)
		}
		return
	}
	if m == nil {
		m = map[string]SourceOffset{}
		o.by[connector] = m
	}
	m[canonical(partition)] = SourceOffset{Partition: partition, Offset: offset}
}

// Get returns the stored offset of a connector's source partition, or nil.
func (o *Offsets) Get(connector string, partition map[string]any) map[string]any {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.by[connector][canonical(partition)].Offset
}

// List returns every stored offset of a connector, sorted by partition.
func (o *Offsets) List(connector string) []SourceOffset {
	o.mu.RLock()
	defer o.mu.RUnlock()
	keys := make([]string, 0, len(o.by[connector]))
	for k := range o.by[connector] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]SourceOffset, 0, len(keys))
	for _, k := range keys {
		out = append(out, o.by[connector][k])
	}
	return out
}

// Records returns the records that store offsets (nil offset: forget the
// partition), for a caller that produces them itself (in a transaction).
func (o *Offsets) Records(connector string, offsets []SourceOffset) ([]*kgo.Record, error) {
	out := make([]*kgo.Record, 0, len(offsets))
	for _, so := range offsets {
		k, err := Key(connector, so.Partition)
		if err != nil {
			return nil, err
		}
		v, err := Value(so.Offset)
		if err != nil {
			return nil, err
		}
		out = append(out, &kgo.Record{Topic: o.topic, Key: k, Value: v})
	}
	return out, nil
}

// Write stores offsets and waits until they are applied to this view.
func (o *Offsets) Write(ctx context.Context, connector string, offsets []SourceOffset) error {
	recs, err := o.Records(connector, offsets)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	res := o.log.cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("write offsets of %s: %w", connector, err)
	}
	for _, r := range res {
		if err := o.log.waitFor(ctx, r.Record.Partition, r.Record.Offset); err != nil {
			return err
		}
	}
	return nil
}

// decodeJSON decodes with numbers kept as json.Number-free float64/int64:
// integers stay int64 so offsets such as line numbers round-trip exactly.
func decodeJSON(data []byte, v *map[string]any) error {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if raw == nil {
		*v = nil
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("not a JSON object: %s", data)
	}
	*v = numbersToGo(m).(map[string]any)
	return nil
}

func numbersToGo(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToGo(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = numbersToGo(e)
		}
		return x
	}
	return v
}

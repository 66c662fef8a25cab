package exec

import (
	"context"
	"fmt"

	"github.com/sluicedata/sluice/sql/state"
)

// Materialization is the queryable state of a table that a persistent query
// maintains: what pull queries read. Rows come back as the records of the
// table's topic (key and value in the table's formats, the timestamp of the
// record that wrote them), so a pull query decodes them as it would decode
// the topic. Reads see committed state and may run on any goroutine while
// the query processes records.
type Materialization interface {
	// Lookup calls fn for the rows stored under the serialized key; for a
	// windowed table, every window of the key (the stored keys start with
	// it). fn returns false to stop.
	Lookup(key []byte, fn func(*Record) bool) error
	// Scan calls fn for every row.
	Scan(fn func(*Record) bool) error
}

// Materialized is implemented by queries whose result table is queryable.
// Materialization returns nil when the query keeps none.
type Materialized interface {
	Materialization() Materialization
}

// PartitionOpener is implemented by stateful queries that open their stores
// for an assigned partition before its first record, so that pull queries
// answer from restored state right after a start or a rebalance.
type PartitionOpener interface {
	OpenPartition(ctx context.Context, partition int32) error
}

// SinkStore is the name of the key-value store that keeps a query's result
// table (its changelog: _confluent-ksql-<service>query_<id>-<SinkStore>-changelog).
const SinkStore = "Materialize"

// sinkMaterialization keeps the records a CTAS writes to its table topic in
// a key-value store of the input record's partition: the latest value per
// key, tombstones delete. It serves every table query (aggregates, joins,
// projections) the same way, whatever state their operators keep.
type sinkMaterialization struct {
	topic    string
	windowed bool
	stores   func() *state.Stores
}

// write stores the table records among a processed record's outputs.
func (m *sinkMaterialization) write(c *Context, outs []Record) error {
	if len(outs) == 0 {
		return nil
	}
	kv, err := c.State.KeyValue(c.Ctx, SinkStore, c.Source.Partition)
	if err != nil {
		return err
	}
	for i := range outs {
		r := &outs[i]
		if r.Topic != m.topic || r.Key == nil {
			continue // a table row has a key; nothing to look up otherwise
		}
		if err := kv.Put(r.Key, r.Value, r.Timestamp); err != nil { // nil value: delete
			return err
		}
	}
	return nil
}

// Lookup implements Materialization.
func (m *sinkMaterialization) Lookup(key []byte, fn func(*Record) bool) error {
	return m.read(func(r state.KeyValueReader, emit func(k, v []byte, ts int64) bool) error {
		if m.windowed {
			return r.Prefix(key, emit)
		}
		_, err := r.View(key, func(v []byte, ts int64) { emit(key, v, ts) })
		return err
	}, fn)
}

// Scan implements Materialization.
func (m *sinkMaterialization) Scan(fn func(*Record) bool) error {
	return m.read(func(r state.KeyValueReader, emit func(k, v []byte, ts int64) bool) error {
		return r.Range(nil, nil, emit)
	}, fn)
}

// read visits the store of each open partition with visit, turning what it
// emits into records for fn until fn returns false.
func (m *sinkMaterialization) read(visit func(state.KeyValueReader, func(k, v []byte, ts int64) bool) error, fn func(*Record) bool) error {
	st := m.stores()
	if st == nil {
		return fmt.Errorf("table %s: its query has no state yet", m.topic)
	}
	stopped := false
	return st.ReadKeyValue(SinkStore, func(r state.KeyValueReader) error {
		if stopped {
			return nil
		}
		return visit(r, func(k, v []byte, ts int64) bool {
			// The store's slices are only valid during the call; fn
			// decodes the record before returning.
			rec := Record{Topic: m.topic, Partition: r.Partition(), Key: k, Value: v, Timestamp: ts}
			if !fn(&rec) {
				stopped = true
			}
			return !stopped
		})
	})
}

// MaterializeSink makes the pipeline keep its table result queryable: a
// CTAS's records to its sink topic are also written to the SinkStore of
// the input partition. windowed says the table's keys carry a window.
func (p *Pipeline) MaterializeSink(windowed bool) {
	p.stateful = true
	p.mat = &sinkMaterialization{topic: p.sinkTopic, windowed: windowed, stores: func() *state.Stores { return p.state }}
}

// Materialization implements Materialized.
func (p *Pipeline) Materialization() Materialization {
	if p.mat == nil {
		return nil
	}
	return p.mat
}

// OpenPartition implements PartitionOpener: the result store of the
// partition is opened (restored from its changelog if needed).
func (p *Pipeline) OpenPartition(ctx context.Context, partition int32) error {
	if p.mat == nil || p.state == nil {
		return nil
	}
	_, err := p.state.KeyValue(ctx, SinkStore, partition)
	return err
}

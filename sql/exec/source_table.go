package exec

import (
	"context"
	"fmt"

	"github.com/sluicedata/sluice/sql/state"
)

// SourceTable is the hidden query that materializes a CREATE SOURCE TABLE
// (ksqlDB's CST_<TABLE>_<n>): it copies each record of the table's topic
// into the SinkStore of its partition (latest value per key, tombstones
// delete) and writes nothing, so pull queries read the topic's own records
// through the same Materialization as a CTAS. The store is backed by its
// changelog like every other store.
type SourceTable struct {
	id    string
	topic string
	state *state.Stores
	mat   *sinkMaterialization
	stats Stats
}

// NewSourceTable returns the materializing query of a source table over
// topic; windowed says the topic's keys carry a window.
func NewSourceTable(id, topic string, windowed bool) *SourceTable {
	t := &SourceTable{id: id, topic: topic}
	t.mat = &sinkMaterialization{topic: topic, windowed: windowed, stores: func() *state.Stores { return t.state }}
	return t
}

// ID implements Query.
func (t *SourceTable) ID() string { return t.id }

// SourceTopics implements Query.
func (t *SourceTable) SourceTopics() []string { return []string{t.topic} }

// SinkTopic implements Query: a source table writes no topic.
func (t *SourceTable) SinkTopic() string { return "" }

// Stats returns the query's counters.
func (t *SourceTable) Stats() *Stats { return &t.stats }

// Close implements Query.
func (t *SourceTable) Close() error { return nil }

// Stateful implements StatefulQuery.
func (t *SourceTable) Stateful() bool { return true }

// UseState implements StatefulQuery.
func (t *SourceTable) UseState(s *state.Stores) { t.state = s }

// Materialization implements Materialized.
func (t *SourceTable) Materialization() Materialization { return t.mat }

// OpenPartition implements PartitionOpener.
func (t *SourceTable) OpenPartition(ctx context.Context, partition int32) error {
	if t.state == nil {
		return nil
	}
	_, err := t.state.KeyValue(ctx, SinkStore, partition)
	return err
}

// Process implements Query. A record without a key is not a table row
// (ksqlDB drops it too); the value is stored as is and decoded by the pull
// query, so a bad value is reported there, not here.
func (t *SourceTable) Process(ctx context.Context, in Record) ([]Record, error) {
	t.stats.In.Add(1)
	if in.Key == nil {
		return nil, nil
	}
	if t.state == nil {
		return nil, fmt.Errorf("query %s: run without state stores (UseState)", t.id)
	}
	c := &Context{Ctx: ctx, QueryID: t.id, Source: &in, State: t.state, stats: &t.stats}
	if err := t.mat.write(c, []Record{{Topic: t.topic, Key: in.Key, Value: in.Value, Timestamp: in.Timestamp}}); err != nil {
		return nil, err
	}
	return nil, nil
}

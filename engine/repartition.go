package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicedata/sluice/sql/plan"
)

// ensureRepartitionTopics creates a query's repartition topics before it
// starts (and again on replay, in case they were deleted), each with the
// partition count of the topics it lines up with: created on first use by
// the producer they would get the broker's default count, and a key would
// no longer land in the partition its co-partitioned table row is in.
func (e *Engine) ensureRepartitionTopics(q *plan.Query) error {
	if len(q.RepartitionTopics) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, rt := range q.RepartitionTopics {
		if err := e.ensureTopic(ctx, rt.TopicSpec, e.sourcePartitions(ctx, rt.PartitionsOf)); err != nil {
			return fmt.Errorf("query %s: repartition topic: %w", q.ID, err)
		}
	}
	return nil
}

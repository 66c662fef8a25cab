package queries

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/state"
)

// The state of a stateful query (exec.StatefulQuery) lives in state.Stores
// under Config.StateDir. The runner owns them and follows the commit protocol
// of sql/state (see its package doc):
//
//   - at-least-once: produce outputs, flush (changelog writes are acknowledged
//     with them), Stores.Commit, then commit the input offsets;
//   - exactly_once_v2: changelog writes go through the GroupTransactSession,
//     so they are in the batch's transaction; Stores.Commit once it
//     committed, Stores.Abort when it aborted.
//
// Stores of revoked or lost partitions are closed by the processing
// goroutine at the start of its next batch (never from the group's
// callbacks, which may run while a batch is processed): their files stay,
// so a reassignment only replays the changelog tail.

// statefulQuery returns q as a StatefulQuery when it keeps state.
func statefulQuery(q exec.Query) (exec.StatefulQuery, bool) {
	sq, ok := q.(exec.StatefulQuery)
	if !ok || !sq.Stateful() {
		return nil, false
	}
	return sq, true
}

// sourcePartitions is the largest partition count of the query's source
// topics: the partition count of its stores' changelogs. ksqlDB requires
// co-partitioned sources, so the counts agree for a valid query.
func sourcePartitions(ctx context.Context, cfg *Config) (int32, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.ClientOptions...)...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	topics := cfg.Query.SourceTopics()
	td, err := kadm.NewClient(cl).ListTopics(ctx, topics...)
	if err != nil {
		return 0, fmt.Errorf("source topics %v: %w", topics, err)
	}
	var n int32
	for _, t := range topics {
		d, ok := td[t]
		if !ok || d.Err != nil {
			return 0, fmt.Errorf("source topic %s does not exist", t)
		}
		n = max(n, int32(len(d.Partitions)))
	}
	if n == 0 {
		return 0, fmt.Errorf("source topics %v have no partitions", topics)
	}
	return n, nil
}

// newStores opens (lazily: stores open on first use) the state of cfg.Query,
// writing changelogs through prod.
func newStores(cfg *Config, partitions int32, prod state.Producer) (*state.Stores, error) {
	return state.NewStores(state.Options{
		Dir:           filepath.Clean(cfg.StateDir),
		ServiceID:     cfg.ServiceID,
		QueryID:       cfg.Query.ID(),
		Producer:      prod,
		ClientOptions: append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.ClientOptions...),
		Partitions:    partitions,
		Logger:        cfg.Logger,
		Metrics:       cfg.StateMetrics,
	})
}

// partitionSet collects input partitions from the group's callbacks (which
// may run while a batch is processed) for the processing goroutine: the
// revoked ones to close their stores, the assigned ones to open them.
type partitionSet struct {
	mu         sync.Mutex
	partitions map[int32]bool
}

// add records partitions (a group callback).
func (v *partitionSet) add(_ context.Context, _ *kgo.Client, tps map[string][]int32) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.partitions == nil {
		v.partitions = map[int32]bool{}
	}
	for _, ps := range tps {
		for _, p := range ps {
			v.partitions[p] = true
		}
	}
}

// take returns and forgets the partitions recorded so far.
func (v *partitionSet) take() []int32 {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]int32, 0, len(v.partitions))
	for p := range v.partitions {
		out = append(out, p)
	}
	clear(v.partitions)
	return out
}

// syncPartitions closes the stores of partitions revoked since the last
// call, then opens those of newly assigned partitions when the query opens
// them ahead of their first record (exec.PartitionOpener: its table is
// queryable). A partition revoked and assigned again is closed and reopened,
// so its store replays what another member wrote in between.
func (r *Runner) syncPartitions(ctx context.Context) error {
	if r.stores == nil {
		return nil
	}
	var errs error
	for _, p := range r.revoked.take() {
		errs = errors.Join(errs, r.stores.ClosePartition(p))
	}
	assigned := r.assigned.take()
	if op, ok := r.cfg.Query.(exec.PartitionOpener); ok {
		for _, p := range assigned {
			if err := op.OpenPartition(ctx, p); err != nil {
				errs = errors.Join(errs, fmt.Errorf("open state of partition %d: %w", p, err))
			}
		}
	}
	return errs
}

// pollWait bounds a stateful query's wait for records, so that partitions
// assigned while no record arrives still get their stores opened.
const pollWait = 500 * time.Millisecond

// pollContext is ctx, bounded by pollWait for stateful queries.
func (r *Runner) pollContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.stores == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, pollWait)
}

// DeleteState removes a terminated query's local state directory.
func DeleteState(stateDir, queryID string) error {
	if stateDir == "" {
		return nil
	}
	return os.RemoveAll(filepath.Join(stateDir, queryID))
}

package queries

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

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

// revocations collects the input partitions the group took away, for the
// processing goroutine to close their stores.
type revocations struct {
	mu         sync.Mutex
	partitions map[int32]bool
}

// add records revoked or lost partitions (a group callback).
func (v *revocations) add(_ context.Context, _ *kgo.Client, tps map[string][]int32) {
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
func (v *revocations) take() []int32 {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]int32, 0, len(v.partitions))
	for p := range v.partitions {
		out = append(out, p)
	}
	clear(v.partitions)
	return out
}

// closeRevoked closes the stores of partitions revoked since the last call.
func (r *Runner) closeRevoked() error {
	if r.stores == nil {
		return nil
	}
	var errs error
	for _, p := range r.revoked.take() {
		errs = errors.Join(errs, r.stores.ClosePartition(p))
	}
	return errs
}

// DeleteState removes a terminated query's local state directory.
func DeleteState(stateDir, queryID string) error {
	if stateDir == "" {
		return nil
	}
	return os.RemoveAll(filepath.Join(stateDir, queryID))
}

package registry

// Writer election between registry nodes sharing one _schemas topic, as
// Confluent's schema.registry.group.id does: every node joins a Kafka
// consumer group subscribed to the storage topic (one partition, fetching
// paused, nothing committed), and the member the group assigns partition 0
// is the writer. On assignment it announces itself in the topic with a new
// epoch (SLUICE_WRITER); followers learn the writer's URL from that record
// and forward write requests to it over HTTP. Records of a deposed writer
// are fenced by their epoch (see store.go).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type election struct {
	s       *store
	node    string // random id of this node
	url     string // where this node serves the REST API
	cl      *kgo.Client
	logger  *slog.Logger
	mu      sync.Mutex
	epoch   int64 // > 0 while this node is the writer
	changed chan struct{}
}

// ElectionOption tunes the writer election.
type electionConfig struct {
	groupID           string
	url               string
	sessionTimeout    time.Duration
	heartbeatInterval time.Duration
}

func startElection(brokers []string, s *store, cfg electionConfig, logger *slog.Logger) (*election, error) {
	b := make([]byte, 8)
	rand.Read(b)
	e := &election{s: s, node: hex.EncodeToString(b), url: cfg.url, logger: logger, changed: make(chan struct{})}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumerGroup(cfg.groupID),
		kgo.ConsumeTopics(s.topic),
		// Eager rebalancing: every member gives up its partition when a
		// rebalance starts, so the old writer steps down before a new one
		// is chosen.
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.DisableAutoCommit(),
		kgo.SessionTimeout(cfg.sessionTimeout),
		kgo.HeartbeatInterval(cfg.heartbeatInterval),
		kgo.OnPartitionsAssigned(e.assigned),
		kgo.OnPartitionsRevoked(e.revoked),
		kgo.OnPartitionsLost(e.revoked),
	)
	if err != nil {
		return nil, err
	}
	// The group only elects: the store's own reader reads the topic.
	cl.PauseFetchTopics(s.topic)
	e.cl = cl
	return e, nil
}

func (e *election) assigned(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
	if !slices.Contains(m[e.s.topic], 0) {
		return
	}
	e.s.writeMu.Lock()
	defer e.s.writeMu.Unlock()
	// Read everything written so far, then announce the next epoch. An
	// announcement can lose to one of a node that has not yet seen the
	// rebalance (same epoch, written first); the node holding the
	// assignment then announces again, higher, until it wins.
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := e.s.sync(ctx)
		if err == nil {
			e.s.mu.RLock()
			epoch := e.s.st.writer.Epoch + 1
			e.s.mu.RUnlock()
			err = e.s.write(ctx, recordKey{Keytype: "SLUICE_WRITER", Epoch: epoch}, writerValue{Node: e.node, URL: e.url, Epoch: epoch})
			if err == nil {
				e.s.mu.RLock()
				won := e.s.st.writer.Node == e.node && e.s.st.writer.Epoch == epoch
				e.s.mu.RUnlock()
				if won {
					e.set(epoch)
					e.logger.Info("schema registry: this node is the writer", "url", e.url, "epoch", epoch)
					return
				}
				continue
			}
		}
		e.logger.Warn("schema registry: announcing the writer", "err", err, "attempt", attempt)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e *election) revoked(context.Context, *kgo.Client, map[string][]int32) {
	// Wait for a write in progress, then step down.
	e.s.writeMu.Lock()
	defer e.s.writeMu.Unlock()
	if e.writing() {
		e.logger.Info("schema registry: this node is no longer the writer")
	}
	e.set(0)
}

func (e *election) set(epoch int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.epoch = epoch
	close(e.changed)
	e.changed = make(chan struct{})
}

// writerEpoch returns this node's epoch while it is the writer.
func (e *election) writerEpoch() (int64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.epoch, e.epoch > 0
}

func (e *election) writing() bool {
	_, ok := e.writerEpoch()
	return ok
}

func (e *election) close() {
	e.cl.Close() // leaves the group: another node takes over at once
}

// IsWriter tells whether this node writes the storage topic: always true
// without an election.
func (r *Registry) IsWriter() bool {
	return r.s.elect == nil || r.s.elect.writing()
}

// WriterURL is the REST URL of the elected writer ("" if none is known or
// there is no election).
func (r *Registry) WriterURL() string {
	if r.s.elect == nil {
		return ""
	}
	if r.s.elect.writing() {
		return r.s.elect.url
	}
	return r.s.writerURL()
}

// AwaitWriter waits until this node knows the elected writer (itself, or
// another node whose announcement it read) and returns the writer's URL.
func (r *Registry) AwaitWriter(ctx context.Context) (string, error) {
	if r.s.elect == nil {
		return "", fmt.Errorf("schema registry: no writer election configured")
	}
	var url string
	err := r.awaitElection(ctx, func() bool {
		url = r.WriterURL()
		return r.IsWriter() || url != "" && url != r.s.elect.url
	})
	return url, err
}

// awaitElection waits until cond holds; it is checked again whenever the
// node's writer role or the stored state changes.
func (r *Registry) awaitElection(ctx context.Context, cond func() bool) error {
	e := r.s.elect
	for {
		e.mu.Lock()
		ch := e.changed
		e.mu.Unlock()
		r.s.mu.RLock()
		applied := r.s.applied
		r.s.mu.RUnlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-applied:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

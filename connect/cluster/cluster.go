// Package cluster shares connectors and tasks among the workers of one
// Connect cluster through the Kafka group protocol, as Kafka Connect's
// distributed herder does: every worker joins the group (protocol type
// "connect"), the member the coordinator elects leader assigns connectors and
// tasks round robin, and each worker runs what it was assigned. One worker
// alone is assigned everything.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Task names one task of a connector.
type Task struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// Assignment is what one worker runs.
type Assignment struct {
	Generation int32    `json:"generation"`
	Leader     string   `json:"leader"`
	LeaderURL  string   `json:"leader_url"`
	Connectors []string `json:"connectors"`
	Tasks      []Task   `json:"tasks"`
	// Work is what the leader assigned; a worker whose configs describe
	// other work asks for a new assignment.
	Work Work `json:"work"`
}

// Owns reports whether the assignment holds a connector.
func (a *Assignment) Owns(connector string) bool {
	for _, c := range a.Connectors {
		if c == connector {
			return true
		}
	}
	return false
}

// OwnsTask reports whether the assignment holds a task.
func (a *Assignment) OwnsTask(connector string, task int) bool {
	for _, t := range a.Tasks {
		if t.Connector == connector && t.Task == task {
			return true
		}
	}
	return false
}

// Work is the cluster's work as the leader sees it: connectors and their
// task counts.
type Work map[string]int

// Equal reports whether two views of the work are the same.
func (w Work) Equal(o Work) bool {
	if len(w) != len(o) {
		return false
	}
	for k, v := range w {
		if ov, ok := o[k]; !ok || ov != v {
			return false
		}
	}
	return true
}

// Options configure a Member.
type Options struct {
	Brokers []string
	Group   string
	// URL is this worker's REST address, shared with the others.
	URL string
	// Work returns the current work; the leader calls it to assign.
	Work func() Work
	// OnAssign receives each new assignment (from the member's goroutine).
	OnAssign func(Assignment)
	Logger   *slog.Logger
	// SessionTimeout (default 10s) and Heartbeat (default 1s).
	SessionTimeout, Heartbeat time.Duration
}

// Member is this worker's membership of the group.
type Member struct {
	opts   Options
	cl     *kgo.Client
	rejoin chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	memberID string
	gen      int32
}

type metadata struct {
	URL string `json:"url"`
}

const protocolType, protocolName = "connect", "sluice-v1"

// Join starts taking part in the group. Assignments arrive through
// OnAssign until Close.
func Join(opts Options) (*Member, error) {
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 10 * time.Second
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = time.Second
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(opts.Brokers...))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Member{opts: opts, cl: cl, rejoin: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go m.run(ctx)
	return m, nil
}

// Rebalance asks for a new assignment (the work changed).
func (m *Member) Rebalance() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// Close leaves the group.
func (m *Member) Close() {
	m.cancel()
	<-m.done
	m.mu.Lock()
	id := m.memberID
	m.mu.Unlock()
	if id != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group = m.opts.Group
		req.MemberID = id
		mem := kmsg.NewLeaveGroupRequestMember()
		mem.MemberID = id
		req.Members = append(req.Members, mem)
		req.RequestWith(ctx, m.cl)
		cancel()
	}
	m.cl.Close()
}

func (m *Member) run(ctx context.Context) {
	defer close(m.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := m.round(ctx); err != nil && ctx.Err() == nil {
			m.opts.Logger.Warn("connect cluster: group round", "group", m.opts.Group, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			if backoff < 5*time.Second {
				backoff *= 2
			}
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// round joins, syncs and heartbeats until a rebalance is needed.
func (m *Member) round(ctx context.Context) error {
	meta, _ := json.Marshal(metadata{URL: m.opts.URL})
	m.mu.Lock()
	memberID := m.memberID
	m.mu.Unlock()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group = m.opts.Group
	join.SessionTimeoutMillis = int32(m.opts.SessionTimeout.Milliseconds())
	join.RebalanceTimeoutMillis = 30000
	join.ProtocolType = protocolType
	join.MemberID = memberID
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = protocolName, meta
	join.Protocols = append(join.Protocols, p)
	jr, err := join.RequestWith(ctx, m.cl)
	if err != nil {
		return fmt.Errorf("join group: %w", err)
	}
	if err := kerr.ErrorForCode(jr.ErrorCode); err != nil {
		if errors.Is(err, kerr.MemberIDRequired) {
			m.setMember(jr.MemberID, -1)
			return nil // join again with the id
		}
		if errors.Is(err, kerr.UnknownMemberID) {
			m.setMember("", -1)
		}
		return fmt.Errorf("join group: %w", err)
	}
	m.setMember(jr.MemberID, jr.Generation)

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group = m.opts.Group
	sync.Generation = jr.Generation
	sync.MemberID = jr.MemberID
	pt, pn := protocolType, protocolName
	sync.ProtocolType, sync.Protocol = &pt, &pn
	if jr.LeaderID == jr.MemberID {
		for id, a := range m.assign(jr) {
			b, _ := json.Marshal(a)
			ga := kmsg.NewSyncGroupRequestGroupAssignment()
			ga.MemberID, ga.MemberAssignment = id, b
			sync.GroupAssignment = append(sync.GroupAssignment, ga)
		}
	}
	sr, err := sync.RequestWith(ctx, m.cl)
	if err != nil {
		return fmt.Errorf("sync group: %w", err)
	}
	if err := kerr.ErrorForCode(sr.ErrorCode); err != nil {
		if errors.Is(err, kerr.RebalanceInProgress) {
			return nil
		}
		return fmt.Errorf("sync group: %w", err)
	}
	var a Assignment
	if err := json.Unmarshal(sr.MemberAssignment, &a); err != nil {
		return fmt.Errorf("assignment %q: %w", sr.MemberAssignment, err)
	}
	m.opts.OnAssign(a)

	t := time.NewTicker(m.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.rejoin:
			return nil
		case <-t.C:
		}
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Group, hb.Generation, hb.MemberID = m.opts.Group, jr.Generation, jr.MemberID
		hr, err := hb.RequestWith(ctx, m.cl)
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		if err := kerr.ErrorForCode(hr.ErrorCode); err != nil {
			if errors.Is(err, kerr.UnknownMemberID) {
				m.setMember("", -1)
			}
			if errors.Is(err, kerr.RebalanceInProgress) {
				return nil
			}
			return fmt.Errorf("heartbeat: %w", err)
		}
	}
}

func (m *Member) setMember(id string, gen int32) {
	m.mu.Lock()
	m.memberID, m.gen = id, gen
	m.mu.Unlock()
}

// assign spreads connectors, then tasks, round robin over the members
// sorted by id (Kafka Connect's eager round-robin assignor).
func (m *Member) assign(jr *kmsg.JoinGroupResponse) map[string]Assignment {
	ids := make([]string, 0, len(jr.Members))
	urls := map[string]string{}
	for _, mem := range jr.Members {
		ids = append(ids, mem.MemberID)
		var md metadata
		json.Unmarshal(mem.ProtocolMetadata, &md)
		urls[mem.MemberID] = md.URL
	}
	sort.Strings(ids)
	out := map[string]Assignment{}
	for _, id := range ids {
		out[id] = Assignment{Generation: jr.Generation, Leader: jr.LeaderID, LeaderURL: urls[jr.LeaderID], Connectors: []string{}, Tasks: []Task{}}
	}
	work := m.opts.Work()
	for id, a := range out {
		a.Work = work
		out[id] = a
	}
	names := make([]string, 0, len(work))
	for n := range work {
		names = append(names, n)
	}
	sort.Strings(names)
	i := 0
	for _, n := range names {
		a := out[ids[i%len(ids)]]
		a.Connectors = append(a.Connectors, n)
		out[ids[i%len(ids)]] = a
		i++
	}
	for _, n := range names {
		for t := range work[n] {
			a := out[ids[i%len(ids)]]
			a.Tasks = append(a.Tasks, Task{n, t})
			out[ids[i%len(ids)]] = a
			i++
		}
	}
	return out
}

package storage

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Instance states, as Kafka Connect reports them.
const (
	StateUnassigned = "UNASSIGNED"
	StateRunning    = "RUNNING"
	StatePaused     = "PAUSED"
	StateFailed     = "FAILED"
	StateRestarting = "RESTARTING"
	StateStopped    = "STOPPED"
)

// Status is the state of one connector or task instance.
type Status struct {
	State      string `json:"state"`
	Trace      string `json:"trace,omitempty"`
	WorkerID   string `json:"worker_id"`
	Generation int    `json:"generation"`
}

// TopicUse records that a connector produced to or consumed from a topic
// (KIP-558 active topics).
type TopicUse struct {
	Name              string `json:"name"`
	Connector         string `json:"connector"`
	Task              int    `json:"task"`
	DiscoverTimestamp int64  `json:"discoverTimestamp"`
}

// Statuses is the view of the status topic.
//
//	status-connector-<c>               {state, trace, worker_id, generation}
//	status-task-<c>-<n>                {state, trace, worker_id, generation}
//	status-topic-<topic>:connector-<c> {"topic": {name, connector, task, discoverTimestamp}}
//
// This worker's own writes are applied when made and ignored when read back,
// so a late read cannot bring back an older state of its instances.
type Statuses struct {
	log      *topicLog
	workerID string

	mu         sync.RWMutex
	connectors map[string]Status
	tasks      map[string]map[int]Status
	topics     map[string]map[string]TopicUse // connector -> topic
	logger     *slog.Logger
}

// OpenStatuses creates the topic when missing and reads it to its end.
func OpenStatuses(ctx context.Context, brokers []string, topic string, partitions int32, workerID string, logger *slog.Logger) (*Statuses, error) {
	s := &Statuses{workerID: workerID, connectors: map[string]Status{}, tasks: map[string]map[int]Status{},
		topics: map[string]map[string]TopicUse{}, logger: logger}
	l, err := openLog(ctx, brokers, TopicSpec{Name: topic, Partitions: partitions}, false, logger, s.apply)
	if err != nil {
		return nil, err
	}
	s.log = l
	return s, nil
}

// Close stops tailing the topic.
func (s *Statuses) Close() { s.log.close() }

func (s *Statuses) apply(r *kgo.Record) {
	key := string(r.Key)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.HasPrefix(key, "status-connector-"):
		name := strings.TrimPrefix(key, "status-connector-")
		if r.Value == nil {
			delete(s.connectors, name)
			return
		}
		var st Status
		if err := json.Unmarshal(r.Value, &st); err != nil {
			s.logger.Warn("connect: skipping status record", "key", key, "err", err)
			return
		}
		if cur, ok := s.connectors[name]; ok && stale(cur, st, s.workerID) {
			return
		}
		s.connectors[name] = st
	case strings.HasPrefix(key, "status-task-"):
		rest := strings.TrimPrefix(key, "status-task-")
		i := strings.LastIndexByte(rest, '-')
		if i < 0 {
			return
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil {
			return
		}
		name := rest[:i]
		if r.Value == nil {
			delete(s.tasks[name], n)
			return
		}
		var st Status
		if err := json.Unmarshal(r.Value, &st); err != nil {
			s.logger.Warn("connect: skipping status record", "key", key, "err", err)
			return
		}
		if cur, ok := s.tasks[name][n]; ok && stale(cur, st, s.workerID) {
			return
		}
		if s.tasks[name] == nil {
			s.tasks[name] = map[int]Status{}
		}
		s.tasks[name][n] = st
	case strings.HasPrefix(key, "status-topic-"):
		rest := strings.TrimPrefix(key, "status-topic-")
		i := strings.Index(rest, ":connector-")
		if i < 0 {
			return
		}
		topic, name := rest[:i], rest[i+len(":connector-"):]
		if r.Value == nil {
			delete(s.topics[name], topic)
			return
		}
		var v struct {
			Topic TopicUse `json:"topic"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return
		}
		if s.topics[name] == nil {
			s.topics[name] = map[string]TopicUse{}
		}
		s.topics[name][topic] = v.Topic
	}
}

// stale reports whether a status read from the topic must not replace the
// current one: it is our own write read back (applied when made), or it was
// written under an older group generation than the current one (a worker
// that had not yet seen a rebalance), as Kafka Connect resolves them.
func stale(cur, incoming Status, me string) bool {
	if incoming.WorkerID == me && cur.WorkerID == me {
		return true
	}
	return incoming.Generation < cur.Generation
}

// PutConnector records a connector's status (here and in the topic).
func (s *Statuses) PutConnector(ctx context.Context, name string, st Status) error {
	s.mu.Lock()
	if cur, ok := s.connectors[name]; !ok || st.Generation >= cur.Generation {
		s.connectors[name] = st
	}
	s.mu.Unlock()
	_, err := s.log.write(ctx, []byte("status-connector-"+name), marshal(st))
	return err
}

// PutTask records a task's status.
func (s *Statuses) PutTask(ctx context.Context, name string, task int, st Status) error {
	s.mu.Lock()
	if s.tasks[name] == nil {
		s.tasks[name] = map[int]Status{}
	}
	if cur, ok := s.tasks[name][task]; !ok || st.Generation >= cur.Generation {
		s.tasks[name][task] = st
	}
	s.mu.Unlock()
	_, err := s.log.write(ctx, []byte("status-task-"+name+"-"+strconv.Itoa(task)), marshal(st))
	return err
}

// DeleteTask forgets a task's status (a connector shrank or was deleted).
func (s *Statuses) DeleteTask(ctx context.Context, name string, task int) error {
	s.mu.Lock()
	delete(s.tasks[name], task)
	s.mu.Unlock()
	_, err := s.log.write(ctx, []byte("status-task-"+name+"-"+strconv.Itoa(task)), nil)
	return err
}

// DeleteConnector forgets a connector's status and its tasks' statuses.
func (s *Statuses) DeleteConnector(ctx context.Context, name string) error {
	s.mu.Lock()
	tasks := s.tasks[name]
	delete(s.connectors, name)
	delete(s.tasks, name)
	s.mu.Unlock()
	for n := range tasks {
		if _, err := s.log.write(ctx, []byte("status-task-"+name+"-"+strconv.Itoa(n)), nil); err != nil {
			return err
		}
	}
	_, err := s.log.write(ctx, []byte("status-connector-"+name), nil)
	return err
}

// Connector returns a connector's status.
func (s *Statuses) Connector(name string) (Status, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.connectors[name]
	return st, ok
}

// Task returns a task's status.
func (s *Statuses) Task(name string, task int) (Status, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.tasks[name][task]
	return st, ok
}

// UseTopic records that a connector's task used topic, once per topic.
func (s *Statuses) UseTopic(ctx context.Context, name string, task int, topic string) error {
	s.mu.Lock()
	if _, ok := s.topics[name][topic]; ok {
		s.mu.Unlock()
		return nil
	}
	u := TopicUse{Name: topic, Connector: name, Task: task, DiscoverTimestamp: time.Now().UnixMilli()}
	if s.topics[name] == nil {
		s.topics[name] = map[string]TopicUse{}
	}
	s.topics[name][topic] = u
	s.mu.Unlock()
	_, err := s.log.write(ctx, []byte("status-topic-"+topic+":connector-"+name), marshal(map[string]TopicUse{"topic": u}))
	return err
}

// Topics lists the topics a connector used, sorted.
func (s *Statuses) Topics(name string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.topics[name]))
	for t := range s.topics[name] {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// ResetTopics forgets a connector's active topics.
func (s *Statuses) ResetTopics(ctx context.Context, name string) error {
	s.mu.Lock()
	topics := s.topics[name]
	delete(s.topics, name)
	s.mu.Unlock()
	for t := range topics {
		if _, err := s.log.write(ctx, []byte("status-topic-"+t+":connector-"+name), nil); err != nil {
			return err
		}
	}
	return nil
}

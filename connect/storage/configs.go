package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
)

// TargetState is what a connector should be doing, as stored in
// target-state-<c> records.
type TargetState string

// Target states, spelled as Kafka Connect stores them.
const (
	Started TargetState = "STARTED"
	Paused  TargetState = "PAUSED"
	Stopped TargetState = "STOPPED"
)

// ConnectorState is a connector as the configs topic describes it.
type ConnectorState struct {
	Name   string
	Config connect.Config
	Target TargetState
	// Tasks are the committed task configs (those before the last
	// commit-<c> record). Empty after a stop or before the first commit.
	Tasks []connect.Config
	// Committed is true once a commit-<c> record was read for the connector.
	Committed bool
}

// Restart is a restart-connector-<c> request.
type Restart struct {
	Connector    string
	IncludeTasks bool
	OnlyFailed   bool
}

// Configs is the view of the configs topic (1 partition): connector configs,
// task configs made visible by commit records, target states.
//
// Key/value formats (Kafka Connect's KafkaConfigBackingStore):
//
//	connector-<c>         {"properties": {...}}       null deletes
//	task-<c>-<n>          {"properties": {...}}
//	commit-<c>            {"tasks": N}
//	target-state-<c>      {"state": "STARTED|PAUSED", "state.v2": "STARTED|PAUSED|STOPPED"}
//	restart-connector-<c> {"include-tasks": bool, "only-failed": bool}
type Configs struct {
	log *topicLog

	mu         sync.RWMutex
	connectors map[string]*ConnectorState
	targets    map[string]TargetState            // may precede the connector record
	pending    map[string]map[int]connect.Config // task configs not yet committed
	onChange   func(connector string)
	onRestart  func(Restart)
	logger     *slog.Logger
}

// OpenConfigs creates the topic when missing, reads it to its end and keeps
// tailing it. onChange is called (from the reader goroutine) after a record
// changed connector c; onRestart when a restart request is read.
func OpenConfigs(ctx context.Context, brokers []string, topic string, logger *slog.Logger, onChange func(string), onRestart func(Restart)) (*Configs, error) {
	c := &Configs{connectors: map[string]*ConnectorState{}, targets: map[string]TargetState{},
		pending: map[string]map[int]connect.Config{}, logger: logger}
	c.onChange, c.onRestart = func(string) {}, func(Restart) {}
	l, err := openLog(ctx, brokers, TopicSpec{Name: topic, Partitions: 1}, false, logger, c.apply)
	if err != nil {
		return nil, err
	}
	c.log = l
	c.mu.Lock()
	if onChange != nil {
		c.onChange = onChange
	}
	if onRestart != nil {
		c.onRestart = onRestart
	}
	c.mu.Unlock()
	return c, nil
}

// Close stops tailing the topic.
func (c *Configs) Close() { c.log.close() }

// ReadToEnd waits until everything written before the call has been applied.
func (c *Configs) ReadToEnd(ctx context.Context) error { return c.log.readToEnd(ctx) }

type propertiesValue struct {
	Properties map[string]string `json:"properties"`
}

type commitValue struct {
	Tasks int `json:"tasks"`
}

type targetValue struct {
	State   string `json:"state"`
	StateV2 string `json:"state.v2,omitempty"`
}

type restartValue struct {
	IncludeTasks bool `json:"include-tasks"`
	OnlyFailed   bool `json:"only-failed"`
}

func (c *Configs) apply(r *kgo.Record) {
	key := string(r.Key)
	c.mu.Lock()
	changed, restart, err := c.applyLocked(key, r.Value)
	notify, notifyRestart := c.onChange, c.onRestart
	c.mu.Unlock()
	if err != nil {
		c.logger.Warn("connect: skipping config record", "key", key, "offset", r.Offset, "err", err)
		return
	}
	if restart != nil {
		notifyRestart(*restart)
	}
	if changed != "" {
		notify(changed)
	}
}

func (c *Configs) applyLocked(key string, value []byte) (changed string, restart *Restart, err error) {
	switch {
	case strings.HasPrefix(key, "connector-"):
		name := strings.TrimPrefix(key, "connector-")
		if value == nil {
			delete(c.connectors, name)
			delete(c.targets, name)
			delete(c.pending, name)
			return name, nil, nil
		}
		var v propertiesValue
		if err := json.Unmarshal(value, &v); err != nil {
			return "", nil, err
		}
		cs := c.connectors[name]
		if cs == nil {
			cs = &ConnectorState{Name: name, Target: Started}
			if t, ok := c.targets[name]; ok {
				cs.Target = t
			}
			c.connectors[name] = cs
		}
		cs.Config = v.Properties
		return name, nil, nil
	case strings.HasPrefix(key, "task-"):
		rest := strings.TrimPrefix(key, "task-")
		i := strings.LastIndexByte(rest, '-')
		if i < 0 {
			return "", nil, fmt.Errorf("task key without a task number")
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil {
			return "", nil, fmt.Errorf("task number: %w", err)
		}
		name := rest[:i]
		if value == nil {
			return "", nil, nil
		}
		var v propertiesValue
		if err := json.Unmarshal(value, &v); err != nil {
			return "", nil, err
		}
		if c.pending[name] == nil {
			c.pending[name] = map[int]connect.Config{}
		}
		c.pending[name][n] = v.Properties
		return "", nil, nil
	case strings.HasPrefix(key, "commit-"):
		name := strings.TrimPrefix(key, "commit-")
		if value == nil {
			return "", nil, nil
		}
		var v commitValue
		if err := json.Unmarshal(value, &v); err != nil {
			return "", nil, err
		}
		cs := c.connectors[name]
		if cs == nil {
			delete(c.pending, name)
			return "", nil, nil
		}
		tasks := make([]connect.Config, 0, v.Tasks)
		for i := range v.Tasks {
			tc, ok := c.pending[name][i]
			if !ok && i < len(cs.Tasks) {
				tc = cs.Tasks[i] // an unchanged task config may not be rewritten
			}
			if tc == nil {
				return "", nil, fmt.Errorf("commit of %d tasks but task %d has no config", v.Tasks, i)
			}
			tasks = append(tasks, tc)
		}
		delete(c.pending, name)
		cs.Tasks, cs.Committed = tasks, true
		return name, nil, nil
	case strings.HasPrefix(key, "target-state-"):
		name := strings.TrimPrefix(key, "target-state-")
		if value == nil {
			delete(c.targets, name)
			return "", nil, nil
		}
		var v targetValue
		if err := json.Unmarshal(value, &v); err != nil {
			return "", nil, err
		}
		t := TargetState(v.StateV2)
		if t == "" {
			t = TargetState(v.State)
		}
		switch t {
		case Started, Paused, Stopped:
		default:
			return "", nil, fmt.Errorf("unknown target state %q", t)
		}
		c.targets[name] = t
		if cs := c.connectors[name]; cs != nil {
			cs.Target = t
			return name, nil, nil
		}
		return "", nil, nil
	case strings.HasPrefix(key, "restart-connector-"):
		name := strings.TrimPrefix(key, "restart-connector-")
		if value == nil {
			return "", nil, nil
		}
		var v restartValue
		if err := json.Unmarshal(value, &v); err != nil {
			return "", nil, err
		}
		return "", &Restart{Connector: name, IncludeTasks: v.IncludeTasks, OnlyFailed: v.OnlyFailed}, nil
	}
	return "", nil, nil // session keys, fencing, loggers: not ours
}

// Connector returns a copy of connector name's state.
func (c *Configs) Connector(name string) (ConnectorState, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cs, ok := c.connectors[name]
	if !ok {
		return ConnectorState{}, false
	}
	return cs.copy(), true
}

func (cs *ConnectorState) copy() ConnectorState {
	out := *cs
	out.Config = copyConfig(cs.Config)
	out.Tasks = make([]connect.Config, len(cs.Tasks))
	for i, t := range cs.Tasks {
		out.Tasks[i] = copyConfig(t)
	}
	return out
}

func copyConfig(c connect.Config) connect.Config {
	out := make(connect.Config, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Names lists the connectors, sorted.
func (c *Configs) Names() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.connectors))
	for n := range c.connectors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All returns a copy of every connector's state.
func (c *Configs) All() []ConnectorState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]ConnectorState, 0, len(c.connectors))
	for _, cs := range c.connectors {
		out = append(out, cs.copy())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain types are marshalled
	}
	return b
}

// PutConnector writes a connector's config and waits until it is applied.
func (c *Configs) PutConnector(ctx context.Context, name string, cfg connect.Config) error {
	return c.log.writeAndWait(ctx, []byte("connector-"+name), marshal(propertiesValue{Properties: cfg}))
}

// PutTarget writes a connector's target state. STOPPED is written as PAUSED
// in the old "state" field, as Kafka Connect does for older workers.
func (c *Configs) PutTarget(ctx context.Context, name string, t TargetState) error {
	old := t
	if t == Stopped {
		old = Paused
	}
	return c.log.writeAndWait(ctx, []byte("target-state-"+name), marshal(targetValue{State: string(old), StateV2: string(t)}))
}

// PutTasks writes the task configs of a connector followed by the commit
// record that makes them visible.
func (c *Configs) PutTasks(ctx context.Context, name string, tasks []connect.Config) error {
	for i, t := range tasks {
		if _, err := c.log.write(ctx, []byte(fmt.Sprintf("task-%s-%d", name, i)), marshal(propertiesValue{Properties: t})); err != nil {
			return err
		}
	}
	return c.log.writeAndWait(ctx, []byte("commit-"+name), marshal(commitValue{Tasks: len(tasks)}))
}

// DeleteConnector writes tombstones for the connector and its target state.
func (c *Configs) DeleteConnector(ctx context.Context, name string) error {
	if _, err := c.log.write(ctx, []byte("target-state-"+name), nil); err != nil {
		return err
	}
	return c.log.writeAndWait(ctx, []byte("connector-"+name), nil)
}

// RequestRestart writes a restart-connector-<c> record.
func (c *Configs) RequestRestart(ctx context.Context, r Restart) error {
	return c.log.writeAndWait(ctx, []byte("restart-connector-"+r.Connector), marshal(restartValue{IncludeTasks: r.IncludeTasks, OnlyFailed: r.OnlyFailed}))
}

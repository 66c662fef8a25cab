package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/storage"
)

// Error is a failure with the HTTP status Kafka Connect's REST API answers
// it with.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return e.Message }

func notFound(name string) error {
	return &Error{http.StatusNotFound, fmt.Sprintf("Connector %s not found", name)}
}

func badRequest(format string, args ...any) error {
	return &Error{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// TaskID names a task.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// Info is a connector's definition (ConnectorInfo).
type Info struct {
	Name   string         `json:"name"`
	Config connect.Config `json:"config"`
	Tasks  []TaskID       `json:"tasks"`
	Type   string         `json:"type"`
}

// InstanceStatus is a connector's or task's state (ConnectorStateInfo).
type InstanceStatus struct {
	ID       *int   `json:"id,omitempty"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// Status is GET /connectors/{c}/status.
type Status struct {
	Name      string           `json:"name"`
	Connector InstanceStatus   `json:"connector"`
	Tasks     []InstanceStatus `json:"tasks"`
	Type      string           `json:"type"`
}

// TaskInfo is one entry of GET /connectors/{c}/tasks.
type TaskInfo struct {
	ID     TaskID         `json:"id"`
	Config connect.Config `json:"config"`
}

// Offset is one entry of GET /connectors/{c}/offsets.
type Offset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

func kindOf(cfg connect.Config) string {
	if p, ok := connect.Lookup(cfg["connector.class"]); ok {
		switch {
		case p.NewSource != nil:
			return string(connect.SourceKind)
		case p.NewSink != nil:
			return string(connect.SinkKind)
		}
	}
	return "unknown"
}

// Connectors lists connector names, sorted.
func (w *Worker) Connectors() []string { return w.configs.Names() }

// Connector returns a connector's definition.
func (w *Worker) Connector(name string) (Info, error) {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return Info{}, notFound(name)
	}
	info := Info{Name: name, Config: cs.Config, Tasks: []TaskID{}, Type: kindOf(cs.Config)}
	for i := range cs.Tasks {
		info.Tasks = append(info.Tasks, TaskID{name, i})
	}
	return info, nil
}

// Validate checks cfg for the connector plugin class, as
// PUT /connector-plugins/{class}/config/validate does.
func (w *Worker) Validate(class string, cfg connect.Config) (*Validation, error) {
	p, ok := connect.Lookup(class)
	if !ok || (p.NewSource == nil && p.NewSink == nil) {
		return nil, badRequest("Failed to find any class that implements Connector and which name matches %s", class)
	}
	return w.validator.validate(p, cfg), nil
}

// checkConfig validates a config about to be written and turns problems
// into a 400 naming every bad field.
func (w *Worker) checkConfig(name string, cfg connect.Config) error {
	class := strings.TrimSpace(cfg["connector.class"])
	if class == "" {
		return badRequest("Connector config %v contains no connector type", cfg)
	}
	p, ok := connect.Lookup(class)
	if !ok || (p.NewSource == nil && p.NewSink == nil) {
		return badRequest("Failed to find any class that implements Connector and which name matches %s, available connectors are: %s", class, strings.Join(connectorClasses(), ", "))
	}
	v := w.validator.validate(p, cfg)
	if v.ErrorCount > 0 {
		errs := v.Errors()
		return badRequest("Connector configuration is invalid and contains the following %d error(s):\n%s\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
			len(errs), strings.Join(errs, "\n"))
	}
	return nil
}

func connectorClasses() []string {
	var out []string
	for _, p := range connect.Plugins() {
		if p.NewSource != nil || p.NewSink != nil {
			out = append(out, PluginClass(p))
		}
	}
	sort.Strings(out)
	return out
}

// prepare puts the name in the config (or checks it matches) and validates.
func (w *Worker) prepare(name string, cfg connect.Config) (connect.Config, error) {
	if strings.TrimSpace(name) == "" {
		return nil, badRequest("Connector name is required")
	}
	if strings.Contains(name, "/") {
		return nil, badRequest("connector name should not contain '/'")
	}
	out := connect.Config{}
	for k, v := range cfg {
		out[k] = v
	}
	if n, ok := out["name"]; ok && n != name {
		return nil, badRequest("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)
	}
	out["name"] = name
	return out, w.checkConfig(name, out)
}

// Create adds a connector; initial is RUNNING (default), PAUSED or STOPPED.
func (w *Worker) Create(ctx context.Context, name string, cfg connect.Config, initial string) (Info, error) {
	var target storage.TargetState
	switch strings.ToUpper(initial) {
	case "", "RUNNING":
		target = storage.Started
	case "PAUSED":
		target = storage.Paused
	case "STOPPED":
		target = storage.Stopped
	default:
		return Info{}, badRequest("Invalid initial state %s: must be one of RUNNING, PAUSED, STOPPED", initial)
	}
	if _, ok := w.configs.Connector(name); ok {
		return Info{}, &Error{http.StatusConflict, fmt.Sprintf("Connector %s already exists", name)}
	}
	cfg, err := w.prepare(name, cfg)
	if err != nil {
		return Info{}, err
	}
	if target != storage.Started {
		if err := w.configs.PutTarget(ctx, name, target); err != nil {
			return Info{}, err
		}
	}
	if err := w.configs.PutConnector(ctx, name, cfg); err != nil {
		return Info{}, err
	}
	if err := w.sync(ctx); err != nil {
		return Info{}, err
	}
	return w.Connector(name)
}

// Put creates or replaces a connector's config; created reports which.
func (w *Worker) Put(ctx context.Context, name string, cfg connect.Config) (info Info, created bool, err error) {
	cfg, err = w.prepare(name, cfg)
	if err != nil {
		return Info{}, false, err
	}
	_, exists := w.configs.Connector(name)
	if err := w.configs.PutConnector(ctx, name, cfg); err != nil {
		return Info{}, false, err
	}
	if err := w.sync(ctx); err != nil {
		return Info{}, false, err
	}
	info, err = w.Connector(name)
	return info, !exists, err
}

// Patch merges patch into a connector's config; a nil value removes the key.
func (w *Worker) Patch(ctx context.Context, name string, patch map[string]*string) (Info, error) {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return Info{}, notFound(name)
	}
	cfg := cs.Config
	for k, v := range patch {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = *v
		}
	}
	info, _, err := w.Put(ctx, name, cfg)
	return info, err
}

// Config returns a connector's config.
func (w *Worker) Config(name string) (connect.Config, error) {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return nil, notFound(name)
	}
	return cs.Config, nil
}

// Delete removes a connector and stops its tasks.
func (w *Worker) Delete(ctx context.Context, name string) error {
	if _, ok := w.configs.Connector(name); !ok {
		return notFound(name)
	}
	if err := w.configs.DeleteConnector(ctx, name); err != nil {
		return err
	}
	return w.sync(ctx)
}

// Status returns a connector's and its tasks' states.
func (w *Worker) Status(name string) (Status, error) {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return Status{}, notFound(name)
	}
	st := Status{Name: name, Tasks: []InstanceStatus{}, Type: kindOf(cs.Config)}
	if s, ok := w.statuses.Connector(name); ok {
		st.Connector = InstanceStatus{State: s.State, WorkerID: s.WorkerID, Trace: s.Trace}
	} else {
		st.Connector = InstanceStatus{State: storage.StateUnassigned, WorkerID: w.opts.WorkerID}
	}
	for i := range cs.Tasks {
		st.Tasks = append(st.Tasks, w.taskStatus(name, i))
	}
	return st, nil
}

func (w *Worker) taskStatus(name string, i int) InstanceStatus {
	id := i
	if s, ok := w.statuses.Task(name, i); ok {
		return InstanceStatus{ID: &id, State: s.State, WorkerID: s.WorkerID, Trace: s.Trace}
	}
	return InstanceStatus{ID: &id, State: storage.StateUnassigned, WorkerID: w.opts.WorkerID}
}

// TaskStatus returns one task's state.
func (w *Worker) TaskStatus(name string, task int) (InstanceStatus, error) {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return InstanceStatus{}, notFound(name)
	}
	if task < 0 || task >= len(cs.Tasks) {
		return InstanceStatus{}, &Error{http.StatusNotFound, fmt.Sprintf("No status found for task %s-%d", name, task)}
	}
	return w.taskStatus(name, task), nil
}

// Tasks returns a connector's task configs.
func (w *Worker) Tasks(name string) ([]TaskInfo, error) {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return nil, notFound(name)
	}
	out := []TaskInfo{}
	for i, tc := range cs.Tasks {
		out = append(out, TaskInfo{ID: TaskID{name, i}, Config: tc})
	}
	return out, nil
}

// RestartTask restarts one task.
func (w *Worker) RestartTask(ctx context.Context, name string, task int) error {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return notFound(name)
	}
	if task < 0 || task >= len(cs.Tasks) {
		return &Error{http.StatusNotFound, fmt.Sprintf("Task %s-%d not found", name, task)}
	}
	w.mu.Lock()
	owned := w.ownsTask(name, task)
	if owned {
		w.taskRestarts = append(w.taskRestarts, taskKey{name, task})
	}
	w.mu.Unlock()
	if !owned {
		if st, ok := w.statuses.Task(name, task); ok && st.WorkerID != "" && st.WorkerID != w.opts.WorkerID {
			return &NotOwnedError{WorkerID: st.WorkerID}
		}
		return &Error{http.StatusConflict, fmt.Sprintf("Task %s-%d is not assigned to any worker yet; try again after the rebalance", name, task)}
	}
	return w.sync(ctx)
}

// NotOwnedError says another worker runs the instance; the REST layer
// forwards the request to it, as Kafka Connect does.
type NotOwnedError struct{ WorkerID string }

func (e *NotOwnedError) Error() string { return "the instance runs on worker " + e.WorkerID }

// Restart restarts the connector instance and, with includeTasks, its tasks
// (only failed instances with onlyFailed). It returns the status with the
// instances being restarted shown RESTARTING.
func (w *Worker) Restart(ctx context.Context, name string, includeTasks, onlyFailed bool) (Status, error) {
	st, err := w.Status(name)
	if err != nil {
		return Status{}, err
	}
	if !onlyFailed || st.Connector.State == storage.StateFailed {
		st.Connector.State = storage.StateRestarting
	}
	if includeTasks {
		for i := range st.Tasks {
			if !onlyFailed || st.Tasks[i].State == storage.StateFailed {
				st.Tasks[i].State = storage.StateRestarting
			}
		}
	}
	if err := w.configs.RequestRestart(ctx, storage.Restart{Connector: name, IncludeTasks: includeTasks, OnlyFailed: onlyFailed}); err != nil {
		return Status{}, err
	}
	return st, w.sync(ctx)
}

func (w *Worker) setTarget(ctx context.Context, name string, t storage.TargetState) error {
	if _, ok := w.configs.Connector(name); !ok {
		return notFound(name)
	}
	if err := w.configs.PutTarget(ctx, name, t); err != nil {
		return err
	}
	return w.sync(ctx)
}

// Pause stops polling/putting; tasks stay assigned.
func (w *Worker) Pause(ctx context.Context, name string) error {
	return w.setTarget(ctx, name, storage.Paused)
}

// Resume runs a paused or stopped connector again.
func (w *Worker) Resume(ctx context.Context, name string) error {
	return w.setTarget(ctx, name, storage.Started)
}

// Stop shuts the connector's tasks down and empties its task configs.
func (w *Worker) Stop(ctx context.Context, name string) error {
	return w.setTarget(ctx, name, storage.Stopped)
}

// Topics lists the topics a connector used (KIP-558).
func (w *Worker) Topics(name string) ([]string, error) {
	if _, ok := w.configs.Connector(name); !ok {
		return nil, notFound(name)
	}
	return w.statuses.Topics(name), nil
}

// ResetTopics forgets a connector's active topics.
func (w *Worker) ResetTopics(ctx context.Context, name string) error {
	if _, ok := w.configs.Connector(name); !ok {
		return notFound(name)
	}
	return w.statuses.ResetTopics(ctx, name)
}

func sinkGroup(name string) string { return "connect-" + name }

// Offsets returns a connector's offsets: source partitions and offsets from
// the offsets topic, or for a sink the committed offsets of its group as
// {kafka_topic, kafka_partition} -> {kafka_offset}.
func (w *Worker) Offsets(ctx context.Context, name string) ([]Offset, error) {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return nil, notFound(name)
	}
	out := []Offset{}
	if kindOf(cs.Config) == string(connect.SinkKind) {
		resp, err := w.admin.FetchOffsets(ctx, sinkGroup(name))
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return nil, fmt.Errorf("fetch offsets of group %s: %w", sinkGroup(name), err)
		}
		resp.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && o.At >= 0 {
				out = append(out, Offset{Partition: map[string]any{"kafka_topic": o.Topic, "kafka_partition": int64(o.Partition)},
					Offset: map[string]any{"kafka_offset": o.At}})
			}
		})
		sort.Slice(out, func(i, j int) bool {
			a, b := out[i].Partition, out[j].Partition
			if a["kafka_topic"] != b["kafka_topic"] {
				return a["kafka_topic"].(string) < b["kafka_topic"].(string)
			}
			return a["kafka_partition"].(int64) < b["kafka_partition"].(int64)
		})
		return out, nil
	}
	if err := w.offsets.ReadToEnd(ctx); err != nil {
		return nil, err
	}
	for _, so := range w.offsets.List(name) {
		out = append(out, Offset{Partition: so.Partition, Offset: so.Offset})
	}
	return out, nil
}

func (w *Worker) requireStopped(name string) (storage.ConnectorState, error) {
	cs, ok := w.configs.Connector(name)
	if !ok {
		return cs, notFound(name)
	}
	if cs.Target != storage.Stopped {
		return cs, badRequest("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return cs, nil
}

// AlterOffsets writes offsets of a STOPPED connector (offset nil: reset).
func (w *Worker) AlterOffsets(ctx context.Context, name string, offsets []Offset) error {
	cs, err := w.requireStopped(name)
	if err != nil {
		return err
	}
	if len(offsets) == 0 {
		return badRequest("The offsets to be modified must not be empty")
	}
	if kindOf(cs.Config) == string(connect.SinkKind) {
		commit := kadm.Offsets{}
		var reset []kadm.TopicPartitions
		for _, o := range offsets {
			topic, _ := o.Partition["kafka_topic"].(string)
			part, okp := asInt(o.Partition["kafka_partition"])
			if topic == "" || !okp {
				return badRequest("Sink connector offsets must have a partition with the keys kafka_topic (a string) and kafka_partition (an integer)")
			}
			if o.Offset == nil {
				reset = append(reset, kadm.TopicPartitions{Topic: topic, Partitions: []int32{int32(part)}})
				continue
			}
			off, ok := asInt(o.Offset["kafka_offset"])
			if !ok || off < 0 {
				return badRequest("Sink connector offsets must have an offset with the key kafka_offset (a non-negative integer)")
			}
			commit.Add(kadm.Offset{Topic: topic, Partition: int32(part), At: off, LeaderEpoch: -1})
		}
		if len(commit) > 0 {
			resp, err := w.admin.CommitOffsets(ctx, sinkGroup(name), commit)
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				return fmt.Errorf("commit offsets of group %s: %w", sinkGroup(name), err)
			}
		}
		for _, tp := range reset {
			set := kadm.TopicsSet{}
			set.Add(tp.Topic, tp.Partitions...)
			if _, err := w.admin.DeleteOffsets(ctx, sinkGroup(name), set); err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
				return fmt.Errorf("reset offsets of group %s: %w", sinkGroup(name), err)
			}
		}
		return nil
	}
	var sos []storage.SourceOffset
	for _, o := range offsets {
		if o.Partition == nil {
			return badRequest("Partitions cannot be null")
		}
		sos = append(sos, storage.SourceOffset{Partition: o.Partition, Offset: o.Offset})
	}
	return w.offsets.Write(ctx, name, sos)
}

// ResetOffsets removes every offset of a STOPPED connector.
func (w *Worker) ResetOffsets(ctx context.Context, name string) error {
	cs, err := w.requireStopped(name)
	if err != nil {
		return err
	}
	if kindOf(cs.Config) == string(connect.SinkKind) {
		resp, err := w.admin.DeleteGroups(ctx, sinkGroup(name))
		if err == nil {
			err = resp.Error()
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return fmt.Errorf("delete group %s: %w", sinkGroup(name), err)
		}
		return nil
	}
	if err := w.offsets.ReadToEnd(ctx); err != nil {
		return err
	}
	var sos []storage.SourceOffset
	for _, so := range w.offsets.List(name) {
		sos = append(sos, storage.SourceOffset{Partition: so.Partition})
	}
	return w.offsets.Write(ctx, name, sos)
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	case int32:
		return int64(n), true
	}
	return 0, false
}

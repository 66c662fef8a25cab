// Package commands keeps the SQL command log: every statement that changed
// the engine's state (DDL, persistent queries, INSERT VALUES) is appended to
// the `_sluice-commands` topic, and a starting node replays it to rebuild its
// streams, tables and queries. Several nodes against one cluster read the same
// log, so they agree on what exists.
//
// The topic has one partition (one total order) and keeps its records
// forever with cleanup.policy=delete: compaction would keep only the last
// command per key and could reorder history (CREATE, DROP, CREATE again).
package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultTopic is the command topic's name.
const DefaultTopic = "_sluice-commands"

// Command is one logged statement.
type Command struct {
	// Statement is the statement text after variable substitution.
	Statement string `json:"statement"`
	// Properties are the request's streamsProperties and the session's SET
	// properties in force when it ran.
	Properties map[string]string `json:"streamsProperties,omitempty"`
	// QueryID is the id given to the query the statement started, so that a
	// replay gives it the same id (and the same consumer group).
	QueryID string `json:"queryId,omitempty"`
}

// ID is a command id in ksqlDB's form, used as the record key:
// `<type>/<entity>/<action>` such as stream/`PAGEVIEWS`/create.
func ID(kind, entity, action string) string {
	return fmt.Sprintf("%s/`%s`/%s", strings.ToLower(kind), entity, strings.ToLower(action))
}

// Logged is a command read back with its position.
type Logged struct {
	Offset int64
	ID     string
	Command
}

// Log is the command topic.
type Log struct {
	cl    *kgo.Client
	topic string
}

// Open connects to the command topic, creating it when missing.
func Open(ctx context.Context, brokers []string, topic string, opts ...kgo.Opt) (*Log, error) {
	if topic == "" {
		topic = DefaultTopic
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0)}, opts...)...)
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	retention := "-1"
	policy := "delete"
	resp, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"retention.ms": &retention, "cleanup.policy": &policy}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		cl.Close()
		return nil, fmt.Errorf("create command topic %s: %w", topic, err)
	}
	return &Log{cl: cl, topic: topic}, nil
}

// Close closes the Kafka client.
func (l *Log) Close() { l.cl.Close() }

// Topic is the command topic's name.
func (l *Log) Topic() string { return l.topic }

// Append writes a command and returns its offset once it is durable.
func (l *Log) Append(ctx context.Context, id string, c Command) (int64, error) {
	v, err := json.Marshal(c)
	if err != nil {
		return 0, err
	}
	res := l.cl.ProduceSync(ctx, &kgo.Record{Topic: l.topic, Partition: 0, Key: []byte(id), Value: v})
	r, err := res.First()
	if err != nil {
		return 0, fmt.Errorf("append to %s: %w", l.topic, err)
	}
	return r.Offset, nil
}

// Replay calls fn for every command from offset from up to the end of the
// log as it is when Replay starts, in order, and returns the offset after the
// last one read. A command that cannot be decoded stops the replay with an
// error naming its offset: skipping it could rebuild a wrong state.
func (l *Log) Replay(ctx context.Context, from int64, fn func(Logged) error) (int64, error) {
	adm := kadm.NewClient(l.cl)
	ends, err := adm.ListEndOffsets(ctx, l.topic)
	if err != nil {
		return from, fmt.Errorf("end of %s: %w", l.topic, err)
	}
	end, ok := ends.Lookup(l.topic, 0)
	if !ok || end.Err != nil {
		return from, fmt.Errorf("end of %s: %v", l.topic, end.Err)
	}
	if from >= end.Offset {
		return from, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.cl.OptValue(kgo.SeedBrokers).([]string)...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{l.topic: {0: kgo.NewOffset().At(from)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return from, err
	}
	defer cl.Close()
	next := from
	for next < end.Offset {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return next, err
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
		if ferr != nil {
			return next, fmt.Errorf("read %s: %w", l.topic, ferr)
		}
		for _, r := range fs.Records() {
			if r.Offset >= end.Offset {
				break
			}
			var c Command
			if err := json.Unmarshal(r.Value, &c); err != nil {
				return next, fmt.Errorf("%s offset %d: undecodable command: %w", l.topic, r.Offset, err)
			}
			if err := fn(Logged{Offset: r.Offset, ID: string(r.Key), Command: c}); err != nil {
				return next, err
			}
			next = r.Offset + 1
		}
	}
	return next, nil
}

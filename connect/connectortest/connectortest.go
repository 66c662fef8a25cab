// Package connectortest runs connector tasks in tests without the runtime: a
// TaskContext with an in-memory offset store, and helpers that poll a source
// task and acknowledge its records as the runtime would.
package connectortest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// Offsets is an in-memory source offset store shared by successive task
// lifetimes of one test, standing in for the runtime's offsets topic. Offsets
// go through a JSON round trip, as they do in the runtime, so numbers come
// back as float64 or json.Number as a task would see them.
type Offsets struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewOffsets returns an empty store.
func NewOffsets() *Offsets { return &Offsets{m: map[string][]byte{}} }

func partitionKey(p map[string]any) string {
	b, _ := json.Marshal(p) // map keys are sorted: a stable key
	return string(b)
}

// Get returns the stored offset of partition p, or nil.
func (o *Offsets) Get(p map[string]any) map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.m[partitionKey(p)]
	if !ok {
		return nil
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// Put stores offset off for partition p.
func (o *Offsets) Put(p, off map[string]any) error {
	b, err := json.Marshal(off)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.m[partitionKey(p)] = b
	o.mu.Unlock()
	return nil
}

// Ack stores the offsets of records as the runtime does once the broker
// acknowledged them: the last offset of each source partition wins.
func (o *Offsets) Ack(records []*connect.Record) error {
	// Walk backwards, storing each partition once; tasks usually share one
	// partition map per partition, so its pointer is a cheap first check.
	seen := map[uintptr]bool{}
	for i := len(records) - 1; i >= 0; i-- {
		r := records[i]
		if r.SourcePartition == nil || r.SourceOffset == nil {
			continue
		}
		p := reflect.ValueOf(r.SourcePartition).Pointer()
		if seen[p] {
			continue
		}
		seen[p] = true
		if o.Get(r.SourcePartition) != nil && i < len(records)-1 && laterSame(records[i+1:], r.SourcePartition) {
			continue
		}
		if err := o.Put(r.SourcePartition, r.SourceOffset); err != nil {
			return err
		}
	}
	return nil
}

// laterSame reports whether a later record has an equal (not identical)
// partition map, whose offset was stored already.
func laterSame(later []*connect.Record, p map[string]any) bool {
	k := partitionKey(p)
	for _, r := range later {
		if r.SourcePartition != nil && partitionKey(r.SourcePartition) == k {
			return true
		}
	}
	return false
}

// Len is the number of partitions with a stored offset.
func (o *Offsets) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.m)
}

// TaskContext is a connect.TaskContext over an Offsets store.
type TaskContext struct {
	Name    string
	ID      int
	Log     *slog.Logger
	Offsets *Offsets
}

// NewTaskContext returns a context for task id of connector name with a
// logger writing to t.Log when -v is given.
func NewTaskContext(t testing.TB, name string, id int, offsets *Offsets) *TaskContext {
	if offsets == nil {
		offsets = NewOffsets()
	}
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = testWriter{t}
	}
	return &TaskContext{Name: name, ID: id, Log: slog.New(slog.NewTextHandler(w, nil)), Offsets: offsets}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func (c *TaskContext) Connector() string    { return c.Name }
func (c *TaskContext) TaskID() int          { return c.ID }
func (c *TaskContext) Logger() *slog.Logger { return c.Log }
func (c *TaskContext) Offset(p map[string]any) (map[string]any, error) {
	return c.Offsets.Get(p), nil
}

// PollN polls task until it returned at least n records in total, or fails
// the test after timeout. When ack is true the records' offsets are stored
// and Commit called after every poll, as the runtime does.
func PollN(t testing.TB, task connect.SourceTask, tc *TaskContext, n int, ack bool, timeout time.Duration) []*connect.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*connect.Record
	for len(out) < n {
		recs, err := task.Poll(ctx)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if ctx.Err() != nil {
			t.Fatalf("got %d records within %v, want %d", len(out), timeout, n)
		}
		out = append(out, recs...)
		if ack && len(recs) > 0 {
			if err := tc.Offsets.Ack(recs); err != nil {
				t.Fatalf("store offsets: %v", err)
			}
			if err := task.Commit(ctx); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
	}
	return out
}

// PollQuiet polls task for the duration d and returns whatever came (to check
// that nothing more comes). Polls that block past d are cut by the context.
func PollQuiet(t testing.TB, task connect.SourceTask, d time.Duration) []*connect.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []*connect.Record
	for ctx.Err() == nil {
		recs, err := task.Poll(ctx)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		out = append(out, recs...)
	}
	return out
}

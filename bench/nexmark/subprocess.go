package nexmark

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// load creates the three topics (one partition each) and produces the
// events to them in event order, with the event time as record timestamp.
func load(ctx context.Context, cl *kgo.Client, ev *Events) error {
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopics(ctx, 1, 1, nil, PersonTopic, AuctionTopic, BidTopic)
	if err != nil {
		return fmt.Errorf("creating the Nexmark topics: %w", err)
	}
	for _, r := range res.Sorted() {
		if r.Err != nil {
			return fmt.Errorf("creating topic %s: %w", r.Topic, r.Err)
		}
	}
	var failed firstError
	for i := range ev.Records {
		r := &ev.Records[i]
		cl.Produce(ctx, &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Timestamp: time.UnixMilli(r.Timestamp)},
			func(_ *kgo.Record, err error) { failed.set(err) })
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	return failed.get()
}

// firstError keeps the first error reported by producer callbacks.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// endOffsets sums the end offsets of each topic's partitions.
func endOffsets(ctx context.Context, adm *kadm.Client, topics []string) (map[string]int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Topic] += o.Offset
		}
	})
	return out, nil
}

// sinkEnd is the end offset of a sink topic, 0 when it does not exist. A
// client of its own: a client that was told a topic is unknown keeps
// saying so for a while after it is created.
func sinkEnd(ctx context.Context, s *sluice, topic string) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
	if err != nil {
		return 0
	}
	defer cl.Close()
	ends, _ := endOffsets(ctx, kadm.NewClient(cl), []string{topic})
	return ends[topic]
}

// localID stands for the server's query id in repartition topic names.
const localID = "<local id>"

// groupFor is the consumer group of a persistent query (default service id).
func groupFor(queryID string) string { return "_confluent-ksql-default_query_" + queryID }

// runServer runs the query as persistent queries of the sluice dev
// process and measures until each has committed offsets at the end of
// every topic it reads, with those ends unchanged over two checks (a
// query reading another's output is done when that output stopped
// growing). CPU is the sluice process's.
func runServer(ctx context.Context, s *sluice, adm *kadm.Client, q Query, ev *Events, timeout time.Duration) Result {
	res := Result{Query: q.Name, Events: ev.Inputs(q.Inputs)}
	// Topics each query reads and the sink, from planning here; the
	// server plans the same statements in the same order.
	sources := map[int][]string{}
	sinkTopic := q.Sink
	if planned, err := Plan(ctx, q); err == nil {
		for i, p := range planned {
			// A query reads its repartition topics back through its group.
			sources[i] = p.Exec.SourceTopics()
			for _, t := range p.RepartitionTopics {
				// Named after the query id, which the server numbers
				// its own way: "<local id>" is replaced in caughtUp.
				sources[i] = append(sources[i], strings.Replace(t.Name, p.ID, localID, 1))
			}
			if p.Sink != nil && p.Sink.Name == q.Sink {
				sinkTopic = p.SinkTopic.Name
			}
		}
	}
	// The sink topic may hold an earlier run's results.
	before := sinkEnd(ctx, s, sinkTopic)
	start, cpu0 := time.Now(), s.cpu()
	ids, err := s.execute(ctx, q.SQL)
	defer cleanup(ctx, s, q, ids)
	if err != nil {
		res.Err = fmt.Errorf("%s: the server refused it: %w", q.Name, err)
		return res
	}
	if len(ids) == 0 {
		res.Err = fmt.Errorf("%s: the server started no persistent query", q.Name)
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var prev map[string]int64
	var doneAt time.Time
	var cpuAt time.Duration
	for {
		caught, ends, err := caughtUp(ctx, adm, ids, sources, q)
		switch {
		case err != nil || !caught:
			doneAt = time.Time{}
		case !doneAt.IsZero() && sameEnds(prev, ends):
			// Caught up at doneAt, and nothing was written since.
		default:
			doneAt, cpuAt = time.Now(), s.cpu()
		}
		if !doneAt.IsZero() && sameEnds(prev, ends) {
			break
		}
		prev = ends
		select {
		case <-ctx.Done():
			res.Err = fmt.Errorf("%s: not caught up within %s (last error: %v)", q.Name, timeout, err)
			return res
		case <-s.exited():
			res.Err = fmt.Errorf("%s: sluice dev exited:\n%s", q.Name, s.output())
			return res
		case <-time.After(100 * time.Millisecond):
		}
	}
	res.Wall, res.CPU = doneAt.Sub(start), cpuAt-cpu0
	res.Outputs = sinkEnd(ctx, s, sinkTopic) - before
	return res
}

// caughtUp reports whether every query's group has committed the end
// offset of each topic it reads; ends are the end offsets it compared.
func caughtUp(ctx context.Context, adm *kadm.Client, ids []string, sources map[int][]string, q Query) (bool, map[string]int64, error) {
	all := map[string]int64{}
	caught := true
	for i, id := range ids {
		committed, err := adm.FetchOffsets(ctx, groupFor(id))
		if err != nil {
			return false, nil, err
		}
		got := map[string]int64{}
		committed.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil {
				got[o.Topic] += o.At
			}
		})
		topics := append([]string(nil), sources[i]...)
		if len(topics) == 0 { // not planned here: what it committed, and the inputs
			for t := range got {
				topics = append(topics, t)
			}
			if i == 0 {
				for _, k := range q.Inputs {
					topics = append(topics, Topic(k))
				}
			}
		}
		for j, t := range topics {
			topics[j] = strings.Replace(t, localID, id, 1)
		}
		ends, err := endOffsets(ctx, adm, topics)
		if err != nil {
			return false, nil, err
		}
		for t, end := range ends {
			all[t] = end
			if end > 0 && got[t] < end {
				caught = false
			}
		}
	}
	return caught, all, nil
}

func sameEnds(a, b map[string]int64) bool {
	if a == nil || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

var createdName = regexp.MustCompile(`(?i)CREATE\s+(STREAM|TABLE)\s+([A-Z0-9_]+)`)

// cleanup stops the query's persistent queries and drops what its
// statements created, so the next query has the machine to itself.
func cleanup(ctx context.Context, s *sluice, q Query, ids []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, id := range ids {
		_, _ = s.execute(ctx, "TERMINATE "+id+";")
	}
	m := createdName.FindAllStringSubmatch(q.SQL, -1)
	for i := len(m) - 1; i >= 0; i-- {
		_, _ = s.execute(ctx, "DROP "+strings.ToUpper(m[i][1])+" IF EXISTS "+m[i][2]+";")
	}
}

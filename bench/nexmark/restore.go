package nexmark

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/sql/state"
)

// RestoreResult is a state restore from a changelog.
type RestoreResult struct {
	Bytes   int64         // changelog key+value bytes replayed
	Records int64         // changelog records
	Wall    time.Duration // opening the store until restored
	CPU     time.Duration // this process (the restorer) and sluice (the broker)
	Err     error
}

// MBPerSec is changelog MB (10^6 bytes) restored per second.
func (r RestoreResult) MBPerSec() float64 { return perSec(r.Bytes, r.Wall) / 1e6 }

// MBPerCPUSecond is changelog MB restored per CPU second of the restorer
// and the broker together: on a shared machine it moves less than MB/s.
func (r RestoreResult) MBPerCPUSecond() float64 { return perSec(r.Bytes, r.CPU) / 1e6 }

// SecondsPerGB is the restore time of 1 GB (10^9 bytes) of changelog.
func (r RestoreResult) SecondsPerGB() float64 {
	if r.Bytes == 0 {
		return 0
	}
	return r.Wall.Seconds() * 1e9 / float64(r.Bytes)
}

const (
	restoreQueryID   = "CTAS_NEXMARK_RESTORE_1"
	restoreStore     = "Aggregate-Materialize"
	restoreValueSize = 256
	restoreKeys      = 250_000
)

// measureRestore is bench/state's BenchmarkRestore against the sluice
// dev broker: a key-value store's changelog is filled with size bytes of
// 256-byte values over 250,000 keys (what an aggregation keyed by auction
// or seller writes), then the store is opened in an empty directory and
// restored from the changelog alone, as a node that lost its disk would.
func measureRestore(ctx context.Context, s *sluice, size int64, dir string) RestoreResult {
	var res RestoreResult
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordPartitioner(state.Partitioner(kgo.StickyKeyPartitioner(nil))))
	if err != nil {
		res.Err = err
		return res
	}
	defer cl.Close()
	open := func(d string) (*state.Stores, error) {
		return state.NewStores(state.Options{Dir: d, QueryID: restoreQueryID, Producer: cl, Partitions: 1,
			ClientOptions: []kgo.Opt{kgo.SeedBrokers(s.addr)}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Metrics: state.NewMetrics(prometheus.NewRegistry())})
	}
	// A first open creates the changelog topic; then fill it directly.
	first, err := open(filepath.Join(dir, "first"))
	if err == nil {
		_, err = first.KeyValue(ctx, restoreStore, 0)
		first.Close()
	}
	if err != nil {
		res.Err = fmt.Errorf("creating the changelog: %w", err)
		return res
	}
	topic := state.ChangelogTopic(state.DefaultServiceID, restoreQueryID, restoreStore)
	val := make([]byte, restoreValueSize)
	var failed firstError
	for i := 0; res.Bytes < size; i++ {
		k := binary.BigEndian.AppendUint64([]byte("key-"), uint64(i%restoreKeys))
		binary.BigEndian.PutUint64(val, uint64(i))
		cl.Produce(ctx, &kgo.Record{Topic: topic, Partition: 0, Key: k, Value: append([]byte(nil), val...)}, func(_ *kgo.Record, err error) { failed.set(err) })
		res.Bytes += int64(len(k) + len(val))
		res.Records++
	}
	if err := cl.Flush(ctx); err != nil {
		res.Err = fmt.Errorf("filling the changelog: %w", err)
		return res
	}
	if err := failed.get(); err != nil {
		res.Err = fmt.Errorf("filling the changelog: %w", err)
		return res
	}
	restoreDir := filepath.Join(dir, "restored")
	defer os.RemoveAll(restoreDir)
	st, err := open(restoreDir)
	if err != nil {
		res.Err = err
		return res
	}
	defer st.Close()
	start, cpu0, scpu0 := time.Now(), processCPU(), s.cpu()
	kv, err := st.KeyValue(ctx, restoreStore, 0)
	res.Wall, res.CPU = time.Since(start), processCPU()-cpu0+s.cpu()-scpu0
	if err != nil {
		res.Err = fmt.Errorf("restoring: %w", err)
		return res
	}
	// The restored store holds the last value of each key.
	last := res.Records - 1
	k := binary.BigEndian.AppendUint64([]byte("key-"), uint64(last%restoreKeys))
	v, ok, err := kv.Get(k)
	if err != nil || !ok || binary.BigEndian.Uint64(v) != uint64(last) {
		res.Err = fmt.Errorf("restored store: key %x = %x %v %v, want the last value %d", k, v, ok, err, last)
	}
	return res
}

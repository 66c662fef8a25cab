// Package state benchmarks sql/state: store writes and reads through the
// commit protocol, and restore throughput from a changelog on the embedded
// broker. Run with `make bench-state`.
package state

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/testkit"
)

const valueSize = 256

func setup(b *testing.B) (addr string, prod *kgo.Client) {
	b.Helper()
	br := testkit.StartBroker(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ProducerLinger(0),
		kgo.RecordPartitioner(state.Partitioner(kgo.StickyKeyPartitioner(nil))))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return br.Addr(), cl
}

func openStores(b *testing.B, addr string, prod state.Producer, dir string) *state.Stores {
	b.Helper()
	s, err := state.NewStores(state.Options{Dir: dir, QueryID: "CTAS_BENCH_1", Producer: prod, Partitions: 1,
		ClientOptions: []kgo.Opt{kgo.SeedBrokers(addr)}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: state.NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func key(buf []byte, i int) []byte {
	return binary.BigEndian.AppendUint64(append(buf[:0], "key-"...), uint64(i%100_000))
}

// BenchmarkKeyValuePut: one Put (local batch + changelog record), with a
// producer flush and Commit every 500 puts, as one poll batch.
func BenchmarkKeyValuePut(b *testing.B) {
	addr, prod := setup(b)
	ctx := context.Background()
	s := openStores(b, addr, prod, b.TempDir())
	kv, err := s.KeyValue(ctx, "kv", 0)
	if err != nil {
		b.Fatal(err)
	}
	val := make([]byte, valueSize)
	var k []byte
	b.SetBytes(int64(12 + valueSize))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k = key(k, i)
		if err := kv.Put(k, val, int64(i)); err != nil {
			b.Fatal(err)
		}
		if i%500 == 499 || i == b.N-1 {
			s.FlushChangelogs()
			if err := prod.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			if err := s.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkKeyValuePutLocal is BenchmarkKeyValuePut with a producer that
// acknowledges at once: the cost of the store itself, without the broker.
func BenchmarkKeyValuePutLocal(b *testing.B) {
	addr, _ := setup(b)
	ctx := context.Background()
	prod := &ackingProducer{}
	s := openStores(b, addr, prod, b.TempDir())
	kv, err := s.KeyValue(ctx, "kv", 0)
	if err != nil {
		b.Fatal(err)
	}
	val := make([]byte, valueSize)
	var k []byte
	b.SetBytes(int64(12 + valueSize))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k = key(k, i)
		if err := kv.Put(k, val, int64(i)); err != nil {
			b.Fatal(err)
		}
		if i%500 == 499 || i == b.N-1 {
			if err := s.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// ackingProducer acknowledges every record at once with the next offset.
type ackingProducer struct{ next int64 }

func (p *ackingProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	r.Offset = p.next
	p.next++
	promise(r, nil)
}

// BenchmarkKeyValueGet reads random keys of a committed 100k-key store.
func BenchmarkKeyValueGet(b *testing.B) {
	addr, prod := setup(b)
	ctx := context.Background()
	s := openStores(b, addr, prod, b.TempDir())
	kv, err := s.KeyValue(ctx, "kv", 0)
	if err != nil {
		b.Fatal(err)
	}
	val := make([]byte, valueSize)
	var k []byte
	for i := 0; i < 100_000; i++ {
		if err := kv.Put(key(k, i), val, 0); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			s.FlushChangelogs()
			if err := prod.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			if err := s.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k = key(k, (i*7919)%100_000)
		if _, ok, err := kv.Get(k); err != nil || !ok {
			b.Fatalf("Get(%x) = %v %v", k, ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "gets/s")
}

// BenchmarkRestore restores a key-value store of 32 MiB of changelog
// (256-byte values, 250k distinct keys) into an empty directory; MB/s is
// changelog key+value bytes replayed per second.
func BenchmarkRestore(b *testing.B) {
	addr, prod := setup(b)
	ctx := context.Background()
	topic := state.ChangelogTopic(state.DefaultServiceID, "CTAS_BENCH_1", "kv")
	// Create the changelog through a first open, then fill it directly.
	first := openStores(b, addr, prod, b.TempDir())
	if _, err := first.KeyValue(ctx, "kv", 0); err != nil {
		b.Fatal(err)
	}
	first.Close()
	const total = 32 << 20
	val := make([]byte, valueSize)
	var n int64
	for i := 0; n < total; i++ {
		k := binary.BigEndian.AppendUint64([]byte("key-"), uint64(i%250_000))
		prod.Produce(ctx, &kgo.Record{Topic: topic, Partition: 0, Key: k, Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				panic(fmt.Sprintf("produce: %v", err))
			}
		})
		n += int64(len(k) + len(val))
	}
	if err := prod.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		s := openStores(b, addr, prod, b.TempDir())
		before := processCPU(b)
		if _, err := s.KeyValue(ctx, "kv", 0); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU(b) - before
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	// On a shared machine wall-clock MB/s depends on the neighbours; MB per
	// CPU-second (restorer and embedded broker together) does not.
	b.ReportMetric(float64(n)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
}

// processCPU is the user+system CPU time of this process.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

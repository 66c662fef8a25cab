package connect_test

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/converters"
)

// debeziumEvent is a postgres-cdc insert into the bench/cdc orders table
// (bigint key, int, numeric(12,2), text, timestamptz) as the connector's
// own code built it and the JsonConverter with schemas wrote it: the
// Debezium envelope with before, after, source and transaction blocks.
// It is read back into a schema and struct value once; the benchmark then
// times writing that value, which is what the source runtime does for
// every change.
func debeziumEvent(b *testing.B) ([]byte, *connect.Schema, any) {
	in, err := os.ReadFile("testdata/debezium_orders_insert.json")
	if err != nil {
		b.Fatal(err)
	}
	s, v, err := converters.NewJSON().ToConnect("bench.public.orders", in)
	if err != nil {
		b.Fatal(err)
	}
	return in, s, v
}

// BenchmarkDebeziumToJSON: one CDC change event through the JsonConverter
// with schemas.enable=true (schema + payload, ~3.1 KB) and, for
// comparison, with schemas.enable=false (payload only).
func BenchmarkDebeziumToJSON(b *testing.B) {
	in, s, v := debeziumEvent(b)
	for _, mode := range []struct {
		name    string
		schemas string
	}{{"schemas", "true"}, {"payload-only", "false"}} {
		b.Run(mode.name, func(b *testing.B) {
			conv := converters.NewJSON()
			if err := conv.Configure(connect.Config{"schemas.enable": mode.schemas}, false); err != nil {
				b.Fatal(err)
			}
			out, err := conv.FromConnect("bench.public.orders", s, v)
			if err != nil {
				b.Fatal(err)
			}
			if mode.schemas == "true" && !bytes.Equal(out, in) {
				b.Fatalf("written event differs from the connector's:\n%s\n%s", out, in)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(out)))
			b.ResetTimer()
			cpu0 := processCPU(b)
			for i := 0; i < b.N; i++ {
				if _, err := conv.FromConnect("bench.public.orders", s, v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time (user and system, all threads, GC included)
// the process has used: on a shared machine it says what a change costs
// better than wall time, which includes waiting for a CPU.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

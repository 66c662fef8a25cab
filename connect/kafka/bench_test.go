package kafka

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/testkit"
)

// BenchmarkPoll measures copying from an embedded broker: b.N records of
// 100 bytes are produced first, then polled and converted (records/s).
func BenchmarkPoll(b *testing.B) {
	srcB := testkit.StartBroker(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(srcB.Addr()), kgo.DefaultProduceTopic("bench"), kgo.AllowAutoTopicCreation())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	value := make([]byte, 100)
	batch := make([]*kgo.Record, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: value})
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := cl.ProduceSync(context.Background(), batch...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	cfgs, _ := connector{}.TaskConfigs(connect.Config{"src.kafka.bootstrap.servers": srcB.Addr(), "topic.whitelist": "bench",
		"offset.topic.commit": "false", "src.consumer.max.poll.records": "5000"}, 1)
	tk := &task{}
	tc := connectortest.NewTaskContext(b, "bench", 0, nil)
	if err := tk.Start(context.Background(), cfgs[0], tc); err != nil {
		b.Fatal(err)
	}
	defer tk.Stop()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := len(connectortest.PollN(b, tk, tc, b.N, false, 5*time.Minute))
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	// CPU time includes the embedded broker serving the fetches.
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
}

// cpuTime is the process's CPU time (GC included), for a per-core rate that
// holds whatever else runs on the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

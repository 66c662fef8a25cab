package nexmark

import (
	"context"
	"testing"
)

// BenchmarkInProcess runs each stateful query in process over the same
// generated events, so that `go test -bench InProcess -cpuprofile` shows
// where the operators spend their time. It reports events per CPU second.
func BenchmarkInProcess(b *testing.B) {
	ev, err := Generate(DefaultConfig(), 100_000)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range Queries {
		if q.Baseline {
			continue
		}
		b.Run(q.Name, func(b *testing.B) {
			var events int64
			var cpu float64
			for b.Loop() {
				r := RunInProcess(context.Background(), q, ev, b.TempDir())
				if r.Err != nil {
					b.Fatal(r.Err)
				}
				events += r.Events
				cpu += r.CPU.Seconds()
			}
			if cpu > 0 {
				b.ReportMetric(float64(events)/cpu, "events/cpu-s")
			}
		})
	}
}

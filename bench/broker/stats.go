package broker

import (
	"slices"
	"sync"
	"time"
)

// MB is the unit of every MB/s figure: 10^6 bytes. Kafka's perf tools print
// "MB/sec" for 2^20 bytes, so the report states its unit.
const MB = 1e6

// perSecond returns n per second over d, or 0 if d is not positive.
func perSecond(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

// Throughput is what one timed phase moved.
type Throughput struct {
	Records  int64
	Bytes    int64
	Duration time.Duration
}

// RecordsPerSec is Records divided by Duration.
func (t Throughput) RecordsPerSec() float64 { return perSecond(float64(t.Records), t.Duration) }

// MBPerSec is Bytes (in units of MB) divided by Duration.
func (t Throughput) MBPerSec() float64 { return perSecond(float64(t.Bytes)/MB, t.Duration) }

// Latencies collects durations from many goroutines. It keeps every sample:
// a latency run of a few seconds at 150k records/s holds about a million,
// 8 MB, which is cheaper than being wrong about a tail.
type Latencies struct {
	mu      sync.Mutex
	samples []time.Duration
}

// NewLatencies returns a collector with room for capacity samples.
func NewLatencies(capacity int) *Latencies {
	return &Latencies{samples: make([]time.Duration, 0, capacity)}
}

// Add records one sample. It is safe for concurrent use.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.samples = append(l.samples, d)
	l.mu.Unlock()
}

// Summary sorts the samples and returns their percentiles.
func (l *Latencies) Summary() LatencySummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	return summarize(l.samples)
}

// LatencySummary holds the figures the report prints.
type LatencySummary struct {
	Count         int
	Mean          time.Duration
	P50, P99, Max time.Duration
}

// summarize sorts s in place and returns its summary.
func summarize(s []time.Duration) LatencySummary {
	if len(s) == 0 {
		return LatencySummary{}
	}
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return LatencySummary{
		Count: len(s),
		Mean:  sum / time.Duration(len(s)),
		P50:   percentile(s, 50),
		P99:   percentile(s, 99),
		Max:   s[len(s)-1],
	}
}

// percentile returns the p-th percentile of sorted by the nearest-rank
// method: the smallest sample such that at least p% of samples are less
// than or equal to it. sorted must be in ascending order and not empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[len(sorted)-1]
	}
	// rank = ceil(p/100 * n), 1-based. Integer arithmetic on hundredths
	// of a percent avoids float rounding putting p99 of 100 at rank 100.
	n := len(sorted)
	hp := int64(p*100 + 0.5)
	rank := int((hp*int64(n) + 9999) / 10000)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// pacer tells a producer loop how many records it may send so far to hold
// a fixed rate from start: after elapsed time t it is rate*t in total.
type pacer struct {
	rate  float64 // records per second
	start time.Time
	sent  int64
}

// due returns how many more records may be sent at now.
func (p *pacer) due(now time.Time) int64 {
	allowed := int64(p.rate * now.Sub(p.start).Seconds())
	if allowed <= p.sent {
		return 0
	}
	return allowed - p.sent
}

package broker

import (
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"one sample p50", ms(7), 50, 7 * time.Millisecond},
		{"one sample p99", ms(7), 99, 7 * time.Millisecond},
		{"p0 is the minimum", ms(1, 2, 3), 0, 1 * time.Millisecond},
		{"p100 is the maximum", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p50 of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p50 of five is the middle", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p99 of 1..100 is 99", hundred, 99, 99 * time.Millisecond},
		{"p50 of 1..100 is 50", hundred, 50, 50 * time.Millisecond},
		{"p99.9 of 1..100 is 100", hundred, 99.9, 100 * time.Millisecond},
		{"p1 of 1..100 is 1", hundred, 1, 1 * time.Millisecond},
		{"p99 of ten is the last", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(p%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestLatenciesSummary(t *testing.T) {
	l := NewLatencies(0)
	if got := l.Summary(); got != (LatencySummary{}) {
		t.Errorf("empty summary = %+v, want zero", got)
	}
	// 1..1000 µs added out of order: mean 500.5 µs.
	for i := 1000; i >= 1; i-- {
		l.Add(time.Duration(i) * time.Microsecond)
	}
	want := LatencySummary{
		Count: 1000,
		Mean:  500500 * time.Nanosecond,
		P50:   500 * time.Microsecond,
		P99:   990 * time.Microsecond,
		Max:   1000 * time.Microsecond,
	}
	if got := l.Summary(); got != want {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
}

func TestThroughputRates(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         Throughput
		recs, mbps float64
	}{
		{"one second", Throughput{Records: 1000, Bytes: 1_024_000, Duration: time.Second}, 1000, 1.024},
		{"half a second doubles", Throughput{Records: 1000, Bytes: 2_000_000, Duration: 500 * time.Millisecond}, 2000, 4},
		{"a million KiB records in 10s", Throughput{Records: 1e6, Bytes: 1 << 30, Duration: 10 * time.Second}, 1e5, 107.3741824},
		{"zero duration is zero, not Inf", Throughput{Records: 5, Bytes: 5}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.RecordsPerSec(); !near(got, tc.recs) {
				t.Errorf("RecordsPerSec = %v, want %v", got, tc.recs)
			}
			if got := tc.in.MBPerSec(); !near(got, tc.mbps) {
				t.Errorf("MBPerSec = %v, want %v", got, tc.mbps)
			}
		})
	}
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func TestPacer(t *testing.T) {
	start := time.Unix(0, 0)
	p := pacer{rate: 150_000, start: start}
	steps := []struct {
		at   time.Duration
		want int64
	}{
		{0, 0},
		{time.Millisecond, 150},
		{time.Millisecond, 0}, // nothing new at the same instant
		{1500 * time.Microsecond, 75},
		{time.Second, 150_000 - 225},
		{900 * time.Millisecond, 0}, // a clock step back sends nothing
	}
	for _, s := range steps {
		got := p.due(start.Add(s.at))
		if got != s.want {
			t.Errorf("due at %v = %d, want %d", s.at, got, s.want)
		}
		p.sent += got
	}
	if p.sent != 150_000 {
		t.Errorf("sent %d in one second at 150k/s", p.sent)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tsluice\nVmPeak:\t  900000 kB\nVmHWM:\t   65536 kB\nVmRSS:\t   32768 kB\nThreads:\t9\n"
	m, err := parseStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Memory{RSS: 32 << 20, Peak: 64 << 20}); m != want {
		t.Errorf("parseStatus = %+v, want %+v", m, want)
	}
	if _, err := parseStatus(strings.NewReader("Name:\tkthreadd\n")); err == nil {
		t.Error("no VmRSS line (a kernel thread): want an error")
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtInt(0), "0"},
		{fmtInt(999.6), "1,000"},
		{fmtInt(1234567), "1,234,567"},
		{fmtDuration(850 * time.Microsecond), "850 µs"},
		{fmtDuration(2345 * time.Microsecond), "2.35 ms"},
		{fmtDuration(12345 * time.Microsecond), "12.3 ms"},
		{fmtDuration(1500 * time.Millisecond), "1.50 s"},
		{fmtSize(16 << 10), "16 KiB"},
		{fmtSize(1 << 20), "1 MiB"},
		{fmtBytes(48 << 20), "48.0 MiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

package broker

import (
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestCompareSummary(t *testing.T) {
	phase := func(round, size int, records int64) comparePhase {
		return comparePhase{round: round, size: size, res: produceResult{Throughput: Throughput{Records: records, Duration: time.Second}}}
	}
	phases := []comparePhase{
		phase(1, 0, 1000), phase(1, 100, 500),
		phase(2, 100, 700), phase(2, 0, 800),
		phase(3, 0, 2000), phase(3, 100, 900),
	}
	txn, idem, note := compareSummary(phases, 100)
	if txn != 700 || idem != 1000 {
		t.Errorf("medians = %v, %v; want 700, 1000", txn, idem)
	}
	for _, want := range []string{"70% of idempotent", "median of 3 transactional runs", "each round's ratio 50%, 88%, 45%"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	if _, _, note := compareSummary(phases[:1], 100); note != "no complete round" {
		t.Errorf("one idempotent phase: note %q", note)
	}
}

func TestDirtyBytes(t *testing.T) {
	if _, err := dirtyBytes(); err != nil {
		t.Skipf("no /proc/meminfo here: %v", err)
	}
}

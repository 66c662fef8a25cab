package devproc

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCPUTimeGrowsWithWork(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the clock-tick counter moves (it counts in 10 ms steps),
	// for at most 10 s of wall time.
	var after time.Duration
	x := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		for i := range 1_000_000 {
			x += i % 7
		}
		if after, err = CPUTime(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if after > before {
			break
		}
	}
	if after <= before {
		t.Fatalf("CPU time did not grow: %v then %v", before, after)
	}
	if _, err := CPUTime(-1); err == nil {
		t.Error("CPUTime(-1): no error")
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tl := NewTail(4)
	tl.Write([]byte("abc"))
	tl.Write([]byte("defg"))
	if got := tl.String(); got != "defg" {
		t.Fatalf("tail = %q, want defg", got)
	}
}

// A process that exits before it is ready gives its output in the error.
func TestStartReportsEarlyExit(t *testing.T) {
	_, err := Start(context.Background(), "sh", []string{"-c", "echo boom; exit 3"}, 1<<10, "API", func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want the output in it", err)
	}
}

func TestStartThenStop(t *testing.T) {
	p, err := Start(context.Background(), "sleep", []string{"60"}, 1<<10, "API", func() bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	p.Stop(5 * time.Second)
	select {
	case <-p.Done():
	default:
		t.Fatal("process still running after Stop")
	}
}

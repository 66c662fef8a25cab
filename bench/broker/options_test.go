package broker

import "testing"

// A zero rate skips its run: withDefaults must not turn it into the
// default rate (sluice bench broker --latency-rate 0 --txn-e2e-rate 0).
func TestZeroRatesSkipTheirRuns(t *testing.T) {
	o := DefaultOptions()
	o.LatencyRate, o.TxnE2ERate = 0, 0
	got, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.LatencyRate != 0 || got.TxnE2ERate != 0 {
		t.Fatalf("latency rate %d, end-to-end rate %d: want 0 and 0", got.LatencyRate, got.TxnE2ERate)
	}
	d, err := DefaultOptions().withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if d.LatencyRate == 0 || d.TxnE2ERate == 0 {
		t.Fatalf("the default options lost their rates: %d, %d", d.LatencyRate, d.TxnE2ERate)
	}
}

// A negative linger is none (--linger 0); zero is the default.
func TestLingerNone(t *testing.T) {
	o := DefaultOptions()
	o.Linger = -1
	got, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.Linger != 0 {
		t.Fatalf("linger %s, want none", got.Linger)
	}
	o.Linger = 0
	if got, _ := o.withDefaults(); got.Linger != DefaultOptions().Linger {
		t.Fatalf("linger %s, want the default %s", got.Linger, DefaultOptions().Linger)
	}
}

package state

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// The changelog keys are Kafka Streams' store keys, byte for byte.
func TestChangelogKeysMatchKafkaStreams(t *testing.T) {
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		// WindowKeySchema.toStoreKeyBinary(key, start=1000, seqnum=0)
		{"window", windowChangelogKey(nil, []byte("k1"), 1000), "6b31" + "00000000000003e8" + "00000000"},
		// SessionKeySchema.toBinary: key, end, start
		{"session", sessionChangelogKey(nil, []byte("k1"), 1000, 2000), "6b31" + "00000000000007d0" + "00000000000003e8"},
	} {
		if h := hex.EncodeToString(c.got); h != c.want {
			t.Errorf("%s key = %s, want %s", c.name, h, c.want)
		}
	}
	k, start, err := parseWindowChangelogKey(windowChangelogKey(nil, []byte("abc"), -5))
	if err != nil || string(k) != "abc" || start != -5 {
		t.Fatalf("window key round trip: %q %d %v", k, start, err)
	}
	k, s, e, err := parseSessionChangelogKey(sessionChangelogKey(nil, []byte(""), 3, 9))
	if err != nil || len(k) != 0 || s != 3 || e != 9 {
		t.Fatalf("session key round trip: %q %d %d %v", k, s, e, err)
	}
	if _, _, err := parseWindowChangelogKey([]byte("short")); err == nil {
		t.Fatal("short window key accepted")
	}
}

// Local time encoding sorts negative times before positive ones, and
// segments floor towards minus infinity.
func TestOrderedTimeAndSegments(t *testing.T) {
	times := []int64{-1 << 40, -60_001, -1, 0, 1, 59_999, 60_000, 1 << 40}
	for i := 1; i < len(times); i++ {
		a, b := encodeOrderedTime(nil, times[i-1]), encodeOrderedTime(nil, times[i])
		if bytes.Compare(a, b) >= 0 {
			t.Errorf("%d does not sort before %d", times[i-1], times[i])
		}
		if decodeOrderedTime(b) != times[i] {
			t.Errorf("round trip of %d", times[i])
		}
	}
	g := newSegments(60_000) // interval 60s
	for _, c := range []struct{ t, seg int64 }{{-60_001, -2}, {-60_000, -1}, {-1, -1}, {0, 0}, {59_999, 0}, {60_000, 1}} {
		if got := g.segmentOf(c.t); got != c.seg {
			t.Errorf("segmentOf(%d) = %d, want %d", c.t, got, c.seg)
		}
	}
}

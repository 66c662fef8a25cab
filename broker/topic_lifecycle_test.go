package broker

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Deleting a topic deletes the groups' committed offsets of it, durably: a
// topic created again under the same name starts with no stale positions,
// also after a restart.
func TestDeleteTopicDeletesCommittedOffsets(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Logger: quietLogger}
	s, addr := serveAt(t, cfg)
	adm := newAdmin(t, addr)
	ctx := testCtx(t)
	createTopic(t, adm, "gone", 2, nil)
	createTopic(t, adm, "kept", 1, nil)
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "gone", Partition: 0, At: 5, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "gone", Partition: 1, At: 7, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "kept", Partition: 0, At: 3, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, "g", offs); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.DeleteTopics(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	check := func(adm *kadm.Client, when string) {
		t.Helper()
		got, err := adm.FetchOffsets(ctx, "g")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got.Lookup("gone", 0); ok {
			t.Errorf("%s: offsets of the deleted topic are still there: %v", when, got)
		}
		if o, ok := got.Lookup("kept", 0); !ok || o.At != 3 {
			t.Errorf("%s: offsets of another topic lost: %v", when, got)
		}
	}
	check(adm, "after delete")
	s.Close()
	_, addr = serveAt(t, cfg)
	check(newAdmin(t, addr), "after restart")
}

func TestCreatePartitionsRefusesInternalTopics(t *testing.T) {
	_, addr := startServer(t, Config{})
	adm := newAdmin(t, addr)
	ctx := testCtx(t)
	// Commit once so __consumer_offsets exists.
	offs := kadm.Offsets{}
	createTopic(t, adm, "t", 1, nil)
	offs.Add(kadm.Offset{Topic: "t", Partition: 0, At: 1, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, "g", offs); err != nil {
		t.Fatal(err)
	}
	resp, err := adm.CreatePartitions(ctx, 100, "__consumer_offsets")
	if err != nil {
		t.Fatal(err)
	}
	r := resp["__consumer_offsets"]
	if !errors.Is(r.Err, kerr.InvalidRequest) {
		t.Fatalf("got %v (%s), want INVALID_REQUEST", r.Err, r.ErrMessage)
	}
	// An ordinary topic still grows.
	resp, err = adm.CreatePartitions(ctx, 2, "t")
	if err != nil || resp["t"].Err != nil {
		t.Fatalf("ordinary topic: %v %v", err, resp["t"].Err)
	}
}

// serveAt starts a broker with cfg as given (its DataDir survives a Close,
// for restart tests); it is closed when the test ends.
func serveAt(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s, s.Addr().String()
}

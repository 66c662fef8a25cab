package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type fakeSchemas map[string]map[int]bool

func (f fakeSchemas) Registered(subject string, id int) bool { return f[subject][id] }

func wire(id int, payload string) []byte {
	b := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(id))
	return append(b, payload...)
}

// TestSchemaValidation: with confluent.value.schema.validation=true, only
// values carrying a schema id registered under <topic>-value are accepted;
// other topics and tombstones are not checked.
func TestSchemaValidation(t *testing.T) {
	s, addr := startServer(t, Config{AutoCreateTopics: true})
	ctx := context.Background()
	cl := mustClient(t, kgo.SeedBrokers(addr), kgo.DisableIdempotentWrite(), kgo.RecordRetries(0))
	adm := kadm.NewClient(cl)
	on := "true"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"confluent.value.schema.validation": &on}, "checked"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "free"); err != nil {
		t.Fatal(err)
	}
	produce := func(topic string, value []byte) error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("k"), Value: value}).FirstErr()
	}
	// No registry in this broker yet: refused with a clear error.
	if err := produce("checked", wire(1, "x")); !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("without a registry: %v", err)
	}
	s.SetSchemaChecker(fakeSchemas{"checked-value": {1: true}, "other-value": {2: true}})
	cases := []struct {
		name, topic string
		value       []byte
		ok          bool
	}{
		{"registered id", "checked", wire(1, "payload"), true},
		{"id of another subject", "checked", wire(2, "payload"), false},
		{"unknown id", "checked", wire(99, "payload"), false},
		{"no wire format", "checked", []byte("plain json"), false},
		{"too short", "checked", []byte{0, 0, 1}, false},
		{"tombstone", "checked", nil, true},
		{"topic without validation", "free", []byte("anything"), true},
	}
	for _, c := range cases {
		err := produce(c.topic, c.value)
		if c.ok && err != nil || !c.ok && !errors.Is(err, kerr.InvalidRecord) {
			t.Errorf("%s: got %v, want ok=%v", c.name, err, c.ok)
		}
	}
	// Turning validation off through IncrementalAlterConfigs applies at once.
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "confluent.value.schema.validation"}}, "checked"); err != nil {
		t.Fatal(err)
	}
	if err := produce("checked", []byte("plain json")); err != nil {
		t.Fatalf("after turning validation off: %v", err)
	}
}

package commands

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/testkit"
)

func TestAppendReplay(t *testing.T) {
	b := testkit.StartBroker(t)
	ctx := context.Background()
	l, err := Open(ctx, []string{b.Addr()}, "", kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Opening twice is fine: the topic exists.
	l2, err := Open(ctx, []string{b.Addr()}, "")
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()

	adm := kadm.NewClient(l.cl)
	cfgs, err := adm.DescribeTopicConfigs(ctx, DefaultTopic)
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := cfgs.On(DefaultTopic, nil)
	for _, c := range rc.Configs {
		if c.Key == "retention.ms" && c.MaybeValue() != "-1" || c.Key == "cleanup.policy" && c.MaybeValue() != "delete" {
			t.Errorf("%s = %s", c.Key, c.MaybeValue())
		}
	}

	for i := 0; i < 5; i++ {
		off, err := l.Append(ctx, ID("STREAM", fmt.Sprintf("S%d", i), "create"),
			Command{Statement: fmt.Sprintf("CREATE STREAM S%d (A INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');", i),
				Properties: map[string]string{"auto.offset.reset": "earliest"}, QueryID: fmt.Sprintf("Q%d", i)})
		if err != nil || off != int64(i) {
			t.Fatalf("append %d: offset %d, %v", i, off, err)
		}
	}
	var got []Logged
	next, err := l.Replay(ctx, 0, func(c Logged) error { got = append(got, c); return nil })
	if err != nil || next != 5 || len(got) != 5 {
		t.Fatalf("replay: next %d, %d commands, %v", next, len(got), err)
	}
	if got[3].ID != "stream/`S3`/create" || got[3].QueryID != "Q3" || got[3].Properties["auto.offset.reset"] != "earliest" ||
		!strings.HasPrefix(got[3].Statement, "CREATE STREAM S3") {
		t.Fatalf("command 3: %+v", got[3])
	}
	// Replaying from the end reads nothing; from the middle, the rest.
	if n, err := l.Replay(ctx, 5, func(Logged) error { t.Fatal("unexpected"); return nil }); err != nil || n != 5 {
		t.Fatal(n, err)
	}
	got = nil
	if _, err := l.Replay(ctx, 3, func(c Logged) error { got = append(got, c); return nil }); err != nil || len(got) != 2 {
		t.Fatal(len(got), err)
	}
	// An error from fn stops the replay and is returned.
	if _, err := l.Replay(ctx, 0, func(c Logged) error { return fmt.Errorf("stop at %d", c.Offset) }); err == nil || err.Error() != "stop at 0" {
		t.Fatal(err)
	}
}

func TestUndecodableCommandStopsReplay(t *testing.T) {
	b := testkit.StartBroker(t)
	ctx := context.Background()
	l, err := Open(ctx, []string{b.Addr()}, "cmds")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(ctx, "a", Command{Statement: "CREATE TYPE X AS INT;"}); err != nil {
		t.Fatal(err)
	}
	if err := l.cl.ProduceSync(ctx, &kgo.Record{Topic: "cmds", Value: []byte("{not json")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	n := 0
	_, err = l.Replay(ctx, 0, func(Logged) error { n++; return nil })
	if n != 1 || err == nil || !strings.Contains(err.Error(), "offset 1: undecodable command") {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

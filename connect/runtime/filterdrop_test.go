package runtime

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connecttest"
	_ "github.com/sluicedata/sluice/connect/converters"
	_ "github.com/sluicedata/sluice/connect/transforms"
)

// A Filter whose topic-only predicate drops a topic's records lets the sink
// skip building their values, but records that do not convert still fail
// in the converter, as in Kafka Connect (conversion runs before transforms).
func TestTopicFilterStillReportsConversionErrors(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	prod := client(t, b.Addr(), kgo.AllowAutoTopicCreation())
	rec := func(topic, key, value string) *kgo.Record {
		r := &kgo.Record{Topic: topic, Key: []byte(key)}
		if value != "<null>" {
			r.Value = []byte(value)
		}
		return r
	}
	recs := []*kgo.Record{
		rec("keep", "k0", `{"n":1}`),
		rec("keep", "k1", `{"n":`),
		rec("keep", "k2", `{"n":2, "s":"x"}`),
		rec("drop", "k3", `{"n":3,"a":[1,{},[]],"s":"\u00e9"}`),
		rec("drop", "k4", `{"n":`),
		rec("drop", "k5", `{"big":1e999}`),
		rec("drop", "\xff", `{"n":6}`),
		rec("drop", "k7", "<null>"),
		rec("drop", "k8", `123456789012345678901234567890`),
		rec("drop", "k9", `{"s":"\q"}`),
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, b.Addr())
	defer w.Close()
	_, err := w.Create(ctx, "topicfilter", connect.Config{"connector.class": connecttest.Sink, "topics": "keep,drop",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Filter", "transforms.f.predicate": "isDrop",
		"predicates": "isDrop", "predicates.isDrop.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isDrop.pattern": "dr.p",
		"errors.tolerance":          "all", "errors.deadletterqueue.topic.name": "dlq", "errors.deadletterqueue.context.headers.enable": "true"}, "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "consumer offsets committed to the end", func() bool {
		offs, err := w.Offsets(ctx, "topicfilter")
		if err != nil || len(offs) != 2 {
			return false
		}
		var sum int64
		for _, o := range offs {
			n, _ := o.Offset["kafka_offset"].(int64)
			sum += n
		}
		return sum == int64(len(recs))
	})
	if got := strings.Join(connecttest.Written("topicfilter"), " "); got != "map[n:1] map[n:2 s:x]" {
		t.Errorf("sink wrote %q, want the two good records of topic keep", got)
	}
	var dead []string
	for _, r := range readTopic(t, b.Addr(), "dlq", false) {
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		dead = append(dead, fmt.Sprintf("%s/%s/%s", h["__connect.errors.topic"], r.Key, h["__connect.errors.stage"]))
	}
	sort.Strings(dead)
	want := []string{"drop/k4/" + StageValueConverter, "drop/k5/" + StageValueConverter, "drop/k9/" + StageValueConverter,
		"drop/\xff/" + StageKeyConverter, "keep/k1/" + StageValueConverter}
	sort.Strings(want)
	if fmt.Sprint(dead) != fmt.Sprint(want) {
		t.Errorf("dead-lettered %q, want %q", dead, want)
	}
}

package serde

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/serde/rules"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
	"github.com/sluicedata/sluice/testkit"
)

var personType = types.StructOf(types.F("name", types.StringType), types.F("age", types.IntType))

func person(name string, age int32) types.StructVal {
	return types.StructVal{{Name: "name", Value: name}, {Name: "age", Value: age}}
}

// addRules registers the latest schema of subject again with ruleSet, through
// the REST API, as a user adding a data contract to a subject does.
func addRules(t *testing.T, url, subject, ruleSet string) {
	t.Helper()
	res, err := http.Get(url + "/subjects/" + subject + "/versions/latest")
	if err != nil {
		t.Fatal(err)
	}
	var latest map[string]any
	json.NewDecoder(res.Body).Decode(&latest)
	res.Body.Close()
	body := map[string]any{"schema": latest["schema"], "ruleSet": json.RawMessage(ruleSet)}
	if st, ok := latest["schemaType"]; ok {
		body["schemaType"] = st
	}
	b, _ := json.Marshal(body)
	res, err = http.Post(url+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("register rules: status %d", res.StatusCode)
	}
}

const ageRules = `{"domainRules":[
 {"name":"ageNonNegative","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 0"},
 {"name":"hideName","kind":"TRANSFORM","type":"CEL_FIELD","mode":"READ","expr":"name == 'name' ; 'hidden'"}]}`

// TestContractRules: every registry format runs the rules registered with
// the subject's schema: a good record is written, a bad one refused with an
// error naming the rule, and the READ transform applies when reading.
func TestContractRules(t *testing.T) {
	url, c := startRegistry(t)
	ctx := context.Background()
	// A client caches the id it registered under a subject, as Confluent's
	// do, so the rules added later reach a client started after them.
	c2 := srclient.New(url)
	formats := func(c *srclient.Client) []Format {
		return []Format{Avro{Client: c}, JSONSR{Client: c}, Protobuf{Client: c}}
	}
	for i, f := range formats(c) {
		t.Run(f.Name(), func(t *testing.T) {
			topic := "people-" + strings.ToLower(f.Name())
			before, err := f.Serializer(personType, false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := before.Serialize(ctx, topic, person("kid", -1)); err != nil {
				t.Fatalf("no rules yet: %v", err)
			}
			addRules(t, url, topic+"-value", ageRules)

			f = formats(c2)[i]
			ser, err := f.Serializer(personType, false)
			if err != nil {
				t.Fatal(err)
			}
			good, err := ser.Serialize(ctx, topic, person("ann", 30))
			if err != nil {
				t.Fatalf("good record: %v", err)
			}
			_, err = ser.Serialize(ctx, topic, person("kid", -1))
			var re *rules.Error
			if !errors.As(err, &re) || re.Rule != "ageNonNegative" || !strings.Contains(err.Error(), `"ageNonNegative"`) ||
				!strings.Contains(err.Error(), "message.age >= 0") {
				t.Fatalf("bad record: %v", err)
			}
			de, err := f.Deserializer(personType, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := de.Deserialize(ctx, topic, good)
			if err != nil {
				t.Fatal(err)
			}
			if want := person("hidden", 30); !types.Equal(got, want) {
				t.Fatalf("read %v, want %v", got, want)
			}
		})
	}
}

// TestContractDLQ: a rule with onFailure DLQ sends the failing record, with
// headers naming the rule, to the dead-letter topic of a real broker, and
// the serializer reports that the original must not be produced.
func TestContractDLQ(t *testing.T) {
	b := testkit.StartBroker(t)
	url, c := startRegistryOn(t, b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	exec, err := rules.NewExecutor(rules.WithDeadLetterWriter(rules.KafkaDLQ{Client: cl}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The rule comes with the schema registered through the REST API.
	text, err := AvroSchema(personType, DefaultAvroRecordName)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"schema": text, "ruleSet": json.RawMessage(`{"domainRules":[{"name":"ageNonNegative",
		"kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 0","onFailure":"DLQ","params":{"dlq.topic":"people-dlq"}}]}`)})
	res, err := http.Post(url+"/subjects/people-value/versions", "application/json", strings.NewReader(string(body)))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", err, res.Status)
	}
	res.Body.Close()

	ser, err := Avro{Client: c, Rules: exec}.Serializer(personType, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ser.Serialize(ctx, "people", person("ann", 30)); err != nil {
		t.Fatalf("good record: %v", err)
	}
	_, err = ser.Serialize(rules.WithRecordKey(ctx, []byte("kid-1")), "people", person("kid", -1))
	if !errors.Is(err, rules.ErrDeadLettered) || !strings.Contains(err.Error(), `"people-dlq"`) {
		t.Fatalf("bad record: %v", err)
	}

	rec, hs := firstRecord(ctx, t, b.Addr(), "people-dlq")
	if string(rec.Key) != "kid-1" || string(rec.Value) != `{"name":"kid","age":-1}` ||
		hs["__rule.name"] != "ageNonNegative" || hs["__rule.mode"] != "WRITE" || hs["__rule.subject"] != "people-value" ||
		hs["__rule.topic"] != "people" || !strings.Contains(hs["__rule.exception"], "message.age >= 0") {
		t.Fatalf("dead letter key %q value %s headers %v", rec.Key, rec.Value, hs)
	}

	// A READ rule sends the record as received to its dead-letter topic.
	w, err := Avro{Client: c}.Serializer(personType, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Serialize(ctx, "elders", person("x", 1)); err != nil {
		t.Fatal(err)
	}
	addRules(t, url, "elders-value", `{"domainRules":[{"name":"plausibleAge","kind":"CONDITION","type":"CEL","mode":"READ",
		"expr":"message.age < 130","onFailure":"DLQ","params":{"dlq.topic":"elders-dlq"}}]}`)
	w, err = Avro{Client: srclient.New(url)}.Serializer(personType, false)
	if err != nil {
		t.Fatal(err)
	}
	old, err := w.Serialize(ctx, "elders", person("methuselah", 969))
	if err != nil {
		t.Fatalf("a READ rule ran on write: %v", err)
	}
	de, err := Avro{Client: srclient.New(url), Rules: exec}.Deserializer(personType, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := de.Deserialize(ctx, "elders", old); !errors.Is(err, rules.ErrDeadLettered) {
		t.Fatalf("read of a bad record: %v", err)
	}
	rec, hs = firstRecord(ctx, t, b.Addr(), "elders-dlq")
	if !bytes.Equal(rec.Value, old) || hs["__rule.name"] != "plausibleAge" || hs["__rule.mode"] != "READ" {
		t.Fatalf("read dead letter value % x headers %v", rec.Value, hs)
	}
}

// firstRecord reads the first record of topic and its headers.
func firstRecord(ctx context.Context, t *testing.T, addr, topic string) (*kgo.Record, map[string]string) {
	t.Helper()
	rd, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var rec *kgo.Record
	for rec == nil {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no record in %s", topic)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if rec == nil {
				rec = r
			}
		})
	}
	hs := map[string]string{}
	for _, h := range rec.Headers {
		hs[h.Key] = string(h.Value)
	}
	return rec, hs
}

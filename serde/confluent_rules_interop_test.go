//go:build cgo

package serde

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/rules/cel"
	csd "github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/avrov2"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

var goPersonType = types.StructOf(types.F("Name", types.StringType), types.F("Age", types.IntType))

func goPerson(name string, age int32) types.StructVal {
	return types.StructVal{{Name: "Name", Value: name}, {Name: "Age", Value: age}}
}

// TestConfluentRulesInterop: rule sets stored by Sluice's registry run the
// same in Confluent's Go serializers (their CEL executor) and in Sluice's:
// Confluent writes with the WRITE rules of the latest version, Sluice reads;
// Sluice writes with its WRITE rules, Confluent reads with the READ rule.
func TestConfluentRulesInterop(t *testing.T) {
	cel.Register()
	url, c := startRegistry(t)
	ctx := context.Background()
	rules := `{"domainRules":[
	 {"name":"ageNonNegative","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.Age >= 0"},
	 {"name":"bang","kind":"TRANSFORM","type":"CEL_FIELD","mode":"WRITE","expr":"name == 'Name' ; value + '!'"},
	 {"name":"quote","kind":"TRANSFORM","type":"CEL_FIELD","mode":"READ","expr":"name == 'Name' ; '<' + value + '>'"}]}`

	// Confluent -> Sluice.
	schema := `{"type":"record","name":"Person","fields":[{"name":"Name","type":"string"},{"name":"Age","type":"int"}]}`
	body, _ := json.Marshal(map[string]any{"schema": schema, "ruleSet": json.RawMessage(rules)})
	res, err := http.Post(url+"/subjects/conf-people-value/versions", "application/json", strings.NewReader(string(body)))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", err, res.Status)
	}
	res.Body.Close()
	// Confluent's CEL sees Go structs by their Go field names, so the Avro
	// fields are named as the Go fields.
	type Person struct {
		Name string `avro:"Name"`
		Age  int32  `avro:"Age"`
	}
	cfg := avrov2.NewSerializerConfig()
	cfg.AutoRegisterSchemas = false
	cfg.UseLatestVersion = true
	ser, err := avrov2.NewSerializer(confluentClient(t, url), csd.ValueSerde, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ser.Serialize("conf-people", &Person{Name: "ann", Age: 30})
	if err != nil {
		t.Fatalf("confluent serialize: %v", err)
	}
	// Confluent's error names the expression, not the rule.
	if _, err := ser.Serialize("conf-people", &Person{Name: "kid", Age: -1}); err == nil || !strings.Contains(err.Error(), "message.Age >= 0") {
		t.Fatalf("confluent serialize of a bad record: %v", err)
	}
	de, err := Avro{Client: srclient.New(url)}.Deserializer(goPersonType, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := de.Deserialize(ctx, "conf-people", b)
	if err != nil {
		t.Fatal(err)
	}
	if want := goPerson("<ann!>", 30); !types.Equal(got, want) {
		t.Fatalf("sluice read %v, want %v", got, want)
	}

	// Sluice -> Confluent.
	first, err := Avro{Client: c}.Serializer(goPersonType, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Serialize(ctx, "sl-people", goPerson("x", 1)); err != nil {
		t.Fatal(err)
	}
	addRules(t, url, "sl-people-value", rules)
	sser, err := Avro{Client: srclient.New(url)}.Serializer(goPersonType, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err = sser.Serialize(ctx, "sl-people", goPerson("bob", 40))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sser.Serialize(ctx, "sl-people", goPerson("kid", -1)); err == nil || !strings.Contains(err.Error(), "ageNonNegative") {
		t.Fatalf("sluice serialize of a bad record: %v", err)
	}
	deser, err := avrov2.NewDeserializer(confluentClient(t, url), csd.ValueSerde, avrov2.NewDeserializerConfig())
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := deser.DeserializeInto("sl-people", b, &out); err != nil {
		t.Fatalf("confluent deserialize: %v", err)
	}
	if out["Name"] != "<bob!>" {
		t.Fatalf("confluent read %v", out)
	}
}

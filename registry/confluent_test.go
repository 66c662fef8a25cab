//go:build cgo

// The Confluent serializers import confluent-kafka-go's kafka package, which
// needs cgo (librdkafka); without cgo this test is left out.

package registry_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/avrov2"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/jsonschema"

	"github.com/sluicedata/sluice/registry"
	"github.com/sluicedata/sluice/testkit"
)

// TestConfluentClient drives the registry with Confluent's own Go client and
// serializers, an independent implementation of the REST API.
func TestConfluentClient(t *testing.T) {
	b := testkit.StartBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := registry.Open(ctx, []string{b.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(func() { srv.Close(); r.Close() })

	cl, err := schemaregistry.NewClient(schemaregistry.NewConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	v1 := `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"item","type":"string"}]}`
	v2 := `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"item","type":"string"},{"name":"qty","type":"int","default":1}]}`
	bad := `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"}]}`

	id1, err := cl.Register("orders-value", schemaregistry.SchemaInfo{Schema: v1}, false)
	if err != nil || id1 != 1 {
		t.Fatalf("register v1: id %d, %v", id1, err)
	}
	ok, err := cl.TestCompatibility("orders-value", 1, schemaregistry.SchemaInfo{Schema: v2})
	if err != nil || !ok {
		t.Fatalf("compat v2: %v %v", ok, err)
	}
	ok, err = cl.TestCompatibility("orders-value", 1, schemaregistry.SchemaInfo{Schema: bad})
	if err != nil || ok {
		t.Fatalf("compat bad: %v %v", ok, err)
	}
	if _, err := cl.Register("orders-value", schemaregistry.SchemaInfo{Schema: bad}, false); err == nil {
		t.Fatal("incompatible schema registered")
	}
	id2, err := cl.Register("orders-value", schemaregistry.SchemaInfo{Schema: v2}, false)
	if err != nil || id2 != 2 {
		t.Fatalf("register v2: id %d, %v", id2, err)
	}
	meta, err := cl.GetLatestSchemaMetadata("orders-value")
	if err != nil || meta.Version != 2 || meta.ID != 2 {
		t.Fatalf("latest: %+v %v", meta, err)
	}
	subjects, err := cl.GetAllSubjects()
	if err != nil || len(subjects) != 1 || subjects[0] != "orders-value" {
		t.Fatalf("subjects %v %v", subjects, err)
	}
	versions, err := cl.GetAllVersions("orders-value")
	if err != nil || len(versions) != 2 {
		t.Fatalf("versions %v %v", versions, err)
	}
	if c, err := cl.GetDefaultCompatibility(); err != nil || c != schemaregistry.Backward {
		t.Fatalf("default compatibility %v %v", c, err)
	}
	if _, err := cl.UpdateCompatibility("orders-value", schemaregistry.Full); err != nil {
		t.Fatal(err)
	}
	if c, err := cl.GetCompatibility("orders-value"); err != nil || c != schemaregistry.Full {
		t.Fatalf("subject compatibility %v %v", c, err)
	}

	// Avro serializer with auto-registration; a fresh client and
	// deserializer read the record back through the registry.
	type Order struct {
		ID   int64  `avro:"id"`
		Item string `avro:"item"`
		Qty  int32  `avro:"qty"`
	}
	ser, err := avrov2.NewSerializer(cl, serde.ValueSerde, avrov2.NewSerializerConfig())
	if err != nil {
		t.Fatal(err)
	}
	payload, err := ser.Serialize("orders", &Order{ID: 7, Item: "pen", Qty: 3})
	if err != nil {
		t.Fatalf("serialize: %v", err)
	}
	if payload[0] != 0 {
		t.Fatalf("magic byte %d", payload[0])
	}
	cl2, _ := schemaregistry.NewClient(schemaregistry.NewConfig(srv.URL))
	deser, err := avrov2.NewDeserializer(cl2, serde.ValueSerde, avrov2.NewDeserializerConfig())
	if err != nil {
		t.Fatal(err)
	}
	var got Order
	if err := deser.DeserializeInto("orders", payload, &got); err != nil {
		t.Fatalf("deserialize: %v", err)
	}
	if got != (Order{ID: 7, Item: "pen", Qty: 3}) {
		t.Fatalf("round trip: %+v", got)
	}

	// JSON Schema serializer.
	type Click struct {
		URL string `json:"url"`
	}
	jser, err := jsonschema.NewSerializer(cl, serde.ValueSerde, jsonschema.NewSerializerConfig())
	if err != nil {
		t.Fatal(err)
	}
	jp, err := jser.Serialize("clicks", &Click{URL: "/a"})
	if err != nil {
		t.Fatalf("json serialize: %v", err)
	}
	jdeser, err := jsonschema.NewDeserializer(cl2, serde.ValueSerde, jsonschema.NewDeserializerConfig())
	if err != nil {
		t.Fatal(err)
	}
	var click Click
	if err := jdeser.DeserializeInto("clicks", jp, &click); err != nil || click.URL != "/a" {
		t.Fatalf("json deserialize: %+v %v", click, err)
	}

	// Soft then permanent delete.
	if vs, err := cl.DeleteSubject("clicks-value", false); err != nil || len(vs) != 1 {
		t.Fatalf("soft delete: %v %v", vs, err)
	}
	if _, err := cl.DeleteSubject("clicks-value", true); err != nil {
		t.Fatalf("permanent delete: %v", err)
	}
}

//go:build cgo

// The Confluent serializers import confluent-kafka-go's kafka package, which
// needs cgo (librdkafka); without cgo this test is left out.

package serde

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry"
	csd "github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/avrov2"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/jsonschema"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// interopType is the row both sides agree on: long, string, double,
// boolean, nullable string, array of strings and a nested struct.
var interopType = types.StructOf(
	types.F("ID", tBig),
	types.F("NAME", tStr),
	types.F("PRICE", types.DoubleType),
	types.F("ACTIVE", types.BooleanType),
	types.F("NOTE", tStr),
	types.F("TAGS", types.ArrayOf(tStr)),
	types.F("ADDR", types.StructOf(types.F("STREET", tStr), types.F("ZIP", tBig))),
)

func interopRow(id int64, note types.Value) types.Value {
	return types.StructVal{
		{Name: "ID", Value: id},
		{Name: "NAME", Value: "widget"},
		{Name: "PRICE", Value: 9.75},
		{Name: "ACTIVE", Value: true},
		{Name: "NOTE", Value: note},
		{Name: "TAGS", Value: []types.Value{"a", "b c", ""}},
		{Name: "ADDR", Value: types.StructVal{{Name: "STREET", Value: "Main St"}, {Name: "ZIP", Value: int64(12345)}}},
	}
}

func strp(s string) *string { return &s }

func confluentClient(t *testing.T, url string) schemaregistry.Client {
	t.Helper()
	cl, err := schemaregistry.NewClient(schemaregistry.NewConfig(url))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestConfluentAvroInterop: Confluent's avrov2 serializer writes, Sluice's
// AVRO format reads, and the other way round.
func TestConfluentAvroInterop(t *testing.T) {
	url, _ := startRegistry(t)
	ctx := context.Background()

	// Confluent -> Sluice. The Go struct's own schema (lower-case names,
	// non-null primitives, a ["null","string"] union for the pointer) is
	// registered; Sluice matches the fields case-insensitively.
	type Address struct {
		Street string `avro:"street"`
		Zip    int64  `avro:"zip"`
	}
	type Order struct {
		ID     int64    `avro:"id"`
		Name   string   `avro:"name"`
		Price  float64  `avro:"price"`
		Active bool     `avro:"active"`
		Note   *string  `avro:"note"`
		Tags   []string `avro:"tags"`
		Addr   Address  `avro:"addr"`
	}
	ser, err := avrov2.NewSerializer(confluentClient(t, url), csd.ValueSerde, avrov2.NewSerializerConfig())
	if err != nil {
		t.Fatal(err)
	}
	d, err := Avro{Client: srclient.New(url)}.Deserializer(interopType, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		note *string
		want types.Value
	}{
		{strp("fragile"), "fragile"},
		{nil, nil},
	} {
		in := &Order{ID: 42, Name: "widget", Price: 9.75, Active: true, Note: tc.note,
			Tags: []string{"a", "b c", ""}, Addr: Address{Street: "Main St", Zip: 12345}}
		b, err := ser.Serialize("conf-avro", in)
		if err != nil {
			t.Fatalf("confluent serialize: %v", err)
		}
		got, err := d.Deserialize(ctx, "conf-avro", b)
		if err != nil {
			t.Fatalf("sluice deserialize: %v", err)
		}
		if want := interopRow(42, tc.want); !types.Equal(got, want) {
			t.Errorf("confluent -> sluice:\n got %#v\nwant %#v", got, want)
		}
	}

	// Sluice -> Confluent. Sluice registers ksqlDB's schema: upper-case
	// names as the SQL type has them, every field and array item a
	// ["null", T] union, so the Go struct uses pointers.
	type SAddress struct {
		Street *string `avro:"STREET"`
		Zip    *int64  `avro:"ZIP"`
	}
	type SOrder struct {
		ID     *int64    `avro:"ID"`
		Name   *string   `avro:"NAME"`
		Price  *float64  `avro:"PRICE"`
		Active *bool     `avro:"ACTIVE"`
		Note   *string   `avro:"NOTE"`
		Tags   []*string `avro:"TAGS"`
		Addr   *SAddress `avro:"ADDR"`
	}
	s, err := Avro{Client: srclient.New(url)}.Serializer(interopType, false)
	if err != nil {
		t.Fatal(err)
	}
	deser, err := avrov2.NewDeserializer(confluentClient(t, url), csd.ValueSerde, avrov2.NewDeserializerConfig())
	if err != nil {
		t.Fatal(err)
	}
	id, name, price, active, zip := int64(7), "widget", 9.75, true, int64(12345)
	for _, note := range []*string{strp("fragile"), nil} {
		var nv types.Value
		if note != nil {
			nv = *note
		}
		b, err := s.Serialize(ctx, "sluice-avro", interopRow(7, nv))
		if err != nil {
			t.Fatalf("sluice serialize: %v", err)
		}
		var got SOrder
		if err := deser.DeserializeInto("sluice-avro", b, &got); err != nil {
			t.Fatalf("confluent deserialize: %v", err)
		}
		want := SOrder{ID: &id, Name: &name, Price: &price, Active: &active, Note: note,
			Tags: []*string{strp("a"), strp("b c"), strp("")},
			Addr: &SAddress{Street: strp("Main St"), Zip: &zip}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sluice -> confluent:\n got %s\nwant %s", dump(got), dump(want))
		}
		// The generic (map) reading has the same values; hamba/avro keys a
		// non-null union branch of a complex type by its type name.
		var gm map[string]any
		if err := deser.DeserializeInto("sluice-avro", b, &gm); err != nil {
			t.Fatalf("confluent deserialize to map: %v", err)
		}
		if gm["ID"] != int64(7) || gm["NAME"] != "widget" || gm["PRICE"] != 9.75 || gm["ACTIVE"] != true ||
			gm["NOTE"] != nv ||
			!reflect.DeepEqual(gm["TAGS"], map[string]any{"array": []any{"a", "b c", ""}}) ||
			!reflect.DeepEqual(gm["ADDR"], map[string]any{DefaultAvroRecordName + "_ADDR": map[string]any{"STREET": "Main St", "ZIP": int64(12345)}}) {
			t.Errorf("sluice -> confluent map: %#v", gm)
		}
	}
}

// TestConfluentJSONSchemaInterop: Confluent's jsonschema serializer writes,
// Sluice's JSON_SR format reads, and the other way round.
func TestConfluentJSONSchemaInterop(t *testing.T) {
	url, _ := startRegistry(t)
	ctx := context.Background()

	// Confluent -> Sluice: field names as the JSON tags have them; Sluice
	// matches them case-insensitively. The reflected schema does not allow
	// null for a pointer, so a nil note is left out (omitempty) and reads
	// as NULL.
	type Address struct {
		Street string `json:"street"`
		Zip    int64  `json:"zip"`
	}
	type Order struct {
		ID     int64    `json:"id"`
		Name   string   `json:"name"`
		Price  float64  `json:"price"`
		Active bool     `json:"active"`
		Note   *string  `json:"note,omitempty"`
		Tags   []string `json:"tags"`
		Addr   Address  `json:"addr"`
	}
	sconf := jsonschema.NewSerializerConfig()
	sconf.EnableValidation = true
	ser, err := jsonschema.NewSerializer(confluentClient(t, url), csd.ValueSerde, sconf)
	if err != nil {
		t.Fatal(err)
	}
	d, err := JSONSR{Client: srclient.New(url)}.Deserializer(interopType, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		note *string
		want types.Value
	}{
		{strp("fragile"), "fragile"},
		{nil, nil},
	} {
		in := &Order{ID: 42, Name: "widget", Price: 9.75, Active: true, Note: tc.note,
			Tags: []string{"a", "b c", ""}, Addr: Address{Street: "Main St", Zip: 12345}}
		b, err := ser.Serialize("conf-json", in)
		if err != nil {
			t.Fatalf("confluent serialize: %v", err)
		}
		got, err := d.Deserialize(ctx, "conf-json", b)
		if err != nil {
			t.Fatalf("sluice deserialize: %v", err)
		}
		if want := interopRow(42, tc.want); !types.Equal(got, want) {
			t.Errorf("confluent -> sluice:\n got %#v\nwant %#v", got, want)
		}
	}

	// Sluice -> Confluent.
	type SAddress struct {
		Street *string `json:"STREET"`
		Zip    *int64  `json:"ZIP"`
	}
	type SOrder struct {
		ID     *int64    `json:"ID"`
		Name   *string   `json:"NAME"`
		Price  *float64  `json:"PRICE"`
		Active *bool     `json:"ACTIVE"`
		Note   *string   `json:"NOTE"`
		Tags   []*string `json:"TAGS"`
		Addr   *SAddress `json:"ADDR"`
	}
	s, err := JSONSR{Client: srclient.New(url)}.Serializer(interopType, false)
	if err != nil {
		t.Fatal(err)
	}
	// Confluent's deserializer validates the decoded Go value, which only
	// works for generic values, not structs, so validation stays off here;
	// TestJSONSRRoundTrip validates Sluice's payloads against their schema.
	deser, err := jsonschema.NewDeserializer(confluentClient(t, url), csd.ValueSerde, jsonschema.NewDeserializerConfig())
	if err != nil {
		t.Fatal(err)
	}
	id, name, price, active, zip := int64(7), "widget", 9.75, true, int64(12345)
	for _, note := range []*string{strp("fragile"), nil} {
		var nv types.Value
		if note != nil {
			nv = *note
		}
		b, err := s.Serialize(ctx, "sluice-json", interopRow(7, nv))
		if err != nil {
			t.Fatalf("sluice serialize: %v", err)
		}
		var got SOrder
		if err := deser.DeserializeInto("sluice-json", b, &got); err != nil {
			t.Fatalf("confluent deserialize: %v", err)
		}
		want := SOrder{ID: &id, Name: &name, Price: &price, Active: &active, Note: note,
			Tags: []*string{strp("a"), strp("b c"), strp("")},
			Addr: &SAddress{Street: strp("Main St"), Zip: &zip}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sluice -> confluent:\n got %s\nwant %s", dump(got), dump(want))
		}
	}
}

// dump prints a struct of pointers with the pointed-to values.
func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

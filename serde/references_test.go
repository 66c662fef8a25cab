package serde

import (
	"context"
	"testing"

	"github.com/hamba/avro/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// TestAvroReferences: a writer schema using a named type from another
// subject (which itself uses one from a third) is resolved through the
// registry.
func TestAvroReferences(t *testing.T) {
	_, c := startRegistry(t)
	ctx := context.Background()
	country := `{"type":"record","name":"Country","namespace":"com.acme","fields":[{"name":"code","type":"string"}]}`
	address := `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"},{"name":"country","type":"com.acme.Country"}]}`
	order := `{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"id","type":"long"},{"name":"ship","type":"com.acme.Address"}]}`
	if _, err := c.Register(ctx, "country", srclient.Schema{Schema: country}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, "address", srclient.Schema{Schema: address,
		References: []srclient.Reference{{Name: "com.acme.Country", Subject: "country", Version: 1}}}); err != nil {
		t.Fatal(err)
	}
	id, err := c.Register(ctx, "orders-value", srclient.Schema{Schema: order,
		References: []srclient.Reference{{Name: "com.acme.Address", Subject: "address", Version: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	// The payload as another producer writes it, with the resolved schema.
	cache := &avro.SchemaCache{}
	for _, s := range []string{country, address} {
		if _, err := avro.ParseWithCache(s, "", cache); err != nil {
			t.Fatal(err)
		}
	}
	schema, err := avro.ParseWithCache(order, "", cache)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := avro.Marshal(schema, map[string]any{"id": int64(7),
		"ship": map[string]any{"city": "Lyon", "country": map[string]any{"code": "FR"}}})
	if err != nil {
		t.Fatal(err)
	}
	rowType := types.StructOf(types.F("id", types.BigintType), types.F("ship",
		types.StructOf(types.F("city", types.StringType), types.F("country", types.StructOf(types.F("code", types.StringType))))))
	de, err := Avro{Client: srclient.New(c.BaseURL())}.Deserializer(rowType, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := de.Deserialize(ctx, "orders", append(AppendHeader(nil, id), payload...))
	if err != nil {
		t.Fatal(err)
	}
	want := types.StructVal{{Name: "id", Value: int64(7)}, {Name: "ship", Value: types.StructVal{{Name: "city", Value: "Lyon"},
		{Name: "country", Value: types.StructVal{{Name: "code", Value: "FR"}}}}}}
	if !types.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestProtobufReferences: a writer schema importing a file registered under
// another subject is compiled with it.
func TestProtobufReferences(t *testing.T) {
	_, c := startRegistry(t)
	ctx := context.Background()
	money := `syntax = "proto3"; package acme; message Money { int64 units = 1; string currency = 2; }`
	order := `syntax = "proto3"; package acme; import "acme/money.proto"; import "google/protobuf/timestamp.proto";
message Order { string id = 1; Money total = 2; google.protobuf.Timestamp at = 3; }`
	if _, err := c.Register(ctx, "money", srclient.Schema{Schema: money, SchemaType: "PROTOBUF"}); err != nil {
		t.Fatal(err)
	}
	id, err := c.Register(ctx, "orders-value", srclient.Schema{Schema: order, SchemaType: "PROTOBUF",
		References: []srclient.Reference{{Name: "acme/money.proto", Subject: "money", Version: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	fd, err := compileProto(order, map[string]string{"acme/money.proto": money})
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().Get(0)
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName("id"), protoreflect.ValueOfString("o-1"))
	total := dynamicpb.NewMessage(md.Fields().ByName("total").Message())
	total.Set(total.Descriptor().Fields().ByName("units"), protoreflect.ValueOfInt64(42))
	total.Set(total.Descriptor().Fields().ByName("currency"), protoreflect.ValueOfString("EUR"))
	m.Set(md.Fields().ByName("total"), protoreflect.ValueOfMessage(total))
	payload, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	rowType := types.StructOf(types.F("id", types.StringType), types.F("total",
		types.StructOf(types.F("units", types.BigintType), types.F("currency", types.StringType))), types.F("at", types.TimestampType))
	de, err := Protobuf{Client: srclient.New(c.BaseURL())}.Deserializer(rowType, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := de.Deserialize(ctx, "orders", append(AppendMessageIndexes(AppendHeader(nil, id), []int{0}), payload...))
	if err != nil {
		t.Fatal(err)
	}
	want := types.StructVal{{Name: "id", Value: "o-1"}, {Name: "total", Value: types.StructVal{{Name: "units", Value: int64(42)},
		{Name: "currency", Value: "EUR"}}}, {Name: "at", Value: nil}}
	if !types.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

package converters

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// The imports Confluent's ProtobufConverter registers as references.
const (
	confluentMetaProto = `syntax = "proto3";
package confluent;
import "google/protobuf/descriptor.proto";
message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
}
extend google.protobuf.FileOptions { Meta file_meta = 1088; }
extend google.protobuf.MessageOptions { Meta message_meta = 1088; }
extend google.protobuf.FieldOptions { Meta field_meta = 1088; }
`
	confluentDecimalProto = `syntax = "proto3";
package confluent.type;
message Decimal {
  bytes value = 1;
  uint32 precision = 2;
  int32 scale = 3;
}
`
	googleDateProto = `syntax = "proto3";
package google.type;
message Date {
  int32 year = 1;
  int32 month = 2;
  int32 day = 3;
}
`
	// A value schema as Confluent's ProtobufData derives it for a struct
	// with an int8, a Decimal(2) and a Date.
	confluentOrderProto = `syntax = "proto3";
package shop;
import "confluent/meta.proto";
import "confluent/type/decimal.proto";
import "google/type/date.proto";
message Order {
  int32 qty = 1 [(confluent.field_meta) = { params: [ { key: "connect.type", value: "int8" } ] }];
  confluent.type.Decimal price = 2 [(confluent.field_meta) = { params: [ { key: "precision", value: "10" }, { key: "scale", value: "2" } ] }];
  google.type.Date day = 3;
  string note = 4;
}
`
)

// A Protobuf schema written by Confluent's converter imports registered
// schemas; the converter resolves them and maps Confluent's Decimal and
// google.type.Date back to Connect's logical types.
func TestProtobufReadsConfluentReferences(t *testing.T) {
	url := startRegistry(t)
	cl := srclient.New(url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var refs []srclient.Reference
	for _, f := range []struct{ name, text string }{
		{"confluent/meta.proto", confluentMetaProto},
		{"confluent/type/decimal.proto", confluentDecimalProto},
		{"google/type/date.proto", googleDateProto},
	} {
		if _, err := cl.Register(ctx, f.name, srclient.Schema{Schema: f.text, SchemaType: "PROTOBUF"}); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, srclient.Reference{Name: f.name, Subject: f.name, Version: 1})
	}
	body, _ := json.Marshal(srclient.Schema{Schema: confluentOrderProto, SchemaType: "PROTOBUF", References: refs})
	res, err := http.Post(url+"/subjects/orders-value/versions", srclient.ContentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ID int `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&reg); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %d %v", res.StatusCode, err)
	}
	res.Body.Close()

	// Encode a message as Confluent's serializer would.
	c := configured(t, &Protobuf{}, connect.Config{"schema.registry.url": url}).(*Protobuf)
	f, err := c.readerFile(reg.ID)
	if err != nil {
		t.Fatal(err)
	}
	md := f.fd.Messages().Get(0)
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName("qty"), protoreflect.ValueOfInt32(-3))
	price := dynamicpb.NewMessage(md.Fields().ByName("price").Message())
	price.Set(price.Descriptor().Fields().ByName("value"), protoreflect.ValueOfBytes([]byte{0x30, 0x39})) // 12345
	price.Set(price.Descriptor().Fields().ByName("scale"), protoreflect.ValueOfInt32(2))
	m.Set(md.Fields().ByName("price"), protoreflect.ValueOfMessage(price))
	day := dynamicpb.NewMessage(md.Fields().ByName("day").Message())
	day.Set(day.Descriptor().Fields().ByName("year"), protoreflect.ValueOfInt32(2024))
	day.Set(day.Descriptor().Fields().ByName("month"), protoreflect.ValueOfInt32(2))
	day.Set(day.Descriptor().Fields().ByName("day"), protoreflect.ValueOfInt32(29))
	m.Set(md.Fields().ByName("day"), protoreflect.ValueOfMessage(day))
	payload, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	data := append(serde.AppendMessageIndexes(serde.AppendHeader(nil, reg.ID), []int{0}), payload...)

	s, v, err := c.ToConnect("orders", data)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Fields[0].Schema.Type; got != connect.Int8 {
		t.Errorf("qty read as %s, want int8", got)
	}
	if ps := s.Fields[1].Schema; ps.Name != connect.DecimalName || ps.Parameters["scale"] != "2" || ps.Parameters["precision"] != "10" {
		t.Errorf("price schema %+v", ps)
	}
	if ds := s.Fields[2].Schema; ds.Name != connect.DateName {
		t.Errorf("day schema %+v", ds)
	}
	sv := v.(*connect.StructValue)
	if sv.Values[0] != int8(-3) || !valuesEqual(sv.Values[1], types.MustDec("123.45")) ||
		!valuesEqual(sv.Values[2], time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) || sv.Values[3] != "" {
		t.Errorf("values %s", text(sv))
	}
}

package serde

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// protoNested is nested without what proto3 cannot carry (nested
// collections).
var protoNested = types.StructOf(
	types.F("ID", tBig),
	types.F("TAGS", types.ArrayOf(tStr)),
	types.F("ATTRS", types.MapOf(types.DecimalOf(6, 3))),
	types.F("ADDR", types.StructOf(types.F("STREET", tStr), types.F("ZIP", tInt),
		types.F("GEO", types.StructOf(types.F("LAT", types.DoubleType))))),
	types.F("LINES", types.ArrayOf(types.StructOf(types.F("SKU", tStr), types.F("QTY", tInt)))),
	types.F("BY", types.MapOf(types.StructOf(types.F("AT", types.TimestampType)))),
	types.F("TS", types.ArrayOf(types.TimestampType)),
)

func TestProtobufRoundTrip(t *testing.T) {
	url, c := startRegistry(t)
	f := Protobuf{Client: c}
	// Every primitive, NULL included (fields are optional), as a value and
	// as a key.
	for _, tc := range primitiveCases {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, f, wrapRow(tc, false), false)
			roundTrip(t, f, wrapRow(tc, false), true)
		})
	}
	rt, rv := allPrimitivesRow()
	roundTrip(t, f, typeCase{"all", rt, []types.Value{rv, nil}}, false)
	nestedV := types.StructVal{{Name: "ID", Value: int64(7)}, {Name: "TAGS", Value: []types.Value{"x", "", "y"}},
		{Name: "ATTRS", Value: map[string]types.Value{"w": mustDec("1.500"), "n": mustDec("-0.001")}},
		{Name: "ADDR", Value: types.StructVal{{Name: "STREET", Value: "Main"}, {Name: "ZIP", Value: int32(12345)},
			{Name: "GEO", Value: types.StructVal{{Name: "LAT", Value: 1.25}}}}},
		{Name: "LINES", Value: []types.Value{types.StructVal{{Name: "SKU", Value: "a"}, {Name: "QTY", Value: int32(2)}},
			types.StructVal{{Name: "SKU", Value: nil}, {Name: "QTY", Value: nil}}}},
		{Name: "BY", Value: map[string]types.Value{"k": types.StructVal{{Name: "AT", Value: types.TimestampVal(-1500)}}}},
		{Name: "TS", Value: []types.Value{types.TimestampVal(1700000000123), types.TimestampVal(-1)}}}
	empty := types.StructVal{{Name: "ID", Value: nil}, {Name: "TAGS", Value: []types.Value{}},
		{Name: "ATTRS", Value: map[string]types.Value{}}, {Name: "ADDR", Value: nil},
		{Name: "LINES", Value: []types.Value{}}, {Name: "BY", Value: map[string]types.Value{}}, {Name: "TS", Value: []types.Value{}}}
	half := types.StructVal{{Name: "ID", Value: int64(1)}, {Name: "TAGS", Value: []types.Value{}},
		{Name: "ATTRS", Value: map[string]types.Value{}},
		{Name: "ADDR", Value: types.StructVal{{Name: "STREET", Value: nil}, {Name: "ZIP", Value: nil}, {Name: "GEO", Value: nil}}},
		{Name: "LINES", Value: []types.Value{}}, {Name: "BY", Value: map[string]types.Value{}}, {Name: "TS", Value: []types.Value{}}}
	roundTrip(t, f, typeCase{"nested", protoNested, []types.Value{nestedV, empty, half, nil}}, false)

	ctx := context.Background()
	ser, err := f.Serializer(protoNested, false)
	if err != nil {
		t.Fatal(err)
	}
	de, _ := Protobuf{Client: srclient.New(url)}.Deserializer(protoNested, false)
	// NULL ARRAY and MAP are written empty and read back empty.
	allNull := types.StructVal{{Name: "ID"}, {Name: "TAGS"}, {Name: "ATTRS"}, {Name: "ADDR"}, {Name: "LINES"}, {Name: "BY"}, {Name: "TS"}}
	b, err := ser.Serialize(ctx, "nulls", allNull)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := de.Deserialize(ctx, "nulls", b); err != nil || !types.Equal(got, empty) {
		t.Errorf("all NULL row read as %#v %v", got, err)
	}
	// Header: magic, id, message indexes [0] as one 0 byte.
	if b[0] != 0 || b[5] != 0 || len(b) != 6 {
		t.Errorf("wire bytes % x", b)
	}
	// NULL array elements and map values cannot be written.
	for i, bad := range []types.Value{
		types.StructVal{{Name: "ID"}, {Name: "TAGS", Value: []types.Value{"a", nil}}, {Name: "ATTRS"}, {Name: "ADDR"}, {Name: "LINES"}, {Name: "BY"}, {Name: "TS"}},
		types.StructVal{{Name: "ID"}, {Name: "TAGS"}, {Name: "ATTRS", Value: map[string]types.Value{"a": nil}}, {Name: "ADDR"}, {Name: "LINES"}, {Name: "BY"}, {Name: "TS"}},
	} {
		if _, err := ser.Serialize(ctx, "nulls", bad); err == nil || !strings.Contains(err.Error(), "NULL") {
			t.Errorf("%d: NULL element written: %v", i, err)
		}
	}
	// Nested collections and non-STRUCT rows are refused.
	for _, typ := range []string{"STRUCT<A ARRAY<ARRAY<INT>>>", "STRUCT<A MAP<STRING, ARRAY<INT>>>", "INT"} {
		if _, err := f.Serializer(types.MustParse(typ), false); err == nil {
			t.Errorf("%s: no error", typ)
		}
	}
	// Avro ids are refused.
	as, _ := Avro{Client: c}.Serializer(protoNested, false)
	ab, err := as.Serialize(ctx, "avro", nestedV)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := de.Deserialize(ctx, "avro", ab); err == nil || !strings.Contains(err.Error(), "not a Protobuf schema") {
		t.Errorf("Avro id read as PROTOBUF: %v", err)
	}
}

func TestProtobufSchemaDerivation(t *testing.T) {
	got, err := ProtobufSchema(types.MustParse(
		"STRUCT<A DECIMAL(4, 2), L ARRAY<DATE>, S STRUCT<X TIMESTAMP, Y STRUCT<Z BOOLEAN>>, M MAP<STRING, STRUCT<Q BYTES>>>"),
		DefaultProtobufMessageName)
	if err != nil {
		t.Fatal(err)
	}
	want := `syntax = "proto3";

import "google/protobuf/timestamp.proto";

message ConnectDefault1 {
  optional string A = 1;
  repeated int32 L = 2;
  ConnectDefault2 S = 3;
  map<string, ConnectDefault4> M = 4;

  message ConnectDefault2 {
    google.protobuf.Timestamp X = 1;
    ConnectDefault3 Y = 2;

    message ConnectDefault3 {
      optional bool Z = 1;
    }
  }

  message ConnectDefault4 {
    optional bytes Q = 1;
  }
}
`
	if got != want {
		t.Errorf("schema\n%s\nwant\n%s", got, want)
	}
	got, err = ProtobufSchema(types.MustParse("STRUCT<A INT>"), "com.acme.Order")
	if err != nil || !strings.Contains(got, "package com.acme;\n") || !strings.Contains(got, "message Order {") {
		t.Errorf("package: %q %v", got, err)
	}
}

// TestProtobufInterop decodes a message another producer wrote with its own
// hand-written schema: the second top-level message, wrappers, an enum,
// narrower and differently cased fields, plain proto3 scalars.
func TestProtobufInterop(t *testing.T) {
	_, c := startRegistry(t)
	ctx := context.Background()
	schema := `syntax = "proto3";
package acme.v1;

import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Other { string x = 1; }

message Order {
  enum Status { NEW = 0; SHIPPED = 1; }
  message Line { string sku = 1; uint32 qty = 2; }
  int32 id = 1;
  string customer = 2;
  Status status = 3;
  google.protobuf.Timestamp created = 4;
  repeated Line lines = 5;
  map<string, sint64> counts = 6;
  google.protobuf.StringValue note = 7;
  google.protobuf.Int32Value maybe = 8;
  string price = 9;
  int32 plain = 10;
  optional bool flag = 11;
  fixed32 day = 12;
}
`
	id, err := c.Register(ctx, "shop-value", srclient.Schema{Schema: schema, SchemaType: "PROTOBUF"})
	if err != nil {
		t.Fatal(err)
	}
	fd, err := compileProto(schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().Get(1)
	m := dynamicpb.NewMessage(md)
	fs := md.Fields()
	set := func(name string, v protoreflect.Value) { m.Set(fs.ByName(protoreflect.Name(name)), v) }
	set("id", protoreflect.ValueOfInt32(42))
	set("customer", protoreflect.ValueOfString("ann"))
	set("status", protoreflect.ValueOfEnum(1))
	ts := dynamicpb.NewMessage(fs.ByName("created").Message())
	ts.Set(ts.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(1700000000))
	ts.Set(ts.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(123456789))
	set("created", protoreflect.ValueOfMessage(ts))
	lines := m.Mutable(fs.ByName("lines")).List()
	line := dynamicpb.NewMessage(fs.ByName("lines").Message())
	line.Set(line.Descriptor().Fields().ByName("sku"), protoreflect.ValueOfString("s1"))
	line.Set(line.Descriptor().Fields().ByName("qty"), protoreflect.ValueOfUint32(3))
	lines.Append(protoreflect.ValueOfMessage(line))
	m.Mutable(fs.ByName("counts")).Map().Set(protoreflect.ValueOfString("a").MapKey(), protoreflect.ValueOfInt64(-5))
	note := dynamicpb.NewMessage(fs.ByName("note").Message())
	note.Set(note.Descriptor().Fields().ByName("value"), protoreflect.ValueOfString("hi"))
	set("note", protoreflect.ValueOfMessage(note))
	set("price", protoreflect.ValueOfString("9.5"))
	set("day", protoreflect.ValueOfUint32(19000))
	payload, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	b := append(AppendMessageIndexes(AppendHeader(nil, id), []int{1}), payload...)

	row := types.MustParse("STRUCT<ID BIGINT, CUSTOMER STRING, STATUS STRING, CREATED TIMESTAMP, " +
		"LINES ARRAY<STRUCT<SKU STRING, QTY INT>>, COUNTS MAP<STRING, BIGINT>, NOTE STRING, MAYBE INT, " +
		"PRICE DECIMAL(5, 2), PLAIN INT, FLAG BOOLEAN, DAY DATE, MISSING STRING>")
	d, err := Protobuf{Client: c}.Deserializer(row, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Deserialize(ctx, "shop", b)
	if err != nil {
		t.Fatal(err)
	}
	want := types.StructVal{{Name: "ID", Value: int64(42)}, {Name: "CUSTOMER", Value: "ann"}, {Name: "STATUS", Value: "SHIPPED"},
		{Name: "CREATED", Value: types.TimestampVal(1700000000123)},
		{Name: "LINES", Value: []types.Value{types.StructVal{{Name: "SKU", Value: "s1"}, {Name: "QTY", Value: int32(3)}}}},
		{Name: "COUNTS", Value: map[string]types.Value{"a": int64(-5)}}, {Name: "NOTE", Value: "hi"}, {Name: "MAYBE", Value: nil},
		{Name: "PRICE", Value: mustDec("9.50")}, {Name: "PLAIN", Value: int32(0)}, {Name: "FLAG", Value: nil},
		{Name: "DAY", Value: types.DateVal(19000)}, {Name: "MISSING", Value: nil}}
	if !types.Equal(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	// A column whose type does not fit the field is an error.
	d2, _ := Protobuf{Client: c}.Deserializer(types.MustParse("STRUCT<CUSTOMER INT>"), false)
	if _, err := d2.Deserialize(ctx, "shop", b); err == nil || !strings.Contains(err.Error(), "CUSTOMER") {
		t.Errorf("mismatch: %v", err)
	}
	// Indexes naming no message are an error.
	bad := append(AppendMessageIndexes(AppendHeader(nil, id), []int{5}), payload...)
	if _, err := d.Deserialize(ctx, "shop", bad); err == nil {
		t.Error("bad indexes accepted")
	}
}

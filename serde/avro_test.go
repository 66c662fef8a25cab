package serde

import (
	"bytes"
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

func TestAvroRoundTrip(t *testing.T) {
	url, c := startRegistry(t)
	f := Avro{Client: c}
	for _, tc := range append(append([]typeCase{}, primitiveCases...), nestedCases...) {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, f, wrapRow(tc, false), false)
			roundTrip(t, Avro{Client: c, UnwrapSingle: true}, wrapRow(tc, true), false)
			roundTrip(t, f, wrapRow(tc, true), true)
		})
	}
	rt, rv := allPrimitivesRow()
	roundTrip(t, f, typeCase{"all", rt, []types.Value{rv}}, false)
	// Decoding with a fresh client fetches the writer schema by id.
	s, _ := f.Serializer(nested, false)
	b, err := s.Serialize(context.Background(), "fresh", nestedCases[3].values[0])
	if err != nil {
		t.Fatal(err)
	}
	d, _ := Avro{Client: srclient.New(url)}.Deserializer(nested, false)
	got, err := d.Deserialize(context.Background(), "fresh", b)
	if err != nil || !types.Equal(got, nestedCases[3].values[0]) {
		t.Fatalf("fresh client: %#v %v", got, err)
	}
}

func TestAvroWireAndSubjects(t *testing.T) {
	url, c := startRegistry(t)
	ctx := context.Background()
	row := types.StructOf(types.F("ID", types.BigintType), types.F("NAME", types.StringType))
	v := types.StructVal{{Name: "ID", Value: int64(1)}, {Name: "NAME", Value: "a"}}
	cases := []struct {
		strategy SubjectNameStrategy
		key      bool
		subject  string
	}{
		{nil, false, "orders-value"},
		{TopicName, true, "orders-key"},
		{RecordName, false, "com.acme.Order"},
		{TopicRecordName, false, "orders-com.acme.Order"},
	}
	for _, tc := range cases {
		f := Avro{Client: c, Strategy: tc.strategy, RecordName: "com.acme.Order"}
		s, err := f.Serializer(row, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Serialize(ctx, "orders", v)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(subjects(t, url), tc.subject) {
			t.Errorf("subject %q not registered: %v", tc.subject, subjects(t, url))
		}
		id, payload, err := SplitHeader(b)
		if err != nil || b[0] != 0 || id <= 0 {
			t.Fatalf("header % x: %v", b[:5], err)
		}
		// The payload is plain Avro binary of the registered schema.
		rs, err := c.SchemaByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		schema := avro.MustParse(rs.Schema)
		var generic map[string]any
		if err := avro.Unmarshal(schema, payload, &generic); err != nil {
			t.Fatal(err)
		}
		if generic["ID"] != int64(1) || generic["NAME"] != "a" {
			t.Errorf("hamba read %v", generic)
		}
	}
	d, _ := Avro{Client: c}.Deserializer(row, false)
	for _, bad := range [][]byte{{1, 0, 0, 0, 1, 0}, {0, 0, 0}, []byte("{}")} {
		if _, err := d.Deserialize(ctx, "orders", bad); err == nil {
			t.Errorf("decoded % x", bad)
		}
	}
	if _, err := d.Deserialize(ctx, "orders", []byte{0, 0, 0, 0x7f, 0, 2}); err == nil {
		t.Error("decoded with an unknown schema id")
	}
}

func TestAvroSchemaDerivation(t *testing.T) {
	got, err := AvroSchema(types.StructOf(types.F("A", types.DecimalOf(4, 2)),
		types.F("S", types.StructOf(types.F("T", types.TimeType))),
		types.F("L", types.ArrayOf(types.DateType))), "ns.R")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"fields":[{"default":null,"name":"A","type":["null",{"logicalType":"decimal","precision":4,"scale":2,"type":"bytes"}]},` +
		`{"default":null,"name":"S","type":["null",{"fields":[{"default":null,"name":"T","type":["null",{"logicalType":"time-millis","type":"int"}]}],"name":"ns.R_S","type":"record"}]},` +
		`{"default":null,"name":"L","type":["null",{"items":["null",{"logicalType":"date","type":"int"}],"type":"array"}]}],"name":"ns.R","type":"record"}`
	if got != want {
		t.Errorf("schema\n%s\nwant\n%s", got, want)
	}
	if _, err := AvroSchema(types.StructOf(types.F("a b", types.IntType)), "R"); err == nil {
		t.Error("invalid Avro name accepted")
	}
}

// TestAvroInterop decodes data hamba/avro wrote with a schema Sluice did not
// derive: other names' case, promotions, enums, fixed, extra and missing
// fields, micros precision.
func TestAvroInterop(t *testing.T) {
	_, c := startRegistry(t)
	ctx := context.Background()
	schema := `{"type":"record","name":"Order","namespace":"com.acme","fields":[
		{"name":"id","type":"int"},
		{"name":"amount","type":{"type":"fixed","name":"Amt","size":8,"logicalType":"decimal","precision":10,"scale":2}},
		{"name":"ratio","type":"float"},
		{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
		{"name":"extra","type":{"type":"array","items":"string"}},
		{"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},
		{"name":"day","type":["null",{"type":"int","logicalType":"date"}]},
		{"name":"tags","type":{"type":"map","values":"long"}},
		{"name":"item","type":["null",{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"}]}]}
	]}`
	id, err := c.Register(ctx, "interop-value", srclient.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	data, err := avro.Marshal(avro.MustParse(schema), map[string]any{
		"id": 7, "amount": big.NewRat(-12345, 100), "ratio": float32(0.5), "status": "PAID",
		"extra": []any{"x"}, "at": int64(1_700_000_000_123_456), "day": nil,
		"tags": map[string]any{"a": int64(1)}, "item": map[string]any{"com.acme.Item": map[string]any{"sku": "s1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	row := types.MustParse("STRUCT<ID BIGINT, AMOUNT DECIMAL(12, 3), RATIO DOUBLE, STATUS STRING, AT TIMESTAMP, " +
		"DAY DATE, TAGS MAP<STRING, BIGINT>, ITEM STRUCT<SKU STRING>, MISSING INT>")
	d, _ := Avro{Client: c}.Deserializer(row, false)
	got, err := d.Deserialize(ctx, "interop", append(AppendHeader(nil, id), data...))
	if err != nil {
		t.Fatal(err)
	}
	want := types.StructVal{{Name: "ID", Value: int64(7)}, {Name: "AMOUNT", Value: mustDec("-123.450")},
		{Name: "RATIO", Value: 0.5}, {Name: "STATUS", Value: "PAID"}, {Name: "AT", Value: types.TimestampVal(1_700_000_000_123)},
		{Name: "DAY", Value: nil}, {Name: "TAGS", Value: map[string]types.Value{"a": int64(1)}},
		{Name: "ITEM", Value: types.StructVal{{Name: "SKU", Value: "s1"}}}, {Name: "MISSING", Value: nil}}
	if !types.Equal(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	bad := types.MustParse("STRUCT<ID BOOLEAN>")
	d, _ = Avro{Client: c}.Deserializer(bad, false)
	if _, err := d.Deserialize(ctx, "interop", append(AppendHeader(nil, id), data...)); err == nil || !strings.Contains(err.Error(), "id: cannot read Avro int as BOOLEAN") {
		t.Errorf("type mismatch error: %v", err)
	}
}

func TestTwosComplement(t *testing.T) {
	cases := []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0}}, {1, []byte{1}}, {127, []byte{0x7f}}, {128, []byte{0, 0x80}}, {-1, []byte{0xff}},
		{-128, []byte{0x80}}, {-129, []byte{0xff, 0x7f}}, {256, []byte{1, 0}}, {-256, []byte{0xff, 0}},
	}
	for _, c := range cases {
		b := twosComplement(big.NewInt(c.v))
		if !bytes.Equal(b, c.want) {
			t.Errorf("%d: % x, want % x", c.v, b, c.want)
		}
		if back := fromTwosComplement(b); back.Int64() != c.v {
			t.Errorf("%d: back %d", c.v, back)
		}
	}
}

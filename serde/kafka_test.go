package serde

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

func TestKafkaRoundTrip(t *testing.T) {
	for _, c := range primitiveCases {
		switch c.t.Kind {
		case types.Int, types.Bigint, types.Double, types.String, types.Bytes:
		default:
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, Kafka{}, c, true)
			roundTrip(t, Kafka{}, wrapRow(c, true), false)
		})
	}
}

func TestKafkaBytes(t *testing.T) {
	cases := []struct {
		t    types.Type
		v    types.Value
		want []byte
	}{
		{types.IntType, int32(1), []byte{0, 0, 0, 1}},
		{types.IntType, int32(-2), []byte{0xff, 0xff, 0xff, 0xfe}},
		{types.BigintType, int64(258), []byte{0, 0, 0, 0, 0, 0, 1, 2}},
		{types.DoubleType, 1.0, []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}},
		{types.DoubleType, math.Inf(-1), []byte{0xff, 0xf0, 0, 0, 0, 0, 0, 0}},
		{types.StringType, "é", []byte{0xc3, 0xa9}},
		{types.StringType, nil, nil},
	}
	for _, c := range cases {
		s, _ := Kafka{}.Serializer(c.t, false)
		b, err := s.Serialize(context.Background(), "t", c.v)
		if err != nil || !bytes.Equal(b, c.want) || (b == nil) != (c.want == nil) {
			t.Errorf("%s %v = % x %v, want % x", c.t, c.v, b, err, c.want)
		}
	}
}

func TestKafkaErrors(t *testing.T) {
	for _, typ := range []types.Type{types.BooleanType, types.DecimalOf(3, 1), types.ArrayOf(types.IntType),
		types.StructOf(types.F("A", types.IntType), types.F("B", types.IntType))} {
		if _, err := (Kafka{}).Serializer(typ, false); err == nil {
			t.Errorf("KAFKA accepted %s", typ)
		}
	}
	d, _ := Kafka{}.Deserializer(types.IntType, false)
	if _, err := d.Deserialize(context.Background(), "t", []byte{1, 2}); err == nil {
		t.Error("2 bytes read as INT")
	}
	d, _ = Kafka{}.Deserializer(types.StringType, false)
	if _, err := d.Deserialize(context.Background(), "t", []byte{0xff}); err == nil {
		t.Error("invalid UTF-8 read as STRING")
	}
	s, _ := Kafka{}.Serializer(types.IntType, false)
	if _, err := s.Serialize(context.Background(), "t", int64(1)); err == nil {
		t.Error("BIGINT value written as INT")
	}
}

package serde

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/sluicedata/sluice/sql/types"
)

// Kafka is ksqlDB's KAFKA format: one primitive column written with Kafka's
// own serializers: INT as 4 bytes and BIGINT as 8 bytes big-endian, DOUBLE as
// 8-byte IEEE 754 big-endian, STRING as UTF-8, BYTES as is. The type is the
// primitive itself or a single-field STRUCT of one (a row with one column).
type Kafka struct{}

// Name is "KAFKA".
func (Kafka) Name() string { return "KAFKA" }

type kafkaCodec struct {
	outer types.Type
	t     types.Type
	w     wrapper
}

func newKafka(t types.Type) (*kafkaCodec, error) {
	inner, w := newWrapper(t, false)
	switch inner.Kind {
	case types.Int, types.Bigint, types.Double, types.String, types.Bytes:
	default:
		return nil, fmt.Errorf("KAFKA format does not support %s: use INT, BIGINT, DOUBLE, STRING or BYTES", t)
	}
	return &kafkaCodec{outer: t, t: inner, w: w}, nil
}

// Serializer implements Format.
func (Kafka) Serializer(t types.Type, _ bool) (Serializer, error) { return newKafka(t) }

// Deserializer implements Format.
func (Kafka) Deserializer(t types.Type, _ bool) (Deserializer, error) { return newKafka(t) }

func (c *kafkaCodec) Serialize(_ context.Context, _ string, v types.Value) ([]byte, error) {
	if err := check(c.outer, v); err != nil {
		return nil, err
	}
	v = c.w.unwrap(v)
	if v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case int32:
		return binary.BigEndian.AppendUint32(nil, uint32(x)), nil
	case int64:
		return binary.BigEndian.AppendUint64(nil, uint64(x)), nil
	case float64:
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(x)), nil
	case string:
		return []byte(x), nil
	case []byte:
		return append([]byte{}, x...), nil
	}
	return nil, fmt.Errorf("KAFKA: unexpected %T", v)
}

func (c *kafkaCodec) Deserialize(_ context.Context, _ string, b []byte) (types.Value, error) {
	if b == nil {
		return nil, nil
	}
	size := func(n int) error {
		if len(b) != n {
			return fmt.Errorf("KAFKA %s: expected %d bytes, got %d", c.t, n, len(b))
		}
		return nil
	}
	var v types.Value
	switch c.t.Kind {
	case types.Int:
		if err := size(4); err != nil {
			return nil, err
		}
		v = int32(binary.BigEndian.Uint32(b))
	case types.Bigint:
		if err := size(8); err != nil {
			return nil, err
		}
		v = int64(binary.BigEndian.Uint64(b))
	case types.Double:
		if err := size(8); err != nil {
			return nil, err
		}
		v = math.Float64frombits(binary.BigEndian.Uint64(b))
	case types.String:
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("KAFKA STRING: invalid UTF-8")
		}
		v = string(b)
	case types.Bytes:
		v = append([]byte{}, b...)
	}
	return c.w.wrap(v), nil
}

// Package serde turns record keys and values into typed SQL values
// (sql/types) and back, in ksqlDB's formats: KAFKA, JSON, DELIMITED, AVRO,
// JSON_SR and PROTOBUF (the last three with Confluent's Schema Registry wire
// format).
//
// A Format builds a Serializer and a Deserializer for one SQL type, usually
// the STRUCT of a row's key or value columns. Every format maps a nil byte
// slice (a tombstone) to NULL and NULL to nil bytes.
package serde

import (
	"context"
	"fmt"

	"github.com/sluicedata/sluice/sql/types"
)

// Serializer encodes values of one type.
type Serializer interface {
	// Serialize encodes v, which must fit the serializer's type
	// (types.Check); topic names the destination, for schema subjects.
	Serialize(ctx context.Context, topic string, v types.Value) ([]byte, error)
}

// Deserializer decodes bytes into values of one type.
type Deserializer interface {
	// Deserialize decodes b, read from topic, into a value of the
	// deserializer's type.
	Deserialize(ctx context.Context, topic string, b []byte) (types.Value, error)
}

// FieldsDeserializer is implemented by deserializers of rows (STRUCT
// types) that can write a row's field values into a slice of the caller's
// instead of a new STRUCT value: a source decoder reuses one slice for
// every record.
type FieldsDeserializer interface {
	// DeserializeFields reads b as Deserialize does. For a row it sets
	// dst[i] to field i's value (dst has one slot per field and is cleared
	// first) and returns true; for a null value it returns false and
	// leaves dst cleared. Errors are Deserialize's.
	DeserializeFields(ctx context.Context, topic string, b []byte, dst []types.Value) (bool, error)
}

// Format is a record format such as JSON or AVRO.
type Format interface {
	// Name is the ksqlDB name of the format: KAFKA, JSON, AVRO ...
	Name() string
	// Serializer returns a serializer of values of type t, for record keys
	// when key is true and values otherwise.
	Serializer(t types.Type, key bool) (Serializer, error)
	// Deserializer returns a deserializer of values of type t.
	Deserializer(t types.Type, key bool) (Deserializer, error)
}

// unwrapped returns the one field's type when t is a single-field STRUCT that
// a format writes unwrapped (WRAP_SINGLE_VALUE=false), and ok=false otherwise.
func unwrapped(t types.Type, wrap bool) (types.Type, bool) {
	if wrap || t.Kind != types.Struct || len(t.Fields) != 1 {
		return t, false
	}
	return t.Fields[0].Type, true
}

// wrapper adapts a codec of the inner type to a single-field STRUCT type.
type wrapper struct {
	name string
	on   bool
}

func (w wrapper) unwrap(v types.Value) types.Value {
	if !w.on || v == nil {
		return v
	}
	return v.(types.StructVal)[0].Value
}

func (w wrapper) wrap(v types.Value) types.Value {
	if !w.on || v == nil {
		return v
	}
	return types.StructVal{{Name: w.name, Value: v}}
}

func newWrapper(t types.Type, wrap bool) (types.Type, wrapper) {
	inner, ok := unwrapped(t, wrap)
	if !ok {
		return t, wrapper{}
	}
	return inner, wrapper{name: t.Fields[0].Name, on: true}
}

func check(t types.Type, v types.Value) error {
	if err := types.Check(t, v); err != nil {
		return fmt.Errorf("serialize %s: %w", t, err)
	}
	return nil
}

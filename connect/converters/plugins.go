// Package converters holds Kafka Connect's converters (key.converter,
// value.converter): JSON, String, ByteArray, and Avro, Protobuf and JSON
// Schema through a Confluent-compatible schema registry. Each registers
// itself as a plugin under a short name, Kafka's class name and Kafka's
// simple-name aliases.
package converters

import "github.com/sluicedata/sluice/connect"

func init() {
	connect.Register(connect.Plugin{Spec: jsonSpec, NewConverter: func() connect.Converter { return NewJSON() }})
	connect.Register(connect.Plugin{Spec: stringSpec, NewConverter: func() connect.Converter { return String{} }})
	connect.Register(connect.Plugin{Spec: byteArraySpec, NewConverter: func() connect.Converter { return ByteArray{} }})
	connect.Register(connect.Plugin{Spec: simpleHeaderSpec, NewConverter: func() connect.Converter { return SimpleHeader{} }})
	connect.Register(connect.Plugin{Spec: avroSpec, NewConverter: func() connect.Converter { return &Avro{} }})
	connect.Register(connect.Plugin{Spec: jsonSchemaSpec, NewConverter: func() connect.Converter { return &JSONSchema{} }})
	connect.Register(connect.Plugin{Spec: protobufSpec, NewConverter: func() connect.Converter { return &Protobuf{} }})
}

// Specs returns the specs of the converters in this package, for docs.
func Specs() []connect.Spec {
	return []connect.Spec{jsonSpec, stringSpec, byteArraySpec, simpleHeaderSpec, avroSpec, jsonSchemaSpec, protobufSpec}
}

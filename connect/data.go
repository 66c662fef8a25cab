package connect

import (
	"fmt"
	"math"
	"time"
)

// SchemaType is a Kafka Connect schema type, spelled as Connect's JsonConverter
// writes it ("int32", "struct" ...).
type SchemaType string

// The Connect schema types.
const (
	Int8    SchemaType = "int8"
	Int16   SchemaType = "int16"
	Int32   SchemaType = "int32"
	Int64   SchemaType = "int64"
	Float32 SchemaType = "float32"
	Float64 SchemaType = "float64"
	Boolean SchemaType = "boolean"
	String  SchemaType = "string"
	Bytes   SchemaType = "bytes"
	Array   SchemaType = "array"
	Map     SchemaType = "map"
	Struct  SchemaType = "struct"
)

// Logical type names carried in Schema.Name, as Kafka Connect and Debezium
// name them. The Go value of a logical type is listed on Record.
const (
	DecimalName   = "org.apache.kafka.connect.data.Decimal" // Parameters["scale"]
	DateName      = "org.apache.kafka.connect.data.Date"
	TimeName      = "org.apache.kafka.connect.data.Time"
	TimestampName = "org.apache.kafka.connect.data.Timestamp"
)

// Schema is a Kafka Connect schema. A nil *Schema means the data is
// schemaless (JsonConverter with schemas.enable=false, String converter ...).
type Schema struct {
	Type       SchemaType
	Optional   bool
	Default    any
	Name       string
	Version    int
	Doc        string
	Parameters map[string]string
	// Fields of a struct, in order.
	Fields []Field
	// Key is the key schema of a map; Value the value schema of a map or the
	// element schema of an array.
	Key, Value *Schema
}

// Field is one field of a struct schema.
type Field struct {
	Name   string
	Schema *Schema
}

// Field returns the field called name and its index, or false.
func (s *Schema) Field(name string) (Field, int, bool) {
	if s == nil {
		return Field{}, -1, false
	}
	for i, f := range s.Fields {
		if f.Name == name {
			return f, i, true
		}
	}
	return Field{}, -1, false
}

// StructValue is a value of a struct schema: one entry in Values per field of
// Schema.Fields, in the same order.
type StructValue struct {
	Schema *Schema
	Values []any
}

// NewStruct returns an empty struct of schema s. Structs of up to 16 fields
// (rows, envelopes, source blocks) come with their values in the same
// allocation: connectors build several per record.
func NewStruct(s *Schema) *StructValue {
	n := len(s.Fields)
	switch {
	case n <= 4:
		x := &struct {
			v StructValue
			a [4]any
		}{}
		x.v = StructValue{Schema: s, Values: x.a[:n:n]}
		return &x.v
	case n <= 8:
		x := &struct {
			v StructValue
			a [8]any
		}{}
		x.v = StructValue{Schema: s, Values: x.a[:n:n]}
		return &x.v
	case n <= 16:
		x := &struct {
			v StructValue
			a [16]any
		}{}
		x.v = StructValue{Schema: s, Values: x.a[:n:n]}
		return &x.v
	}
	return &StructValue{Schema: s, Values: make([]any, n)}
}

// Get returns the value of field name (nil when unset or unknown).
func (v *StructValue) Get(name string) any {
	if _, i, ok := v.Schema.Field(name); ok {
		return v.Values[i]
	}
	return nil
}

// Put sets field name and returns v, so calls can chain.
func (v *StructValue) Put(name string, val any) *StructValue {
	_, i, ok := v.Schema.Field(name)
	if !ok {
		panic(fmt.Sprintf("connect: struct %q has no field %q", v.Schema.Name, name))
	}
	v.Values[i] = val
	return v
}

// Header is one record header. Value follows the same rules as a record value.
type Header struct {
	Key    string
	Value  any
	Schema *Schema
}

// Record is what flows through the runtime: source tasks emit it, transforms
// rewrite it, converters turn it into Kafka bytes and back, sink tasks receive
// it.
//
// Key, Value and header values are Go values:
//
//	int8 int16 int32 int64 float32 float64 bool string []byte
//	array          []any
//	map            map[string]any (schemaless, or string keys); map[any]any otherwise
//	struct         *StructValue (with a schema); schemaless JSON objects are map[string]any
//	Decimal        types.Dec from sql/types
//	Date, Time, Timestamp  time.Time (UTC)
//
// nil is null. A nil Value with a non-nil key is a tombstone.
type Record struct {
	Topic string
	// Partition is the Kafka partition; -1 lets the producer's partitioner
	// choose (the default for source records).
	Partition int32

	Key         any
	KeySchema   *Schema
	Value       any
	ValueSchema *Schema
	Timestamp   time.Time
	Headers     []Header

	// ValueJSON, when not nil, is a source record's schemaless value as
	// JSON text in the form JsonConverter (schemas.enable=false) writes it
	// (see converters.Canonicalizer); Value and ValueSchema are then nil
	// until the runtime decodes it. Sources that read JSON set it so that a
	// record going unchanged to a JSON converter is written as it is,
	// without building and printing a Go map. The runtime decodes it into
	// Value before a transform or any other converter reads the value;
	// sink tasks never see it.
	//
	// A source task that the runtime asked for JSON text
	// (JSONTextSourceTask) may also set ValueJSON with ValueSchema: the
	// payload the JsonConverter writes for a value of that schema.
	ValueJSON []byte

	// SourcePartition and SourceOffset locate a source record in its origin
	// (a file and a line, a replication slot and an LSN). The runtime stores
	// the offset once the broker acknowledged the record.
	SourcePartition map[string]any
	SourceOffset    map[string]any

	// Offset is the Kafka offset of a record handed to a sink task.
	Offset int64
}

// Clone returns a shallow copy of r with its own header slice, for transforms
// that change a record without touching the one they were given.
func (r *Record) Clone() *Record {
	c := *r
	c.Headers = append([]Header(nil), r.Headers...)
	return &c
}

// Header returns the last header called key.
func (r *Record) Header(key string) (Header, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i], true
		}
	}
	return Header{}, false
}

// AsInt64 reads any Go integer type as an int64; false for other values
// and for unsigned values beyond int64. Connectors and transforms may hand
// over int or uint where a schema says int32 or int64.
func AsInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case uint:
		if uint64(n) > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

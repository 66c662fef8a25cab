package converters

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/javafmt"
	"github.com/sluicedata/sluice/sql/types"
)

// String is Kafka's StringConverter: values are written as their text and
// read back as optional strings.
type String struct{}

var stringSpec = connect.Spec{
	Name:    "string",
	Aliases: []string{"org.apache.kafka.connect.storage.StringConverter", "StringConverter"},
	Kind:    connect.ConverterKind,
	Doc:     "Kafka Connect's StringConverter: a value is written as its text (UTF-8) and read back as an optional string.",
	Fields: []connect.FieldSpec{
		{Name: "converter.encoding", Type: connect.TypeString, Default: "UTF-8", Importance: "HIGH",
			Doc: "Character encoding; only UTF-8 is supported.",
			Validate: func(v string) error {
				if n := strings.ReplaceAll(strings.ToUpper(v), "-", ""); n != "UTF8" {
					return fmt.Errorf("only UTF-8 is supported")
				}
				return nil
			}},
		{Name: "converter.type", Type: connect.TypeString, Importance: "LOW", Recommended: []string{"key", "value", "header"},
			Doc: "Set by the runtime: whether the converter serves keys, values or headers."},
	},
}

// OptionalString and OptionalBytes are the schemas the String and ByteArray
// converters return, as Kafka's Schema.OPTIONAL_STRING_SCHEMA and
// OPTIONAL_BYTES_SCHEMA.
var (
	OptionalString = &connect.Schema{Type: connect.String, Optional: true}
	OptionalBytes  = &connect.Schema{Type: connect.Bytes, Optional: true}
)

// Configure checks the encoding.
func (String) Configure(cfg connect.Config, _ bool) error { return validationError(&stringSpec, cfg) }

// FromConnect writes value's text, as Java's toString would.
func (String) FromConnect(topic string, _ *connect.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	return []byte(text(value)), nil
}

// AppendFromConnect appends what FromConnect writes to dst
// (connect.AppendingConverter): the source runtime writes keys into its
// pooled chunks instead of a fresh buffer per key.
func (String) AppendFromConnect(dst []byte, _ string, _ *connect.Schema, value any) ([]byte, bool, error) {
	if value == nil {
		return dst, true, nil
	}
	if s, ok := value.(string); ok {
		return append(dst, s...), false, nil
	}
	return append(dst, text(value)...), false, nil
}

// ToConnect reads the bytes as a string.
func (String) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return OptionalString, nil, nil
	}
	if !utf8.Valid(data) {
		return nil, nil, fmt.Errorf("topic %q: string converter: data is not valid UTF-8", topic)
	}
	return OptionalString, string(data), nil
}

// Check reports whether ToConnect would succeed (connect.CheckingConverter).
func (String) Check(_ string, data []byte) bool { return data == nil || utf8.Valid(data) }

// ToConnectShared is ToConnect with a string over data itself, not a copy
// (connect.SharingConverter): for a caller that never changes data.
func (String) ToConnectShared(topic string, data []byte) (*connect.Schema, any, error) {
	if len(data) == 0 {
		return String{}.ToConnect(topic, data)
	}
	if !utf8.Valid(data) {
		return nil, nil, fmt.Errorf("topic %q: string converter: data is not valid UTF-8", topic)
	}
	return OptionalString, unsafe.String(unsafe.SliceData(data), len(data)), nil
}

// text is the Java-like string form of a Connect value.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return javafmt.Double(x, 64)
	case float32:
		return javafmt.Double(float64(x), 32)
	case types.Dec:
		return x.String()
	case *connect.StructValue:
		var b strings.Builder
		b.WriteString("Struct{")
		n := 0
		for i, f := range x.Schema.Fields {
			if x.Values[i] == nil {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			b.WriteString(f.Name + "=" + text(x.Values[i]))
		}
		b.WriteByte('}')
		return b.String()
	}
	if n, ok := connect.AsInt64(v); ok {
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprint(v)
}

// ByteArray is Kafka's ByteArrayConverter: bytes pass through unchanged.
type ByteArray struct{}

var byteArraySpec = connect.Spec{
	Name:    "bytearray",
	Aliases: []string{"org.apache.kafka.connect.converters.ByteArrayConverter", "ByteArrayConverter"},
	Kind:    connect.ConverterKind,
	Doc:     "Kafka Connect's ByteArrayConverter: bytes pass through unchanged, read back as optional bytes.",
	Fields: []connect.FieldSpec{
		{Name: "converter.type", Type: connect.TypeString, Importance: "LOW", Recommended: []string{"key", "value", "header"},
			Doc: "Set by the runtime: whether the converter serves keys, values or headers."},
	},
}

// Configure accepts the converter keys.
func (ByteArray) Configure(cfg connect.Config, _ bool) error {
	return validationError(&byteArraySpec, cfg)
}

// FromConnect passes bytes through; the schema must be absent or bytes.
func (ByteArray) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type != connect.Bytes {
		return nil, fmt.Errorf("topic %q: invalid schema type for ByteArrayConverter: %s", topic, schema.Type)
	}
	if value == nil {
		return nil, nil
	}
	b, ok := value.([]byte)
	if !ok {
		return nil, fmt.Errorf("topic %q: ByteArrayConverter is not compatible with objects of type %T", topic, value)
	}
	return b, nil
}

// Check is always true: ToConnect takes any bytes (connect.CheckingConverter).
func (ByteArray) Check(string, []byte) bool { return true }

// ToConnect returns the bytes as they are.
func (ByteArray) ToConnect(_ string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return OptionalBytes, nil, nil
	}
	return OptionalBytes, data, nil
}

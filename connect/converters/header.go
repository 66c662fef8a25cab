package converters

import (
	"fmt"
	"unicode/utf8"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/values"
)

// SimpleHeader is Kafka's SimpleHeaderConverter, the default
// header.converter: a header value is written as its text
// (Values.convertToString) and read back with its type inferred
// (Values.parseString): "42" is an int8, "true" a boolean, "x" a string.
type SimpleHeader struct{}

var simpleHeaderSpec = connect.Spec{
	Name:    "simpleheader",
	Aliases: []string{"org.apache.kafka.connect.storage.SimpleHeaderConverter", "SimpleHeaderConverter"},
	Kind:    connect.ConverterKind,
	Doc:     "Kafka Connect's SimpleHeaderConverter: header values as text, read back with their type inferred from the text.",
	Fields: []connect.FieldSpec{
		{Name: "converter.type", Type: connect.TypeString, Importance: "LOW", Recommended: []string{"key", "value", "header"},
			Doc: "Set by the runtime: whether the converter serves keys, values or headers."},
		{Name: "converter.encoding", Type: connect.TypeString, Default: "UTF-8", Importance: "LOW",
			Doc: "Character encoding; only UTF-8 is supported."},
	},
}

// Configure accepts the converter keys.
func (SimpleHeader) Configure(cfg connect.Config, _ bool) error {
	return validationError(&simpleHeaderSpec, cfg)
}

// FromConnect writes the value's text; null stays null.
func (SimpleHeader) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	s, err := values.ToString(schema, value)
	if err != nil {
		return nil, fmt.Errorf("topic %q: header value: %w", topic, err)
	}
	return []byte(s), nil
}

// ToConnect infers the value's type from its text. Text that is not UTF-8
// reads as bytes.
func (SimpleHeader) ToConnect(_ string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	if !utf8.Valid(data) {
		return OptionalBytes, append([]byte(nil), data...), nil
	}
	if len(data) == 0 {
		return &connect.Schema{Type: connect.String}, "", nil
	}
	s, v := values.ParseString(string(data))
	return s, v, nil
}

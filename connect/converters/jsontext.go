package converters

import "github.com/sluicedata/sluice/connect"

// Writers of a value's JSON text (connect.Record.ValueJSON) for sources
// that render values as they generate them (datagen): the same bytes the
// JsonConverter writes for the payload, so that the text can go to the
// topic without a Go value being built and printed.

// AppendJSONString appends s quoted as the JsonConverter writes strings.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

// AppendJSONFloat appends f as the JsonConverter writes a FLOAT64 (or,
// with is32, a FLOAT32) value.
func AppendJSONFloat(b []byte, f float64, is32 bool) []byte { return appendFloat(b, f, is32) }

// AppendJSONPayload appends the payload the JsonConverter writes for value
// v of schema s. Two converter settings change a payload:
// replace.null.with.default (for a null whose schema has a default) and
// decimal.format (for Decimal values); this writes Kafka's defaults, so its
// text is what any JsonConverter writes only for values without either.
func AppendJSONPayload(b []byte, s *connect.Schema, v any) ([]byte, error) {
	c := JSON{replaceNullWith: true}
	return c.appendValue(b, s, v, jsonPath{})
}

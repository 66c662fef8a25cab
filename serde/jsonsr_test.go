package serde

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

func TestJSONSRRoundTrip(t *testing.T) {
	url, c := startRegistry(t)
	f := JSONSR{Client: c}
	for _, tc := range append(append([]typeCase{}, primitiveCases...), nestedCases...) {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, f, wrapRow(tc, false), false)
			roundTrip(t, JSONSR{Client: c, UnwrapSingle: true}, wrapRow(tc, true), false)
			roundTrip(t, f, wrapRow(tc, true), true)
		})
	}
	ctx := context.Background()
	s, _ := f.Serializer(nested, false)
	v := nestedCases[3].values[0]
	b, err := s.Serialize(ctx, "orders", v)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(subjects(t, url), "orders-value") {
		t.Errorf("subjects %v", subjects(t, url))
	}
	id, payload, err := SplitHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	// The payload validates against the registered schema.
	rs, err := srclient.New(url).SchemaByID(ctx, id)
	if err != nil || rs.SchemaType != "JSON" {
		t.Fatalf("schema %d: %+v %v", id, rs, err)
	}
	doc, _ := jsonschema.UnmarshalJSON(strings.NewReader(rs.Schema))
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource("s.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("s.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(payload)))
	if err := sch.Validate(inst); err != nil {
		t.Errorf("payload %s does not validate: %v", payload, err)
	}
	// A JSON_SR deserializer refuses an Avro schema id.
	as, _ := Avro{Client: c}.Serializer(nested, false)
	ab, err := as.Serialize(ctx, "avro-topic", v)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.Deserializer(nested, false)
	if _, err := d.Deserialize(ctx, "avro-topic", ab); err == nil || !strings.Contains(err.Error(), "not a JSON schema") {
		t.Errorf("Avro id read as JSON_SR: %v", err)
	}
	if _, err := d.Deserialize(ctx, "orders", payload); err == nil {
		t.Error("JSON without header read as JSON_SR")
	}
}

func TestJSONSchemaDerivation(t *testing.T) {
	got, err := JSONSchema(types.MustParse("STRUCT<A DECIMAL(4, 2), L ARRAY<DATE>>"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatal(err)
	}
	want := `{"properties":{"A":{"connect.index":0,"oneOf":[{"type":"null"},{"connect.parameters":{"connect.decimal.precision":"4","scale":"2"},"connect.type":"bytes","title":"org.apache.kafka.connect.data.Decimal","type":"number"}]},` +
		`"L":{"connect.index":1,"oneOf":[{"type":"null"},{"items":{"oneOf":[{"type":"null"},{"connect.type":"int32","title":"org.apache.kafka.connect.data.Date","type":"integer"}]},"type":"array"}]}},"type":"object"}`
	if got != want {
		t.Errorf("schema\n%s\nwant\n%s", got, want)
	}
}

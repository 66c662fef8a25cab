package converters

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// shapes are struct schemas with optional, nested, repeated and keyed
// parts, each with a value, for round trips through every converter.
func shapes() []struct {
	name     string
	schema   *connect.Schema
	value    *connect.StructValue
	protobuf bool // representable in Protobuf
} {
	optAll := &connect.Schema{Type: connect.Struct, Name: "t.Optionals"}
	for _, t := range []connect.SchemaType{connect.Int8, connect.Int16, connect.Int32, connect.Int64, connect.Float32,
		connect.Float64, connect.Boolean, connect.String, connect.Bytes} {
		optAll.Fields = append(optAll.Fields, connect.Field{Name: "o_" + string(t), Schema: &connect.Schema{Type: t, Optional: true}})
	}
	for _, l := range []*connect.Schema{decimalSchema("4"), logical(connect.Int32, connect.DateName),
		logical(connect.Int32, connect.TimeName), logical(connect.Int64, connect.TimestampName)} {
		c := *l
		c.Optional = true
		optAll.Fields = append(optAll.Fields, connect.Field{Name: "o_" + l.Name[len("org.apache.kafka.connect.data."):], Schema: &c})
	}
	nulls := connect.NewStruct(optAll)
	full := connect.NewStruct(optAll)
	copy(full.Values, []any{int8(-1), int16(-300), int32(1 << 20), int64(-1 << 40), float32(0.25), -1e-300, false, "", []byte{},
		types.MustDec("-0.0001"), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 23, 59, 59, 999e6, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 1e6, time.UTC)})

	item := &connect.Schema{Type: connect.Struct, Name: "t.Item", Fields: []connect.Field{
		{Name: "sku", Schema: &connect.Schema{Type: connect.String}}, {Name: "qty", Schema: &connect.Schema{Type: connect.Int32}}}}
	nested := &connect.Schema{Type: connect.Struct, Name: "t.Order", Fields: []connect.Field{
		{Name: "items", Schema: &connect.Schema{Type: connect.Array, Value: item}},
		{Name: "byWarehouse", Schema: &connect.Schema{Type: connect.Map, Key: &connect.Schema{Type: connect.String}, Value: item}},
		{Name: "tags", Schema: &connect.Schema{Type: connect.Array, Value: &connect.Schema{Type: connect.String}}},
		{Name: "gift", Schema: &connect.Schema{Type: connect.Struct, Name: "t.Gift", Optional: true, Fields: []connect.Field{
			{Name: "note", Schema: &connect.Schema{Type: connect.String, Optional: true}}}}},
		{Name: "prices", Schema: &connect.Schema{Type: connect.Map, Key: &connect.Schema{Type: connect.Int64}, Value: decimalSchema("2")}},
	}}
	it := func(sku string, q int32) *connect.StructValue {
		return connect.NewStruct(item).Put("sku", sku).Put("qty", q)
	}
	order := connect.NewStruct(nested).
		Put("items", []any{it("a", 1), it("b", 2)}).
		Put("byWarehouse", map[string]any{"w1": it("c", 3)}).
		Put("tags", []any{}).
		Put("prices", map[any]any{int64(7): types.MustDec("9.99"), int64(-1): types.MustDec("0.00")})

	listOfLists := &connect.Schema{Type: connect.Struct, Name: "t.Matrix", Fields: []connect.Field{
		{Name: "rows", Schema: &connect.Schema{Type: connect.Array, Value: &connect.Schema{Type: connect.Array, Value: &connect.Schema{Type: connect.Float64, Optional: true}}}},
		{Name: "opt", Schema: &connect.Schema{Type: connect.Map, Key: &connect.Schema{Type: connect.String}, Value: &connect.Schema{Type: connect.Int32, Optional: true}, Optional: true}},
	}}
	matrix := connect.NewStruct(listOfLists).Put("rows", []any{[]any{1.5, nil}, []any{}}).Put("opt", map[string]any{"x": nil})

	return []struct {
		name     string
		schema   *connect.Schema
		value    *connect.StructValue
		protobuf bool
	}{
		{"optionals null", optAll, nulls, true},
		{"optionals set", optAll, full, true},
		{"nested", nested, order, true},
		{"nested lists and null map values", listOfLists, matrix, false},
	}
}

func TestRoundTripShapes(t *testing.T) {
	url := startRegistry(t)
	convs := []struct {
		name string
		c    connect.Converter
	}{
		{"json", configured(t, NewJSON(), connect.Config{})},
		{"json numeric decimals", configured(t, NewJSON(), connect.Config{"decimal.format": "NUMERIC"})},
		{"avro", configured(t, &Avro{}, connect.Config{"schema.registry.url": url})},
		{"jsonschema", configured(t, &JSONSchema{}, connect.Config{"schema.registry.url": url})},
		{"protobuf", configured(t, &Protobuf{}, connect.Config{"schema.registry.url": url})},
	}
	for _, sh := range shapes() {
		for _, cv := range convs {
			if cv.name == "protobuf" && !sh.protobuf {
				continue
			}
			t.Run(sh.name+"/"+cv.name, func(t *testing.T) {
				topic := strings.NewReplacer(" ", "_", "/", "_").Replace(t.Name())
				b, err := cv.c.FromConnect(topic, sh.schema, sh.value)
				if err != nil {
					t.Fatal(err)
				}
				gs, gv, err := cv.c.ToConnect(topic, b)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gs, sh.schema) {
					gj, _ := json.Marshal(gs)
					wj, _ := json.Marshal(sh.schema)
					t.Errorf("schema:\n got %s\nwant %s", gj, wj)
				}
				if !deepValuesEqual(gv, sh.value) {
					t.Errorf("value:\n got %s\nwant %s", text(gv), text(sh.value))
				}
			})
		}
	}
	// Protobuf refuses what it cannot say, naming the field.
	sh := shapes()[3]
	if _, err := convs[4].c.FromConnect("shapes", sh.schema, sh.value); err == nil {
		t.Error("protobuf accepted an array of arrays")
	}
}

// deepValuesEqual compares values of any shape, with valuesEqual's rules
// for decimals, times and structs.
func deepValuesEqual(a, b any) bool {
	switch x := a.(type) {
	case *connect.StructValue:
		y, ok := b.(*connect.StructValue)
		if !ok || len(x.Values) != len(y.Values) {
			return false
		}
		for i := range x.Values {
			if !deepValuesEqual(x.Values[i], y.Values[i]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepValuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !deepValuesEqual(x[k], y[k]) {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !deepValuesEqual(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return valuesEqual(a, b)
}

package converters

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files under testdata/")

func prim(t connect.SchemaType) *connect.Schema { return &connect.Schema{Type: t} }

func decimalSchema(scale string) *connect.Schema {
	return &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: 1, Parameters: map[string]string{"scale": scale}}
}

func logical(t connect.SchemaType, name string) *connect.Schema {
	return &connect.Schema{Type: t, Name: name, Version: 1}
}

// allTypes is a struct schema with every Connect type and logical type, and
// a value of it.
func allTypes() (*connect.Schema, *connect.StructValue) {
	inner := &connect.Schema{Type: connect.Struct, Optional: true, Name: "com.example.Inner",
		Fields: []connect.Field{{Name: "x", Schema: prim(connect.Int32)}}}
	s := &connect.Schema{Type: connect.Struct, Name: "com.example.All", Version: 3, Doc: "every type", Fields: []connect.Field{
		{Name: "i8", Schema: prim(connect.Int8)},
		{Name: "i16", Schema: prim(connect.Int16)},
		{Name: "i32", Schema: prim(connect.Int32)},
		{Name: "i64", Schema: prim(connect.Int64)},
		{Name: "f32", Schema: prim(connect.Float32)},
		{Name: "f64", Schema: prim(connect.Float64)},
		{Name: "b", Schema: prim(connect.Boolean)},
		{Name: "s", Schema: prim(connect.String)},
		{Name: "by", Schema: prim(connect.Bytes)},
		{Name: "arr", Schema: &connect.Schema{Type: connect.Array, Value: prim(connect.String)}},
		{Name: "m", Schema: &connect.Schema{Type: connect.Map, Key: prim(connect.String), Value: prim(connect.Int32)}},
		{Name: "mi", Schema: &connect.Schema{Type: connect.Map, Key: prim(connect.Int32), Value: prim(connect.String)}},
		{Name: "inner", Schema: inner},
		{Name: "dec", Schema: decimalSchema("2")},
		{Name: "date", Schema: logical(connect.Int32, connect.DateName)},
		{Name: "time", Schema: logical(connect.Int32, connect.TimeName)},
		{Name: "ts", Schema: logical(connect.Int64, connect.TimestampName)},
		{Name: "opt", Schema: &connect.Schema{Type: connect.String, Optional: true}},
		{Name: "def", Schema: &connect.Schema{Type: connect.Int32, Default: int32(42)}},
	}}
	v := connect.NewStruct(s).
		Put("i8", int8(8)).Put("i16", int16(-16)).Put("i32", int32(32)).Put("i64", int64(64)).
		Put("f32", float32(1.5)).Put("f64", 1e10).Put("b", true).Put("s", "héllo \"q\"\n").
		Put("by", []byte{1, 2, 0xff}).Put("arr", []any{"a", "b"}).
		Put("m", map[string]any{"k": int32(1)}).Put("mi", map[any]any{int32(1): "one"}).
		Put("inner", connect.NewStruct(inner).Put("x", int32(7))).
		Put("dec", types.NewDec(12345, 2)).
		Put("date", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)).
		Put("time", time.Date(1970, 1, 1, 1, 2, 3, 4e6, time.UTC)).
		Put("ts", time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC))
	return s, v
}

func configured(t testing.TB, c connect.Converter, cfg connect.Config) connect.Converter {
	t.Helper()
	if err := c.Configure(cfg, false); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestJSONGolden checks the bytes against those Kafka's JsonConverter writes
// for the same struct (testdata/all_types.json, written by hand from Kafka's
// JsonConverter.asJsonSchema/convertToJson; -rewrite regenerates it).
func TestJSONGolden(t *testing.T) {
	s, v := allTypes()
	c := configured(t, NewJSON(), connect.Config{})
	got, err := c.FromConnect("t", s, v)
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/all_types.json"
	if *rewrite {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("JSON differs from Kafka's\n got: %s\nwant: %s", got, want)
	}
	// Read back: the null field with a default comes back as the default.
	gs, gv, err := c.ToConnect("t", got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gs, s) {
		t.Errorf("schema round trip:\n got %+v\nwant %+v", gs, s)
	}
	v.Put("def", int32(42))
	assertStructEqual(t, gv, v)
}

func assertStructEqual(t *testing.T, got any, want *connect.StructValue) {
	t.Helper()
	gv, ok := got.(*connect.StructValue)
	if !ok {
		t.Fatalf("got %T, want *StructValue", got)
	}
	for i, f := range want.Schema.Fields {
		if !valuesEqual(gv.Values[i], want.Values[i]) {
			t.Errorf("field %s: got %#v, want %#v", f.Name, gv.Values[i], want.Values[i])
		}
	}
}

// valuesEqual compares Connect values, decimals by value and scale, times by
// instant, structs field by field.
func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case types.Dec:
		y, ok := b.(types.Dec)
		return ok && x.Scale == y.Scale && x.Unscaled.Cmp(y.Unscaled) == 0
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case *connect.StructValue:
		y, ok := b.(*connect.StructValue)
		if !ok || len(x.Values) != len(y.Values) {
			return false
		}
		for i := range x.Values {
			if !valuesEqual(x.Values[i], y.Values[i]) {
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
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestJSONDecimalNumeric(t *testing.T) {
	s := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{{Name: "d", Schema: decimalSchema("3")}}}
	v := connect.NewStruct(s).Put("d", types.MustDec("-1.500"))
	c := configured(t, NewJSON(), connect.Config{"decimal.format": "NUMERIC", "schemas.enable": "false"})
	got, err := c.FromConnect("t", s, v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"d":-1.500}` {
		t.Errorf("got %s", got)
	}
	// BASE64 default: -1500 = 0xFA24.
	c = configured(t, NewJSON(), connect.Config{"schemas.enable": "false"})
	if got, _ = c.FromConnect("t", s, v); string(got) != `{"d":"+iQ="}` {
		t.Errorf("got %s", got)
	}
	// Both forms are read, and rescaled to the schema's scale.
	for _, payload := range []string{`1.5`, `"Bdw="`} {
		in := `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"3"}},"payload":` + payload + `}`
		_, d, err := NewJSON().ToConnect("t", []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if !valuesEqual(d, types.MustDec("1.500")) {
			t.Errorf("%s: got %v", payload, d)
		}
	}
}

func TestJSONSchemaless(t *testing.T) {
	c := configured(t, NewJSON(), connect.Config{"schemas.enable": "false"})
	_, v, err := c.ToConnect("t", []byte(`{"a":1,"b":2.5,"c":"x","d":[true,null],"e":{"f":-9007199254740993},"g":1e2}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": int64(1), "b": 2.5, "c": "x", "d": []any{true, nil},
		"e": map[string]any{"f": int64(-9007199254740993)}, "g": 100.0}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got %#v\nwant %#v", v, want)
	}
	out, err := c.FromConnect("t", nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"a":1,"b":2.5,"c":"x","d":[true,null],"e":{"f":-9007199254740993},"g":100.0}` {
		t.Errorf("got %s", out)
	}
	// schemas.enable=true with a schemaless value writes "schema":null.
	out, _ = NewJSON().FromConnect("t", nil, map[string]any{"a": 1})
	if string(out) != `{"schema":null,"payload":{"a":1}}` {
		t.Errorf("got %s", out)
	}
	s, v2, err := NewJSON().ToConnect("t", out)
	if err != nil || s != nil || !reflect.DeepEqual(v2, map[string]any{"a": int64(1)}) {
		t.Errorf("got %v %#v %v", s, v2, err)
	}
}

func TestJSONTombstone(t *testing.T) {
	for _, enable := range []string{"true", "false"} {
		c := configured(t, NewJSON(), connect.Config{"schemas.enable": enable})
		b, err := c.FromConnect("t", nil, nil)
		if err != nil || b != nil {
			t.Errorf("schemas.enable=%s: FromConnect(nil) = %q, %v; want nil bytes", enable, b, err)
		}
		s, v, err := c.ToConnect("t", nil)
		if err != nil || s != nil || v != nil {
			t.Errorf("schemas.enable=%s: ToConnect(nil) = %v, %v, %v", enable, s, v, err)
		}
	}
	// An optional schema with a null value keeps the envelope, as in Kafka.
	b, _ := NewJSON().FromConnect("t", &connect.Schema{Type: connect.String, Optional: true}, nil)
	if string(b) != `{"schema":{"type":"string","optional":true},"payload":null}` {
		t.Errorf("got %s", b)
	}
}

func TestJSONErrors(t *testing.T) {
	s := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{{Name: "n", Schema: prim(connect.Int8)}}}
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"out of range", func() error {
			_, err := NewJSON().FromConnect("t", s, connect.NewStruct(s).Put("n", 300))
			return err
		}, "n: value 300 out of range for int8"},
		{"required null", func() error {
			_, err := NewJSON().FromConnect("t", s, connect.NewStruct(s))
			return err
		}, "n: invalid null value for required int8 field"},
		{"no envelope", func() error {
			_, _, err := NewJSON().ToConnect("t", []byte(`{"a":1}`))
			return err
		}, "set schemas.enable=false"},
		{"wrong payload type", func() error {
			_, _, err := NewJSON().ToConnect("t", []byte(`{"schema":{"type":"struct","fields":[{"type":"int8","optional":false,"field":"n"}],"optional":false},"payload":{"n":"x"}}`))
			return err
		}, "n: expected int8, got JSON string"},
		{"unknown type", func() error {
			_, _, err := NewJSON().ToConnect("t", []byte(`{"schema":{"type":"decimal"},"payload":1}`))
			return err
		}, `unknown schema type "decimal"`},
		{"bad json", func() error {
			_, _, err := NewJSON().ToConnect("t", []byte(`{`))
			return err
		}, "serialization error"},
		{"bad config", func() error {
			return NewJSON().Configure(connect.Config{"decimal.format": "HEX"}, false)
		}, "decimal.format"},
	}
	for _, c := range cases {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestStringAndByteArray(t *testing.T) {
	sc := configured(t, String{}, connect.Config{})
	for _, c := range []struct {
		v    any
		want string
	}{{"héllo", "héllo"}, {int32(5), "5"}, {2.0, "2.0"}, {true, "true"}, {types.MustDec("1.10"), "1.10"}} {
		b, err := sc.FromConnect("t", nil, c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("String.FromConnect(%v) = %q, %v; want %q", c.v, b, err, c.want)
		}
	}
	s, v, err := sc.ToConnect("t", []byte("abc"))
	if err != nil || s != OptionalString || v != "abc" {
		t.Errorf("String.ToConnect = %v %v %v", s, v, err)
	}
	if b, _ := sc.FromConnect("t", nil, nil); b != nil {
		t.Errorf("String tombstone = %q", b)
	}
	if err := (String{}).Configure(connect.Config{"converter.encoding": "latin1"}, false); err == nil {
		t.Error("String accepted latin1")
	}

	bc := configured(t, ByteArray{}, connect.Config{})
	b, err := bc.FromConnect("t", OptionalBytes, []byte{0, 1})
	if err != nil || !bytes.Equal(b, []byte{0, 1}) {
		t.Errorf("ByteArray.FromConnect = %v %v", b, err)
	}
	if _, err := bc.FromConnect("t", prim(connect.String), "x"); err == nil {
		t.Error("ByteArray accepted a string schema")
	}
	s, v, _ = bc.ToConnect("t", []byte{9})
	if s != OptionalBytes || !bytes.Equal(v.([]byte), []byte{9}) {
		t.Errorf("ByteArray.ToConnect = %v %v", s, v)
	}
}

func TestConvertersRegistered(t *testing.T) {
	for _, name := range []string{"json", "org.apache.kafka.connect.json.JsonConverter", "JsonConverter",
		"string", "org.apache.kafka.connect.storage.StringConverter",
		"bytearray", "org.apache.kafka.connect.converters.ByteArrayConverter",
		"avro", "io.confluent.connect.avro.AvroConverter", "protobuf", "io.confluent.connect.protobuf.ProtobufConverter",
		"jsonschema", "io.confluent.connect.json.JsonSchemaConverter"} {
		p, ok := connect.Lookup(name)
		if !ok || p.Spec.Kind != connect.ConverterKind || p.NewConverter == nil {
			t.Errorf("%s: not registered as a converter", name)
		}
	}
}

func TestConverterSpecsDocumented(t *testing.T) {
	for _, s := range Specs() {
		if s.Doc == "" || len(s.Aliases) == 0 {
			t.Errorf("%s: doc or class name missing", s.Name)
		}
		for _, f := range s.Fields {
			if f.Doc == "" {
				t.Errorf("%s.%s has no doc", s.Name, f.Name)
			}
		}
	}
}

func TestSimpleHeaderConverter(t *testing.T) {
	p, ok := connect.Lookup("org.apache.kafka.connect.storage.SimpleHeaderConverter")
	if !ok {
		t.Fatal("SimpleHeaderConverter not registered")
	}
	c := p.NewConverter()
	if err := c.Configure(connect.Config{"converter.type": "header"}, false); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{"text", int8(42), true, 2.5, []any{int64(1), int64(2)}} {
		b, err := c.FromConnect("t", nil, v)
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := c.ToConnect("t", b)
		if err != nil || !reflect.DeepEqual(got, v) && !(v == 2.5 && got == float32(2.5)) {
			t.Errorf("%#v -> %q -> %#v %v", v, b, got, err)
		}
	}
	if b, _ := c.FromConnect("t", nil, nil); b != nil {
		t.Errorf("null header -> %q", b)
	}
	if s, v, _ := c.ToConnect("t", nil); s != nil || v != nil {
		t.Errorf("null header read %v %v", s, v)
	}
}

// Errors name the field path of the bad value (built only on failure).
func TestJSONErrorPath(t *testing.T) {
	ints := &connect.Schema{Type: connect.Array, Value: prim(connect.Int32)}
	inner := &connect.Schema{Type: connect.Struct, Name: "inner", Fields: []connect.Field{
		{Name: "list", Schema: ints},
		{Name: "tags", Schema: &connect.Schema{Type: connect.Map, Key: prim(connect.String), Value: prim(connect.Int64)}},
	}}
	outer := &connect.Schema{Type: connect.Struct, Name: "outer", Fields: []connect.Field{{Name: "a", Schema: prim(connect.String)}, {Name: "in", Schema: inner}}}
	for _, tc := range []struct {
		list []any
		tags map[string]any
		want string
	}{
		{list: []any{int32(1), "x"}, tags: map[string]any{}, want: `in.list[1]: expected int32, got string`},
		{list: []any{}, tags: map[string]any{"k": "v"}, want: `in.tags.k: `},
	} {
		iv := connect.NewStruct(inner)
		iv.Values[0], iv.Values[1] = tc.list, tc.tags
		ov := connect.NewStruct(outer)
		ov.Values[0], ov.Values[1] = "s", iv
		_, err := NewJSON().FromConnect("t", outer, ov)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to name %q", err, tc.want)
		}
	}
}

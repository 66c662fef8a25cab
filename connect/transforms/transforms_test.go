package transforms

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

var (
	ts0 = time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)

	addrSchema = structOf("com.example.Address", "city", sch(connect.String))
	userSchema = structOf("com.example.User",
		"id", sch(connect.Int32), "name", opt(connect.String), "age", sch(connect.Int64), "ssn", opt(connect.String))
)

func user() *connect.StructValue { return val(userSchema, int32(42), "ann", int64(30), "123-45") }

func userMap() map[string]any {
	return map[string]any{"id": int64(42), "name": "ann", "age": int64(30), "ssn": "123-45"}
}

// rec is a record with a value (and schema) on topic "orders".
func rec(s *connect.Schema, v any) *connect.Record {
	return &connect.Record{Topic: "orders", Partition: 3, ValueSchema: s, Value: v, Timestamp: ts0}
}

func keyRec(s *connect.Schema, k any) *connect.Record {
	return &connect.Record{Topic: "orders", Partition: 3, KeySchema: s, Key: k, Value: "v", ValueSchema: sch(connect.String), Timestamp: ts0}
}

type view func(*connect.Record) string

func valueView(r *connect.Record) string { return show(r.ValueSchema, r.Value) }
func keyView(r *connect.Record) string   { return show(r.KeySchema, r.Key) }
func topicView(r *connect.Record) string { return r.Topic }
func headerView(r *connect.Record) string {
	return showHeaders(r.Headers)
}
func valueAndHeaders(r *connect.Record) string {
	return valueView(r) + " | " + showHeaders(r.Headers)
}

type tcase struct {
	name  string
	class string
	cfg   connect.Config
	in    *connect.Record
	view  view   // defaults to the key for $Key classes, else the value
	want  string // "dropped" when the transform drops the record
	err   string // part of the expected error
}

func run(t *testing.T, cases []tcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := newTransform(t, c.class, c.cfg)
			orig := show(c.in.ValueSchema, c.in.Value) + show(c.in.KeySchema, c.in.Key) + c.in.Topic
			out, err := tr.Apply(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one mentioning %q", err, c.err)
				}
				if ot, ok := tr.(connect.OwnedTransform); ok {
					if _, err := ot.ApplyOwned(ownedCopy(c.in)); err == nil || !strings.Contains(err.Error(), c.err) {
						t.Fatalf("ApplyOwned: error %v, want one mentioning %q", err, c.err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if after := show(c.in.ValueSchema, c.in.Value) + show(c.in.KeySchema, c.in.Key) + c.in.Topic; after != orig {
				t.Errorf("the input record was modified:\n%s\n%s", orig, after)
			}
			view := c.view
			if view == nil {
				view = valueView
				if strings.HasSuffix(c.class, "$Key") {
					view = keyView
				}
			}
			got := "dropped"
			if out != nil {
				got = view(out)
			}
			if got != c.want {
				t.Errorf("\n got: %s\nwant: %s", got, c.want)
			}
			// Changing a record it owns in place gives the same result.
			if ot, ok := tr.(connect.OwnedTransform); ok {
				out, err := ot.ApplyOwned(ownedCopy(c.in))
				if err != nil {
					t.Fatalf("ApplyOwned: %v", err)
				}
				owned := "dropped"
				if out != nil {
					owned = view(out)
				}
				if owned != c.want {
					t.Errorf("ApplyOwned\n got: %s\nwant: %s", owned, c.want)
				}
			}
		})
	}
}

// ownedCopy copies r with its own key and value maps and slices.
func ownedCopy(r *connect.Record) *connect.Record {
	c := r.Clone()
	c.Key, c.Value = deepCopy(r.Key), deepCopy(r.Value)
	return c
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

const userOut = "struct<com.example.User>{id:int32,name:string?,age:int64,ssn:string?}"

func TestCast(t *testing.T) {
	dec := &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: 1, Parameters: map[string]string{"scale": "2"}}
	mixed := structOf("m", "b", sch(connect.Bytes), "d", dec, "ts", timestampSchema(), "s", opt(connect.String), "f", sch(connect.Float64))
	mixedVal := val(mixed, []byte{1, 2}, types.NewDec(1234, 2), ts0, "true", 2.9)
	defaulted := structOf("d", "n", &connect.Schema{Type: connect.Int64, Optional: true, Default: int64(7)})
	run(t, []tcase{
		{name: "struct fields", class: "org.apache.kafka.connect.transforms.Cast$Value", cfg: connect.Config{"spec": "id:string,age:int8"},
			in:   rec(userSchema, user()),
			want: `struct<com.example.User>{id:string,name:string?,age:int8,ssn:string?} {id:"42",name:"ann",age:30b,ssn:"123-45"}`},
		{name: "schemaless fields", class: "Cast$Value", cfg: connect.Config{"spec": "id:string,age:int8"},
			in: rec(nil, userMap()), want: `schemaless {"age":30b,"id":"42","name":"ann","ssn":"123-45"}`},
		{name: "whole key", class: "org.apache.kafka.connect.transforms.Cast$Key", cfg: connect.Config{"spec": "string"},
			in: keyRec(sch(connect.Int32), int32(7)), want: `string "7"`},
		{name: "whole schemaless value", class: "Cast$Value", cfg: connect.Config{"spec": "int16"},
			in: rec(nil, "123"), want: `schemaless 123s`},
		{name: "bytes decimal timestamp string float", class: "Cast$Value", cfg: connect.Config{"spec": "b:string,d:float64,ts:string,s:boolean,f:int32"},
			in:   rec(mixed, mixedVal),
			want: `struct<m>{b:string,d:float64,ts:string,s:boolean?,f:int32} {b:"AQI=",d:12.34d,ts:"2024-01-02T03:04:05.006Z",s:true,f:2}`},
		{name: "null with default", class: "Cast$Value", cfg: connect.Config{"spec": "n:int32"},
			in: rec(defaulted, val(defaulted, nil)), want: `struct<d>{n:int32?=7} {n:7}`},
		{name: "null kept without default replacement", class: "Cast$Value", cfg: connect.Config{"spec": "n:int32", "replace.null.with.default": "false"},
			in: rec(defaulted, val(defaulted, nil)), want: `struct<d>{n:int32?=7} {n:null}`},
		{name: "unparsable string", class: "Cast$Value", cfg: connect.Config{"spec": "name:int32"},
			in: rec(userSchema, user()), err: `Cast field "name": value "ann" is not an int32`},
		{name: "bytes to int refused", class: "Cast$Value", cfg: connect.Config{"spec": "b:int32"},
			in: rec(mixed, mixedVal), err: "bytes can only be cast to string"},
		{name: "tombstone passes", class: "Cast$Value", cfg: connect.Config{"spec": "int32"},
			in: rec(nil, nil), want: "schemaless null"},
	})
}

func TestDropExtractHoistFilter(t *testing.T) {
	nested := structOf("n", "id", sch(connect.Int32), "address", addrSchema)
	nestedVal := val(nested, int32(1), val(addrSchema, "Paris"))
	run(t, []tcase{
		{name: "drop key", class: "io.confluent.connect.transforms.Drop$Key", cfg: connect.Config{},
			in: keyRec(sch(connect.String), "k"), want: "schemaless null"},
		{name: "drop value retain schema", class: "Drop$Value", cfg: connect.Config{"schema.behavior": "retain"},
			in: rec(userSchema, user()), want: userOut + "? null"},
		{name: "drop value validate", class: "Drop$Value", cfg: connect.Config{"schema.behavior": "validate"},
			in: rec(userSchema, user()), err: "not optional"},
		{name: "extract struct field", class: "org.apache.kafka.connect.transforms.ExtractField$Value", cfg: connect.Config{"field": "id"},
			in: rec(userSchema, user()), want: "int32 42"},
		{name: "extract map field", class: "ExtractField$Value", cfg: connect.Config{"field": "id"},
			in: rec(nil, userMap()), want: "schemaless 42L"},
		{name: "extract nested V2", class: "ExtractField$Value", cfg: connect.Config{"field": "address.city", "field.syntax.version": "V2"},
			in: rec(nested, nestedVal), want: `string "Paris"`},
		{name: "extract nested V2 schemaless", class: "ExtractField$Value", cfg: connect.Config{"field": "`a.b`.c", "field.syntax.version": "V2"},
			in: rec(nil, map[string]any{"a.b": map[string]any{"c": "deep"}}), want: `schemaless "deep"`},
		{name: "extract dotted name V1", class: "ExtractField$Value", cfg: connect.Config{"field": "a.b"},
			in: rec(nil, map[string]any{"a.b": "flat"}), want: `schemaless "flat"`},
		{name: "extract unknown field", class: "ExtractField$Key", cfg: connect.Config{"field": "nope"},
			in: keyRec(userSchema, user()), err: "unknown field: nope"},
		{name: "extract null value", class: "ExtractField$Value", cfg: connect.Config{"field": "id"},
			in: rec(userSchema, nil), want: "int32 null"},
		{name: "hoist with schema", class: "org.apache.kafka.connect.transforms.HoistField$Value", cfg: connect.Config{"field": "line"},
			in: rec(sch(connect.String), "hello"), want: `struct{line:string} {line:"hello"}`},
		{name: "hoist schemaless key", class: "HoistField$Key", cfg: connect.Config{"field": "id"},
			in: keyRec(nil, int64(5)), want: `schemaless {"id":5L}`},
		{name: "filter drops", class: "org.apache.kafka.connect.transforms.Filter", cfg: connect.Config{},
			in: rec(userSchema, user()), want: "dropped"},
	})
}

func TestFlatten(t *testing.T) {
	name := structOf("", "first", sch(connect.String), "last", sch(connect.String))
	optName := optional(name)
	content := structOf("", "id", sch(connect.Int32), "name", optName, "tags", &connect.Schema{Type: connect.Array, Value: sch(connect.String)})
	top := structOf("Top", "content", content)
	run(t, []tcase{
		{name: "schemaless (Kafka's example)", class: "org.apache.kafka.connect.transforms.Flatten$Value", cfg: connect.Config{},
			in:   rec(nil, map[string]any{"content": map[string]any{"id": int64(42), "name": map[string]any{"first": "David", "middle": nil, "last": "Wong"}}}),
			want: `schemaless {"content.id":42L,"content.name.first":"David","content.name.last":"Wong","content.name.middle":null}`},
		{name: "struct", class: "Flatten$Value", cfg: connect.Config{},
			in:   rec(top, val(top, val(content, int32(42), val(optName, "David", "Wong"), []any{"a"}))),
			want: `struct<Top>{content.id:int32,content.name.first:string?,content.name.last:string?,content.tags:array<string>} {content.id:42,content.name.first:"David",content.name.last:"Wong",content.tags:["a"]}`},
		{name: "null nested struct", class: "Flatten$Value", cfg: connect.Config{"delimiter": "_"},
			in:   rec(top, val(top, val(content, int32(42), nil, nil))),
			want: `struct<Top>{content_id:int32,content_name_first:string?,content_name_last:string?,content_tags:array<string>} {content_id:42,content_name_first:null,content_name_last:null,content_tags:null}`},
		{name: "key", class: "Flatten$Key", cfg: connect.Config{},
			in: keyRec(nil, map[string]any{"a": map[string]any{"b": int64(1)}}), want: `schemaless {"a.b":1L}`},
	})
}

func TestInsertField(t *testing.T) {
	cfg := connect.Config{"topic.field": "topic!", "partition.field": "part", "timestamp.field": "ts?",
		"static.field": "src", "static.value": "sluice"}
	sink := rec(userSchema, user())
	sink.Offset = 17
	source := rec(userSchema, user())
	source.SourceOffset = map[string]any{"pos": 1}
	run(t, []tcase{
		{name: "struct", class: "org.apache.kafka.connect.transforms.InsertField$Value", cfg: cfg, in: rec(userSchema, user()),
			want: `struct<com.example.User>{id:int32,name:string?,age:int64,ssn:string?,topic:string,part:int32?,ts:timestamp?,src:string?} {id:42,name:"ann",age:30L,ssn:"123-45",topic:"orders",part:3,ts:2024-01-02T03:04:05.006Z,src:"sluice"}`},
		{name: "schemaless", class: "InsertField$Value", cfg: cfg, in: rec(nil, map[string]any{"id": int64(1)}),
			want: `schemaless {"id":1L,"part":3,"src":"sluice","topic":"orders","ts":1704164645006L}`},
		{name: "offset of a sink record", class: "InsertField$Value", cfg: connect.Config{"offset.field": "off!"}, in: sink,
			want: `struct<com.example.User>{id:int32,name:string?,age:int64,ssn:string?,off:int64} {id:42,name:"ann",age:30L,ssn:"123-45",off:17L}`},
		{name: "offset of a source record", class: "InsertField$Value", cfg: connect.Config{"offset.field": "off"}, in: source,
			err: "only supported for sink connectors"},
		{name: "tombstone passes", class: "InsertField$Value", cfg: cfg, in: rec(nil, nil), want: "schemaless null"},
		{name: "key", class: "InsertField$Key", cfg: connect.Config{"static.field": "k", "static.value": "v"},
			in: keyRec(nil, map[string]any{}), want: `schemaless {"k":"v"}`},
	})
}

func TestMaskReplaceMetadata(t *testing.T) {
	run(t, []tcase{
		{name: "mask struct", class: "org.apache.kafka.connect.transforms.MaskField$Value", cfg: connect.Config{"fields": "ssn,age"},
			in: rec(userSchema, user()), want: userOut + ` {id:42,name:"ann",age:0L,ssn:""}`},
		{name: "mask schemaless with replacement", class: "MaskField$Value", cfg: connect.Config{"fields": "ssn,id", "replacement": "999"},
			in: rec(nil, userMap()), want: `schemaless {"age":30L,"id":999L,"name":"ann","ssn":"999"}`},
		{name: "mask replacement of wrong type", class: "MaskField$Value", cfg: connect.Config{"fields": "age", "replacement": "***"},
			in: rec(userSchema, user()), err: "unable to convert replacement"},
		{name: "replace exclude and rename", class: "org.apache.kafka.connect.transforms.ReplaceField$Value",
			cfg: connect.Config{"exclude": "ssn", "renames": "name:full_name"}, in: rec(userSchema, user()),
			want: `struct<com.example.User>{id:int32,full_name:string?,age:int64} {id:42,full_name:"ann",age:30L}`},
		{name: "replace include", class: "ReplaceField$Value", cfg: connect.Config{"include": "id,age"}, in: rec(userSchema, user()),
			want: `struct<com.example.User>{id:int32,age:int64} {id:42,age:30L}`},
		{name: "replace deprecated blacklist schemaless", class: "ReplaceField$Value", cfg: connect.Config{"blacklist": "ssn,age", "renames": "id:uid"},
			in: rec(nil, userMap()), want: `schemaless {"name":"ann","uid":42L}`},
		{name: "replace renames in a chain schemaless", class: "ReplaceField$Value", cfg: connect.Config{"include": "id,name,age", "renames": "id:name,name:full,age:id"},
			in: rec(nil, userMap()), want: `schemaless {"full":"ann","id":30L,"name":42L}`},
		{name: "insert fields schemaless", class: "InsertField$Value", cfg: connect.Config{"topic.field": "t", "static.field": "src", "static.value": "x"},
			in: rec(nil, userMap()), want: `schemaless {"age":30L,"id":42L,"name":"ann","src":"x","ssn":"123-45","t":"orders"}`},
		{name: "cast schemaless bad value", class: "Cast$Value", cfg: connect.Config{"spec": "age:string,name:int32"},
			in: rec(nil, userMap()), err: `Cast field "name"`},
		{name: "set schema metadata", class: "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
			cfg: connect.Config{"schema.name": "com.example.Person", "schema.version": "2"}, in: rec(userSchema, user()),
			want: `struct<com.example.Person>v2{id:int32,name:string?,age:int64,ssn:string?} {id:42,name:"ann",age:30L,ssn:"123-45"}`},
		{name: "set schema metadata schemaless", class: "SetSchemaMetadata$Value", cfg: connect.Config{"schema.name": "x"},
			in: rec(nil, userMap()), err: "no schema"},
		{name: "set key schema name", class: "SetSchemaMetadata$Key", cfg: connect.Config{"schema.name": "k"},
			in: keyRec(sch(connect.Int32), int32(1)), want: "int32<k> 1"},
	})
}

func TestTimestamps(t *testing.T) {
	withTS := structOf("e", "id", sch(connect.Int32), "ts", timestampSchema())
	withStr := structOf("e", "id", sch(connect.Int32), "ts", opt(connect.String))
	run(t, []tcase{
		{name: "timestamp to string", class: "org.apache.kafka.connect.transforms.TimestampConverter$Value",
			cfg: connect.Config{"field": "ts", "target.type": "string", "format": "yyyy-MM-dd'T'HH:mm:ss.SSS"},
			in:  rec(withTS, val(withTS, int32(1), ts0)), want: `struct<e>{id:int32,ts:string} {id:1,ts:"2024-01-02T03:04:05.006"}`},
		{name: "string to unix", class: "TimestampConverter$Value",
			cfg: connect.Config{"field": "ts", "target.type": "unix", "format": "yyyy-MM-dd"},
			in:  rec(withStr, val(withStr, int32(1), "2024-01-02")), want: `struct<e>{id:int32,ts:int64?} {id:1,ts:1704153600000L}`},
		{name: "unix seconds to Timestamp schemaless", class: "TimestampConverter$Value",
			cfg: connect.Config{"field": "ts", "target.type": "Timestamp", "unix.precision": "seconds"},
			in:  rec(nil, map[string]any{"ts": int64(1704164645)}), want: `schemaless {"ts":2024-01-02T03:04:05.000Z}`},
		{name: "whole value to Date", class: "TimestampConverter$Value", cfg: connect.Config{"target.type": "Date"},
			in: rec(timestampSchema(), ts0), want: `date 2024-01-02T00:00:00.000Z`},
		{name: "whole key to Time", class: "TimestampConverter$Key", cfg: connect.Config{"target.type": "Time"},
			in: keyRec(timestampSchema(), ts0), want: `time 1970-01-01T03:04:05.006Z`},
		{name: "to unix microseconds", class: "TimestampConverter$Value", cfg: connect.Config{"target.type": "unix", "unix.precision": "microseconds"},
			in: rec(nil, ts0), want: `schemaless 1704164645006000L`},
		{name: "unparsable string", class: "TimestampConverter$Value", cfg: connect.Config{"field": "ts", "target.type": "unix", "format": "yyyy-MM-dd"},
			in: rec(withStr, val(withStr, int32(1), "yesterday")), err: `could not parse timestamp "yesterday"`},
		{name: "router default", class: "org.apache.kafka.connect.transforms.TimestampRouter", cfg: connect.Config{},
			in: rec(nil, nil), view: topicView, want: "orders-20240102"},
		{name: "router formats", class: "TimestampRouter", cfg: connect.Config{"topic.format": "${topic}_${timestamp}", "timestamp.format": "yyyy-MM"},
			in: rec(nil, nil), view: topicView, want: "orders_2024-01"},
		{name: "router without timestamp", class: "TimestampRouter", cfg: connect.Config{},
			in: &connect.Record{Topic: "t"}, err: "timestamp missing"},
	})
}

func TestRoutingKeysHeaders(t *testing.T) {
	withHeaders := rec(userSchema, user())
	withHeaders.Headers = []connect.Header{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}, {Key: "a", Value: "4"}}
	run(t, []tcase{
		{name: "regex router", class: "org.apache.kafka.connect.transforms.RegexRouter", cfg: connect.Config{"regex": `db\.public\.(.*)`, "replacement": "$1_v2"},
			in: &connect.Record{Topic: "db.public.orders"}, view: topicView, want: "orders_v2"},
		{name: "regex router no full match", class: "RegexRouter", cfg: connect.Config{"regex": `public`, "replacement": "x"},
			in: &connect.Record{Topic: "db.public.orders"}, view: topicView, want: "db.public.orders"},
		{name: "value to key", class: "org.apache.kafka.connect.transforms.ValueToKey", cfg: connect.Config{"fields": "id,name"},
			in: rec(userSchema, user()), view: keyView, want: `struct{id:int32,name:string?} {id:42,name:"ann"}`},
		{name: "value to key schemaless", class: "ValueToKey", cfg: connect.Config{"fields": "id"},
			in: rec(nil, userMap()), view: keyView, want: `schemaless {"id":42L}`},
		{name: "value to key missing field", class: "ValueToKey", cfg: connect.Config{"fields": "nope"},
			in: rec(userSchema, user()), err: "field does not exist: nope"},
		{name: "header from move", class: "org.apache.kafka.connect.transforms.HeaderFrom$Value",
			cfg: connect.Config{"fields": "id,name", "headers": "h_id,h_name", "operation": "move"}, in: rec(userSchema, user()), view: valueAndHeaders,
			want: `struct<com.example.User>{age:int64,ssn:string?} {age:30L,ssn:"123-45"} | h_id=int32 42; h_name=string? "ann"`},
		{name: "header from copy schemaless", class: "HeaderFrom$Value",
			cfg: connect.Config{"fields": "id", "headers": "h_id", "operation": "copy"}, in: rec(nil, map[string]any{"id": int64(1)}), view: valueAndHeaders,
			want: `schemaless {"id":1L} | h_id=schemaless 1L`},
		{name: "insert header", class: "org.apache.kafka.connect.transforms.InsertHeader", cfg: connect.Config{"header": "app", "value.literal": "sluice"},
			in: rec(nil, nil), view: headerView, want: `app=string "sluice"`},
		{name: "insert numeric header", class: "InsertHeader", cfg: connect.Config{"header": "n", "value.literal": "42"},
			in: rec(nil, nil), view: headerView, want: `n=int8 42b`},
		{name: "drop headers", class: "org.apache.kafka.connect.transforms.DropHeaders", cfg: connect.Config{"headers": "a,b"},
			in: withHeaders, view: headerView, want: `c=schemaless "3"`},
	})
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		class string
		cfg   connect.Config
		want  string
	}{
		{"Cast$Value", connect.Config{"spec": "id:int99"}, `spec: Invalid value id:int99 for configuration spec: field "id": invalid type "int99"`},
		{"Cast$Value", connect.Config{"spec": "id:int32,name"}, `invalid cast mapping "name"`},
		{"Cast$Value", connect.Config{}, `Missing required configuration "spec"`},
		{"ExtractField$Value", connect.Config{"field": "a", "field.syntax.version": "V3"}, "must be one of V1, V2"},
		{"ReplaceField$Value", connect.Config{"renames": "a"}, `invalid rename mapping "a"`},
		{"TimestampConverter$Value", connect.Config{"target.type": "string"}, "requires format"},
		{"TimestampConverter$Value", connect.Config{"target.type": "epoch"}, "must be one of"},
		{"TimestampConverter$Value", connect.Config{"target.type": "unix", "format": "yyyy-MM-dd Q"}, `pattern letter 'Q' is not supported`},
		{"HeaderFrom$Value", connect.Config{"fields": "a,b", "headers": "x", "operation": "move"}, "same number of elements"},
		{"HeaderFrom$Value", connect.Config{"fields": "a", "headers": "x", "operation": "swap"}, "must be one of move, copy"},
		{"RegexRouter", connect.Config{"regex": "(", "replacement": "x"}, "invalid regular expression"},
		{"SetSchemaMetadata$Value", connect.Config{}, "set at least one"},
		{"SetSchemaMetadata$Value", connect.Config{"schema.version": "x"}, "Not a number of type INT"},
		{"InsertField$Value", connect.Config{}, "no field to insert"},
		{"MaskField$Value", connect.Config{"fields": "a", "replacement": ""}, "String must be non-empty"},
		{"ExtractNewRecordState", connect.Config{"delete.tombstone.handling.mode": "keep"}, "must be one of tombstone"},
	}
	for _, c := range cases {
		p, _ := connect.Lookup(c.class)
		err := p.NewTransform().Configure(c.cfg)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s %v: %v", c.class, c.cfg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want one mentioning %q", c.class, c.cfg, err, c.want)
		}
	}
}

// Every registered transform and predicate documents every field, and is
// known by its Kafka class name.
func TestSpecsDocumented(t *testing.T) {
	want := []string{
		"org.apache.kafka.connect.transforms.Cast$Key", "org.apache.kafka.connect.transforms.Cast$Value",
		"io.confluent.connect.transforms.Drop$Key", "io.confluent.connect.transforms.Drop$Value",
		"org.apache.kafka.connect.transforms.ExtractField$Key", "org.apache.kafka.connect.transforms.Filter",
		"org.apache.kafka.connect.transforms.Flatten$Value", "org.apache.kafka.connect.transforms.HeaderFrom$Key",
		"org.apache.kafka.connect.transforms.HoistField$Key", "org.apache.kafka.connect.transforms.InsertField$Key",
		"org.apache.kafka.connect.transforms.InsertHeader", "org.apache.kafka.connect.transforms.DropHeaders",
		"org.apache.kafka.connect.transforms.MaskField$Key", "org.apache.kafka.connect.transforms.RegexRouter",
		"org.apache.kafka.connect.transforms.ReplaceField$Key", "org.apache.kafka.connect.transforms.SetSchemaMetadata$Key",
		"org.apache.kafka.connect.transforms.TimestampConverter$Key", "org.apache.kafka.connect.transforms.TimestampRouter",
		"org.apache.kafka.connect.transforms.ValueToKey", "io.debezium.transforms.ExtractNewRecordState",
		"org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
		"org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
	}
	for _, class := range want {
		if _, ok := connect.Lookup(class); !ok {
			t.Errorf("%s is not registered", class)
		}
	}
	specs := Specs()
	if len(specs) < 30 {
		t.Errorf("only %d specs", len(specs))
	}
	for _, s := range specs {
		if s.Doc == "" {
			t.Errorf("%s has no doc", s.Name)
		}
		for _, f := range s.Fields {
			if f.Doc == "" {
				t.Errorf("%s.%s has no doc", s.Name, f.Name)
			}
		}
	}
}

package converters

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/registry"
	"github.com/sluicedata/sluice/testkit"
)

// startRegistry starts a broker and Sluice's schema registry on it.
func startRegistry(t *testing.T) string {
	t.Helper()
	b := testkit.StartBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := registry.Open(ctx, []string{b.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(func() { srv.Close(); r.Close() })
	return srv.URL
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// roundTrip writes value with c, checks the wire format and the subject,
// reads it back and returns what was read.
func roundTrip(t *testing.T, url string, c connect.Converter, topic string, s *connect.Schema, v any, subject string) (*connect.Schema, any, int) {
	t.Helper()
	b, err := c.FromConnect(topic, s, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 5 || b[0] != 0 {
		t.Fatalf("not in wire format: % x", b)
	}
	id := int(binary.BigEndian.Uint32(b[1:5]))
	var got struct {
		ID int `json:"id"`
	}
	getJSON(t, url+"/subjects/"+subject+"/versions/latest", &got)
	if got.ID != id {
		t.Fatalf("subject %s latest id %d, data written with id %d", subject, got.ID, id)
	}
	gs, gv, err := c.ToConnect(topic, b)
	if err != nil {
		t.Fatal(err)
	}
	return gs, gv, id
}

func TestRegistryConverters(t *testing.T) {
	url := startRegistry(t)
	t.Run("avro", func(t *testing.T) {
		c := configured(t, &Avro{}, connect.Config{"schema.registry.url": url})
		s, v := allTypes()
		gs, gv, _ := roundTrip(t, url, c, "all", s, v, "all-value")
		if !reflect.DeepEqual(gs, s) {
			gj, _ := json.Marshal(gs)
			wj, _ := json.Marshal(s)
			t.Errorf("schema round trip:\n got %s\nwant %s", gj, wj)
		}
		v.Put("def", int32(42))
		assertStructEqual(t, gv, v)

		// A second converter reads the same bytes with only the registry.
		b, _ := c.FromConnect("all", s, v)
		_, gv2, err := configured(t, &Avro{}, connect.Config{"schema.registry.url": url}).ToConnect("all", b)
		if err != nil {
			t.Fatal(err)
		}
		assertStructEqual(t, gv2, v)

		var schema struct {
			Schema string `json:"schema"`
		}
		getJSON(t, url+"/subjects/all-value/versions/latest", &schema)
		for _, want := range []string{`"name":"All"`, `"namespace":"com.example"`, `"connect.name":"com.example.All"`,
			`"logicalType":"decimal"`, `"logicalType":"timestamp-millis"`, `"connect.type":"int8"`, `"MapEntry"`} {
			if !strings.Contains(schema.Schema, want) {
				t.Errorf("registered schema lacks %s: %s", want, schema.Schema)
			}
		}
	})
	t.Run("jsonschema", func(t *testing.T) {
		c := configured(t, &JSONSchema{}, connect.Config{"schema.registry.url": url})
		s, v := allTypes()
		gs, gv, id := roundTrip(t, url, c, "allj", s, v, "allj-value")
		if !reflect.DeepEqual(gs, s) {
			gj, _ := json.Marshal(gs)
			wj, _ := json.Marshal(s)
			t.Errorf("schema round trip:\n got %s\nwant %s", gj, wj)
		}
		v.Put("def", int32(42))
		assertStructEqual(t, gv, v)
		var schema struct {
			Schema     string `json:"schema"`
			SchemaType string `json:"schemaType"`
		}
		getJSON(t, url+"/schemas/ids/"+strconv.Itoa(id), &schema)
		if schema.SchemaType != "JSON" || !strings.Contains(schema.Schema, `"title":"com.example.All"`) {
			t.Errorf("registered schema: %+v", schema)
		}
		b, _ := c.FromConnect("allj", s, v)
		if !strings.HasPrefix(string(b[5:]), `{"i8":8,"i16":-16,`) || !strings.Contains(string(b), `"dec":123.45`) || !strings.Contains(string(b), `"mi":[{"key":1,"value":"one"}]`) {
			t.Errorf("payload %s", b[5:])
		}
	})
	t.Run("protobuf", func(t *testing.T) {
		c := configured(t, &Protobuf{}, connect.Config{"schema.registry.url": url})
		s, v := allTypes()
		gs, gv, id := roundTrip(t, url, c, "allp", s, v, "allp-value")
		if !reflect.DeepEqual(gs, s) {
			gj, _ := json.Marshal(gs)
			wj, _ := json.Marshal(s)
			t.Errorf("schema round trip:\n got %s\nwant %s", gj, wj)
		}
		v.Put("def", int32(42))
		assertStructEqual(t, gv, v)
		var schema struct {
			Schema     string `json:"schema"`
			SchemaType string `json:"schemaType"`
		}
		getJSON(t, url+"/schemas/ids/"+strconv.Itoa(id), &schema)
		for _, want := range []string{"package com.example;", "message All {", "map<int32, string> mi = 12;",
			"google.protobuf.Timestamp ts = 17", "optional string opt = 18;", "message Inner {"} {
			if schema.SchemaType != "PROTOBUF" || !strings.Contains(schema.Schema, want) {
				t.Errorf("registered schema lacks %q:\n%s", want, schema.Schema)
			}
		}
		// The message index of the first message is the single byte 0.
		b, _ := c.FromConnect("allp", s, v)
		if b[5] != 0 {
			t.Errorf("message indexes % x", b[5:7])
		}
	})
	t.Run("subject strategies and registration modes", func(t *testing.T) {
		s, v := allTypes()
		// RecordNameStrategy on the key side.
		kc := &Avro{}
		if err := kc.Configure(connect.Config{"schema.registry.url": url,
			"key.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy"}, true); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, url, kc, "k", s, v, "com.example.All")
		tc := &Avro{}
		if err := tc.Configure(connect.Config{"schema.registry.url": url, "key.subject.name.strategy": "TopicRecordNameStrategy"}, true); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, url, tc, "k", s, v, "k-com.example.All")

		// auto.register.schemas=false finds the registered schema, and
		// refuses one that is not registered.
		noReg := configured(t, &Avro{}, connect.Config{"schema.registry.url": url, "auto.register.schemas": "false"})
		roundTrip(t, url, noReg, "all", s, v, "all-value")
		other := &connect.Schema{Type: connect.Struct, Name: "com.example.Other", Fields: []connect.Field{{Name: "x", Schema: prim(connect.Int32)}}}
		if _, err := noReg.FromConnect("all", other, connect.NewStruct(other).Put("x", int32(1))); err == nil ||
			!strings.Contains(err.Error(), "auto.register.schemas=false") {
			t.Errorf("unregistered schema: %v", err)
		}

		// use.latest.version writes with the subject's latest schema: a
		// record lacking a field the latest schema has gets its default.
		latest := configured(t, &Avro{}, connect.Config{"schema.registry.url": url, "auto.register.schemas": "false", "use.latest.version": "true"})
		narrow := &connect.Schema{Type: connect.Struct, Name: "com.example.All", Fields: s.Fields[:13]}
		nv := connect.NewStruct(narrow)
		copy(nv.Values, v.Values[:13])
		if _, err := latest.FromConnect("all", narrow, nv); err == nil || !strings.Contains(err.Error(), "dec") {
			t.Errorf("use.latest.version with a missing required field: %v", err)
		}
		_, _, id := roundTrip(t, url, latest, "all", s, v, "all-value")
		var want struct {
			ID int `json:"id"`
		}
		getJSON(t, url+"/subjects/all-value/versions/latest", &want)
		if id != want.ID {
			t.Errorf("use.latest.version wrote id %d, latest is %d", id, want.ID)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if err := (&Avro{}).Configure(connect.Config{}, false); err == nil || !strings.Contains(err.Error(), "schema.registry.url") {
			t.Errorf("missing url: %v", err)
		}
		if err := (&Avro{}).Configure(connect.Config{"schema.registry.url": url, "value.subject.name.strategy": "Nope"}, false); err == nil ||
			!strings.Contains(err.Error(), "value.subject.name.strategy") {
			t.Errorf("bad strategy: %v", err)
		}
		c := configured(t, &Avro{}, connect.Config{"schema.registry.url": url})
		if _, err := c.FromConnect("t", nil, map[string]any{"a": 1}); err == nil || !strings.Contains(err.Error(), "schemaless") {
			t.Errorf("schemaless: %v", err)
		}
		if _, _, err := c.ToConnect("t", []byte("plain")); err == nil || !strings.Contains(err.Error(), "magic byte") {
			t.Errorf("no magic byte: %v", err)
		}
		for _, conv := range []connect.Converter{c, configured(t, &JSONSchema{}, connect.Config{"schema.registry.url": url}),
			configured(t, &Protobuf{}, connect.Config{"schema.registry.url": url})} {
			b, err := conv.FromConnect("t", nil, nil)
			if err != nil || b != nil {
				t.Errorf("%T tombstone: %q %v", conv, b, err)
			}
			s, v, err := conv.ToConnect("t", nil)
			if err != nil || s != nil || v != nil {
				t.Errorf("%T tombstone read: %v %v %v", conv, s, v, err)
			}
		}
		// An Avro id read by the Protobuf converter is refused clearly.
		s, v := allTypes()
		b, _ := c.FromConnect("mix", s, v)
		if _, _, err := configured(t, &Protobuf{}, connect.Config{"schema.registry.url": url}).ToConnect("mix", b); err == nil ||
			!strings.Contains(err.Error(), "not PROTOBUF") {
			t.Errorf("avro data read as protobuf: %v", err)
		}
	})
	t.Run("avro sanitizes names", func(t *testing.T) {
		c := configured(t, &Avro{}, connect.Config{"schema.registry.url": url})
		s := &connect.Schema{Type: connect.Struct, Name: "dbserver1.inventory.customers-v2.Value", Fields: []connect.Field{
			{Name: "content.id", Schema: prim(connect.Int32)}, {Name: "1st", Schema: prim(connect.String)}}}
		v := connect.NewStruct(s).Put("content.id", int32(5)).Put("1st", "x")
		gs, gv, _ := roundTrip(t, url, c, "sanitized", s, v, "sanitized-value")
		if gs.Name != s.Name || gs.Fields[0].Name != "content_id" || gs.Fields[1].Name != "_1st" {
			t.Errorf("schema %+v", gs)
		}
		if got := gv.(*connect.StructValue).Values; got[0] != int32(5) || got[1] != "x" {
			t.Errorf("values %v", got)
		}
	})
	for _, format := range []string{"avro", "protobuf"} {
		t.Run(format+" debezium envelope", func(t *testing.T) {
			row := &connect.Schema{Type: connect.Struct, Optional: true, Name: "dbserver1.inventory.customers.Value", Fields: []connect.Field{
				{Name: "id", Schema: prim(connect.Int32)}, {Name: "email", Schema: &connect.Schema{Type: connect.String, Optional: true}}}}
			src := &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.postgresql.Source", Fields: []connect.Field{
				{Name: "table", Schema: prim(connect.String)}, {Name: "lsn", Schema: &connect.Schema{Type: connect.Int64, Optional: true}}}}
			env := &connect.Schema{Type: connect.Struct, Name: "dbserver1.inventory.customers.Envelope", Version: 1, Fields: []connect.Field{
				{Name: "before", Schema: row}, {Name: "after", Schema: row}, {Name: "source", Schema: src},
				{Name: "op", Schema: prim(connect.String)}, {Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64, Optional: true}}}}
			v := connect.NewStruct(env).Put("before", nil).Put("after", connect.NewStruct(row).Put("id", int32(1)).Put("email", "a@b")).
				Put("source", connect.NewStruct(src).Put("table", "customers")).Put("op", "c")
			var c connect.Converter = &Avro{}
			defined := `"name":"Value"`
			if format == "protobuf" {
				c, defined = &Protobuf{}, "message Value {"
			}
			c = configured(t, c, connect.Config{"schema.registry.url": url})
			topic := format + ".inventory.customers"
			gs, gv, id := roundTrip(t, url, c, topic, env, v, topic+"-value")
			if !reflect.DeepEqual(gs, env) {
				gj, _ := json.Marshal(gs)
				t.Errorf("schema %s", gj)
			}
			if !deepValuesEqual(gv, v) {
				t.Errorf("value %s", text(gv))
			}
			var schema struct {
				Schema string `json:"schema"`
			}
			getJSON(t, url+"/schemas/ids/"+strconv.Itoa(id), &schema)
			if n := strings.Count(schema.Schema, defined); n != 1 {
				t.Errorf("the row record is defined %d times (want once, then referenced): %s", n, schema.Schema)
			}
		})
	}
}

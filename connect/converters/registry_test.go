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
}

package serde

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// TestAvroUseLatestVersion: with UseLatestVersion the serializer writes
// with the subject's registered schema (fields by name, enums, decimals,
// micros, floats, a field without column written null) and its rules; with
// LatestWithMetadata it picks the version with the given properties.
func TestAvroUseLatestVersion(t *testing.T) {
	url, c := startRegistry(t)
	ctx := context.Background()
	v1 := `{"type":"record","name":"Account","namespace":"com.acme","fields":[
	 {"name":"id","type":"long"},
	 {"name":"owner","type":["null","string"],"default":null},
	 {"name":"status","type":{"type":"enum","name":"Status","symbols":["OPEN","CLOSED"]}},
	 {"name":"balance","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
	 {"name":"opened","type":{"type":"long","logicalType":"timestamp-micros"}},
	 {"name":"score","type":"float"},
	 {"name":"note","type":["null","string"],"default":null}]}`
	v2 := strings.Replace(v1, `{"name":"id","type":"long"},`, `{"name":"id","type":"long"},{"name":"extra","type":["null","int"],"default":null},`, 1)
	register := func(schema, extra string) int {
		body := `{"schema":` + string(mustMarshal(schema)) + extra + `}`
		res, err := http.Post(url+"/subjects/accounts-value/versions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct{ ID int }
		json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode != 200 {
			t.Fatalf("register: %s", res.Status)
		}
		return out.ID
	}
	id1 := register(v1, `,"metadata":{"properties":{"major":"1"}},"ruleSet":{"domainRules":[{"name":"positiveId","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.ID > 0"}]}`)
	rowType := types.StructOf(types.F("ID", tBig), types.F("OWNER", tStr), types.F("STATUS", tStr),
		types.F("BALANCE", types.DecimalOf(10, 2)), types.F("OPENED", types.TimestampType), types.F("SCORE", types.DoubleType))
	row := types.StructVal{{Name: "ID", Value: int64(7)}, {Name: "OWNER", Value: nil}, {Name: "STATUS", Value: "OPEN"},
		{Name: "BALANCE", Value: mustDec("12.50")}, {Name: "OPENED", Value: types.TimestampVal(1700000000123)}, {Name: "SCORE", Value: 0.5}}

	ser, err := Avro{Client: c, UseLatestVersion: true}.Serializer(rowType, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ser.Serialize(ctx, "accounts", row)
	if err != nil {
		t.Fatal(err)
	}
	if id, _, _ := SplitHeader(b); id != id1 {
		t.Fatalf("written with id %d, want the registered %d", id, id1)
	}
	schema := avro.MustParse(v1)
	var got map[string]any
	if err := avro.Unmarshal(schema, b[5:], &got); err != nil {
		t.Fatalf("decode with the registered schema: %v", err)
	}
	if got["status"] != "OPEN" || got["note"] != nil || got["id"] != int64(7) || got["score"] != float32(0.5) {
		t.Fatalf("decoded %#v", got)
	}
	if ts, ok := got["opened"].(interface{ UnixMicro() int64 }); !ok || ts.UnixMicro() != 1700000000123000 {
		t.Fatalf("opened %#v", got["opened"])
	}
	de, err := Avro{Client: srclient.New(url)}.Deserializer(rowType, false)
	if err != nil {
		t.Fatal(err)
	}
	back, err := de.Deserialize(ctx, "accounts", b)
	if err != nil || !types.Equal(back, types.StructVal{{Name: "ID", Value: int64(7)}, {Name: "OWNER", Value: nil},
		{Name: "STATUS", Value: "OPEN"}, {Name: "BALANCE", Value: mustDec("12.50")}, {Name: "OPENED", Value: types.TimestampVal(1700000000123)},
		{Name: "SCORE", Value: 0.5}}) {
		t.Fatalf("read back %v %v", back, err)
	}
	// The rules of the latest version apply; bad values name what is wrong.
	bad := append(types.StructVal(nil), row...)
	bad[0].Value = int64(-1)
	if _, err := ser.Serialize(ctx, "accounts", bad); err == nil || !strings.Contains(err.Error(), "positiveId") {
		t.Fatalf("rule: %v", err)
	}
	bad = append(types.StructVal(nil), row...)
	bad[2].Value = "PENDING"
	if _, err := ser.Serialize(ctx, "accounts", bad); err == nil || !strings.Contains(err.Error(), `"PENDING" is not a symbol of enum com.acme.Status`) {
		t.Fatalf("enum: %v", err)
	}

	// A newer major version: LatestWithMetadata still writes version 1.
	id2 := register(v2, `,"metadata":{"properties":{"major":"2"}}`)
	pinned, err := Avro{Client: srclient.New(url), LatestWithMetadata: map[string]string{"major": "1"}}.Serializer(rowType, false)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := Avro{Client: srclient.New(url), UseLatestVersion: true}.Serializer(rowType, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    Serializer
		want int
	}{{pinned, id1}, {latest, id2}} {
		b, err := c.s.Serialize(ctx, "accounts", row)
		if err != nil {
			t.Fatal(err)
		}
		if id, _, _ := SplitHeader(b); id != c.want {
			t.Fatalf("id %d, want %d", id, c.want)
		}
	}
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestProtobufUseLatestVersion: the serializer writes the named message of
// the registered schema, with its message indexes, fields by name and kinds
// converted (enum, float, wrapper, Timestamp, nested message, int32).
func TestProtobufUseLatestVersion(t *testing.T) {
	url, c := startRegistry(t)
	ctx := context.Background()
	schema := `syntax = "proto3"; package acme;
import "google/protobuf/timestamp.proto"; import "google/protobuf/wrappers.proto";
message Other { string x = 1; }
message Account {
  int64 id = 1; Status status = 2; float score = 3; google.protobuf.Timestamp opened = 4; Owner owner = 5;
  repeated string tags = 6; google.protobuf.StringValue note = 7; int32 small = 8;
  message Owner { string name = 1; }
  enum Status { OPEN = 0; CLOSED = 1; }
}`
	id, err := c.Register(ctx, "acct-value", srclient.Schema{Schema: schema, SchemaType: "PROTOBUF"})
	if err != nil {
		t.Fatal(err)
	}
	rowType := types.StructOf(types.F("ID", tBig), types.F("STATUS", tStr), types.F("SCORE", types.DoubleType),
		types.F("OPENED", types.TimestampType), types.F("OWNER", types.StructOf(types.F("NAME", tStr))),
		types.F("TAGS", types.ArrayOf(tStr)), types.F("NOTE", tStr), types.F("SMALL", tBig))
	row := types.StructVal{{Name: "ID", Value: int64(7)}, {Name: "STATUS", Value: "CLOSED"}, {Name: "SCORE", Value: 0.5},
		{Name: "OPENED", Value: types.TimestampVal(1700000000123)}, {Name: "OWNER", Value: types.StructVal{{Name: "NAME", Value: "ann"}}},
		{Name: "TAGS", Value: []types.Value{"a", "b"}}, {Name: "NOTE", Value: "hi"}, {Name: "SMALL", Value: int64(-3)}}
	ser, err := Protobuf{Client: srclient.New(url), UseLatestVersion: true, MessageName: "acme.Account"}.Serializer(rowType, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ser.Serialize(ctx, "acct", row)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, append(AppendHeader(nil, id), 2, 2)) {
		t.Fatalf("prefix % x, want id %d and message indexes [1]", b[:7], id)
	}
	de, err := Protobuf{Client: srclient.New(url)}.Deserializer(rowType, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := de.Deserialize(ctx, "acct", b)
	if err != nil || !types.Equal(got, row) {
		t.Fatalf("read back %v %v", got, err)
	}
	big := append(types.StructVal(nil), row...)
	big[7].Value = int64(1) << 40
	if _, err := ser.Serialize(ctx, "acct", big); err == nil || !strings.Contains(err.Error(), "SMALL") {
		t.Fatalf("int32 overflow: %v", err)
	}
	big[7].Value, big[1].Value = int64(1), "PENDING"
	if _, err := ser.Serialize(ctx, "acct", big); err == nil || !strings.Contains(err.Error(), `"PENDING" is not a value of enum acme.Account.Status`) {
		t.Fatalf("enum: %v", err)
	}
}

// TestJSONSRUseLatestVersion: JSON_SR writes with the id and rules of the
// registered version instead of registering its own schema.
func TestJSONSRUseLatestVersion(t *testing.T) {
	url, c := startRegistry(t)
	ctx := context.Background()
	schema := `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}`
	body := `{"schemaType":"JSON","schema":` + string(mustMarshal(schema)) + `,"metadata":{"properties":{"major":"1"}},` +
		`"ruleSet":{"domainRules":[{"name":"ageNonNegative","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 0"}]}}`
	res, err := http.Post(url+"/subjects/js-value/versions", "application/json", strings.NewReader(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", err, res.Status)
	}
	var reg struct{ ID int }
	json.NewDecoder(res.Body).Decode(&reg)
	res.Body.Close()
	for _, f := range []JSONSR{{Client: c, UseLatestVersion: true}, {Client: srclient.New(url), LatestWithMetadata: map[string]string{"major": "1"}}} {
		ser, err := f.Serializer(personType, false)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ser.Serialize(ctx, "js", person("ann", 3))
		if err != nil {
			t.Fatal(err)
		}
		if id, payload, _ := SplitHeader(b); id != reg.ID || string(payload) != `{"name":"ann","age":3}` {
			t.Fatalf("wrote id %d %s, want id %d", id, payload, reg.ID)
		}
		if _, err := ser.Serialize(ctx, "js", person("kid", -1)); err == nil || !strings.Contains(err.Error(), "ageNonNegative") {
			t.Fatalf("rule: %v", err)
		}
	}
	if subs := subjects(t, url); len(subs) != 1 {
		t.Fatalf("subjects %v: the serializer registered a schema", subs)
	}
}

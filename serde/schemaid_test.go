package serde

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

func TestSchemaIDForms(t *testing.T) {
	g, err := ParseGUID("0123abcd-4567-89ab-cdef-0011223344ff")
	if err != nil || GUIDString(g) != "0123abcd-4567-89ab-cdef-0011223344ff" {
		t.Fatalf("guid round trip: %s %v", GUIDString(g), err)
	}
	for _, bad := range []string{"", "0123abcd456789abcdef0011223344ff", "0123abcd-4567-89ab-cdef-0011223344fg"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q): no error", bad)
		}
	}
	v1 := AppendHeaderV1(nil, g)
	if len(v1) != 17 || v1[0] != 1 || v1[1] != 0x01 || v1[16] != 0xff {
		t.Fatalf("V1 prefix % x", v1)
	}
	sid, rest, err := SplitSchemaID(append(v1, 'x'))
	if err != nil || !sid.V1 || sid.GUID != g || string(rest) != "x" {
		t.Fatalf("SplitSchemaID V1 = %+v %q %v", sid, rest, err)
	}
	sid, rest, err = SplitSchemaID(append(AppendHeader(nil, 7), 'y'))
	if err != nil || sid.V1 || sid.ID != 7 || string(rest) != "y" {
		t.Fatalf("SplitSchemaID V0 = %+v %q %v", sid, rest, err)
	}
	for _, bad := range [][]byte{nil, {0, 0, 1}, v1[:16], {2, 0, 0, 0, 1}} {
		if _, _, err := SplitSchemaID(bad); !errors.Is(err, ErrNoMagic) {
			t.Errorf("SplitSchemaID(% x) = %v", bad, err)
		}
	}
}

// TestSchemaIDInHeaders: with SchemaIDInHeader the serializers put magic 1
// and the schema's GUID (and Protobuf's message indexes) in
// __value_schema_id / __key_schema_id and write a bare body; deserializers
// read that, the V1 prefix in the body, and the classic V0 prefix.
func TestSchemaIDInHeaders(t *testing.T) {
	url, c := startRegistry(t)
	ctx := context.Background()
	cases := []struct {
		plain, inHeader Format
		indexes         []byte // after the GUID in the header
	}{
		{Avro{Client: c}, Avro{Client: c, SchemaIDInHeader: true}, nil},
		{JSONSR{Client: c}, JSONSR{Client: c, SchemaIDInHeader: true}, nil},
		{Protobuf{Client: c}, Protobuf{Client: c, SchemaIDInHeader: true}, []byte{0}},
	}
	v := person("ann", 30)
	for _, tc := range cases {
		for _, key := range []bool{false, true} {
			t.Run(tc.plain.Name(), func(t *testing.T) {
				topic := "hdr-" + tc.plain.Name()
				plain, err := tc.plain.Serializer(personType, key)
				if err != nil {
					t.Fatal(err)
				}
				v0, err := plain.Serialize(ctx, topic, v)
				if err != nil {
					t.Fatal(err)
				}
				ser, err := tc.inHeader.Serializer(personType, key)
				if err != nil {
					t.Fatal(err)
				}
				body, hs, err := ser.(HeaderSerializer).SerializeWithHeaders(ctx, topic, v)
				if err != nil {
					t.Fatal(err)
				}
				wantName := "__value_schema_id"
				if key {
					wantName = "__key_schema_id"
				}
				id, _, _ := SplitHeader(v0)
				guid := schemaGUID(t, url, id)
				if len(hs) != 1 || hs[0].Key != wantName || !bytes.Equal(hs[0].Value, append(AppendHeaderV1(nil, guid), tc.indexes...)) {
					t.Fatalf("headers %+v, want %s = 01 %s % x", hs, wantName, GUIDString(guid), tc.indexes)
				}
				// The body is the V0 record without its prefix (and indexes).
				if prefix := 5 + len(tc.indexes); !bytes.Equal(body, v0[prefix:]) {
					t.Fatalf("body % x, want % x", body, v0[prefix:])
				}
				// Plain Serialize of a header serializer keeps the V0 prefix.
				if b, err := ser.Serialize(ctx, topic, v); err != nil || !bytes.Equal(b, v0) {
					t.Fatalf("Serialize: % x %v", b, err)
				}
				de, err := tc.plain.Deserializer(personType, key)
				if err != nil {
					t.Fatal(err)
				}
				hd := de.(HeaderDeserializer)
				for name, read := range map[string]func() (types.Value, error){
					"header": func() (types.Value, error) {
						// Another header of the other side must not confuse it.
						other := Header{Key: SchemaIDHeader(!key), Value: []byte{9, 9}}
						return hd.DeserializeWithHeaders(ctx, topic, []Header{other, hs[0]}, body)
					},
					"V1 body": func() (types.Value, error) {
						return de.Deserialize(ctx, topic, append(append(AppendHeaderV1(nil, guid), tc.indexes...), body...))
					},
					"V0 body": func() (types.Value, error) { return hd.DeserializeWithHeaders(ctx, topic, nil, v0) },
				} {
					got, err := read()
					if err != nil || !types.Equal(got, v) {
						t.Fatalf("%s: %v %v", name, got, err)
					}
				}
				if _, err := hd.DeserializeWithHeaders(ctx, topic, []Header{{Key: wantName, Value: []byte{1, 2}}}, body); err == nil {
					t.Fatal("a bad id header was accepted")
				}
			})
		}
	}
}

// schemaGUID asks the registry for the GUID of schema id.
func schemaGUID(t *testing.T, url string, id int) [16]byte {
	t.Helper()
	var out struct {
		GUID string `json:"guid"`
	}
	getJSON(t, url+"/schemas/ids/"+itoa(id), &out)
	g, err := ParseGUID(out.GUID)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

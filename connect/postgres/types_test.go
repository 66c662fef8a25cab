package postgres

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/connect/converters"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files under testdata/")

// typeColumns is one column per built-in type family, with an edge value.
// Each row of the test table is written once with these values and once
// with NULLs, read by the snapshot and by streaming; both must give the
// golden Debezium JSON (JsonConverter with schemas).
var typeColumns = []struct{ decl, value string }{
	{"c_bool boolean", "true"},
	{"c_int2 smallint", "-32768"},
	{"c_int4 integer", "2147483647"},
	{"c_int8 bigint", "-9223372036854775808"},
	{"c_oid oid", "4294967295"},
	{"c_float4 real", "3.25"},
	{"c_float8 double precision", "'-Infinity'"},
	{"c_numeric numeric(10,3)", "-1234567.891"},
	{"c_numeric_var numeric", "3.14159265358979323846"},
	{"c_money money", "'-1234.56'"},
	{"c_char char(3)", "'ab'"},
	{"c_varchar varchar(10)", "'héllo'"},
	{"c_text text", "'line1\nline2 \"q\"'"},
	{"c_bytea bytea", "'\\x00ff10'"},
	{"c_bit1 bit(1)", "B'1'"},
	{"c_bits bit(10)", "B'1000000011'"},
	{"c_varbit bit varying", "B'101'"},
	{"c_date date", "'1969-12-31'"},
	{"c_time time(3)", "'23:59:59.999'"},
	{"c_time6 time", "'12:34:56.123456'"},
	{"c_timetz timetz", "'10:00:00.5+02'"},
	{"c_ts timestamp(3)", "'2024-02-29 12:00:00.123'"},
	{"c_ts6 timestamp", "'1900-01-01 00:00:00.000001'"},
	{"c_tstz timestamptz", "'2024-06-01 12:00:00.5+02'"},
	{"c_interval interval", "'1 year 2 months 3 days 04:05:06.78'"},
	{"c_json json", `'{"a": [1, 2]}'`},
	{"c_jsonb jsonb", `'{"b": null, "a": 1}'`},
	{"c_xml xml", "'<a>x</a>'"},
	{"c_uuid uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"},
	{"c_inet inet", "'192.168.0.1/24'"},
	{"c_cidr cidr", "'10.0.0.0/8'"},
	{"c_macaddr macaddr", "'08:00:2b:01:02:03'"},
	{"c_point point", "'(1.5,-2)'"},
	{"c_int4range int4range", "'[1,10)'"},
	{"c_tstzrange tstzrange", "'[2024-01-01 00:00+00,2024-01-02 00:00+00)'"},
	{"c_enum $S.mood", "'happy'"},
	{"c_hstore hstore", `'a=>1, "b c"=>NULL'`},
	{"c_int_array integer[]", "'{1,NULL,3}'"},
	{"c_text_array text[]", `'{"a b",c,NULL}'`},
	{"c_domain $S.posint", "42"},
}

func TestTypeMapping(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
	}{
		{"default", nil},
		{"double_connect_string", []string{"decimal.handling.mode", "double", "time.precision.mode", "connect", "interval.handling.mode", "string", "binary.handling.mode", "base64", "hstore.handling.mode", "map"}},
		{"string_adaptive_us", []string{"decimal.handling.mode", "string", "time.precision.mode", "adaptive_time_microseconds", "binary.handling.mode", "hex"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t)
			e.exec("CREATE EXTENSION IF NOT EXISTS hstore")
			e.exec("CREATE TYPE $S.mood AS ENUM ('sad', 'happy')")
			e.exec("CREATE DOMAIN $S.posint AS integer CHECK (VALUE > 0)")
			decl := "id int PRIMARY KEY"
			cols, vals, nulls := "id", "1", "2"
			for _, c := range typeColumns {
				decl += ", " + c.decl
				name := c.decl[:bytes.IndexByte([]byte(c.decl), ' ')]
				cols += ", " + name
				vals += ", " + c.value
				nulls += ", NULL"
			}
			e.exec("CREATE TABLE $S.types (" + decl + ")")
			e.exec("INSERT INTO $S.types (" + cols + ") VALUES (" + vals + "), (" + nulls + ")")
			task, tc := e.start(mode.extra...)
			snap := events(connectortest.PollN(t, task, tc, 2, true, waitFor))
			e.exec("INSERT INTO $S.types (" + cols + ") VALUES (" + vals + "), (" + nulls + ")" + " ON CONFLICT (id) DO NOTHING")
			e.exec("UPDATE $S.types SET id = id + 10")
			// The update of the key gives delete, tombstone and create per row.
			stream := events(connectortest.PollN(t, task, tc, 6, true, waitFor))
			conv := converters.NewJSON()
			var out bytes.Buffer
			dump := func(label string, v *connect.StructValue) {
				b, err := conv.FromConnect("t", v.Schema, v)
				if err != nil {
					t.Fatalf("%s: JsonConverter: %v", label, err)
				}
				var pretty bytes.Buffer
				_ = json.Indent(&pretty, b, "", " ")
				out.WriteString("# " + label + "\n")
				out.Write(pretty.Bytes())
				out.WriteString("\n")
			}
			dump("snapshot row", snap[0].after)
			dump("snapshot NULL row", snap[1].after)
			for _, s := range stream {
				if s.op == "c" {
					// Streamed values must equal the snapshot's.
					want := snap[0].after
					if s.after.Get("id") == int32(12) {
						want = snap[1].after
					}
					a, w := noID(conv, s.after), noID(conv, want)
					if !bytes.Equal(a, w) {
						t.Errorf("streamed row differs from the snapshot:\n%s\n%s", a, w)
					}
				}
			}
			// The schema name is random per test run.
			got := bytes.ReplaceAll(out.Bytes(), []byte(e.schema), []byte("SCHEMA"))
			golden := filepath.Join("testdata", "types_"+mode.name+".json")
			if *rewrite {
				_ = os.MkdirAll("testdata", 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -rewrite to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("type mapping differs from %s (run with -rewrite and review the diff):\n%s", golden, got)
			}
		})
	}
}

// noID is the JsonConverter form of row with its id zeroed.
func noID(conv *converters.JSON, row *connect.StructValue) []byte {
	c := &connect.StructValue{Schema: row.Schema, Values: append([]any(nil), row.Values...)}
	c.Values[0] = int32(0)
	b, _ := conv.FromConnect("t", c.Schema, c)
	return b
}

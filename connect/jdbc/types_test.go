package jdbc

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// typeCase is one field of the round-trip record: its schema, its value, and
// what each database shows when the column is read back as text, with the
// column type auto.create gave it.
type typeCase struct {
	name           string
	schema         *connect.Schema
	value          any
	pgText, myText string
	pgType, myType string
}

func typeCases() []typeCase {
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123_000_000, time.UTC)
	day := ts.Truncate(24 * time.Hour)
	tod := time.Date(1970, 1, 1, 13, 14, 15, 123_000_000, time.UTC)
	sch := func(t connect.SchemaType, name string, params ...string) *connect.Schema {
		s := &connect.Schema{Type: t, Name: name, Optional: true}
		if len(params) == 2 {
			s.Parameters = map[string]string{params[0]: params[1]}
		}
		return s
	}
	vardec := &connect.Schema{Type: connect.Struct, Name: dbzVarDecimal, Optional: true, Fields: []connect.Field{
		{Name: "scale", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "value", Schema: &connect.Schema{Type: connect.Bytes}},
	}}
	return []typeCase{
		{"i8", sch(connect.Int8, ""), int8(-8), "-8", "-8", "smallint", "tinyint"},
		{"i16", sch(connect.Int16, ""), int16(-16), "-16", "-16", "smallint", "smallint"},
		{"i32", sch(connect.Int32, ""), int32(-2147483648), "-2147483648", "-2147483648", "integer", "int"},
		{"i64", sch(connect.Int64, ""), int64(9007199254740993), "9007199254740993", "9007199254740993", "bigint", "bigint"},
		{"f32", sch(connect.Float32, ""), float32(0.1), "0.1", "0.1", "real", "float"},
		{"f64", sch(connect.Float64, ""), 3.141592653589793, "3.141592653589793", "3.141592653589793", "double precision", "double"},
		{"b", sch(connect.Boolean, ""), true, "true", "1", "boolean", "tinyint"},
		{"s", sch(connect.String, ""), "héllo 'q' \"x\" \\ 🙂", "héllo 'q' \"x\" \\ 🙂", "héllo 'q' \"x\" \\ 🙂", "text", "longtext"},
		{"s_null", sch(connect.String, ""), nil, "NULL", "NULL", "text", "longtext"},
		{"by", sch(connect.Bytes, ""), []byte{0, 1, 0x27, 0xff}, "000127ff", "000127ff", "bytea", "longblob"},
		{"dec", sch(connect.Bytes, connect.DecimalName, "scale", "2"), types.MustDec("-12345.67"), "-12345.67", "-12345.67", "numeric", "decimal"},
		{"date", sch(connect.Int32, connect.DateName), day, "2024-02-29", "2024-02-29", "date", "date"},
		{"time", sch(connect.Int32, connect.TimeName), tod, "13:14:15.123", "13:14:15.123", "time without time zone", "time"},
		{"ts", sch(connect.Int64, connect.TimestampName), ts, "2024-02-29 13:14:15.123", "2024-02-29 13:14:15.123", "timestamp without time zone", "datetime"},
		{"dbz_date", sch(connect.Int32, dbzDate), int32(day.Unix() / 86400), "2024-02-29", "2024-02-29", "date", "date"},
		{"dbz_time", sch(connect.Int32, dbzTime), int32(47655123), "13:14:15.123", "13:14:15.123", "time without time zone", "time"},
		{"dbz_microtime", sch(connect.Int64, dbzMicroTime), int64(47655123456), "13:14:15.123456", "13:14:15.123456", "time without time zone", "time"},
		{"dbz_ts", sch(connect.Int64, dbzTimestamp), ts.UnixMilli(), "2024-02-29 13:14:15.123", "2024-02-29 13:14:15.123", "timestamp without time zone", "datetime"},
		{"dbz_microts", sch(connect.Int64, dbzMicroTimestamp), ts.UnixMicro() + 456, "2024-02-29 13:14:15.123456", "2024-02-29 13:14:15.123456", "timestamp without time zone", "datetime"},
		{"dbz_nanots", sch(connect.Int64, dbzNanoTimestamp), ts.UnixNano() + 456_000, "2024-02-29 13:14:15.123456", "2024-02-29 13:14:15.123456", "timestamp without time zone", "datetime"},
		{"dbz_zoned", sch(connect.String, dbzZonedTimestamp), "2024-02-29T13:14:15.123456+02:00", "2024-02-29 11:14:15.123456", "2024-02-29 11:14:15.123456", "timestamp with time zone", "datetime"},
		{"dbz_zonedtime", sch(connect.String, dbzZonedTime), "13:14:15.5Z", "13:14:15.5+00", "13:14:15.500000", "time with time zone", "time"},
		{"dbz_year", sch(connect.Int32, dbzYear), int32(2024), "2024", "2024", "integer", "int"},
		{"dbz_json", sch(connect.String, dbzJSON), `{"a": [1, 2]}`, `{"a": [1, 2]}`, `{"a": [1, 2]}`, "jsonb", "longtext"},
		{"dbz_uuid", sch(connect.String, dbzUUID), "0b7f5a1c-3c2e-4a8e-9a57-0e6b8f0d2c11", "0b7f5a1c-3c2e-4a8e-9a57-0e6b8f0d2c11", "0b7f5a1c-3c2e-4a8e-9a57-0e6b8f0d2c11", "uuid", "char"},
		{"dbz_enum", sch(connect.String, dbzEnum, "allowed", "red,green"), "red", "red", "red", "text", "longtext"},
		{"dbz_vardec", vardec, connect.NewStruct(vardec).Put("scale", int32(3)).Put("value", []byte{0x30, 0x39}),
			"12.345", "12.345000000000000000000000000000", "numeric", "decimal"},
		{"arr_int", &connect.Schema{Type: connect.Array, Optional: true, Value: &connect.Schema{Type: connect.Int32}}, []any{int32(1), int32(-2)},
			"{1,-2}", "[1,-2]", "ARRAY", "longtext"},
		{"arr_str", &connect.Schema{Type: connect.Array, Optional: true, Value: &connect.Schema{Type: connect.String, Optional: true}}, []any{`a"b\c`, nil, "x y"},
			`{"a\"b\\c",NULL,"x y"}`, `["a\"b\\c",null,"x y"]`, "ARRAY", "longtext"},
		{"arr_date", &connect.Schema{Type: connect.Array, Optional: true, Value: &connect.Schema{Type: connect.Int32, Name: connect.DateName}}, []any{day},
			"{2024-02-29}", `["2024-02-29"]`, "ARRAY", "longtext"},
		{"arr_bytes", &connect.Schema{Type: connect.Array, Optional: true, Value: &connect.Schema{Type: connect.Bytes}}, []any{[]byte{1, 0xff}},
			`{"\\x01ff"}`, `["Af8="]`, "ARRAY", "longtext"},
		{"dbz_duration", sch(connect.Int64, dbzMicroDuration), int64(90061000001), "25:01:01.000001", "90061000001", "interval", "bigint"},
	}
}

// Every type goes in as one row (multi-row VALUES with its parameters) and,
// without the array fields, as three rows in one statement (on PostgreSQL
// one array per column through unnest), and reads back the same.
func TestTypesRoundTrip(t *testing.T) {
	var scalars []typeCase
	for _, c := range typeCases() {
		if c.schema.Type != connect.Array {
			scalars = append(scalars, c)
		}
	}
	t.Run("one row", func(t *testing.T) { roundTrip(t, "types", typeCases(), 1) })
	t.Run("three rows", func(t *testing.T) { roundTrip(t, "types", scalars, 3) })
}

func roundTrip(t *testing.T, table string, cases []typeCase, rows int) {
	schema := &connect.Schema{Type: connect.Struct, Name: "AllTypes", Fields: []connect.Field{{Name: "id", Schema: &connect.Schema{Type: connect.Int32}}}}
	for _, c := range cases {
		schema.Fields = append(schema.Fields, connect.Field{Name: c.name, Schema: c.schema})
	}
	var recs []*connect.Record
	for id := range rows {
		v := connect.NewStruct(schema).Put("id", int32(id))
		for _, c := range cases {
			v.Put(c.name, c.value)
		}
		recs = append(recs, &connect.Record{Topic: table, Value: v, ValueSchema: schema})
	}
	eachDB(t, func(t *testing.T, tdb *testDB) {
		tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_value", "pk.fields": "id", "insert.mode": "upsert"})
		put(t, tk, recs...)
		put(t, tk, recs...) // the upsert path binds the same values
		for _, c := range cases {
			col := tdb.q(c.name)
			var q, want, wantType string
			switch {
			case tdb.d == postgres && c.name == "by":
				q = "encode(" + col + ", 'hex')"
			case tdb.d == postgres && c.name == "dbz_zoned":
				q = "(" + col + " AT TIME ZONE 'UTC')::text"
			case tdb.d == postgres:
				q = col + "::text"
			case c.name == "by":
				q = "LOWER(HEX(" + col + "))"
			default:
				q = "CAST(" + col + " AS CHAR)"
			}
			if tdb.d == postgres {
				want, wantType = c.pgText, c.pgType
			} else {
				want, wantType = c.myText, c.myType
			}
			wants := make([]string, rows)
			for i := range wants {
				wants[i] = want
			}
			tdb.wantRows(t, "SELECT "+q+" FROM "+tdb.q(table)+" ORDER BY id", wants...)
			tdb.wantRows(t, "SELECT data_type FROM information_schema.columns WHERE table_schema = '"+tdb.ns+
				"' AND table_name = 'types' AND column_name = '"+c.name+"'", wantType)
		}
	})
}

// db.timezone moves timestamps without a zone to that zone's wall clock.
func TestDBTimezone(t *testing.T) {
	schema := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "ts", Schema: &connect.Schema{Type: connect.Int64, Name: connect.TimestampName}},
	}}
	ts := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	rec := &connect.Record{Topic: "tz", Value: connect.NewStruct(schema).Put("id", int32(1)).Put("ts", ts), ValueSchema: schema}
	eachDB(t, func(t *testing.T, tdb *testDB) {
		tk := startTask(t, tdb, connect.Config{"auto.create": "true", "db.timezone": "America/New_York"})
		put(t, tk, rec)
		q, want := "SELECT CAST(ts AS CHAR) FROM tz", "2024-07-01 08:00:00.000"
		if tdb.d == postgres {
			q, want = "SELECT ts::text FROM tz", "2024-07-01 08:00:00"
		}
		tdb.wantRows(t, q, want)
	})
}

// Wall-clock timestamps written to zoned columns are read in db.timezone:
// the instant stored is the record's.
func TestZonedColumns(t *testing.T) {
	schema := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "ts", Schema: &connect.Schema{Type: connect.Int64, Name: connect.TimestampName}},
	}}
	ts := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	rec := &connect.Record{Topic: "zoned", Value: connect.NewStruct(schema).Put("id", int32(1)).Put("ts", ts), ValueSchema: schema}
	t.Run("postgres", func(t *testing.T) {
		tdb := newTestDB(t, "postgres")
		mustExec(t, tdb.db, "CREATE TABLE zoned (id INT PRIMARY KEY, ts TIMESTAMPTZ)")
		tk := startTask(t, tdb, connect.Config{"db.timezone": "America/New_York"})
		put(t, tk, rec)
		tdb.wantRows(t, "SELECT EXTRACT(EPOCH FROM ts)::bigint FROM zoned", "1719835200")
	})
	t.Run("mariadb", func(t *testing.T) {
		tdb := newTestDB(t, "mariadb")
		mustExec(t, tdb.db, "CREATE TABLE zoned (id INT PRIMARY KEY, ts TIMESTAMP NULL)")
		tk := startTask(t, tdb, connect.Config{})
		put(t, tk, rec)
		tdb.wantRows(t, "SELECT UNIX_TIMESTAMP(ts) FROM zoned", "1719835200")
	})
}

package jdbc

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// Debezium's semantic type names (Schema.Name) the sink understands.
const (
	dbzDate           = "io.debezium.time.Date"           // int32 days since epoch
	dbzTime           = "io.debezium.time.Time"           // int32 ms of day
	dbzMicroTime      = "io.debezium.time.MicroTime"      // int64 µs of day
	dbzNanoTime       = "io.debezium.time.NanoTime"       // int64 ns of day
	dbzTimestamp      = "io.debezium.time.Timestamp"      // int64 ms since epoch, no zone
	dbzMicroTimestamp = "io.debezium.time.MicroTimestamp" // int64 µs since epoch, no zone
	dbzNanoTimestamp  = "io.debezium.time.NanoTimestamp"  // int64 ns since epoch, no zone
	dbzZonedTimestamp = "io.debezium.time.ZonedTimestamp" // ISO-8601 string with offset
	dbzZonedTime      = "io.debezium.time.ZonedTime"      // ISO-8601 time with offset
	dbzYear           = "io.debezium.time.Year"           // int32
	dbzMicroDuration  = "io.debezium.time.MicroDuration"  // int64 µs
	dbzInterval       = "io.debezium.time.Interval"       // ISO-8601 duration string
	dbzJSON           = "io.debezium.data.Json"
	dbzUUID           = "io.debezium.data.Uuid"
	dbzEnum           = "io.debezium.data.Enum"
	dbzEnumSet        = "io.debezium.data.EnumSet"
	dbzXML            = "io.debezium.data.Xml"
	dbzBits           = "io.debezium.data.Bits"
	dbzVarDecimal     = "io.debezium.data.VariableScaleDecimal" // struct {scale int32, value bytes}
)

// columnType is the SQL type auto.create and auto.evolve give a field. Key
// columns of MySQL get bounded types, as TEXT and BLOB cannot be indexed
// whole.
func columnType(d dialect, s *connect.Schema, key bool) (string, error) {
	pg := d == postgres
	pick := func(p, m string) (string, error) {
		if pg {
			return p, nil
		}
		return m, nil
	}
	text := func() (string, error) {
		if key {
			return pick("TEXT", "VARCHAR(255)")
		}
		return pick("TEXT", "LONGTEXT")
	}
	switch s.Name {
	case connect.DecimalName:
		scale := decimalScale(s)
		if p, err := strconv.Atoi(s.Parameters["connect.decimal.precision"]); err == nil && p > 0 && p >= scale {
			return fmt.Sprintf("DECIMAL(%d,%d)", min(p, 65), scale), nil
		}
		return pick("NUMERIC", fmt.Sprintf("DECIMAL(65,%d)", min(scale, 30)))
	case connect.DateName, dbzDate:
		return "DATE", nil
	case connect.TimeName, dbzTime:
		return "TIME(3)", nil
	case dbzMicroTime, dbzNanoTime:
		return "TIME(6)", nil
	case connect.TimestampName, dbzTimestamp:
		return pick("TIMESTAMP(3)", "DATETIME(3)")
	case dbzMicroTimestamp, dbzNanoTimestamp:
		return pick("TIMESTAMP(6)", "DATETIME(6)")
	case dbzZonedTimestamp:
		return pick("TIMESTAMPTZ(6)", "DATETIME(6)")
	case dbzZonedTime:
		return pick("TIMETZ(6)", "TIME(6)")
	case dbzYear:
		return "INTEGER", nil
	case dbzMicroDuration:
		return pick("INTERVAL", "BIGINT")
	case dbzInterval:
		if pg {
			return "INTERVAL", nil
		}
		return text()
	case dbzJSON:
		if key {
			return text()
		}
		return pick("JSONB", "JSON")
	case dbzUUID:
		return pick("UUID", "CHAR(36)")
	case dbzXML:
		if pg && !key {
			return "XML", nil
		}
		return text()
	case dbzEnum, dbzEnumSet:
		return text()
	case dbzVarDecimal:
		return pick("NUMERIC", "DECIMAL(65,30)")
	}
	switch s.Type {
	case connect.Int8:
		return pick("SMALLINT", "TINYINT")
	case connect.Int16:
		return "SMALLINT", nil
	case connect.Int32:
		return "INTEGER", nil
	case connect.Int64:
		return "BIGINT", nil
	case connect.Float32:
		return pick("REAL", "FLOAT")
	case connect.Float64:
		return pick("DOUBLE PRECISION", "DOUBLE")
	case connect.Boolean:
		return "BOOLEAN", nil
	case connect.String:
		return text()
	case connect.Bytes:
		if key {
			return pick("BYTEA", "VARBINARY(255)")
		}
		return pick("BYTEA", "LONGBLOB")
	}
	if s.Type == connect.Array && s.Value != nil && s.Value.Type != connect.Array && !key {
		if !pg {
			return "JSON", nil
		}
		elem, err := columnType(d, s.Value, false)
		if err == nil {
			return elem + "[]", nil
		}
	}
	return "", fmt.Errorf("no SQL column type for a %s field%s (structs, maps and arrays of arrays cannot be written to a column)", s.Type, nameSuffix(s))
}

func nameSuffix(s *connect.Schema) string {
	if s.Name != "" {
		return " named " + s.Name
	}
	return ""
}

func decimalScale(s *connect.Schema) int {
	n, _ := strconv.Atoi(s.Parameters["scale"])
	return n
}

const (
	dateLayout      = "2006-01-02"
	timeLayout      = "15:04:05.999999"
	timestampLayout = "2006-01-02 15:04:05.999999"
)

// bind turns a Connect value of schema s into a value for the driver. Dates
// and times go as text in the database's own format, so both drivers bind them
// the same way; timestamps without a zone are written as the wall clock of
// loc (db.timezone).
func bind(d dialect, s *connect.Schema, v any, loc *time.Location) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch s.Name {
	case connect.DecimalName:
		switch x := v.(type) {
		case types.Dec:
			return x.String(), nil
		case *types.Dec:
			return x.String(), nil
		case []byte: // unscaled two's complement, as Connect serializes it
			return unscaledString(x, decimalScale(s)), nil
		case string:
			if _, err := types.ParseDec(x); err != nil {
				return nil, err
			}
			return x, nil
		}
	case connect.DateName:
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format(dateLayout), nil
		}
	case connect.TimeName:
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format(timeLayout), nil
		}
	case connect.TimestampName:
		if t, ok := v.(time.Time); ok {
			return t.In(loc).Format(timestampLayout), nil
		}
	case dbzDate:
		if n, ok := connect.AsInt64(v); ok {
			return time.Unix(n*86400, 0).UTC().Format(dateLayout), nil
		}
	case dbzTime:
		if n, ok := connect.AsInt64(v); ok {
			return timeOfDay(time.Duration(n) * time.Millisecond)
		}
	case dbzMicroTime:
		if n, ok := connect.AsInt64(v); ok {
			return timeOfDay(time.Duration(n) * time.Microsecond)
		}
	case dbzNanoTime:
		if n, ok := connect.AsInt64(v); ok {
			return timeOfDay(time.Duration(n))
		}
	case dbzTimestamp:
		if n, ok := connect.AsInt64(v); ok {
			return time.UnixMilli(n).In(loc).Format(timestampLayout), nil
		}
	case dbzMicroTimestamp:
		if n, ok := connect.AsInt64(v); ok {
			return time.UnixMicro(n).In(loc).Format(timestampLayout), nil
		}
	case dbzNanoTimestamp:
		if n, ok := connect.AsInt64(v); ok {
			return time.Unix(0, n).In(loc).Format(timestampLayout), nil
		}
	case dbzZonedTimestamp:
		if str, ok := v.(string); ok {
			t, err := time.Parse(time.RFC3339Nano, str)
			if err != nil {
				return nil, fmt.Errorf("%s value %q is not an ISO-8601 timestamp with offset", s.Name, str)
			}
			if d == postgres {
				return t.Format(time.RFC3339Nano), nil
			}
			return t.In(loc).Format(timestampLayout), nil
		}
	case dbzZonedTime:
		if str, ok := v.(string); ok {
			t, err := time.Parse("15:04:05.999999999Z07:00", str)
			if err != nil {
				return nil, fmt.Errorf("%s value %q is not an ISO-8601 time with offset", s.Name, str)
			}
			if d == postgres {
				return t.Format("15:04:05.999999Z07:00"), nil
			}
			return t.UTC().Format(timeLayout), nil
		}
	case dbzMicroDuration:
		if n, ok := connect.AsInt64(v); ok {
			if d == postgres {
				return fmt.Sprintf("%d microseconds", n), nil
			}
			return n, nil
		}
	case dbzVarDecimal:
		if sv, ok := v.(*connect.StructValue); ok {
			scale, _ := connect.AsInt64(sv.Get("scale"))
			b, _ := sv.Get("value").([]byte)
			return unscaledString(b, int(scale)), nil
		}
	default:
		if s.Type == connect.Array {
			return bindArray(d, s, v, loc)
		}
		return bindPlain(s, v)
	}
	return nil, fmt.Errorf("value %v (%T) does not fit a field of type %s named %s", v, v, s.Type, s.Name)
}

// bindPlain binds a value of a schema without a logical type.
func bindPlain(s *connect.Schema, v any) (any, error) {
	switch s.Type {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		if n, ok := connect.AsInt64(v); ok {
			return n, nil
		}
	case connect.Float32:
		switch x := v.(type) {
		case float32:
			// Through its decimal text, so 0.1 stays 0.1 rather than
			// 0.10000000149011612.
			return strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		case float64:
			return x, nil
		}
	case connect.Float64:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		}
		if n, ok := connect.AsInt64(v); ok { // transforms may hand over integers
			return float64(n), nil
		}
	case connect.Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case connect.String:
		if str, ok := v.(string); ok {
			if strings.IndexByte(str, 0) >= 0 {
				return nil, fmt.Errorf("string value contains a NUL character, which SQL text columns cannot hold")
			}
			return str, nil
		}
	case connect.Bytes:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string: // base64, as schemaless JSON carries bytes
			return base64.StdEncoding.DecodeString(x)
		}
	}
	return nil, fmt.Errorf("value %v (%T) does not fit a field of type %s", v, v, s.Type)
}

// arrayEscaper escapes an element of a PostgreSQL array literal.
var arrayEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// bindArray binds an array of primitives: as a PostgreSQL array literal,
// which the server parses into the column's element type, or as JSON text
// for MySQL's JSON column.
func bindArray(d dialect, s *connect.Schema, v any, loc *time.Location) (any, error) {
	items, ok := v.([]any)
	if !ok || s.Value == nil {
		return nil, fmt.Errorf("value %v (%T) does not fit an array field", v, v)
	}
	bound := make([]any, len(items))
	for i, it := range items {
		b, err := bind(d, s.Value, it, loc)
		if err != nil {
			return nil, fmt.Errorf("array element %d: %w", i, err)
		}
		bound[i] = b
	}
	if d == mariadb {
		b, err := json.Marshal(bound)
		return string(b), err
	}
	return pgArrayLiteral(bound), nil
}

// pgArrayLiteral writes bound values as a PostgreSQL array literal, which
// the server parses into the element type it casts it to.
func pgArrayLiteral(bound []any) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range bound {
		if i > 0 {
			b.WriteByte(',')
		}
		var text string
		switch x := e.(type) {
		case nil:
			b.WriteString("NULL")
			continue
		case string:
			text = x
		case []byte:
			text = `\x` + hex.EncodeToString(x)
		case int64:
			text = strconv.FormatInt(x, 10)
		case float64:
			switch {
			case math.IsInf(x, 1):
				text = "Infinity"
			case math.IsInf(x, -1):
				text = "-Infinity"
			default:
				text = strconv.FormatFloat(x, 'g', -1, 64) // NaN as PostgreSQL spells it
			}
		case bool:
			text = strconv.FormatBool(x)
		default:
			text = fmt.Sprint(x)
		}
		b.WriteByte('"')
		b.WriteString(arrayEscaper.Replace(text))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func timeOfDay(d time.Duration) (any, error) {
	if d < 0 || d >= 24*time.Hour {
		return nil, fmt.Errorf("time of day %v is outside 00:00 to 24:00", d)
	}
	return time.Unix(0, int64(d)).UTC().Format(timeLayout), nil
}

// unscaledString prints a big-endian two's-complement unscaled integer with
// the given scale as a decimal.
func unscaledString(b []byte, scale int) string {
	u := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return types.Dec{Unscaled: u, Scale: scale}.String()
}

// inferSchema gives a schemaless primitive (a key from the String converter
// without schema) the schema it would have had.
func inferSchema(v any) (*connect.Schema, error) {
	var t connect.SchemaType
	switch v.(type) {
	case int8:
		t = connect.Int8
	case int16:
		t = connect.Int16
	case int32:
		t = connect.Int32
	case int64, int:
		t = connect.Int64
	case float32:
		t = connect.Float32
	case float64:
		t = connect.Float64
	case bool:
		t = connect.Boolean
	case string:
		t = connect.String
	case []byte:
		t = connect.Bytes
	default:
		return nil, fmt.Errorf("a %T without a schema cannot be written: use a converter with schemas (JsonConverter with schemas.enable=true, Avro, Protobuf, JSON Schema)", v)
	}
	return &connect.Schema{Type: t}, nil
}

// defaultLiteral renders a field default for CREATE/ALTER TABLE, for the
// primitive types whose literal is unambiguous; other defaults are left out.
func defaultLiteral(s *connect.Schema) (string, bool) {
	if s.Default == nil || s.Name != "" {
		return "", false
	}
	switch x := s.Default.(type) {
	case bool:
		if x {
			return "TRUE", true
		}
		return "FALSE", true
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", true
	case float32, float64:
		return fmt.Sprint(x), true
	}
	if n, ok := connect.AsInt64(s.Default); ok {
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}

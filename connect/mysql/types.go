package mysql

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// Type mapping, as Debezium's MySQL connector maps columns. A converter takes
// a value as either source hands it over (the binlog decoder's Go types, or
// the text protocol's strings and numbers during the snapshot) and returns
// the Connect value. nil in, nil out.

const (
	nameDebeziumDate = "io.debezium.time.Date"
	nameTimestamp    = "io.debezium.time.Timestamp"
	nameMicroTS      = "io.debezium.time.MicroTimestamp"
	nameZonedTS      = "io.debezium.time.ZonedTimestamp"
	nameMicroTime    = "io.debezium.time.MicroTime"
	nameYear         = "io.debezium.time.Year"
	nameJSON         = "io.debezium.data.Json"
	nameEnum         = "io.debezium.data.Enum"
	nameEnumSet      = "io.debezium.data.EnumSet"
	nameBits         = "io.debezium.data.Bits"
	nameGeometry     = "io.debezium.data.geometry.Geometry"
	decimalPrecParam = "connect.decimal.precision"
	zeroDateSentinel = "0000-00-00"
)

type converter func(v any) (any, error)

var geometrySchema = connect.Schema{Type: connect.Struct, Name: nameGeometry, Doc: "Geometry", Fields: []connect.Field{
	{Name: "wkb", Schema: &connect.Schema{Type: connect.Bytes}},
	{Name: "srid", Schema: &connect.Schema{Type: connect.Int32, Optional: true}},
}}

// mapColumn returns the Connect schema of col (Optional set from the column)
// and its value converter.
func (c *conf) mapColumn(col *column) (*connect.Schema, converter, error) {
	s, conv, err := c.mapType(col)
	if err != nil {
		return nil, nil, fmt.Errorf("column %q (%s): %w", col.Name, col.ColumnType, err)
	}
	s.Optional = col.Nullable
	if inner := conv; true {
		conv = func(v any) (any, error) {
			if v == nil {
				return nil, nil
			}
			return inner(v)
		}
	}
	if !col.Nullable {
		// Debezium gives NOT NULL temporal columns holding MySQL's zero
		// date the epoch; the converters return nil for zero dates.
		inner := conv
		zero := zeroValue(s)
		conv = func(v any) (any, error) {
			out, err := inner(v)
			if out == nil && err == nil && v != nil {
				return zero, nil
			}
			return out, err
		}
	}
	return s, conv, nil
}

func zeroValue(s *connect.Schema) any {
	switch s.Type {
	case connect.Int32:
		if s.Name == connect.DateName || s.Name == connect.TimeName {
			return time.Unix(0, 0).UTC()
		}
		return int32(0)
	case connect.Int64:
		if s.Name == connect.TimestampName {
			return time.Unix(0, 0).UTC()
		}
		return int64(0)
	case connect.String:
		if s.Name == nameZonedTS {
			return "1970-01-01T00:00:00Z"
		}
		return ""
	}
	return nil
}

func (c *conf) mapType(col *column) (*connect.Schema, converter, error) {
	ct := strings.ToLower(col.ColumnType)
	unsigned := strings.Contains(ct, "unsigned")
	switch col.DataType {
	case "tinyint":
		if strings.HasPrefix(ct, "tinyint(1)") && !unsigned {
			return &connect.Schema{Type: connect.Boolean}, convBool, nil
		}
		return &connect.Schema{Type: connect.Int16}, intConv(8, unsigned, func(n int64) any { return int16(n) }), nil
	case "bool", "boolean":
		return &connect.Schema{Type: connect.Boolean}, convBool, nil
	case "smallint":
		if unsigned {
			return &connect.Schema{Type: connect.Int32}, intConv(16, true, func(n int64) any { return int32(n) }), nil
		}
		return &connect.Schema{Type: connect.Int16}, intConv(16, false, func(n int64) any { return int16(n) }), nil
	case "mediumint":
		return &connect.Schema{Type: connect.Int32}, intConv(24, unsigned, func(n int64) any { return int32(n) }), nil
	case "int", "integer":
		if unsigned {
			return &connect.Schema{Type: connect.Int64}, intConv(32, true, func(n int64) any { return n }), nil
		}
		return &connect.Schema{Type: connect.Int32}, intConv(32, false, func(n int64) any { return int32(n) }), nil
	case "bigint":
		if unsigned && c.bigintPrecise {
			return decimalSchema(0, 20), convBigUnsignedDec, nil
		}
		return &connect.Schema{Type: connect.Int64}, intConv(64, unsigned, func(n int64) any { return n }), nil
	case "float":
		if strings.Contains(ct, ",") || col.Precision > 24 {
			return &connect.Schema{Type: connect.Float64}, convFloat64, nil
		}
		return &connect.Schema{Type: connect.Float32}, convFloat32, nil
	case "double", "real":
		return &connect.Schema{Type: connect.Float64}, convFloat64, nil
	case "decimal", "numeric":
		switch c.decimalMode {
		case "double":
			return &connect.Schema{Type: connect.Float64}, convFloat64, nil
		case "string":
			return &connect.Schema{Type: connect.String}, convDecString, nil
		}
		scale := col.Scale
		return decimalSchema(scale, col.Precision), func(v any) (any, error) { return convDecimal(v, scale) }, nil
	case "bit":
		n := col.Precision
		if n <= 1 {
			return &connect.Schema{Type: connect.Boolean}, func(v any) (any, error) {
				u, err := bitValue(v)
				return u != 0, err
			}, nil
		}
		nb := (n + 7) / 8
		return &connect.Schema{Type: connect.Bytes, Name: nameBits, Version: 1, Parameters: map[string]string{"length": strconv.Itoa(n)}},
			func(v any) (any, error) {
				u, err := bitValue(v)
				out := make([]byte, nb)
				for i := range out {
					out[i] = byte(u >> (8 * i))
				}
				return out, err
			}, nil
	case "date":
		if c.timeConnect {
			return &connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: 1}, func(v any) (any, error) {
				d, ok, err := parseDate(v)
				if !ok || err != nil {
					return nil, err
				}
				return time.Unix(d*86400, 0).UTC(), nil
			}, nil
		}
		return &connect.Schema{Type: connect.Int32, Name: nameDebeziumDate, Version: 1}, func(v any) (any, error) {
			d, ok, err := parseDate(v)
			if !ok || err != nil {
				return nil, err
			}
			return int32(d), nil
		}, nil
	case "datetime":
		fsp := col.Scale
		if c.timeConnect {
			return &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: 1}, func(v any) (any, error) {
				t, ok, err := parseDateTime(v)
				if !ok || err != nil {
					return nil, err
				}
				return t.Truncate(time.Millisecond), nil
			}, nil
		}
		if fsp <= 3 {
			return &connect.Schema{Type: connect.Int64, Name: nameTimestamp, Version: 1}, func(v any) (any, error) {
				t, ok, err := parseDateTime(v)
				if !ok || err != nil {
					return nil, err
				}
				return t.UnixMilli(), nil
			}, nil
		}
		return &connect.Schema{Type: connect.Int64, Name: nameMicroTS, Version: 1}, func(v any) (any, error) {
			t, ok, err := parseDateTime(v)
			if !ok || err != nil {
				return nil, err
			}
			return t.UnixMicro(), nil
		}, nil
	case "timestamp":
		fsp := col.Scale
		return &connect.Schema{Type: connect.String, Name: nameZonedTS, Version: 1}, func(v any) (any, error) {
			t, ok, err := parseDateTime(v)
			if !ok || err != nil {
				return nil, err
			}
			return zonedString(t, fsp), nil
		}, nil
	case "time":
		if c.timeConnect {
			return &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: 1}, func(v any) (any, error) {
				us, err := parseTime(v)
				if err != nil {
					return nil, err
				}
				return time.UnixMilli(us / 1000).UTC(), nil
			}, nil
		}
		return &connect.Schema{Type: connect.Int64, Name: nameMicroTime, Version: 1}, func(v any) (any, error) {
			us, err := parseTime(v)
			if err != nil {
				return nil, err
			}
			return us, nil
		}, nil
	case "year":
		return &connect.Schema{Type: connect.Int32, Name: nameYear, Version: 1}, intConv(32, false, func(n int64) any { return int32(n) }), nil
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		return &connect.Schema{Type: connect.String}, convString, nil
	case "json":
		return &connect.Schema{Type: connect.String, Name: nameJSON, Version: 1}, convString, nil
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return c.binarySchema(), c.binaryConv(), nil
	case "enum":
		vals := parseEnumValues(col.ColumnType)
		return &connect.Schema{Type: connect.String, Name: nameEnum, Version: 1, Parameters: map[string]string{"allowed": strings.Join(vals, ",")}},
			func(v any) (any, error) {
				if n, ok := asInt(v); ok {
					if n == 0 {
						return "", nil // MySQL's error value for an invalid enum
					}
					if n < 1 || int(n) > len(vals) {
						return nil, fmt.Errorf("enum index %d out of range 1..%d", n, len(vals))
					}
					return vals[n-1], nil
				}
				return convString(v)
			}, nil
	case "set":
		vals := parseEnumValues(col.ColumnType)
		return &connect.Schema{Type: connect.String, Name: nameEnumSet, Version: 1, Parameters: map[string]string{"allowed": strings.Join(vals, ",")}},
			func(v any) (any, error) {
				if n, ok := asInt(v); ok {
					var out []string
					for i, s := range vals {
						if n&(1<<i) != 0 {
							out = append(out, s)
						}
					}
					return strings.Join(out, ","), nil
				}
				return convString(v)
			}, nil
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		s := geometrySchema
		return &s, convGeometry, nil
	}
	return nil, nil, fmt.Errorf("unsupported type %q", col.DataType)
}

func decimalSchema(scale, precision int) *connect.Schema {
	return &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: 1,
		Parameters: map[string]string{"scale": strconv.Itoa(scale), decimalPrecParam: strconv.Itoa(precision)}}
}

func (c *conf) binarySchema() *connect.Schema {
	if c.binaryMode == "bytes" {
		return &connect.Schema{Type: connect.Bytes}
	}
	return &connect.Schema{Type: connect.String}
}

func (c *conf) binaryConv() converter {
	enc := func(b []byte) any { return b }
	switch c.binaryMode {
	case "base64":
		enc = func(b []byte) any { return base64.StdEncoding.EncodeToString(b) }
	case "base64-url-safe":
		enc = func(b []byte) any { return base64.URLEncoding.EncodeToString(b) }
	case "hex":
		enc = func(b []byte) any { return hex.EncodeToString(b) }
	}
	return func(v any) (any, error) {
		switch x := v.(type) {
		case nil:
			return nil, nil
		case []byte:
			return enc(append([]byte(nil), x...)), nil
		case string:
			return enc([]byte(x)), nil
		}
		return nil, fmt.Errorf("binary value of unexpected type %T", v)
	}
}

// asInt reads the integer forms the two decoders produce.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), true
	}
	return 0, false
}

// intConv converts integers of a bits-wide column. Without signedness
// metadata in the binlog, unsigned values arrive as negative signed ones and
// are put back in range here.
func intConv(bits uint, unsigned bool, out func(int64) any) converter {
	return func(v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		n, ok := asInt(v)
		if !ok {
			s, isStr := textOf(v)
			if !isStr {
				return nil, fmt.Errorf("integer value of unexpected type %T", v)
			}
			var err error
			if unsigned {
				var u uint64
				u, err = strconv.ParseUint(s, 10, 64)
				n = int64(u)
			} else {
				n, err = strconv.ParseInt(s, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("integer value %q: %w", s, err)
			}
		}
		if unsigned && n < 0 && bits < 64 {
			n += 1 << bits
		}
		return out(n), nil
	}
}

func convBigUnsignedDec(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	var u uint64
	switch x := v.(type) {
	case uint64:
		u = x
	case int64:
		u = uint64(x)
	default:
		s, ok := textOf(v)
		if !ok {
			return nil, fmt.Errorf("integer value of unexpected type %T", v)
		}
		var err error
		if u, err = strconv.ParseUint(s, 10, 64); err != nil {
			return nil, fmt.Errorf("BIGINT UNSIGNED value %q: %w", s, err)
		}
	}
	return types.Dec{Unscaled: new(big.Int).SetUint64(u), Scale: 0}, nil
}

func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

func convBool(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if n, ok := asInt(v); ok {
		return n != 0, nil
	}
	if s, ok := textOf(v); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		return n != 0, err
	}
	return nil, fmt.Errorf("boolean value of unexpected type %T", v)
}

func convFloat32(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case float32:
		return x, nil
	case float64:
		return float32(x), nil
	}
	if s, ok := textOf(v); ok {
		f, err := strconv.ParseFloat(s, 32)
		return float32(f), err
	}
	return nil, fmt.Errorf("float value of unexpected type %T", v)
}

func convFloat64(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case float32:
		// Via its shortest decimal form, so FLOAT 1.1 reads 1.1, not 1.100000023841858.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return f, nil
	case float64:
		return x, nil
	}
	if s, ok := textOf(v); ok {
		return strconv.ParseFloat(s, 64)
	}
	return nil, fmt.Errorf("float value of unexpected type %T", v)
}

func convDecString(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := textOf(v); ok {
		return s, nil
	}
	return fmt.Sprint(v), nil
}

func convDecimal(v any, scale int) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := textOf(v)
	if !ok {
		s = fmt.Sprint(v)
	}
	d, err := types.ParseDec(s)
	if err != nil {
		return nil, fmt.Errorf("decimal value %q: %w", s, err)
	}
	if r, ok := d.Rescale(scale); ok {
		d = r
	}
	return d, nil
}

func convString(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return nil, fmt.Errorf("string value of unexpected type %T", v)
}

// bitValue reads BIT: an integer from the binlog, big-endian bytes from the
// text protocol.
func bitValue(v any) (uint64, error) {
	if n, ok := asInt(v); ok {
		return uint64(n), nil
	}
	switch x := v.(type) {
	case []byte:
		var u uint64
		for _, b := range x {
			u = u<<8 | uint64(b)
		}
		return u, nil
	case string:
		return bitValue([]byte(x))
	}
	return 0, fmt.Errorf("bit value of unexpected type %T", v)
}

// parseDate returns days since the epoch; ok is false for a zero date.
func parseDate(v any) (int64, bool, error) {
	if t, ok := v.(time.Time); ok {
		return int64(math.Floor(float64(t.Unix()) / 86400)), true, nil
	}
	s, ok := textOf(v)
	if !ok {
		return 0, false, fmt.Errorf("date value of unexpected type %T", v)
	}
	if strings.HasPrefix(s, zeroDateSentinel) {
		return 0, false, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, false, fmt.Errorf("date value %q: %w", s, err)
	}
	return int64(math.Floor(float64(t.Unix()) / 86400)), true, nil
}

// parseDateTime reads DATETIME and TIMESTAMP values as UTC wall times; ok is
// false for a zero date.
func parseDateTime(v any) (time.Time, bool, error) {
	if t, ok := v.(time.Time); ok {
		return t.UTC(), true, nil
	}
	s, ok := textOf(v)
	if !ok {
		return time.Time{}, false, fmt.Errorf("datetime value of unexpected type %T", v)
	}
	if strings.HasPrefix(s, zeroDateSentinel) {
		return time.Time{}, false, nil
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999", s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("datetime value %q: %w", s, err)
	}
	return t, true, nil
}

// zonedString formats t in UTC as ISO-8601 with fsp fraction digits.
func zonedString(t time.Time, fsp int) string {
	layout := "2006-01-02T15:04:05"
	if fsp > 0 {
		layout += "." + strings.Repeat("0", fsp)
	}
	return t.UTC().Format(layout) + "Z"
}

// parseTime reads a TIME value ("-838:59:59.000000") as microseconds.
func parseTime(v any) (int64, error) {
	s, ok := textOf(v)
	if !ok {
		if d, isDur := v.(time.Duration); isDur {
			return d.Microseconds(), nil
		}
		return 0, fmt.Errorf("time value of unexpected type %T", v)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var frac int64
	if i := strings.IndexByte(s, '.'); i >= 0 {
		f := (s[i+1:] + "000000")[:6]
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("time value %q: %w", s, err)
		}
		frac, s = n, s[:i]
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("time value %q: want hh:mm:ss", s)
	}
	var hms [3]int64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("time value %q: %w", s, err)
		}
		hms[i] = n
	}
	us := ((hms[0]*60+hms[1])*60+hms[2])*1_000_000 + frac
	if neg {
		us = -us
	}
	return us, nil
}

// convGeometry splits MySQL's internal geometry (4-byte little-endian SRID,
// then WKB) into Debezium's Geometry struct.
func convGeometry(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	default:
		return nil, fmt.Errorf("geometry value of unexpected type %T", v)
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("geometry value of %d bytes, want at least 4", len(b))
	}
	s := connect.NewStruct(&geometrySchema)
	s.Values[0] = append([]byte(nil), b[4:]...)
	srid := int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	s.Values[1] = srid
	return s, nil
}

// parseEnumValues reads the labels of enum('a','b”c') or set(...).
func parseEnumValues(columnType string) []string {
	i := strings.IndexByte(columnType, '(')
	j := strings.LastIndexByte(columnType, ')')
	if i < 0 || j <= i {
		return nil
	}
	body := columnType[i+1 : j]
	var out []string
	var cur strings.Builder
	in := false
	for k := 0; k < len(body); k++ {
		ch := body[k]
		switch {
		case ch == '\'' && in && k+1 < len(body) && body[k+1] == '\'':
			cur.WriteByte('\'')
			k++
		case ch == '\'':
			if in {
				out = append(out, cur.String())
				cur.Reset()
			}
			in = !in
		case in:
			cur.WriteByte(ch)
		}
	}
	return out
}

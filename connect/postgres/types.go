package postgres

import (
	"encoding/base64"
	"encoding/binary"
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

// Type mapping from PostgreSQL to Connect, as Debezium's PostgreSQL connector
// maps it. Values arrive as PostgreSQL's text output (pgoutput protocol 1 and
// the snapshot queries both use text), read with the session settings the
// connector forces (DateStyle=ISO, IntervalStyle=iso_8601, TimeZone=UTC,
// extra_float_digits=3), so one decoder serves snapshot and streaming.

// Built-in type OIDs (pg_type.dat). Stable across PostgreSQL versions.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidXID         = 28
	oidJSON        = 114
	oidXML         = 142
	oidPoint       = 600
	oidCIDR        = 650
	oidFloat4      = 700
	oidFloat8      = 701
	oidMacaddr8    = 774
	oidMoney       = 790
	oidMacaddr     = 829
	oidInet        = 869
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidInterval    = 1186
	oidTimeTZ      = 1266
	oidBit         = 1560
	oidVarbit      = 1562
	oidNumeric     = 1700
	oidUUID        = 2950
	oidPgLSN       = 3220
	oidTSVector    = 3614
	oidTSQuery     = 3615
	oidJSONB       = 3802
	oidInt4Range   = 3904
	oidNumRange    = 3906
	oidTsRange     = 3908
	oidTstzRange   = 3910
	oidDateRange   = 3912
	oidInt8Range   = 3926
	oidJSONPath    = 4072
)

// Debezium semantic type names.
const (
	nameVariableScaleDecimal = "io.debezium.data.VariableScaleDecimal"
	nameBits                 = "io.debezium.data.Bits"
	nameJSON                 = "io.debezium.data.Json"
	nameXML                  = "io.debezium.data.Xml"
	nameUUID                 = "io.debezium.data.Uuid"
	nameEnum                 = "io.debezium.data.Enum"
	namePoint                = "io.debezium.data.geometry.Point"
	nameDate                 = "io.debezium.time.Date"
	nameTime                 = "io.debezium.time.Time"
	nameMicroTime            = "io.debezium.time.MicroTime"
	nameTimestamp            = "io.debezium.time.Timestamp"
	nameMicroTimestamp       = "io.debezium.time.MicroTimestamp"
	nameZonedTimestamp       = "io.debezium.time.ZonedTimestamp"
	nameZonedTime            = "io.debezium.time.ZonedTime"
	nameMicroDuration        = "io.debezium.time.MicroDuration"
	nameInterval             = "io.debezium.time.Interval"
)

// typeOptions are the connector keys that change how types map.
type typeOptions struct {
	decimal       string // precise, double, string
	timePrecision string // adaptive, adaptive_time_microseconds, connect
	binary        string // bytes, base64, base64-url-safe, hex
	interval      string // numeric, string
	hstore        string // json, map
	unknown       bool   // include.unknown.datatypes
	moneyDigits   int
}

// pgType is what the catalog says about a type the mapping needs beyond its
// OID: user-defined enums, domains, extension types (hstore, citext, ltree)
// and array element types.
type pgType struct {
	oid      uint32
	name     string
	kind     byte // pg_type.typtype: b base, e enum, d domain, r range, c composite
	base     uint32
	elem     uint32 // element type of an array, 0 otherwise
	category byte   // pg_type.typcategory: A for arrays
	labels   []string
	// baseMod is the type modifier of a domain's base type.
	baseMod int32
}

// typeLookup resolves type OIDs the mapping does not know by number.
type typeLookup func(oid uint32) (*pgType, error)

// decoder turns a column's text value into its Connect value.
type decoder func(text []byte) (any, error)

// mapping is a column's Connect schema (without optionality) and decoder.
type mapping struct {
	schema *connect.Schema
	decode decoder
}

// errSkipColumn marks a column of a type Debezium would leave out
// (include.unknown.datatypes=false).
var errSkipColumn = fmt.Errorf("unknown data type")

// mapType maps a column type. Named (semantic) schemas carry version 1, as
// Debezium's and Kafka's schema builders set it.
func mapType(oid uint32, typmod int32, opt *typeOptions, lookup typeLookup) (mapping, error) {
	m, err := mapType0(oid, typmod, opt, lookup)
	if err == nil && m.schema.Name != "" && m.schema.Version == 0 {
		m.schema.Version = 1
	}
	return m, err
}

func mapType0(oid uint32, typmod int32, opt *typeOptions, lookup typeLookup) (mapping, error) {
	str := func(name string) mapping {
		return mapping{&connect.Schema{Type: connect.String, Name: name}, func(b []byte) (any, error) { return string(b), nil }}
	}
	switch oid {
	case oidBool:
		return mapping{&connect.Schema{Type: connect.Boolean}, decodeBool}, nil
	case oidInt2:
		return mapping{&connect.Schema{Type: connect.Int16}, decodeInt(16)}, nil
	case oidInt4:
		return mapping{&connect.Schema{Type: connect.Int32}, decodeInt(32)}, nil
	case oidInt8, oidOID, oidXID:
		return mapping{&connect.Schema{Type: connect.Int64}, decodeInt(64)}, nil
	case oidFloat4:
		return mapping{&connect.Schema{Type: connect.Float32}, decodeFloat(32)}, nil
	case oidFloat8:
		return mapping{&connect.Schema{Type: connect.Float64}, decodeFloat(64)}, nil
	case oidNumeric:
		precision, scale := -1, -1
		if typmod >= 4 {
			precision = int((typmod - 4) >> 16 & 0xffff)
			scale = int((typmod - 4) & 0xffff)
		}
		return mapNumeric(precision, scale, opt), nil
	case oidMoney:
		m := mapNumeric(-1, opt.moneyDigits, opt)
		inner := m.decode
		m.decode = func(b []byte) (any, error) { return inner([]byte(cleanMoney(string(b)))) }
		return m, nil
	case oidText, oidVarchar, oidBPChar, oidName, oidChar, oidInet, oidCIDR, oidMacaddr, oidMacaddr8,
		oidInt4Range, oidInt8Range, oidNumRange, oidTsRange, oidTstzRange, oidDateRange, oidPgLSN,
		oidTSVector, oidTSQuery, oidJSONPath:
		return str(""), nil
	case oidJSON, oidJSONB:
		return str(nameJSON), nil
	case oidXML:
		return str(nameXML), nil
	case oidUUID:
		return str(nameUUID), nil
	case oidBytea:
		return mapBinary(opt, decodeBytea), nil
	case oidBit, oidVarbit:
		n := int(typmod)
		if oid == oidBit && n == 1 {
			return mapping{&connect.Schema{Type: connect.Boolean}, func(b []byte) (any, error) { return string(b) == "1", nil }}, nil
		}
		if n < 0 {
			n = math.MaxInt32
		}
		return mapping{&connect.Schema{Type: connect.Bytes, Name: nameBits, Parameters: map[string]string{"length": strconv.Itoa(n)}}, decodeBits}, nil
	case oidDate:
		if opt.timePrecision == "connect" {
			return mapping{&connect.Schema{Type: connect.Int32, Name: connect.DateName}, func(b []byte) (any, error) {
				t, err := time.Parse("2006-01-02", string(b))
				return t, err
			}}, nil
		}
		return mapping{&connect.Schema{Type: connect.Int32, Name: nameDate}, decodeDate}, nil
	case oidTime:
		p := int(typmod)
		if p < 0 {
			p = 6
		}
		switch {
		case opt.timePrecision == "connect":
			return mapping{&connect.Schema{Type: connect.Int32, Name: connect.TimeName}, func(b []byte) (any, error) {
				us, err := parseTimeMicros(string(b))
				return time.UnixMicro(us - us%1000).UTC(), err
			}}, nil
		case opt.timePrecision == "adaptive" && p <= 3:
			return mapping{&connect.Schema{Type: connect.Int32, Name: nameTime}, func(b []byte) (any, error) {
				us, err := parseTimeMicros(string(b))
				return int32(us / 1000), err
			}}, nil
		default:
			return mapping{&connect.Schema{Type: connect.Int64, Name: nameMicroTime}, func(b []byte) (any, error) {
				return parseTimeMicros(string(b))
			}}, nil
		}
	case oidTimeTZ:
		return mapping{&connect.Schema{Type: connect.String, Name: nameZonedTime}, decodeTimeTZ}, nil
	case oidTimestamp:
		p := int(typmod)
		if p < 0 {
			p = 6
		}
		switch {
		case opt.timePrecision == "connect":
			return mapping{&connect.Schema{Type: connect.Int64, Name: connect.TimestampName}, func(b []byte) (any, error) {
				t, err := parseTimestamp(string(b), false)
				return t.Truncate(time.Millisecond), err
			}}, nil
		case p <= 3:
			return mapping{&connect.Schema{Type: connect.Int64, Name: nameTimestamp}, func(b []byte) (any, error) {
				t, err := parseTimestamp(string(b), false)
				return t.UnixMilli(), err
			}}, nil
		default:
			return mapping{&connect.Schema{Type: connect.Int64, Name: nameMicroTimestamp}, func(b []byte) (any, error) {
				t, err := parseTimestamp(string(b), false)
				return t.UnixMicro(), err
			}}, nil
		}
	case oidTimestampTZ:
		return mapping{&connect.Schema{Type: connect.String, Name: nameZonedTimestamp}, func(b []byte) (any, error) {
			if s, ok := fastUTCTimestamp(b); ok {
				return s, nil
			}
			t, err := parseTimestamp(string(b), true)
			if err != nil {
				return nil, err
			}
			return t.UTC().Format("2006-01-02T15:04:05.999999999Z"), nil
		}}, nil
	case oidInterval:
		if opt.interval == "string" {
			return mapping{&connect.Schema{Type: connect.String, Name: nameInterval}, func(b []byte) (any, error) {
				if _, err := parseInterval(string(b)); err != nil {
					return nil, err
				}
				return string(b), nil // IntervalStyle=iso_8601 prints P1Y2M3DT4H5M6.78S
			}}, nil
		}
		return mapping{&connect.Schema{Type: connect.Int64, Name: nameMicroDuration}, func(b []byte) (any, error) {
			return parseInterval(string(b))
		}}, nil
	case oidPoint:
		return mapping{pointSchema(), decodePoint}, nil
	}

	if lookup == nil {
		return mapping{}, fmt.Errorf("type oid %d: %w", oid, errSkipColumn)
	}
	t, err := lookup(oid)
	if err != nil {
		return mapping{}, err
	}
	switch {
	case t.kind == 'e':
		return mapping{&connect.Schema{Type: connect.String, Name: nameEnum, Parameters: map[string]string{"allowed": strings.Join(t.labels, ",")}},
			func(b []byte) (any, error) { return string(b), nil }}, nil
	case t.kind == 'd':
		return mapType(t.base, t.baseMod, opt, lookup)
	case t.kind == 'r':
		return str(""), nil
	case t.category == 'A' && t.elem != 0:
		em, err := mapType(t.elem, typmod, opt, lookup)
		if err != nil {
			return mapping{}, err
		}
		es := *em.schema
		es.Optional = true
		delim := byte(',')
		if t.elem == 603 { // box arrays use ';'
			delim = ';'
		}
		return mapping{&connect.Schema{Type: connect.Array, Value: &es}, func(b []byte) (any, error) {
			return decodeArray(string(b), delim, em.decode)
		}}, nil
	case t.name == "hstore":
		if opt.hstore == "map" {
			return mapping{&connect.Schema{Type: connect.Map, Key: &connect.Schema{Type: connect.String}, Value: &connect.Schema{Type: connect.String, Optional: true}},
				func(b []byte) (any, error) {
					m, err := parseHstore(string(b))
					if err != nil {
						return nil, err
					}
					out := make(map[string]any, len(m))
					for k, v := range m {
						if v == nil {
							out[k] = nil
						} else {
							out[k] = *v
						}
					}
					return out, nil
				}}, nil
		}
		return mapping{&connect.Schema{Type: connect.String, Name: nameJSON}, func(b []byte) (any, error) {
			m, err := parseHstore(string(b))
			if err != nil {
				return nil, err
			}
			j, err := json.Marshal(m)
			return string(j), err
		}}, nil
	case t.name == "citext" || t.name == "ltree" || t.name == "lquery" || t.name == "isbn" || t.name == "geometry" || t.name == "geography":
		return str(""), nil
	}
	if opt.unknown {
		return str(""), nil
	}
	return mapping{}, fmt.Errorf("type %s (oid %d): %w", t.name, oid, errSkipColumn)
}

func pointSchema() *connect.Schema {
	return &connect.Schema{Type: connect.Struct, Name: namePoint, Version: 1,
		Doc: "Geometry (POINT)",
		Fields: []connect.Field{
			{Name: "x", Schema: &connect.Schema{Type: connect.Float64}},
			{Name: "y", Schema: &connect.Schema{Type: connect.Float64}},
			{Name: "wkb", Schema: &connect.Schema{Type: connect.Bytes, Optional: true}},
			{Name: "srid", Schema: &connect.Schema{Type: connect.Int32, Optional: true}},
		}}
}

func variableScaleSchema() *connect.Schema {
	return &connect.Schema{Type: connect.Struct, Name: nameVariableScaleDecimal, Version: 1,
		Doc: "Variable scaled decimal",
		Fields: []connect.Field{
			{Name: "scale", Schema: &connect.Schema{Type: connect.Int32}},
			{Name: "value", Schema: &connect.Schema{Type: connect.Bytes}},
		}}
}

func mapNumeric(precision, scale int, opt *typeOptions) mapping {
	switch opt.decimal {
	case "double":
		return mapping{&connect.Schema{Type: connect.Float64}, func(b []byte) (any, error) {
			return strconv.ParseFloat(string(b), 64) // NaN and Infinity parse
		}}
	case "string":
		return mapping{&connect.Schema{Type: connect.String}, func(b []byte) (any, error) { return string(b), nil }}
	}
	if scale < 0 {
		return mapping{variableScaleSchema(), func(b []byte) (any, error) {
			d, err := types.ParseDec(string(b))
			if err != nil {
				return nil, nil // NaN and ±Infinity have no decimal form; Debezium emits null
			}
			s := variableScaleSchema()
			return &connect.StructValue{Schema: s, Values: []any{int32(d.Scale), twosComplement(d.Unscaled)}}, nil
		}}
	}
	params := map[string]string{"scale": strconv.Itoa(scale)}
	if precision > 0 {
		params["connect.decimal.precision"] = strconv.Itoa(precision)
	}
	return mapping{&connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: 1, Parameters: params}, func(b []byte) (any, error) {
		if d, ok := smallDec(b, scale); ok {
			return d, nil
		}
		d, err := types.ParseDec(string(b))
		if err != nil {
			return nil, nil // NaN, ±Infinity
		}
		r, ok := d.Rescale(scale)
		if !ok {
			return nil, fmt.Errorf("numeric %s does not fit scale %d", b, scale)
		}
		return r, nil
	}}
}

// smallDec reads the usual numeric text, [-]digits[.digits] with at most 18
// digits and exactly scale decimals (PostgreSQL prints a numeric(p,s)
// value with s decimals), without the general parser's allocations.
func smallDec(b []byte, scale int) (types.Dec, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n int64
	digits, dot := 0, -1
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int64(c-'0')
			digits++
		case c == '.' && dot < 0:
			dot = i
		default:
			return types.Dec{}, false
		}
	}
	decimals := 0
	if dot >= 0 {
		decimals = len(b) - dot - 1
	}
	if digits == 0 || digits > 18 || decimals != scale {
		return types.Dec{}, false
	}
	if neg {
		n = -n
	}
	return types.Dec{Unscaled: big.NewInt(n), Scale: scale}, true
}

// twosComplement is the big-endian two's complement form Java's
// BigInteger.toByteArray gives (the form Connect's Decimal carries).
func twosComplement(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -n - 1, inverted.
	m := new(big.Int).Neg(n)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

func cleanMoney(s string) string {
	neg := strings.HasPrefix(s, "-") || strings.HasPrefix(s, "(")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for _, r := range s {
		if (r >= '0' && r <= '9') || r == '.' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func mapBinary(opt *typeOptions, dec decoder) mapping {
	enc := func(f func([]byte) string) mapping {
		return mapping{&connect.Schema{Type: connect.String}, func(b []byte) (any, error) {
			raw, err := dec(b)
			if err != nil {
				return nil, err
			}
			return f(raw.([]byte)), nil
		}}
	}
	switch opt.binary {
	case "base64":
		return enc(base64.StdEncoding.EncodeToString)
	case "base64-url-safe":
		return enc(base64.URLEncoding.EncodeToString)
	case "hex":
		return enc(hex.EncodeToString)
	}
	return mapping{&connect.Schema{Type: connect.Bytes}, dec}
}

func decodeBool(b []byte) (any, error) {
	switch string(b) {
	case "t", "true":
		return true, nil
	case "f", "false":
		return false, nil
	}
	return nil, fmt.Errorf("invalid boolean %q", b)
}

func decodeInt(bits int) decoder {
	return func(b []byte) (any, error) {
		n, err := strconv.ParseInt(string(b), 10, bits)
		if err != nil {
			return nil, err
		}
		switch bits {
		case 16:
			return int16(n), nil
		case 32:
			return int32(n), nil
		}
		return n, nil
	}
}

func decodeFloat(bits int) decoder {
	return func(b []byte) (any, error) {
		f, err := strconv.ParseFloat(string(b), bits)
		if err != nil {
			return nil, err
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	}
}

func decodeBytea(b []byte) (any, error) {
	s := string(b)
	if !strings.HasPrefix(s, `\x`) {
		return nil, fmt.Errorf("bytea not in hex output format: %.20q", s)
	}
	return hex.DecodeString(s[2:])
}

// decodeBits packs a bit string as Debezium does (java.util.BitSet's
// toByteArray): bit i of the value, counted from the right, is bit i%8 of
// byte i/8.
func decodeBits(b []byte) (any, error) {
	n := len(b)
	out := make([]byte, (n+7)/8)
	for i := 0; i < n; i++ {
		c := b[n-1-i]
		switch c {
		case '1':
			out[i/8] |= 1 << (i % 8)
		case '0':
		default:
			return nil, fmt.Errorf("invalid bit string %q", b)
		}
	}
	// BitSet.toByteArray drops trailing zero bytes.
	for len(out) > 0 && out[len(out)-1] == 0 {
		out = out[:len(out)-1]
	}
	return out, nil
}

var epochDay = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

func decodeDate(b []byte) (any, error) {
	s := string(b)
	switch s {
	case "infinity":
		return int32(math.MaxInt32), nil
	case "-infinity":
		return int32(math.MinInt32), nil
	}
	t, err := parseDate(s)
	if err != nil {
		return nil, err
	}
	return int32(t.Sub(epochDay).Hours() / 24), nil
}

func parseDate(s string) (time.Time, error) {
	bc := strings.HasSuffix(s, " BC")
	s = strings.TrimSuffix(s, " BC")
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, fmt.Errorf("invalid date %q", s)
	}
	if bc { // 1 BC is year 0 in ISO-8601
		t = t.AddDate(-2*t.Year()+1, 0, 0)
	}
	return t, nil
}

// parseTimeMicros reads HH:MM:SS[.ffffff] (24:00:00 allowed) as µs since midnight.
func parseTimeMicros(s string) (int64, error) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	h, err1 := strconv.Atoi(s[0:2])
	m, err2 := strconv.Atoi(s[3:5])
	sec, err3 := strconv.Atoi(s[6:8])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	us := int64(h*3600+m*60+sec) * 1e6
	if len(s) > 8 {
		if s[8] != '.' {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		frac := s[9:]
		if len(frac) > 6 {
			frac = frac[:6]
		}
		f, err := strconv.Atoi(frac + strings.Repeat("0", 6-len(frac)))
		if err != nil {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		us += int64(f)
	}
	return us, nil
}

// decodeTimeTZ prints a TIMETZ in UTC, as Debezium's ZonedTime does.
func decodeTimeTZ(b []byte) (any, error) {
	s := string(b)
	i := strings.LastIndexAny(s, "+-")
	if i < 8 {
		return nil, fmt.Errorf("invalid timetz %q", s)
	}
	us, err := parseTimeMicros(s[:i])
	if err != nil {
		return nil, err
	}
	off, err := parseOffset(s[i:])
	if err != nil {
		return nil, fmt.Errorf("invalid timetz %q", s)
	}
	us -= int64(off) * 1e6
	day := int64(24 * 3600 * 1e6)
	us = ((us % day) + day) % day
	t := time.UnixMicro(us).UTC()
	return t.Format("15:04:05.999999999Z"), nil
}

// parseOffset reads +HH, +HH:MM or +HH:MM:SS as seconds east of UTC.
func parseOffset(s string) (int, error) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	parts := strings.Split(s[1:], ":")
	secs := 0
	mult := []int{3600, 60, 1}
	for i, p := range parts {
		if i > 2 {
			return 0, fmt.Errorf("bad offset")
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, err
		}
		secs += n * mult[i]
	}
	return sign * secs, nil
}

// parseTimestamp reads "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]][ BC]".
func parseTimestamp(s string, zoned bool) (time.Time, error) {
	switch s {
	case "infinity":
		return time.Date(294277, 1, 1, 0, 0, 0, 0, time.UTC), nil
	case "-infinity":
		return time.Date(-4713, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	bc := strings.HasSuffix(s, " BC")
	s = strings.TrimSuffix(s, " BC")
	if bc {
		sp := strings.IndexByte(s, ' ')
		if sp > 0 {
			s = s[:sp] + " BC" + s[sp:] // parseDate reads the era with the date
		}
	}
	sp := strings.IndexByte(s, ' ')
	if bc {
		sp += 3
	}
	if sp < 0 {
		return time.Time{}, fmt.Errorf("invalid timestamp %q", s)
	}
	d, err := parseDate(s[:sp])
	if err != nil {
		return time.Time{}, err
	}
	rest := s[sp+1:]
	off := 0
	if zoned {
		i := strings.LastIndexAny(rest, "+-")
		if i < 8 {
			return time.Time{}, fmt.Errorf("invalid timestamptz %q", s)
		}
		if off, err = parseOffset(rest[i:]); err != nil {
			return time.Time{}, fmt.Errorf("invalid timestamptz %q", s)
		}
		rest = rest[:i]
	}
	us, err := parseTimeMicros(rest)
	if err != nil {
		return time.Time{}, err
	}
	return d.Add(time.Duration(us)*time.Microsecond - time.Duration(off)*time.Second), nil
}

// daysPerMonth is Debezium's average month for MicroDuration (365.25 / 12).
const daysPerMonth = 365.25 / 12

// parseInterval reads an ISO-8601 interval as PostgreSQL prints it with
// IntervalStyle=iso_8601 (P1Y2M3DT4H5M6.78S, each part may be negative) and
// returns its length in µs with Debezium's average month.
func parseInterval(s string) (int64, error) {
	if !strings.HasPrefix(s, "P") {
		return 0, fmt.Errorf("invalid interval %q (expected IntervalStyle iso_8601)", s)
	}
	var years, months, days, hours, mins, secs float64
	inTime := false
	num := ""
	for _, c := range s[1:] {
		switch {
		case c == 'T':
			inTime = true
		case c == '-' || c == '.' || (c >= '0' && c <= '9'):
			num += string(c)
		default:
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid interval %q", s)
			}
			num = ""
			switch {
			case c == 'Y':
				years = f
			case c == 'M' && !inTime:
				months = f
			case c == 'W':
				days += 7 * f
			case c == 'D':
				days += f
			case c == 'H':
				hours = f
			case c == 'M':
				mins = f
			case c == 'S':
				secs = f
			default:
				return 0, fmt.Errorf("invalid interval %q", s)
			}
		}
	}
	if num != "" {
		return 0, fmt.Errorf("invalid interval %q", s)
	}
	d := (years*12+months)*daysPerMonth + days
	us := d*24*3600*1e6 + (hours*3600+mins*60)*1e6 + math.Round(secs*1e6)
	return int64(math.Round(us)), nil
}

func decodePoint(b []byte) (any, error) {
	s := strings.TrimSpace(string(b))
	if len(s) < 5 || s[0] != '(' || s[len(s)-1] != ')' {
		return nil, fmt.Errorf("invalid point %q", s)
	}
	xs, ys, ok := strings.Cut(s[1:len(s)-1], ",")
	if !ok {
		return nil, fmt.Errorf("invalid point %q", s)
	}
	x, err1 := strconv.ParseFloat(xs, 64)
	y, err2 := strconv.ParseFloat(ys, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("invalid point %q", s)
	}
	// WKB of a 2D point, little-endian, as Debezium writes it.
	wkb := make([]byte, 21)
	wkb[0] = 1
	binary.LittleEndian.PutUint32(wkb[1:], 1)
	binary.LittleEndian.PutUint64(wkb[5:], math.Float64bits(x))
	binary.LittleEndian.PutUint64(wkb[13:], math.Float64bits(y))
	return &connect.StructValue{Schema: pointSchema(), Values: []any{x, y, wkb, nil}}, nil
}

// decodeArray reads a one-dimensional array literal ({1,2,NULL}, {"a b",c}).
// Nested arrays become nested []any.
func decodeArray(s string, delim byte, elem decoder) (any, error) {
	if i := strings.Index(s, "="); i >= 0 && strings.HasPrefix(s, "[") {
		s = s[i+1:] // explicit bounds: [0:1]={...}
	}
	p := &arrayParser{s: s, delim: delim, elem: elem}
	v, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("invalid array %.40q: %w", s, err)
	}
	return v, nil
}

type arrayParser struct {
	s     string
	i     int
	delim byte
	elem  decoder
}

func (p *arrayParser) parse() ([]any, error) {
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return nil, fmt.Errorf("expected '{' at %d", p.i)
	}
	p.i++
	out := []any{}
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return out, nil
	}
	for {
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("unterminated array")
		}
		switch p.s[p.i] {
		case '{':
			sub, err := p.parse()
			if err != nil {
				return nil, err
			}
			out = append(out, sub)
		case '"':
			p.i++
			var b strings.Builder
			for p.i < len(p.s) && p.s[p.i] != '"' {
				if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
					p.i++
				}
				b.WriteByte(p.s[p.i])
				p.i++
			}
			p.i++
			v, err := p.elem([]byte(b.String()))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		default:
			start := p.i
			for p.i < len(p.s) && p.s[p.i] != p.delim && p.s[p.i] != '}' {
				p.i++
			}
			tok := p.s[start:p.i]
			if tok == "NULL" {
				out = append(out, nil)
			} else {
				v, err := p.elem([]byte(tok))
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
		}
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("unterminated array")
		}
		if p.s[p.i] == '}' {
			p.i++
			return out, nil
		}
		if p.s[p.i] != p.delim {
			return nil, fmt.Errorf("unexpected %q at %d", p.s[p.i], p.i)
		}
		p.i++
	}
}

// parseHstore reads hstore's text output: "k"=>"v", "k2"=>NULL.
func parseHstore(s string) (map[string]*string, error) {
	out := map[string]*string{}
	i := 0
	readQuoted := func() (string, error) {
		if i >= len(s) || s[i] != '"' {
			return "", fmt.Errorf("invalid hstore %.40q", s)
		}
		i++
		var b strings.Builder
		for i < len(s) && s[i] != '"' {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
			i++
		}
		if i >= len(s) {
			return "", fmt.Errorf("invalid hstore %.40q", s)
		}
		i++
		return b.String(), nil
	}
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		k, err := readQuoted()
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(s[i:], "=>") {
			return nil, fmt.Errorf("invalid hstore %.40q", s)
		}
		i += 2
		if strings.HasPrefix(s[i:], "NULL") {
			i += 4
			out[k] = nil
			continue
		}
		v, err := readQuoted()
		if err != nil {
			return nil, err
		}
		out[k] = &v
	}
}

// fastUTCTimestamp rewrites the common form of a TIMESTAMPTZ printed in the
// UTC session ("2024-06-01 10:00:00.5+00") to Debezium's ISO form
// ("2024-06-01T10:00:00.5Z") without parsing: PostgreSQL already drops
// trailing zeros of the fraction, as Java's ISO formatter does.
func fastUTCTimestamp(b []byte) (string, bool) {
	n := len(b)
	if n < 22 || b[4] != '-' || b[10] != ' ' || b[n-3] != '+' || b[n-2] != '0' || b[n-1] != '0' || b[0] == '-' {
		return "", false
	}
	out := make([]byte, n-2)
	copy(out, b[:n-3])
	out[10] = 'T'
	out[n-3] = 'Z'
	return string(out), true
}

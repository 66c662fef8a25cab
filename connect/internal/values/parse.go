// Package values reads and writes Connect values as text the way Kafka's
// org.apache.kafka.connect.data.Values does, for InsertHeader's literals
// and the SimpleHeaderConverter.
package values

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// ParseString infers the type of a text value as Kafka's Values.parseString
// does for scalars: null, booleans, the smallest integer type that holds the
// number, float32 (float64 beyond float32's range), the ISO forms of Date,
// Time and Timestamp, and otherwise a string. [arrays] and {maps} written as
// JSON read as schemaless []any and map[string]any (Kafka infers a schema
// for them when their elements agree).
func ParseString(s string) (*connect.Schema, any) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return &connect.Schema{Type: connect.String}, s
	case strings.EqualFold(t, "null"):
		return nil, nil
	case strings.EqualFold(t, "true"), strings.EqualFold(t, "false"):
		return &connect.Schema{Type: connect.Boolean}, strings.EqualFold(t, "true")
	case t[0] == '[' || t[0] == '{':
		if v, ok := parseComposite(t); ok {
			return nil, v
		}
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		switch {
		case n >= math.MinInt8 && n <= math.MaxInt8:
			return &connect.Schema{Type: connect.Int8}, int8(n)
		case n >= math.MinInt16 && n <= math.MaxInt16:
			return &connect.Schema{Type: connect.Int16}, int16(n)
		case n >= math.MinInt32 && n <= math.MaxInt32:
			return &connect.Schema{Type: connect.Int32}, int32(n)
		}
		return &connect.Schema{Type: connect.Int64}, n
	}
	if looksNumeric(t) {
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			if f32 := float32(f); !math.IsInf(float64(f32), 0) {
				return &connect.Schema{Type: connect.Float32}, f32
			}
			return &connect.Schema{Type: connect.Float64}, f
		}
	}
	for _, l := range []struct {
		layout string
		schema *connect.Schema
	}{
		{"2006-01-02T15:04:05.000Z", &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: 1}},
		{"2006-01-02", &connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: 1}},
		{"15:04:05.000Z", &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: 1}},
	} {
		if tm, err := time.Parse(l.layout, t); err == nil {
			return l.schema, tm.UTC()
		}
	}
	return &connect.Schema{Type: connect.String}, s
}

// looksNumeric excludes "NaN", "Infinity" and hex forms that ParseFloat
// would accept but Java's BigDecimal does not.
func looksNumeric(s string) bool {
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E':
		case (c == '-' || c == '+') && (i == 0 || s[i-1] == 'e' || s[i-1] == 'E'):
		default:
			return false
		}
	}
	return true
}

// parseComposite reads a JSON array or object, numbers as int64 when
// integral and float64 otherwise.
func parseComposite(s string) (any, bool) {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil || d.More() {
		return nil, false
	}
	return numbers(v), true
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = numbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = numbers(x[k])
		}
	}
	return v
}

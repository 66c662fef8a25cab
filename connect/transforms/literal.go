package transforms

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// parseLiteral infers the type of a configured literal as Kafka's
// Values.parseString does for scalars: null, booleans, the smallest integer
// type that holds the number, float32 (float64 beyond float32's range), the
// ISO forms of Date, Time and Timestamp, and otherwise a string. Kafka also
// parses [arrays] and {maps}; here those stay strings.
func parseLiteral(s string) (*connect.Schema, any) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return &connect.Schema{Type: connect.String}, s
	case strings.EqualFold(t, "null"):
		return nil, nil
	case strings.EqualFold(t, "true"), strings.EqualFold(t, "false"):
		return &connect.Schema{Type: connect.Boolean}, strings.EqualFold(t, "true")
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

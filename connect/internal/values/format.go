package values

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/javafmt"
	"github.com/sluicedata/sluice/sql/types"
)

const dayMillis = 24 * 60 * 60 * 1000

// ToString writes v as Kafka's Values.convertToString does: scalars as
// their text (strings unquoted at the top level), bytes as base64, times
// in ISO form (by the schema's logical type, else by the value as Kafka
// guesses), and arrays, maps and structs as JSON-like text with quoted
// strings. nil is "null".
func ToString(s *connect.Schema, v any) (string, error) {
	var b strings.Builder
	if err := write(&b, s, v, false); err != nil {
		return "", err
	}
	return b.String(), nil
}

func write(b *strings.Builder, s *connect.Schema, v any, embedded bool) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		if embedded {
			b.WriteString(strconv.Quote(x))
		} else {
			b.WriteString(x)
		}
	case []byte:
		enc := base64.StdEncoding.EncodeToString(x)
		if embedded {
			enc = `"` + enc + `"`
		}
		b.WriteString(enc)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float32:
		b.WriteString(javafmt.Double(float64(x), 32))
	case float64:
		b.WriteString(javafmt.Double(x, 64))
	case types.Dec:
		b.WriteString(x.String())
	case time.Time:
		b.WriteString(isoText(s, x))
	case []any:
		var elem *connect.Schema
		if s != nil {
			elem = s.Value
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := write(b, elem, e, true); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var vs *connect.Schema
		if s != nil {
			vs = s.Value
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k) + ":")
			if err := write(b, vs, x[k], true); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case map[any]any:
		keys := make([]any, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		var ks, vs *connect.Schema
		if s != nil {
			ks, vs = s.Key, s.Value
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := write(b, ks, k, true); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := write(b, vs, x[k], true); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case *connect.StructValue:
		b.WriteByte('{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(f.Name) + ":")
			if err := write(b, f.Schema, x.Values[i], true); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		switch n := v.(type) {
		case int8:
			b.WriteString(strconv.FormatInt(int64(n), 10))
		case int16:
			b.WriteString(strconv.FormatInt(int64(n), 10))
		case int32:
			b.WriteString(strconv.FormatInt(int64(n), 10))
		case int64:
			b.WriteString(strconv.FormatInt(n, 10))
		case int:
			b.WriteString(strconv.Itoa(n))
		default:
			return fmt.Errorf("cannot write %T as text", v)
		}
	}
	return nil
}

// isoText formats a time as Kafka's Values.dateFormatFor picks.
func isoText(s *connect.Schema, t time.Time) string {
	t = t.UTC()
	name := ""
	if s != nil {
		name = s.Name
	}
	ms := t.UnixMilli()
	switch {
	case name == connect.DateName || name == "" && ms%dayMillis == 0:
		return t.Format("2006-01-02")
	case name == connect.TimeName || name == "" && ms >= 0 && ms < dayMillis:
		return t.Format("15:04:05.000Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

package serde

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicedata/sluice/sql/types"
)

// Delimited is ksqlDB's DELIMITED format: one line of delimiter-separated
// fields (CSV by default), one per column, for rows of primitive columns.
// Fields holding the delimiter, a double quote, CR or LF are quoted with
// double quotes (a quote inside doubled). NULL is an empty unquoted field and
// the empty string is "" (quoted), so both survive a round trip. BYTES are
// base64, DECIMAL plain text with its scale, DATE days since the epoch, TIME
// and TIMESTAMP milliseconds, DOUBLE in Go's shortest form (NaN, +Inf, -Inf).
type Delimited struct {
	// Delimiter separates fields; 0 means ','. ksqlDB's names TAB and
	// SPACE are the runes '\t' and ' '.
	Delimiter rune
}

// Name is "DELIMITED".
func (Delimited) Name() string { return "DELIMITED" }

type delimitedCodec struct {
	outer  types.Type
	fields []types.Type
	w      wrapper
	delim  rune
}

func (f Delimited) codec(t types.Type) (*delimitedCodec, error) {
	c := &delimitedCodec{outer: t, delim: f.Delimiter}
	if c.delim == 0 {
		c.delim = ','
	}
	if c.delim == '"' || c.delim == '\n' || c.delim == '\r' || !utf8.ValidRune(c.delim) {
		return nil, fmt.Errorf("DELIMITED: invalid delimiter %q", c.delim)
	}
	if t.Kind == types.Struct {
		for _, f := range t.Fields {
			c.fields = append(c.fields, f.Type)
		}
	} else {
		c.fields = []types.Type{t}
		c.w = wrapper{} // bare primitive
	}
	for _, ft := range c.fields {
		if !ft.Kind.Primitive() {
			return nil, fmt.Errorf("DELIMITED format does not support %s: only primitive columns", ft)
		}
	}
	return c, nil
}

// Serializer implements Format.
func (f Delimited) Serializer(t types.Type, _ bool) (Serializer, error) { return f.codec(t) }

// Deserializer implements Format.
func (f Delimited) Deserializer(t types.Type, _ bool) (Deserializer, error) { return f.codec(t) }

func (c *delimitedCodec) Serialize(_ context.Context, _ string, v types.Value) ([]byte, error) {
	if err := check(c.outer, v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	vals := []types.Value{v}
	if s, ok := v.(types.StructVal); ok {
		vals = vals[:0]
		for _, f := range s {
			vals = append(vals, f.Value)
		}
	}
	var b strings.Builder
	for i, x := range vals {
		if i > 0 {
			b.WriteRune(c.delim)
		}
		if x == nil {
			continue
		}
		s := delimitedText(x)
		if s == "" || strings.ContainsRune(s, c.delim) || strings.ContainsAny(s, "\"\r\n") {
			s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
		b.WriteString(s)
	}
	return []byte(b.String()), nil
}

func delimitedText(v types.Value) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case types.Dec:
		return x.String()
	case string:
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case types.DateVal:
		return strconv.FormatInt(int64(x), 10)
	case types.TimeVal:
		return strconv.FormatInt(int64(x), 10)
	case types.TimestampVal:
		return strconv.FormatInt(int64(x), 10)
	}
	panic(fmt.Sprintf("serde: unexpected %T", v))
}

// splitDelimited splits one line into fields; quoted reports which fields
// were quoted.
func splitDelimited(s string, delim rune) (fields []string, quoted []bool, err error) {
	for {
		var f strings.Builder
		q := false
		if strings.HasPrefix(s, `"`) {
			q = true
			s = s[1:]
			for {
				i := strings.IndexByte(s, '"')
				if i < 0 {
					return nil, nil, fmt.Errorf("DELIMITED: unterminated quoted field")
				}
				f.WriteString(s[:i])
				s = s[i+1:]
				if strings.HasPrefix(s, `"`) {
					f.WriteByte('"')
					s = s[1:]
					continue
				}
				break
			}
			if s != "" {
				r, n := utf8.DecodeRuneInString(s)
				if r != delim {
					return nil, nil, fmt.Errorf("DELIMITED: unexpected %q after a quoted field", r)
				}
				fields, quoted = append(fields, f.String()), append(quoted, q)
				s = s[n:]
				continue
			}
			return append(fields, f.String()), append(quoted, q), nil
		}
		i := strings.IndexRune(s, delim)
		if i < 0 {
			return append(fields, s), append(quoted, false), nil
		}
		fields, quoted = append(fields, s[:i]), append(quoted, false)
		s = s[i+utf8.RuneLen(delim):]
	}
}

func (c *delimitedCodec) Deserialize(_ context.Context, _ string, b []byte) (types.Value, error) {
	if b == nil {
		return nil, nil
	}
	line := strings.TrimRight(string(b), "\r\n")
	fields, quoted, err := splitDelimited(line, c.delim)
	if err != nil {
		return nil, err
	}
	if len(fields) != len(c.fields) {
		return nil, fmt.Errorf("DELIMITED: %d fields, expected %d", len(fields), len(c.fields))
	}
	vals := make([]types.Value, len(fields))
	for i, s := range fields {
		if s == "" && !quoted[i] {
			continue
		}
		v, err := parseDelimited(c.fields[i], s)
		if err != nil {
			return nil, fmt.Errorf("DELIMITED field %d: %w", i+1, err)
		}
		vals[i] = v
	}
	if c.outer.Kind != types.Struct {
		return vals[0], nil
	}
	out := make(types.StructVal, len(vals))
	for i, f := range c.outer.Fields {
		out[i] = types.FieldValue{Name: f.Name, Value: vals[i]}
	}
	return out, nil
}

func parseDelimited(t types.Type, s string) (types.Value, error) {
	bad := func(err error) error { return fmt.Errorf("cannot read %q as %s: %v", s, t, err) }
	switch t.Kind {
	case types.Boolean:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, bad(err)
		}
		return b, nil
	case types.Int, types.Date, types.Time:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, bad(err)
		}
		switch t.Kind {
		case types.Date:
			return types.DateVal(n), nil
		case types.Time:
			if n < 0 || n >= types.MillisPerDay {
				return nil, bad(fmt.Errorf("outside a day"))
			}
			return types.TimeVal(n), nil
		}
		return int32(n), nil
	case types.Bigint, types.Timestamp:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bad(err)
		}
		if t.Kind == types.Timestamp {
			return types.TimestampVal(n), nil
		}
		return n, nil
	case types.Double:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, bad(err)
		}
		return f, nil
	case types.Decimal:
		d, err := types.ParseDec(s)
		if err != nil {
			return nil, bad(err)
		}
		return fitDecimal(t, d, "DELIMITED")
	case types.String:
		return s, nil
	case types.Bytes:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, bad(err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

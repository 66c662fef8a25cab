package transforms

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// TimestampConverter converts timestamps between Unix epoch numbers,
// formatted strings and Connect's Date, Time and Timestamp types, for the
// whole key/value or one field of it.
type TimestampConverter struct {
	side        side
	field       string
	target      string
	layout      string
	hasFormat   bool
	precision   string
	replaceNull bool
	cache       schemaCache
}

const (
	tsString    = "string"
	tsUnix      = "unix"
	tsDate      = "Date"
	tsTime      = "Time"
	tsTimestamp = "Timestamp"
)

var timestampConverterFields = []connect.FieldSpec{
	{Name: "target.type", Type: connect.TypeString, Required: true, Importance: "HIGH",
		Recommended: []string{tsString, tsUnix, tsDate, tsTime, tsTimestamp},
		Doc:         "The desired timestamp representation: string, unix, Date, Time, or Timestamp."},
	{Name: "field", Type: connect.TypeString, Importance: "HIGH",
		Doc: "The field containing the timestamp, or empty if the entire value is a timestamp."},
	{Name: "format", Type: connect.TypeString, Importance: "MEDIUM",
		Doc:      "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.",
		Validate: func(v string) error { _, err := javaLayout(v); return err }},
	{Name: "unix.precision", Type: connect.TypeString, Default: "milliseconds", Importance: "LOW",
		Recommended: []string{"nanoseconds", "microseconds", "milliseconds", "seconds"},
		Doc:         "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "TimestampConverter", "Convert timestamps between different formats such as Unix epoch, strings, and Connect Date/Timestamp types. "+
		"Applies to individual fields or to the entire value.",
		timestampConverterFields, func(key bool) connect.Transform { return &TimestampConverter{side: side(key)} })
}

// Configure reads the target type, format and precision.
func (t *TimestampConverter) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: timestampConverterFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	for _, tt := range []string{tsString, tsUnix, tsDate, tsTime, tsTimestamp} {
		if strings.EqualFold(cfg["target.type"], tt) {
			t.target = tt
		}
	}
	t.field = cfg["field"]
	if f := cfg["format"]; f != "" {
		t.layout, _ = javaLayout(f)
		t.hasFormat = true
	}
	if t.target == tsString && !t.hasFormat {
		return connect.FieldError{Field: "format", Message: "TimestampConverter requires format option to be specified when using string timestamps"}
	}
	t.precision = strings.ToLower(cfg.String(s, "unix.precision"))
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

// Apply converts the timestamp.
func (t *TimestampConverter) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if t.field == "" {
		if schema == nil {
			if v == nil {
				return r, nil
			}
			out, err := t.convert(inferTimestampType(v), v)
			if err != nil {
				return nil, err
			}
			return t.side.with(r, nil, out), nil
		}
		in, err := schemaTimestampType(schema)
		if err != nil {
			return nil, err
		}
		var out any
		if v != nil {
			if out, err = t.convert(in, v); err != nil {
				return nil, err
			}
		}
		return t.side.with(r, t.targetSchema(schema.Optional), out), nil
	}
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := requireMap(v, "converting timestamp formats")
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		if x := m[t.field]; x != nil {
			if out[t.field], err = t.convert(inferTimestampType(x), x); err != nil {
				return nil, fmt.Errorf("TimestampConverter field %q: %w", t.field, err)
			}
		}
		return t.side.with(r, nil, out), nil
	}
	sv, err := requireStruct(schema, v, "converting timestamp formats")
	if err != nil {
		return nil, err
	}
	f, fi, ok := schema.Field(t.field)
	if !ok {
		return nil, fmt.Errorf("TimestampConverter: field %q does not exist in the %s schema", t.field, t.side)
	}
	in, err := schemaTimestampType(f.Schema)
	if err != nil {
		return nil, fmt.Errorf("TimestampConverter field %q: %w", t.field, err)
	}
	ns, _ := t.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		ns := copyBasics(s, connect.Struct)
		for _, g := range s.Fields {
			if g.Name == t.field {
				g = connect.Field{Name: g.Name, Schema: t.targetSchema(g.Schema.Optional)}
			}
			ns.Fields = append(ns.Fields, g)
		}
		return ns, nil
	})
	out := connect.NewStruct(ns)
	for i := range schema.Fields {
		x := fieldValue(sv, i, t.replaceNull)
		if i == fi && x != nil {
			if x, err = t.convert(in, x); err != nil {
				return nil, fmt.Errorf("TimestampConverter field %q: %w", t.field, err)
			}
		}
		out.Values[i] = x
	}
	return t.side.with(r, ns, out), nil
}

func (t *TimestampConverter) targetSchema(opt bool) *connect.Schema {
	switch t.target {
	case tsString:
		return &connect.Schema{Type: connect.String, Optional: opt}
	case tsUnix:
		return &connect.Schema{Type: connect.Int64, Optional: opt}
	case tsDate:
		return &connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: 1, Optional: opt}
	case tsTime:
		return &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: 1, Optional: opt}
	}
	return &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: 1, Optional: opt}
}

func schemaTimestampType(s *connect.Schema) (string, error) {
	switch {
	case s.Name == connect.TimestampName:
		return tsTimestamp, nil
	case s.Name == connect.DateName:
		return tsDate, nil
	case s.Name == connect.TimeName:
		return tsTime, nil
	case s.Type == connect.String:
		return tsString, nil
	case s.Type == connect.Int64:
		return tsUnix, nil
	}
	return "", fmt.Errorf("schema %s (%s) is not a supported timestamp type (string, int64, Date, Time, Timestamp)", s.Type, s.Name)
}

func inferTimestampType(v any) string {
	switch v.(type) {
	case time.Time:
		return tsTimestamp
	case string:
		return tsString
	}
	return tsUnix
}

// convert reads v of type in as an instant and writes it as the target.
func (t *TimestampConverter) convert(in string, v any) (any, error) {
	var ts time.Time
	switch in {
	case tsString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a string timestamp, got %T", v)
		}
		if !t.hasFormat {
			return nil, fmt.Errorf("TimestampConverter requires format option to be specified when using string timestamps")
		}
		var err error
		if ts, err = javaParse(t.layout, s); err != nil {
			return nil, fmt.Errorf("could not parse timestamp %q with the configured format: %v", s, err)
		}
	case tsUnix:
		n, ok := connect.AsInt64(v)
		if !ok {
			return nil, fmt.Errorf("expected a unix timestamp (integer), got %T", v)
		}
		switch t.precision {
		case "seconds":
			ts = time.Unix(n, 0)
		case "microseconds":
			ts = time.UnixMicro(n)
		case "nanoseconds":
			ts = time.Unix(0, n)
		default:
			ts = time.UnixMilli(n)
		}
	default:
		x, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("expected a time.Time for %s, got %T", in, v)
		}
		ts = x
	}
	ts = ts.UTC()
	switch t.target {
	case tsString:
		return javaFormat(t.layout, ts), nil
	case tsUnix:
		switch t.precision {
		case "seconds":
			return ts.Unix(), nil
		case "microseconds":
			return ts.UnixMicro(), nil
		case "nanoseconds":
			return ts.UnixNano(), nil
		}
		return ts.UnixMilli(), nil
	case tsDate:
		return time.Date(ts.Year(), ts.Month(), ts.Day(), 0, 0, 0, 0, time.UTC), nil
	case tsTime:
		return time.Date(1970, 1, 1, ts.Hour(), ts.Minute(), ts.Second(), ts.Nanosecond()/1e6*1e6, time.UTC), nil
	}
	return ts.Truncate(time.Millisecond), nil
}

// TimestampRouter renames the topic with the record's timestamp, for sinks
// that write to time-bucketed tables or indexes.
type TimestampRouter struct {
	format string
	layout string
}

var timestampRouterFields = []connect.FieldSpec{
	{Name: "topic.format", Type: connect.TypeString, Default: "${topic}-${timestamp}", Importance: "HIGH",
		Doc: "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively."},
	{Name: "timestamp.format", Type: connect.TypeString, Default: "yyyyMMdd", Importance: "HIGH",
		Doc:      "Format string for the timestamp that is compatible with java.text.SimpleDateFormat.",
		Validate: func(v string) error { _, err := javaLayout(v); return err }},
}

func init() {
	registerOne(kafkaPkg+"TimestampRouter", "TimestampRouter", "Update the record's topic field as a function of the original topic value and the record timestamp. "+
		"This is mainly useful for sink connectors, since the topic field is often used to determine the equivalent entity name in the destination system (e.g. database table or search index name).",
		timestampRouterFields, func() connect.Transform { return &TimestampRouter{} })
}

// Configure reads the formats.
func (t *TimestampRouter) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: timestampRouterFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.format = cfg.String(s, "topic.format")
	t.layout, _ = javaLayout(cfg.String(s, "timestamp.format"))
	return nil
}

// Apply renames the topic.
func (t *TimestampRouter) Apply(r *connect.Record) (*connect.Record, error) {
	if r.Timestamp.IsZero() {
		return nil, fmt.Errorf("TimestampRouter: timestamp missing on record (topic %q)", r.Topic)
	}
	c := r.Clone()
	c.Topic = strings.ReplaceAll(strings.ReplaceAll(t.format, "${topic}", r.Topic), "${timestamp}", javaFormat(t.layout, r.Timestamp))
	return c, nil
}

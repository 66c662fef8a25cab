package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/ast"
)

// Session properties the planner reads.
const (
	PropDefaultKeyFormat   = "ksql.persistence.default.format.key"
	PropDefaultValueFormat = "ksql.persistence.default.format.value"
	PropWrapSingleValues   = "ksql.persistence.wrap.single.values"
	PropOutputTopicPrefix  = "ksql.output.topic.name.prefix"
	// PropTimestampThrowOnInvalid makes an invalid event time fail the
	// query instead of skipping the record (default false).
	PropTimestampThrowOnInvalid = "ksql.timestamp.throw.on.invalid"
	// PropCreateOrReplace set to false refuses CREATE OR REPLACE ... AS
	// SELECT over a running query (default true: a query upgrade).
	PropCreateOrReplace = "ksql.create.or.replace.enabled"
)

// knownProps are the WITH properties of CREATE STREAM/TABLE and CSAS/CTAS.
var knownProps = map[string]bool{
	"KAFKA_TOPIC": true, "PARTITIONS": true, "REPLICAS": true, "RETENTION_MS": true, "CLEANUP_POLICY": true,
	"FORMAT": true, "KEY_FORMAT": true, "VALUE_FORMAT": true, "TIMESTAMP": true, "TIMESTAMP_FORMAT": true,
	"WRAP_SINGLE_VALUE": true, "KEY_DELIMITER": true, "VALUE_DELIMITER": true, "KEY_SCHEMA_ID": true,
	"VALUE_SCHEMA_ID": true, "KEY_SCHEMA_FULL_NAME": true, "VALUE_SCHEMA_FULL_NAME": true,
	"VALUE_AVRO_SCHEMA_FULL_NAME": true, "KEY_PROTOBUF_NULLABLE_REPRESENTATION": true,
	"VALUE_PROTOBUF_NULLABLE_REPRESENTATION": true, "WINDOW_TYPE": true, "WINDOW_SIZE": true,
	"SOURCE_CONNECTOR": true,
}

// withProps is a validated WITH (...) list.
type withProps struct {
	vals map[string]ast.Expr
}

func readProps(ps ast.Properties) (withProps, error) {
	w := withProps{vals: map[string]ast.Expr{}}
	for _, p := range ps {
		name := strings.ToUpper(p.Name)
		if !knownProps[name] {
			return w, fmt.Errorf("Invalid config variable(s) in the WITH clause: %s", name)
		}
		if _, dup := w.vals[name]; dup {
			return w, fmt.Errorf("Duplicate property in the WITH clause: %s", name)
		}
		w.vals[name] = p.Value
	}
	return w, nil
}

func (w withProps) has(name string) bool { _, ok := w.vals[name]; return ok }

func (w withProps) str(name string) (string, bool, error) {
	e, ok := w.vals[name]
	if !ok {
		return "", false, nil
	}
	switch v := e.(type) {
	case *ast.StringLit:
		return v.Value, true, nil
	case *ast.IntLit:
		return strconv.Itoa(int(v.Value)), true, nil
	case *ast.BigintLit:
		return strconv.FormatInt(v.Value, 10), true, nil
	case *ast.BoolLit:
		return strconv.FormatBool(v.Value), true, nil
	case *ast.NullLit:
		return "", false, nil
	}
	return "", false, fmt.Errorf("property %s: unsupported value %s", name, ast.Format(e))
}

func (w withProps) integer(name string) (int64, bool, error) {
	s, ok, err := w.str(name)
	if err != nil || !ok {
		return 0, ok, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("Invalid value for property %s: %q is not an integer", name, s)
	}
	return n, true, nil
}

func (w withProps) boolean(name string) (bool, bool, error) {
	s, ok, err := w.str(name)
	if err != nil || !ok {
		return false, ok, err
	}
	b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(s)))
	if err != nil {
		return false, false, fmt.Errorf("Invalid value for property %s: %q is not a boolean", name, s)
	}
	return b, true, nil
}

var formatNames = map[string]bool{"KAFKA": true, "JSON": true, "DELIMITED": true, "AVRO": true,
	"JSON_SR": true, "PROTOBUF": true, "NONE": true}

// formats reads FORMAT/KEY_FORMAT/VALUE_FORMAT and the format properties.
// inherit gives the defaults (the source's formats for CSAS, nil for
// CREATE); props the session properties.
func (w withProps) formats(inherit *[2]Format, props map[string]string) (key, value Format, err error) {
	f, hasF, err := w.str("FORMAT")
	if err != nil {
		return key, value, err
	}
	kf, hasK, err := w.str("KEY_FORMAT")
	if err != nil {
		return key, value, err
	}
	vf, hasV, err := w.str("VALUE_FORMAT")
	if err != nil {
		return key, value, err
	}
	if hasF && (hasK || hasV) {
		return key, value, fmt.Errorf("Cannot supply both 'VALUE_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'.")
	}
	if hasF {
		kf, vf, hasK, hasV = f, f, true, true
	}
	switch {
	case hasK:
		key.Name = strings.ToUpper(kf)
	case inherit != nil:
		key = inherit[0]
	default:
		key.Name = "KAFKA"
		if d := props[PropDefaultKeyFormat]; d != "" {
			key.Name = strings.ToUpper(d)
		}
	}
	switch {
	case hasV:
		value.Name = strings.ToUpper(vf)
	case inherit != nil:
		value = inherit[1]
	default:
		d := props[PropDefaultValueFormat]
		if d == "" {
			return key, value, fmt.Errorf("Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default via the '%s' config.", PropDefaultValueFormat)
		}
		value.Name = strings.ToUpper(d)
	}
	for _, n := range []string{key.Name, value.Name} {
		if !formatNames[n] {
			return key, value, fmt.Errorf("Unknown format: %s", n)
		}
	}
	if value.Name == "NONE" {
		return key, value, fmt.Errorf("The 'NONE' format can only be used as the key format")
	}
	if hasK {
		key.Delimiter, key.FullName, key.SchemaID = "", "", 0
	}
	if hasV {
		value.Delimiter, value.FullName, value.SchemaID, value.Unwrapped = "", "", 0, false
	}
	for _, side := range []struct {
		f      *Format
		prefix string
	}{{&key, "KEY_"}, {&value, "VALUE_"}} {
		if d, ok, err := w.str(side.prefix + "DELIMITER"); err != nil {
			return key, value, err
		} else if ok {
			if side.f.Name != "DELIMITED" {
				return key, value, fmt.Errorf("%sDELIMITER can only be used with %sFORMAT='DELIMITED'", side.prefix, side.prefix)
			}
			side.f.Delimiter = d
		}
		if n, ok, err := w.str(side.prefix + "SCHEMA_FULL_NAME"); err != nil {
			return key, value, err
		} else if ok {
			side.f.FullName = n
		}
		if id, ok, err := w.integer(side.prefix + "SCHEMA_ID"); err != nil {
			return key, value, err
		} else if ok {
			if !side.f.UsesRegistry() {
				return key, value, fmt.Errorf("%sSCHEMA_ID is only valid with a format that uses a schema registry (AVRO, JSON_SR, PROTOBUF), not %s", side.prefix, side.f.Name)
			}
			side.f.SchemaID = int(id)
		}
	}
	if n, ok, err := w.str("VALUE_AVRO_SCHEMA_FULL_NAME"); err != nil {
		return key, value, err
	} else if ok {
		value.FullName = n
	}
	wrap, hasWrap, err := w.boolean("WRAP_SINGLE_VALUE")
	if err != nil {
		return key, value, err
	}
	if !hasWrap && props[PropWrapSingleValues] != "" && hasV {
		wrap, hasWrap = strings.EqualFold(props[PropWrapSingleValues], "true"), true
	}
	if hasWrap {
		switch value.Name {
		case "KAFKA":
			if wrap {
				return key, value, fmt.Errorf("Format 'KAFKA' does not support 'WRAP_SINGLE_VALUE' set to 'true'.")
			}
		case "DELIMITED", "PROTOBUF":
			if !wrap {
				return key, value, fmt.Errorf("Format '%s' does not support 'WRAP_SINGLE_VALUE' set to 'false'.", value.Name)
			}
		}
		value.Unwrapped = !wrap
	}
	return key, value, nil
}

// delimiterRune reads a DELIMITED delimiter: one character or TAB/SPACE.
func delimiterRune(s string) (rune, error) {
	switch strings.ToUpper(s) {
	case "":
		return ',', nil
	case "TAB":
		return '\t', nil
	case "SPACE":
		return ' ', nil
	}
	r := []rune(s)
	if len(r) != 1 {
		return 0, fmt.Errorf("Invalid delimiter value: '%s'. Delimiter must be a single character or TAB, SPACE.", s)
	}
	return r[0], nil
}

// serde returns the serde format for f.
func (c *Catalog) serde(f Format) (serde.Format, error) {
	switch f.Name {
	case "KAFKA":
		return serde.Kafka{}, nil
	case "JSON":
		return serde.JSON{UnwrapSingle: f.Unwrapped}, nil
	case "DELIMITED":
		d, err := delimiterRune(f.Delimiter)
		if err != nil {
			return nil, err
		}
		return serde.Delimited{Delimiter: d}, nil
	case "AVRO", "JSON_SR", "PROTOBUF":
		if c.registry == nil {
			return nil, fmt.Errorf("format %s needs a schema registry: configure one (ksql.schema.registry.url)", f.Name)
		}
		switch f.Name {
		case "AVRO":
			return serde.Avro{Client: c.registry, RecordName: f.FullName, UnwrapSingle: f.Unwrapped}, nil
		case "JSON_SR":
			return serde.JSONSR{Client: c.registry, UnwrapSingle: f.Unwrapped}, nil
		}
		return serde.Protobuf{Client: c.registry, MessageName: f.FullName}, nil
	case "NONE":
		return serde.Kafka{}, nil
	}
	return nil, fmt.Errorf("Unknown format: %s", f.Name)
}

// SerdeFormat returns the serde format the catalog uses for f (for callers
// that read or write a source's topic directly, such as `sluice test`).
func SerdeFormat(c *Catalog, f Format) (serde.Format, error) { return c.serde(f) }

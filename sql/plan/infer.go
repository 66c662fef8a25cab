package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// inferColumns completes a CREATE without value columns from the schema
// registry (AVRO, JSON_SR and PROTOBUF): the value columns come from the latest schema
// of subject <topic>-value (or the pinned VALUE_SCHEMA_ID), key columns from
// <topic>-key when the key format uses the registry and none are declared.
// Field names are upper-cased (unquoted SQL names resolve to upper case; the
// formats match fields case-insensitively when reading).
func (c *Catalog) inferColumns(ctx context.Context, topic string, key, value Format, declared []Column) ([]Column, error) {
	if !value.UsesRegistry() {
		return nil, fmt.Errorf("The statement does not define any columns.")
	}
	if c.registry == nil {
		return nil, fmt.Errorf("Schema inference for %s needs a schema registry: declare the columns or configure one", value.Name)
	}
	cols := append([]Column(nil), declared...)
	hasKey := false
	for _, col := range declared {
		hasKey = hasKey || col.Kind == KeyColumn
	}
	if !hasKey && key.UsesRegistry() {
		t, err := c.fetchType(ctx, topic+"-key", key)
		if err == nil {
			if t.Kind == types.Struct {
				for _, f := range t.Fields {
					cols = append(cols, Column{Name: f.Name, Type: f.Type, Kind: KeyColumn})
				}
			} else {
				cols = append(cols, Column{Name: "ROWKEY", Type: t, Kind: KeyColumn})
			}
		}
	}
	t, err := c.fetchType(ctx, topic+"-value", value)
	if err != nil {
		return nil, fmt.Errorf("Unable to retrieve the value schema of topic %s from the schema registry: %w", topic, err)
	}
	if t.Kind != types.Struct {
		if !value.Unwrapped {
			return nil, fmt.Errorf("The value schema of topic %s is not a record: set WRAP_SINGLE_VALUE=false to read it as one column", topic)
		}
		return append(cols, Column{Name: "ROWVAL", Type: t}), nil
	}
	for _, f := range t.Fields {
		if _, i := (&Source{Columns: cols}).Column(f.Name); i >= 0 {
			continue
		}
		cols = append(cols, Column{Name: f.Name, Type: f.Type})
	}
	return cols, nil
}

func (c *Catalog) fetchType(ctx context.Context, subject string, f Format) (types.Type, error) {
	var s srclient.Schema
	var err error
	if f.SchemaID > 0 {
		s, err = c.registry.SchemaByID(ctx, f.SchemaID)
	} else {
		_, s, err = c.registry.Latest(ctx, subject)
	}
	if err != nil {
		return types.Type{}, err
	}
	var doc any
	if err := json.Unmarshal([]byte(s.Schema), &doc); err != nil && f.Name != "PROTOBUF" {
		return types.Type{}, fmt.Errorf("schema of %s: %w", subject, err)
	}
	switch f.Name {
	case "AVRO":
		return avroType(doc)
	case "JSON_SR":
		return jsonSchemaType(doc)
	case "PROTOBUF":
		if len(s.References) > 0 {
			return types.Type{}, fmt.Errorf("schema of %s imports other schemas, which inference does not follow yet: declare the columns", subject)
		}
		return protobufType(ctx, s.Schema, f.FullName)
	}
	return types.Type{}, fmt.Errorf("schema inference for %s is not supported: declare the columns", f.Name)
}

// protobufType reads the message fullName (default: the file's first
// message) of a proto schema as a STRUCT, as ksqlDB infers PROTOBUF
// columns: integers by width, enums as STRING, repeated as ARRAY, maps as
// MAP, google.protobuf.Timestamp as TIMESTAMP, wrapper messages as their
// value.
func protobufType(ctx context.Context, text, fullName string) (types.Type, error) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"schema.proto": text})})}
	files, err := c.Compile(ctx, "schema.proto")
	if err != nil {
		return types.Type{}, fmt.Errorf("PROTOBUF schema: %w", err)
	}
	msgs := files[0].Messages()
	if msgs.Len() == 0 {
		return types.Type{}, fmt.Errorf("PROTOBUF schema has no message")
	}
	md := msgs.Get(0)
	if fullName != "" {
		found := false
		for i := 0; i < msgs.Len(); i++ {
			if string(msgs.Get(i).FullName()) == fullName || string(msgs.Get(i).Name()) == fullName {
				md, found = msgs.Get(i), true
			}
		}
		if !found {
			return types.Type{}, fmt.Errorf("PROTOBUF schema has no message %s", fullName)
		}
	}
	return protoMessageType(md, 0)
}

func protoMessageType(md protoreflect.MessageDescriptor, depth int) (types.Type, error) {
	if depth > 32 {
		return types.Type{}, fmt.Errorf("PROTOBUF message %s nests too deeply (recursive?)", md.FullName())
	}
	out := types.Type{Kind: types.Struct, Fields: []types.Field{}}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		t, err := protoFieldType(fd, depth)
		if err != nil {
			return types.Type{}, fmt.Errorf("field %s: %w", fd.Name(), err)
		}
		out.Fields = append(out.Fields, types.F(strings.ToUpper(string(fd.Name())), t))
	}
	return out, nil
}

func protoFieldType(fd protoreflect.FieldDescriptor, depth int) (types.Type, error) {
	if fd.IsMap() {
		if fd.MapKey().Kind() != protoreflect.StringKind {
			return types.Type{}, fmt.Errorf("map keys must be strings")
		}
		v, err := protoScalarType(fd.MapValue(), depth)
		if err != nil {
			return types.Type{}, err
		}
		return types.MapOf(v), nil
	}
	t, err := protoScalarType(fd, depth)
	if err != nil {
		return types.Type{}, err
	}
	if fd.IsList() {
		return types.ArrayOf(t), nil
	}
	return t, nil
}

func protoScalarType(fd protoreflect.FieldDescriptor, depth int) (types.Type, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return types.BooleanType, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind, protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return types.IntType, nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return types.BigintType, nil
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return types.DoubleType, nil
	case protoreflect.StringKind, protoreflect.EnumKind:
		return types.StringType, nil
	case protoreflect.BytesKind:
		return types.BytesType, nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		switch md.FullName() {
		case "google.protobuf.Timestamp":
			return types.TimestampType, nil
		case "google.protobuf.BoolValue":
			return types.BooleanType, nil
		case "google.protobuf.Int32Value", "google.protobuf.UInt32Value":
			return types.IntType, nil
		case "google.protobuf.Int64Value", "google.protobuf.UInt64Value":
			return types.BigintType, nil
		case "google.protobuf.FloatValue", "google.protobuf.DoubleValue":
			return types.DoubleType, nil
		case "google.protobuf.StringValue":
			return types.StringType, nil
		case "google.protobuf.BytesValue":
			return types.BytesType, nil
		}
		return protoMessageType(md, depth+1)
	}
	return types.Type{}, fmt.Errorf("PROTOBUF kind %s has no SQL equivalent", fd.Kind())
}

func avroType(s any) (types.Type, error) {
	switch x := s.(type) {
	case string:
		switch x {
		case "boolean":
			return types.BooleanType, nil
		case "int":
			return types.IntType, nil
		case "long":
			return types.BigintType, nil
		case "float", "double":
			return types.DoubleType, nil
		case "string":
			return types.StringType, nil
		case "bytes":
			return types.BytesType, nil
		}
		return types.Type{}, fmt.Errorf("AVRO type %q has no SQL equivalent", x)
	case []any:
		var nonNull []any
		for _, u := range x {
			if u != "null" {
				nonNull = append(nonNull, u)
			}
		}
		if len(nonNull) != 1 {
			return types.Type{}, fmt.Errorf("AVRO unions other than [\"null\", T] have no SQL equivalent")
		}
		return avroType(nonNull[0])
	case map[string]any:
		lt, _ := x["logicalType"].(string)
		typ, _ := x["type"].(string)
		switch {
		case lt == "decimal":
			p, _ := x["precision"].(float64)
			sc, _ := x["scale"].(float64)
			return types.DecimalOf(int(p), int(sc)), nil
		case lt == "date":
			return types.DateType, nil
		case lt == "time-millis" || lt == "time-micros":
			return types.TimeType, nil
		case lt == "timestamp-millis" || lt == "timestamp-micros":
			return types.TimestampType, nil
		}
		switch typ {
		case "record":
			fields, _ := x["fields"].([]any)
			out := types.Type{Kind: types.Struct, Fields: []types.Field{}}
			for _, fv := range fields {
				fm, _ := fv.(map[string]any)
				name, _ := fm["name"].(string)
				ft, err := avroType(fm["type"])
				if err != nil {
					return types.Type{}, fmt.Errorf("field %s: %w", name, err)
				}
				out.Fields = append(out.Fields, types.F(strings.ToUpper(name), ft))
			}
			return out, nil
		case "array":
			e, err := avroType(x["items"])
			if err != nil {
				return types.Type{}, err
			}
			return types.ArrayOf(e), nil
		case "map":
			e, err := avroType(x["values"])
			if err != nil {
				return types.Type{}, err
			}
			return types.MapOf(e), nil
		case "enum":
			return types.StringType, nil
		case "fixed":
			return types.BytesType, nil
		}
		return avroType(x["type"])
	}
	return types.Type{}, fmt.Errorf("unreadable AVRO schema")
}

func jsonSchemaType(s any) (types.Type, error) {
	m, ok := s.(map[string]any)
	if !ok {
		return types.Type{}, fmt.Errorf("unreadable JSON schema")
	}
	if one, ok := m["oneOf"].([]any); ok {
		for _, o := range one {
			if om, ok := o.(map[string]any); ok && om["type"] == "null" {
				continue
			}
			return jsonSchemaType(o)
		}
	}
	typ := m["type"]
	if arr, ok := typ.([]any); ok {
		for _, t := range arr {
			if t != "null" {
				typ = t
			}
		}
	}
	switch typ {
	case "boolean":
		return types.BooleanType, nil
	case "integer":
		return types.BigintType, nil
	case "number":
		return types.DoubleType, nil
	case "string":
		return types.StringType, nil
	case "array":
		e, err := jsonSchemaType(m["items"])
		if err != nil {
			return types.Type{}, err
		}
		return types.ArrayOf(e), nil
	case "object":
		props, _ := m["properties"].(map[string]any)
		if len(props) == 0 {
			if ap, ok := m["additionalProperties"].(map[string]any); ok {
				e, err := jsonSchemaType(ap)
				if err != nil {
					return types.Type{}, err
				}
				return types.MapOf(e), nil
			}
		}
		out := types.Type{Kind: types.Struct, Fields: []types.Field{}}
		for _, name := range sortedProps(m, props) {
			ft, err := jsonSchemaType(props[name])
			if err != nil {
				return types.Type{}, fmt.Errorf("property %s: %w", name, err)
			}
			out.Fields = append(out.Fields, types.F(strings.ToUpper(name), ft))
		}
		return out, nil
	}
	return types.Type{}, fmt.Errorf("JSON schema type %v has no SQL equivalent", typ)
}

// sortedProps orders properties by connect.index when present (as the
// JSON_SR serializer writes them), then by name.
func sortedProps(m map[string]any, props map[string]any) []string {
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	idx := func(n string) float64 {
		if pm, ok := props[n].(map[string]any); ok {
			if i, ok := pm["connect.index"].(float64); ok {
				return i
			}
		}
		return 1e9
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && (idx(names[j]) < idx(names[j-1]) || idx(names[j]) == idx(names[j-1]) && names[j] < names[j-1]); j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

package converters

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/sluicedata/sluice/connect"
)

// appendSchema writes s as Kafka's JsonConverter.asJsonSchema does: type and
// its children, optional, name, version, doc, parameters, default.
func (c *JSON) appendSchema(b []byte, s *connect.Schema) ([]byte, error) {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, jsonTypeName(s.Type))
	var err error
	switch s.Type {
	case connect.Array:
		if s.Value == nil {
			return nil, errors.New("array schema without an element schema")
		}
		b = append(b, `,"items":`...)
		if b, err = c.appendSchema(b, s.Value); err != nil {
			return nil, err
		}
	case connect.Map:
		if s.Key == nil || s.Value == nil {
			return nil, errors.New("map schema without key or value schema")
		}
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchema(b, s.Key); err != nil {
			return nil, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.Value); err != nil {
			return nil, err
		}
	case connect.Struct:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			if f.Schema == nil {
				return nil, fmt.Errorf("field %q has no schema", f.Name)
			}
			if b, err = c.appendSchema(b, f.Schema); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			// Kafka adds the field name after the field's schema keys.
			b = b[:len(b)-1]
			b = append(b, `,"field":`...)
			b = appendJSONString(b, f.Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64, connect.Float32, connect.Float64,
		connect.Boolean, connect.String, connect.Bytes:
	default:
		return nil, fmt.Errorf("unknown schema type %q", s.Type)
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, s.Name)
	}
	if s.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendJSONString(b, s.Doc)
	}
	if s.Parameters != nil {
		b = append(b, `,"parameters":{`...)
		for i, k := range sortedParams(s.Parameters) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, s.Parameters[k])
		}
		b = append(b, '}')
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendValue(b, s, s.Default, jsonPath{}); err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
	}
	b = append(b, '}')
	return b, nil
}

// jsonTypeName is the type name JsonConverter writes: Connect's type names
// except "float" and "double" for float32 and float64.
func jsonTypeName(t connect.SchemaType) string {
	switch t {
	case connect.Float32:
		return "float"
	case connect.Float64:
		return "double"
	}
	return string(t)
}

// connectTypeName reads a JsonConverter type name ("float32" accepted too).
func connectTypeName(s string) connect.SchemaType {
	switch s {
	case "float":
		return connect.Float32
	case "double":
		return connect.Float64
	}
	return connect.SchemaType(s)
}

// sortedParams orders schema parameters. Kafka keeps insertion order; Go maps
// have none, so the order is by key with the decimal "scale" first, where
// Kafka's Decimal.builder puts it.
func sortedParams(p map[string]string) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "scale") != (keys[j] == "scale") {
			return keys[i] == "scale"
		}
		return keys[i] < keys[j]
	})
	return keys
}

// schemaFromJSON reads a schema in JsonConverter's form.
func schemaFromJSON(raw any, path string) (*connect.Schema, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: schema must be a JSON object, got %s", path, jsonKind(raw))
	}
	typ, _ := obj["type"].(string)
	if typ == "" {
		return nil, fmt.Errorf("%s: schema must contain a \"type\" field", path)
	}
	s := &connect.Schema{Type: connectTypeName(typ)}
	switch s.Type {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64, connect.Float32, connect.Float64,
		connect.Boolean, connect.String, connect.Bytes:
	case connect.Array:
		items, ok := obj["items"]
		if !ok {
			return nil, fmt.Errorf("%s: array schema did not specify the \"items\" type", path)
		}
		var err error
		if s.Value, err = schemaFromJSON(items, path+".items"); err != nil {
			return nil, err
		}
	case connect.Map:
		var err error
		if s.Key, err = schemaFromJSON(obj["keys"], path+".keys"); err != nil {
			return nil, err
		}
		if s.Value, err = schemaFromJSON(obj["values"], path+".values"); err != nil {
			return nil, err
		}
	case connect.Struct:
		fields, ok := obj["fields"].([]any)
		if !ok {
			return nil, fmt.Errorf("%s: struct schema's \"fields\" argument is not an array", path)
		}
		for i, f := range fields {
			fo, ok := f.(map[string]any)
			name, _ := fo["field"].(string)
			if !ok || name == "" {
				return nil, fmt.Errorf("%s.fields[%d]: struct schema's field name not specified properly", path, i)
			}
			fs, err := schemaFromJSON(f, path+"."+name)
			if err != nil {
				return nil, err
			}
			s.Fields = append(s.Fields, connect.Field{Name: name, Schema: fs})
		}
	default:
		return nil, fmt.Errorf("%s: unknown schema type %q", path, typ)
	}
	if o, ok := obj["optional"].(bool); ok {
		s.Optional = o
	}
	s.Name, _ = obj["name"].(string)
	if v, ok := obj["version"].(json.Number); ok {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return nil, fmt.Errorf("%s: schema version %s is not an integer", path, v)
		}
		s.Version = n
	}
	s.Doc, _ = obj["doc"].(string)
	if p, ok := obj["parameters"].(map[string]any); ok {
		s.Parameters = make(map[string]string, len(p))
		for k, v := range p {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: schema parameter %q must be a string", path, k)
			}
			s.Parameters[k] = str
		}
	}
	if d, ok := obj["default"]; ok && d != nil {
		v, err := valueFromJSON(s, d, path+".default")
		if err != nil {
			return nil, err
		}
		s.Default = v
	}
	return s, nil
}

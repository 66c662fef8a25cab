package converters

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
)

// JSONSchema is Confluent's JsonSchemaConverter: the payload is plain JSON
// after the wire-format header, the schema a JSON Schema in the registry.
//
// Connect schemas map as Confluent's JsonSchemaData does: a struct is an
// object titled with the schema name whose properties carry "connect.index"
// (their order), an optional schema a oneOf [null, T], integers and numbers
// carry "connect.type" (int8 ... float64), bytes are base64 strings
// ("connect.type": "bytes"), maps with string keys objects with
// additionalProperties, other maps arrays of {key, value} objects; Decimal
// is a number, Date/Time/Timestamp integers, identified by their title.
type JSONSchema struct {
	reg registryConfig
	enc *JSON

	mu      sync.Mutex
	written map[*connect.Schema]jsonSchemaWriter
	read    map[int]*connect.Schema
}

type jsonSchemaWriter struct {
	text, title string
}

var jsonSchemaSpec = connect.Spec{
	Name:    "jsonschema",
	Aliases: []string{"io.confluent.connect.json.JsonSchemaConverter", "JsonSchemaConverter"},
	Kind:    connect.ConverterKind,
	Doc:     "Confluent's JsonSchemaConverter: JSON in the Schema Registry wire format; the JSON Schema is derived from the Connect schema and registered.",
	Fields:  append([]connect.FieldSpec(nil), registryFields...),
}

// Configure reads the registry keys.
func (c *JSONSchema) Configure(cfg connect.Config, isKey bool) error {
	if err := c.reg.configure(&jsonSchemaSpec, cfg, isKey); err != nil {
		return err
	}
	c.enc = &JSON{decimalNumeric: true, replaceNullWith: true, entryObjects: true}
	c.written = map[*connect.Schema]jsonSchemaWriter{}
	c.read = map[int]*connect.Schema{}
	return nil
}

// FromConnect writes the JSON payload after the header of the schema
// derived from schema.
func (c *JSONSchema) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if value == nil && (schema == nil || schema.Optional) {
		return nil, nil
	}
	if schema == nil {
		return nil, fmt.Errorf("topic %q: the JSON Schema converter needs a schema; this record is schemaless", topic)
	}
	w, err := c.writer(schema)
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	ctx, cancel := ctx()
	defer cancel()
	id, latest, err := c.reg.schemaID(ctx, topic, w.title, srclient.Schema{Schema: w.text, SchemaType: "JSON"})
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	if latest != nil && latest.SchemaType != "JSON" {
		return nil, fmt.Errorf("topic %q: the latest schema of the subject is %q, not JSON", topic, latest.SchemaType)
	}
	b := serde.AppendHeader(make([]byte, 0, 64), id)
	if b, err = c.enc.appendValue(b, schema, value, jsonPath{}); err != nil {
		return nil, fmt.Errorf("topic %q: converting Connect data to JSON: %w", topic, err)
	}
	return b, nil
}

func (c *JSONSchema) writer(s *connect.Schema) (jsonSchemaWriter, error) {
	c.mu.Lock()
	w, ok := c.written[s]
	c.mu.Unlock()
	if ok {
		return w, nil
	}
	js, err := jsonSchemaOf(s)
	if err != nil {
		return w, err
	}
	text, err := json.Marshal(js)
	if err != nil {
		return w, err
	}
	w = jsonSchemaWriter{text: string(text), title: s.Name}
	if w.title == "" {
		w.title = "ConnectDefault"
	}
	c.mu.Lock()
	if len(c.written) > 1000 {
		c.written = map[*connect.Schema]jsonSchemaWriter{}
	}
	c.written[s] = w
	c.mu.Unlock()
	return w, nil
}

// jsonSchemaOf derives the JSON Schema of a Connect schema.
func jsonSchemaOf(s *connect.Schema) (map[string]any, error) {
	m := map[string]any{}
	switch logicalName(s) {
	case connect.DecimalName:
		m["type"], m["connect.type"] = "number", "bytes"
	case connect.DateName, connect.TimeName:
		m["type"], m["connect.type"] = "integer", "int32"
	case connect.TimestampName:
		m["type"], m["connect.type"] = "integer", "int64"
	default:
		switch s.Type {
		case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
			m["type"], m["connect.type"] = "integer", string(s.Type)
		case connect.Float32, connect.Float64:
			m["type"], m["connect.type"] = "number", string(s.Type)
		case connect.Boolean:
			m["type"] = "boolean"
		case connect.String:
			m["type"] = "string"
		case connect.Bytes:
			m["type"], m["connect.type"] = "string", "bytes"
		case connect.Array:
			items, err := jsonSchemaTyped(s.Value)
			if err != nil {
				return nil, err
			}
			m["type"], m["items"] = "array", items
		case connect.Map:
			values, err := jsonSchemaTyped(s.Value)
			if err != nil {
				return nil, err
			}
			m["connect.type"] = "map"
			if s.Key.Type == connect.String && logicalName(s.Key) == "" {
				m["type"], m["additionalProperties"] = "object", values
			} else {
				key, err := jsonSchemaTyped(s.Key)
				if err != nil {
					return nil, err
				}
				m["type"] = "array"
				m["items"] = map[string]any{"type": "object", "properties": map[string]any{"key": key, "value": values},
					"required": []string{"key", "value"}, "additionalProperties": false}
			}
		case connect.Struct:
			props := map[string]any{}
			var required []string
			for i, f := range s.Fields {
				fs, err := jsonSchemaTyped(f.Schema)
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", f.Name, err)
				}
				fs["connect.index"] = i
				props[f.Name] = fs
				if !f.Schema.Optional {
					required = append(required, f.Name)
				}
			}
			m["type"], m["properties"] = "object", props
			if len(required) > 0 {
				m["required"] = required
			}
		default:
			return nil, fmt.Errorf("unknown schema type %q", s.Type)
		}
	}
	if s.Name != "" {
		m["title"] = s.Name
	}
	if s.Version != 0 {
		m["connect.version"] = s.Version
	}
	if s.Doc != "" {
		m["description"] = s.Doc
	}
	if len(s.Parameters) > 0 {
		m["connect.parameters"] = s.Parameters
	}
	if s.Default != nil {
		raw, err := (&JSON{decimalNumeric: true, entryObjects: true}).appendValue(nil, s, s.Default, jsonPath{})
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		m["default"] = json.RawMessage(raw)
	}
	return m, nil
}

// jsonSchemaTyped wraps optional schemas in oneOf [null, T].
func jsonSchemaTyped(s *connect.Schema) (map[string]any, error) {
	m, err := jsonSchemaOf(s)
	if err != nil || !s.Optional {
		return m, err
	}
	return map[string]any{"oneOf": []any{map[string]any{"type": "null"}, m}}, nil
}

// ToConnect reads the payload with the Connect schema derived from the
// writer's JSON Schema.
func (c *JSONSchema) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	id, payload, err := serde.SplitHeader(data)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	s, err := c.readerSchema(id)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	raw, err := decodeJSON(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: JSON payload: %w", topic, err)
	}
	v, err := valueFromJSON(s, raw, "")
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	return s, v, nil
}

func (c *JSONSchema) readerSchema(id int) (*connect.Schema, error) {
	c.mu.Lock()
	s, ok := c.read[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	ctx, cancel := ctx()
	defer cancel()
	rs, err := c.reg.client.SchemaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if rs.SchemaType != "JSON" {
		return nil, fmt.Errorf("schema id %d is %q, not JSON", id, rs.SchemaType)
	}
	raw, err := decodeJSON([]byte(rs.Schema))
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	if s, err = connectFromJSONSchema(raw, "#"); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	c.mu.Lock()
	c.read[id] = s
	c.mu.Unlock()
	return s, nil
}

// connectFromJSONSchema derives a Connect schema from a JSON Schema
// (decoded with json.Number). Property order follows connect.index, then
// names.
func connectFromJSONSchema(raw any, path string) (*connect.Schema, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: schema must be an object", path)
	}
	if _, ok := m["$ref"]; ok {
		return nil, fmt.Errorf("%s: $ref is not supported by the JSON Schema converter", path)
	}
	if alts, ok := m["oneOf"].([]any); ok {
		return optionalOf(alts, path)
	}
	if alts, ok := m["anyOf"].([]any); ok {
		return optionalOf(alts, path)
	}
	typ, nullable := m["type"], false
	if ts, ok := typ.([]any); ok { // ["null", "string"]
		var rest []any
		for _, t := range ts {
			if t == "null" {
				nullable = true
			} else {
				rest = append(rest, t)
			}
		}
		if len(rest) != 1 {
			return nil, fmt.Errorf("%s: type %v has no single Connect type", path, ts)
		}
		typ = rest[0]
	}
	ct, _ := m["connect.type"].(string)
	title, _ := m["title"].(string)
	s := &connect.Schema{Optional: nullable}
	switch {
	case title == connect.DecimalName:
		s.Type = connect.Bytes
	case title == connect.DateName || title == connect.TimeName:
		s.Type = connect.Int32
	case title == connect.TimestampName:
		s.Type = connect.Int64
	case typ == "integer":
		s.Type = connect.Int64
		switch ct {
		case "int8", "int16", "int32":
			s.Type = connect.SchemaType(ct)
		}
	case typ == "number":
		s.Type = connect.Float64
		if ct == "float32" {
			s.Type = connect.Float32
		}
	case typ == "boolean":
		s.Type = connect.Boolean
	case typ == "string":
		s.Type = connect.String
		if ct == "bytes" {
			s.Type = connect.Bytes
		}
	case typ == "array" && ct == "map":
		items, _ := m["items"].(map[string]any)
		props, _ := items["properties"].(map[string]any)
		k, err := connectFromJSONSchema(props["key"], path+".items.key")
		if err != nil {
			return nil, err
		}
		v, err := connectFromJSONSchema(props["value"], path+".items.value")
		if err != nil {
			return nil, err
		}
		s.Type, s.Key, s.Value = connect.Map, k, v
	case typ == "array":
		v, err := connectFromJSONSchema(m["items"], path+".items")
		if err != nil {
			return nil, err
		}
		s.Type, s.Value = connect.Array, v
	case typ == "object" && m["properties"] == nil && m["additionalProperties"] != nil:
		v, err := connectFromJSONSchema(m["additionalProperties"], path+".additionalProperties")
		if err != nil {
			return nil, err
		}
		s.Type, s.Key, s.Value = connect.Map, &connect.Schema{Type: connect.String}, v
	case typ == "object":
		props, _ := m["properties"].(map[string]any)
		type prop struct {
			name  string
			index int
		}
		var order []prop
		for name, p := range props {
			idx := len(props) + 1
			if pm, ok := p.(map[string]any); ok {
				if n, ok := pm["connect.index"].(json.Number); ok {
					if i, err := strconv.Atoi(string(n)); err == nil {
						idx = i
					}
				}
			}
			order = append(order, prop{name, idx})
		}
		sort.Slice(order, func(i, j int) bool {
			if order[i].index != order[j].index {
				return order[i].index < order[j].index
			}
			return order[i].name < order[j].name
		})
		s.Type = connect.Struct
		for _, p := range order {
			fs, err := connectFromJSONSchema(props[p.name], path+".properties."+p.name)
			if err != nil {
				return nil, err
			}
			s.Fields = append(s.Fields, connect.Field{Name: p.name, Schema: fs})
		}
	default:
		return nil, fmt.Errorf("%s: JSON Schema type %v has no Connect type", path, typ)
	}
	s.Name = title
	if v, ok := m["connect.version"].(json.Number); ok {
		n, _ := strconv.Atoi(string(v))
		s.Version = n
	}
	s.Doc, _ = m["description"].(string)
	if p, ok := m["connect.parameters"].(map[string]any); ok {
		s.Parameters = map[string]string{}
		for k, v := range p {
			s.Parameters[k] = fmt.Sprint(v)
		}
	}
	if d, ok := m["default"]; ok && d != nil {
		v, err := valueFromJSON(s, d, path+".default")
		if err != nil {
			return nil, err
		}
		s.Default = v
	}
	return s, nil
}

// optionalOf reads oneOf/anyOf [null, T] as an optional T.
func optionalOf(alts []any, path string) (*connect.Schema, error) {
	var rest []any
	nullable := false
	for _, a := range alts {
		if am, ok := a.(map[string]any); ok && am["type"] == "null" && len(am) == 1 {
			nullable = true
			continue
		}
		rest = append(rest, a)
	}
	if len(rest) != 1 {
		return nil, fmt.Errorf("%s: oneOf/anyOf with %d non-null alternatives has no Connect type", path, len(rest))
	}
	s, err := connectFromJSONSchema(rest[0], path)
	if err != nil {
		return nil, err
	}
	if nullable {
		s.Optional = true
	}
	return s, nil
}

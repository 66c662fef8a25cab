package converters

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicedata/sluice/connect"
)

func messageByIndexes(fd protoreflect.FileDescriptor, path []int) (protoreflect.MessageDescriptor, error) {
	msgs := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range path {
		if i >= msgs.Len() {
			return nil, fmt.Errorf("message index %v not in the schema", path)
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	if md == nil {
		return nil, fmt.Errorf("empty message index")
	}
	return md, nil
}

// optionString reads a string custom option (by field number) from an
// options message, whether the compiler resolved it or left it unknown.
func optionString(opts proto.Message, num protowire.Number) string {
	if opts == nil {
		return ""
	}
	r := opts.ProtoReflect()
	if !r.IsValid() {
		return ""
	}
	var out string
	r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsExtension() && fd.Number() == num && fd.Kind() == protoreflect.StringKind {
			out = v.String()
			return false
		}
		return true
	})
	if out != "" {
		return out
	}
	b := r.GetUnknown()
	for len(b) > 0 {
		n, t, k := protowire.ConsumeTag(b)
		if k < 0 {
			return ""
		}
		b = b[k:]
		if n == num && t == protowire.BytesType {
			v, k := protowire.ConsumeBytes(b)
			if k < 0 {
				return ""
			}
			return string(v)
		}
		k = protowire.ConsumeFieldValue(n, t, b)
		if k < 0 {
			return ""
		}
		b = b[k:]
	}
	return ""
}

// confluentFieldMeta is the field number of Confluent's
// (confluent.field_meta) option (confluent/meta.proto), a Meta message
// {string doc = 1; map<string, string> params = 2}.
const confluentFieldMeta = 1088

// confluentParams reads the params of (confluent.field_meta), resolved or
// left as unknown bytes by the compiler.
func confluentParams(opts proto.Message) map[string]string {
	if opts == nil || !opts.ProtoReflect().IsValid() {
		return nil
	}
	var raw []byte
	r := opts.ProtoReflect()
	r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsExtension() && fd.Number() == confluentFieldMeta && fd.Message() != nil {
			raw, _ = proto.Marshal(v.Message().Interface())
			return false
		}
		return true
	})
	if raw == nil {
		b := r.GetUnknown()
		for len(b) > 0 {
			n, t, k := protowire.ConsumeTag(b)
			if k < 0 {
				return nil
			}
			b = b[k:]
			if n == confluentFieldMeta && t == protowire.BytesType {
				v, k := protowire.ConsumeBytes(b)
				if k < 0 {
					return nil
				}
				raw = append(raw, v...) // repeated occurrences merge
				b = b[k:]
				continue
			}
			if k = protowire.ConsumeFieldValue(n, t, b); k < 0 {
				return nil
			}
			b = b[k:]
		}
	}
	params := map[string]string{}
	for len(raw) > 0 {
		n, t, k := protowire.ConsumeTag(raw)
		if k < 0 {
			return params
		}
		raw = raw[k:]
		if n != 2 || t != protowire.BytesType {
			if k = protowire.ConsumeFieldValue(n, t, raw); k < 0 {
				return params
			}
			raw = raw[k:]
			continue
		}
		entry, k := protowire.ConsumeBytes(raw)
		if k < 0 {
			return params
		}
		raw = raw[k:]
		var key, val string
		for len(entry) > 0 {
			en, et, ek := protowire.ConsumeTag(entry)
			if ek < 0 {
				break
			}
			entry = entry[ek:]
			if et != protowire.BytesType {
				if ek = protowire.ConsumeFieldValue(en, et, entry); ek < 0 {
					break
				}
				entry = entry[ek:]
				continue
			}
			v, ek := protowire.ConsumeBytes(entry)
			if ek < 0 {
				break
			}
			entry = entry[ek:]
			if en == 1 {
				key = string(v)
			} else if en == 2 {
				val = string(v)
			}
		}
		params[key] = val
	}
	return params
}

type protoMetaJSON struct {
	Required   bool              `json:"required"`
	Default    any               `json:"default"`
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	Version    int               `json:"version"`
	Doc        string            `json:"doc"`
	Parameters map[string]string `json:"parameters"`
}

func applyProtoMeta(s *connect.Schema, raw string) {
	if raw == "" {
		return
	}
	var m protoMetaJSON
	if json.Unmarshal([]byte(raw), &m) != nil {
		return
	}
	if m.Type != "" && m.Type != string(connect.Map) {
		s.Type = connect.SchemaType(m.Type)
	}
	if m.Name != "" {
		s.Name = m.Name
	}
	if m.Version != 0 {
		s.Version = m.Version
	}
	if m.Doc != "" {
		s.Doc = m.Doc
	}
	if len(m.Parameters) > 0 {
		s.Parameters = m.Parameters
	}
	if m.Default != nil {
		if d, ok := connectDefault(s, m.Default); ok {
			s.Default = d
		}
	}
}

// connectFromProto derives the Connect schema of a message.
func connectFromProto(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*connect.Schema) (*connect.Schema, error) {
	if s, ok := seen[md.FullName()]; ok {
		return s, nil // recursive messages share one schema
	}
	s := &connect.Schema{Type: connect.Struct, Name: string(md.FullName())}
	if strings.HasPrefix(string(md.Name()), "ConnectDefault") {
		s.Name = ""
	}
	seen[md.FullName()] = s
	applyProtoMeta(s, optionString(md.Options(), connectMessageOption))
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		fs, err := connectFromProtoField(fd, seen)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", fd.Name(), err)
		}
		s.Fields = append(s.Fields, connect.Field{Name: string(fd.Name()), Schema: fs})
	}
	return s, nil
}

func connectFromProtoField(fd protoreflect.FieldDescriptor, seen map[protoreflect.FullName]*connect.Schema) (*connect.Schema, error) {
	meta := optionString(fd.Options(), connectFieldOption)
	if fd.IsMap() {
		k, err := protoElem(fd.MapKey(), seen)
		if err != nil {
			return nil, err
		}
		v, err := protoElem(fd.MapValue(), seen)
		if err != nil {
			return nil, err
		}
		return &connect.Schema{Type: connect.Map, Key: k, Value: v}, nil
	}
	if fd.IsList() && fd.Message() != nil && strings.Contains(meta, `"type":"map"`) {
		entry, err := connectFromProto(fd.Message(), seen)
		if err != nil {
			return nil, err
		}
		if len(entry.Fields) != 2 {
			return nil, fmt.Errorf("map entry message %s needs key and value fields", fd.Message().FullName())
		}
		s := &connect.Schema{Type: connect.Map, Key: entry.Fields[0].Schema, Value: entry.Fields[1].Schema}
		applyProtoMeta(s, meta)
		return s, nil
	}
	e, err := protoElem(fd, seen)
	if err != nil {
		return nil, err
	}
	c := *e
	switch confluentParams(fd.Options())["connect.type"] {
	case "int8":
		c.Type = connect.Int8
	case "int16":
		c.Type = connect.Int16
	}
	applyProtoMeta(&c, meta)
	if fd.IsList() {
		return &connect.Schema{Type: connect.Array, Value: &c}, nil
	}
	c.Optional = fd.HasPresence() && !strings.Contains(meta, `"required":true`)
	return &c, nil
}

// protoElem maps a field's element type.
func protoElem(fd protoreflect.FieldDescriptor, seen map[protoreflect.FullName]*connect.Schema) (*connect.Schema, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return &connect.Schema{Type: connect.Boolean}, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return &connect.Schema{Type: connect.Int32}, nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return &connect.Schema{Type: connect.Int64}, nil
	case protoreflect.FloatKind:
		return &connect.Schema{Type: connect.Float32}, nil
	case protoreflect.DoubleKind:
		return &connect.Schema{Type: connect.Float64}, nil
	case protoreflect.StringKind, protoreflect.EnumKind:
		return &connect.Schema{Type: connect.String}, nil
	case protoreflect.BytesKind:
		return &connect.Schema{Type: connect.Bytes}, nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp":
			return &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: 1}, nil
		case "google.type.Date":
			return &connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: 1}, nil
		case "google.type.TimeOfDay":
			return &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: 1}, nil
		case "confluent.type.Decimal":
			// Confluent's ProtobufConverter puts the scale in the field's
			// (confluent.field_meta).params; each value carries it too.
			params := map[string]string{}
			for k, v := range confluentParams(fd.Options()) {
				params[k] = v
			}
			if params["scale"] == "" {
				params["scale"] = "0"
			}
			delete(params, "connect.type")
			return &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: 1, Parameters: params}, nil
		}
		s, err := connectFromProto(fd.Message(), seen)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("unsupported Protobuf kind %s", fd.Kind())
}

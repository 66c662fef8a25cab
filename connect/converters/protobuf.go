package converters

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// Protobuf is Confluent's ProtobufConverter: a struct is written as a
// proto3 message in the Schema Registry wire format (header, message
// indexes, message bytes), its schema derived from the Connect schema and
// registered.
//
// Mapping: int8/int16/int32 int32, int64 int64, float32 float, float64
// double, boolean bool, string string, bytes bytes, optional primitives
// proto3 optional, arrays repeated, maps with integer, boolean or string
// keys map<K, V> (other maps repeated key/value entry messages), structs
// nested messages, Timestamp google.protobuf.Timestamp, Date and Time int32
// (days, milliseconds), Decimal string. What proto3 cannot say (int8,
// logical types, names, versions, parameters, entry maps) is kept in the
// custom options connect_field and connect_message (a JSON object), declared
// in the schema itself, so a Connect schema round-trips through the
// registry; other Protobuf readers ignore them.
//
// Only struct schemas can be written. Reading accepts any message, including
// those of Confluent's ProtobufConverter: imports registered as references
// are fetched, google.protobuf.Timestamp reads as Timestamp,
// google.type.Date as Date, google.type.TimeOfDay as Time,
// confluent.type.Decimal as Decimal, (confluent.field_meta) connect.type
// int8/int16 as such; enums read as strings, other messages as structs.
type Protobuf struct {
	reg registryConfig

	mu      sync.Mutex
	written map[*connect.Schema]protoWriter
	byText  map[string]protoWriter
	read    map[int]protoReaderFile
}

type protoWriter struct {
	text string
	md   protoreflect.MessageDescriptor
}

type protoReaderFile struct {
	fd      protoreflect.FileDescriptor
	schemas map[string]*connect.Schema // by message path "0.1"
}

var protobufSpec = connect.Spec{
	Name:    "protobuf",
	Aliases: []string{"io.confluent.connect.protobuf.ProtobufConverter", "ProtobufConverter"},
	Kind:    connect.ConverterKind,
	Doc:     "Confluent's ProtobufConverter: Protobuf messages in the Schema Registry wire format; the .proto schema is derived from the Connect struct schema and registered.",
	Fields:  append([]connect.FieldSpec(nil), registryFields...),
}

// Configure reads the registry keys.
func (c *Protobuf) Configure(cfg connect.Config, isKey bool) error {
	if err := c.reg.configure(&protobufSpec, cfg, isKey); err != nil {
		return err
	}
	c.written = map[*connect.Schema]protoWriter{}
	c.byText = map[string]protoWriter{}
	c.read = map[int]protoReaderFile{}
	return nil
}

// FromConnect writes value as the message derived from schema.
func (c *Protobuf) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if value == nil && (schema == nil || schema.Optional) {
		return nil, nil
	}
	if schema == nil || schema.Type != connect.Struct {
		return nil, fmt.Errorf("topic %q: the Protobuf converter writes struct values only, got %s", topic, describeSchema(schema))
	}
	w, err := c.writer(schema)
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	ctx, cancel := ctx()
	defer cancel()
	id, latest, err := c.reg.schemaID(ctx, topic, string(w.md.FullName()), srclient.Schema{Schema: w.text, SchemaType: "PROTOBUF"})
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	md := w.md
	if latest != nil {
		if latest.SchemaType != "PROTOBUF" {
			return nil, fmt.Errorf("topic %q: the latest schema of the subject is %q, not PROTOBUF", topic, latest.SchemaType)
		}
		fd, err := compileProtoText(latest.Schema)
		if err != nil {
			return nil, fmt.Errorf("topic %q: latest registered schema: %w", topic, err)
		}
		if fd.Messages().Len() == 0 {
			return nil, fmt.Errorf("topic %q: latest registered schema has no message", topic)
		}
		md = fd.Messages().Get(0)
	}
	sv, ok := value.(*connect.StructValue)
	if !ok {
		return nil, fmt.Errorf("topic %q: expected a struct value, got %T", topic, value)
	}
	m, err := protoFromConnect(md, sv, "")
	if err != nil {
		return nil, fmt.Errorf("topic %q: converting Connect data to Protobuf: %w", topic, err)
	}
	b := serde.AppendMessageIndexes(serde.AppendHeader(make([]byte, 0, 64), id), []int{0})
	if b, err = (proto.MarshalOptions{Deterministic: true}).MarshalAppend(b, m); err != nil {
		return nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	return b, nil
}

func describeSchema(s *connect.Schema) string {
	if s == nil {
		return "schemaless data"
	}
	return string(s.Type)
}

func (c *Protobuf) writer(s *connect.Schema) (protoWriter, error) {
	c.mu.Lock()
	w, ok := c.written[s]
	c.mu.Unlock()
	if ok {
		return w, nil
	}
	text, err := protoSchemaText(s)
	if err != nil {
		return w, err
	}
	// Equal schemas in new *Schema values share one compiled file.
	c.mu.Lock()
	w, ok = c.byText[text]
	c.mu.Unlock()
	if !ok {
		fd, err := compileProtoText(text)
		if err != nil {
			return w, fmt.Errorf("derived Protobuf schema does not compile: %w\n%s", err, text)
		}
		w = protoWriter{text: text, md: fd.Messages().Get(0)}
	}
	c.mu.Lock()
	if len(c.written) > 1000 {
		c.written = map[*connect.Schema]protoWriter{}
	}
	if len(c.byText) > 1000 {
		c.byText = map[string]protoWriter{}
	}
	c.written[s] = w
	c.byText[text] = w
	c.mu.Unlock()
	return w, nil
}

const protoFile = "connect.proto"

func compileProtoText(text string) (protoreflect.FileDescriptor, error) {
	return compileProtoFiles(map[string]string{protoFile: text})
}

// compileProtoFiles compiles protoFile with its imports in srcs (by import
// path); google/protobuf/*.proto need not be there.
func compileProtoFiles(srcs map[string]string) (protoreflect.FileDescriptor, error) {
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(srcs)})}
	files, err := comp.Compile(context.Background(), protoFile)
	if err != nil {
		return nil, err
	}
	return files[0], nil
}

// resolveRefs fetches the schemas a schema imports (references name the
// import path, subject and version), recursively, into srcs. Confluent's
// serializers register confluent/meta.proto, google/type/date.proto ... this
// way.
func (c *Protobuf) resolveRefs(ctx context.Context, refs []srclient.Reference, srcs map[string]string, depth int) error {
	if depth > 32 {
		return fmt.Errorf("schema references nested too deeply")
	}
	for _, r := range refs {
		if _, ok := srcs[r.Name]; ok {
			continue
		}
		var out struct {
			Schema     string               `json:"schema"`
			References []srclient.Reference `json:"references"`
		}
		path := "/subjects/" + url.PathEscape(r.Subject) + "/versions/" + strconv.Itoa(r.Version)
		if err := c.reg.do(ctx, http.MethodGet, path, nil, &out); err != nil {
			return fmt.Errorf("reference %q (subject %q version %d): %w", r.Name, r.Subject, r.Version, err)
		}
		srcs[r.Name] = out.Schema
		if err := c.resolveRefs(ctx, out.References, srcs, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// The field numbers of the custom options carrying Connect metadata.
const (
	connectFieldOption   = 51001
	connectMessageOption = 51002
)

var protoIdentChars = regexp.MustCompile(`[^A-Za-z0-9_]`)

func protoIdent(s string) string {
	s = protoIdentChars.ReplaceAllString(s, "_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

// protoSchemaText derives a proto3 file from a struct schema: the top-level
// message first (message index 0), then the option declarations.
func protoSchemaText(s *connect.Schema) (string, error) {
	g := &protoGen{}
	name, pkg := "ConnectDefault1", ""
	if s.Name != "" {
		if i := strings.LastIndex(s.Name, "."); i >= 0 {
			parts := strings.Split(s.Name[:i], ".")
			for j := range parts {
				parts[j] = protoIdent(parts[j])
			}
			pkg, name = strings.Join(parts, "."), protoIdent(s.Name[i+1:])
		} else {
			name = protoIdent(s.Name)
		}
	}
	var body strings.Builder
	if err := g.message(&body, name, s, ""); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("syntax = \"proto3\";\n")
	if pkg != "" {
		b.WriteString("package " + pkg + ";\n")
	}
	b.WriteString("\nimport \"google/protobuf/descriptor.proto\";\n")
	if g.timestamp {
		b.WriteString("import \"google/protobuf/timestamp.proto\";\n")
	}
	b.WriteString("\n" + body.String())
	fmt.Fprintf(&b, "\n// Connect schema metadata (JSON) that proto3 types cannot carry.\n"+
		"extend google.protobuf.FieldOptions {\n  string connect_field = %d;\n}\n"+
		"extend google.protobuf.MessageOptions {\n  string connect_message = %d;\n}\n", connectFieldOption, connectMessageOption)
	return b.String(), nil
}

type protoGen struct{ timestamp bool }

// meta is the Connect metadata of a schema that its proto type loses.
func protoMeta(s *connect.Schema, lossyType bool) string {
	return protoMetaWith(s, lossyType, false)
}

// protoMetaWith adds "required" for message fields, which proto3 always
// gives presence, and "default" for primitive defaults.
func protoMetaWith(s *connect.Schema, lossyType, required bool) string {
	m := map[string]any{}
	if lossyType {
		m["type"] = string(s.Type)
	}
	if required {
		m["required"] = true
	}
	if s.Default != nil {
		if d, err := avroDefault(s, s.Default); err == nil {
			m["default"] = d
		}
	}
	if s.Name != "" {
		m["name"] = s.Name
	}
	if s.Version != 0 {
		m["version"] = s.Version
	}
	if s.Doc != "" {
		m["doc"] = s.Doc
	}
	if len(s.Parameters) > 0 {
		m["parameters"] = s.Parameters
	}
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (g *protoGen) message(b *strings.Builder, name string, s *connect.Schema, indent string) error {
	fmt.Fprintf(b, "%smessage %s {\n", indent, name)
	if meta := protoMeta(s, false); meta != "" {
		fmt.Fprintf(b, "%s  option (connect_message) = %s;\n", indent, strconv.Quote(meta))
	}
	nested := map[string]bool{}
	var nestedDefs strings.Builder
	for i, f := range s.Fields {
		typ, label, meta, err := g.fieldType(&nestedDefs, nested, f.Name, f.Schema, indent+"  ")
		if err != nil {
			return fmt.Errorf("field %q: %w", f.Name, err)
		}
		line := fmt.Sprintf("%s  %s%s %s = %d", indent, label, typ, protoIdent(f.Name), i+1)
		if meta != "" {
			line += fmt.Sprintf(" [(connect_field) = %s]", strconv.Quote(meta))
		}
		b.WriteString(line + ";\n")
	}
	b.WriteString(nestedDefs.String())
	fmt.Fprintf(b, "%s}\n", indent)
	return nil
}

// nestedName picks a unique name for a nested message.
func nestedName(nested map[string]bool, base string) string {
	name := protoIdent(base)
	for i := 2; nested[name]; i++ {
		name = protoIdent(base) + strconv.Itoa(i)
	}
	nested[name] = true
	return name
}

func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' || r == '.' || r == '-' {
			up = true
			continue
		}
		if up {
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fieldType returns the proto type and label of a field, and its metadata.
func (g *protoGen) fieldType(defs *strings.Builder, nested map[string]bool, field string, s *connect.Schema, indent string) (typ, label, meta string, err error) {
	scalar, lossy, err := g.scalar(s)
	if err != nil {
		return "", "", "", err
	}
	if scalar != "" {
		if scalar == "google.protobuf.Timestamp" {
			return scalar, "", protoMetaWith(s, false, !s.Optional), nil
		}
		if s.Optional {
			label = "optional "
		}
		return scalar, label, protoMeta(s, lossy), nil
	}
	switch s.Type {
	case connect.Struct:
		base := camel(field)
		if s.Name != "" {
			base = s.Name[strings.LastIndex(s.Name, ".")+1:]
		}
		name := nestedName(nested, base)
		if err := g.message(defs, name, s, indent); err != nil {
			return "", "", "", err
		}
		if !s.Optional {
			return name, "", `{"required":true}`, nil
		}
		return name, "", "", nil
	case connect.Array:
		if s.Value.Type == connect.Array || s.Value.Type == connect.Map {
			return "", "", "", fmt.Errorf("Protobuf has no arrays of %ss", s.Value.Type)
		}
		et, _, emeta, err := g.fieldType(defs, nested, field+"Item", s.Value, indent)
		if err != nil {
			return "", "", "", err
		}
		return et, "repeated ", emeta, nil
	case connect.Map:
		kt, klossy, err := g.scalar(s.Key)
		if err != nil {
			return "", "", "", err
		}
		nativeKey := logicalName(s.Key) == "" && !s.Key.Optional && !klossy &&
			(kt == "int32" || kt == "int64" || kt == "string" || kt == "bool")
		vscalar, vlossy, _ := g.scalar(s.Value)
		if nativeKey && s.Value.Type != connect.Array && s.Value.Type != connect.Map && !s.Value.Optional &&
			!vlossy && (vscalar != "" || s.Value.Type == connect.Struct) && s.Value.Default == nil {
			// proto3 map values cannot carry options: only values whose
			// proto type says everything go in a native map.
			vt, _, _, err := g.fieldType(defs, nested, field+"Value", s.Value, indent)
			if err != nil {
				return "", "", "", err
			}
			return fmt.Sprintf("map<%s, %s>", kt, vt), "", "", nil
		}
		entry := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{{Name: "key", Schema: s.Key}, {Name: "value", Schema: s.Value}}}
		name := nestedName(nested, camel(field)+"Entry")
		if err := g.message(defs, name, entry, indent); err != nil {
			return "", "", "", err
		}
		return name, "repeated ", protoMeta(s, true), nil
	}
	return "", "", "", fmt.Errorf("unknown schema type %q", s.Type)
}

// scalar maps primitive and logical schemas; lossy says the proto type
// does not identify the Connect type.
func (g *protoGen) scalar(s *connect.Schema) (string, bool, error) {
	switch logicalName(s) {
	case connect.TimestampName:
		g.timestamp = true
		return "google.protobuf.Timestamp", false, nil
	case connect.DateName, connect.TimeName:
		return "int32", true, nil
	case connect.DecimalName:
		return "string", true, nil
	}
	switch s.Type {
	case connect.Int8, connect.Int16:
		return "int32", true, nil
	case connect.Int32:
		return "int32", false, nil
	case connect.Int64:
		return "int64", false, nil
	case connect.Float32:
		return "float", false, nil
	case connect.Float64:
		return "double", false, nil
	case connect.Boolean:
		return "bool", false, nil
	case connect.String:
		return "string", false, nil
	case connect.Bytes:
		return "bytes", false, nil
	}
	return "", false, nil
}

// protoFromConnect builds a message of md from a struct, by field name.
func protoFromConnect(md protoreflect.MessageDescriptor, sv *connect.StructValue, path string) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	fields := md.Fields()
	for i, f := range sv.Schema.Fields {
		v := sv.Values[i]
		if v == nil {
			v = f.Schema.Default
		}
		fd := fields.ByName(protoreflect.Name(protoIdent(f.Name)))
		if fd == nil {
			return nil, fmt.Errorf("%smessage %s has no field %q", where(path), md.FullName(), f.Name)
		}
		if v == nil {
			if !f.Schema.Optional {
				return nil, fmt.Errorf("%sinvalid null value for required %s field", where(joinPath(path, f.Name)), f.Schema.Type)
			}
			continue
		}
		p := joinPath(path, f.Name)
		switch {
		case fd.IsMap():
			mm := m.Mutable(fd).Map()
			var err error
			each := func(k, x any) {
				if err != nil {
					return
				}
				var kv, vv protoreflect.Value
				if kv, err = protoScalar(fd.MapKey(), k, p); err != nil {
					return
				}
				if x, err = preScalar(f.Schema.Value, x); err != nil {
					return
				}
				if vv, err = protoValue(fd.MapValue(), mm.NewValue, x, p); err != nil {
					return
				}
				mm.Set(kv.MapKey(), vv)
			}
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					each(k, e)
				}
			case map[any]any:
				for k, e := range x {
					each(k, e)
				}
			default:
				return nil, fmt.Errorf("%sexpected a map, got %T", where(p), v)
			}
			if err != nil {
				return nil, err
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			if mv, ok := v.(map[any]any); ok && fd.Message() != nil { // entry messages
				keys := make([]any, 0, len(mv))
				for k := range mv {
					keys = append(keys, k)
				}
				sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
				es := connect.NewStruct(&connect.Schema{Type: connect.Struct, Fields: []connect.Field{
					{Name: "key", Schema: f.Schema.Key}, {Name: "value", Schema: f.Schema.Value}}})
				for _, k := range keys {
					es.Values[0], es.Values[1] = k, mv[k]
					em, err := protoFromConnect(fd.Message(), es, p)
					if err != nil {
						return nil, err
					}
					l.Append(protoreflect.ValueOfMessage(em))
				}
				continue
			}
			xs, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%sexpected an array, got %T", where(p), v)
			}
			for j, e := range xs {
				if e == nil {
					return nil, fmt.Errorf("%s[%d]: Protobuf repeated fields cannot hold null", p, j)
				}
				e, err := preScalar(f.Schema.Value, e)
				if err != nil {
					return nil, fmt.Errorf("%s[%d]: %w", p, j, err)
				}
				pv, err := protoValue(fd, l.NewElement, e, fmt.Sprintf("%s[%d]", p, j))
				if err != nil {
					return nil, err
				}
				l.Append(pv)
			}
		default:
			v, err := preScalar(f.Schema, v)
			if err != nil {
				return nil, fmt.Errorf("%s%w", where(p), err)
			}
			pv, err := protoValue(fd, func() protoreflect.Value { return m.NewField(fd) }, v, p)
			if err != nil {
				return nil, err
			}
			m.Set(fd, pv)
		}
	}
	return m, nil
}

// preScalar turns the logical values proto3 lacks into what they are
// written as: Date and Time as int32, Decimal as its text.
func preScalar(s *connect.Schema, v any) (any, error) {
	switch logicalName(s) {
	case connect.DateName, connect.TimeName:
		return logicalToInt(s.Name, v)
	case connect.DecimalName:
		scale, err := decimalScale(s)
		if err != nil {
			return nil, err
		}
		d, err := decOf(v, scale)
		if err != nil {
			return nil, err
		}
		return d.String(), nil
	}
	return v, nil
}

// protoValue converts one singular value (or list element) for fd.
func protoValue(fd protoreflect.FieldDescriptor, newMsg func() protoreflect.Value, v any, path string) (protoreflect.Value, error) {
	if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
		return protoScalar(fd, v, path)
	}
	if fd.Message().FullName() == "google.protobuf.Timestamp" {
		t, err := timeOf(v)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%s%w", where(path), err)
		}
		ts := timestamppb.New(t)
		m := newMsg().Message()
		m.Set(fd.Message().Fields().ByName("seconds"), protoreflect.ValueOfInt64(ts.Seconds))
		m.Set(fd.Message().Fields().ByName("nanos"), protoreflect.ValueOfInt32(ts.Nanos))
		return protoreflect.ValueOfMessage(m), nil
	}
	sv, ok := v.(*connect.StructValue)
	if !ok {
		return protoreflect.Value{}, fmt.Errorf("%sexpected a struct for message %s, got %T", where(path), fd.Message().FullName(), v)
	}
	m, err := protoFromConnect(fd.Message(), sv, path)
	if err != nil {
		return protoreflect.Value{}, err
	}
	return protoreflect.ValueOfMessage(m), nil
}

func protoScalar(fd protoreflect.FieldDescriptor, v any, path string) (protoreflect.Value, error) {
	bad := func() (protoreflect.Value, error) {
		return protoreflect.Value{}, fmt.Errorf("%sProtobuf %s cannot hold %T", where(path), fd.Kind(), v)
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := intOf(connect.Int32, v)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%s%w", where(path), err)
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, ok := asInt64(v)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, ok := asInt64(v)
		if !ok || n < 0 || n > 1<<32-1 {
			return bad()
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, ok := asInt64(v)
		if !ok || n < 0 {
			return bad()
		}
		return protoreflect.ValueOfUint64(uint64(n)), nil
	case protoreflect.FloatKind:
		f, ok := asFloat64(v)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfFloat32(float32(f)), nil
	case protoreflect.DoubleKind:
		f, ok := asFloat64(v)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.BoolKind:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfBool(b), nil
	case protoreflect.StringKind:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BytesKind:
		b, ok := v.([]byte)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfBytes(b), nil
	case protoreflect.EnumKind:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		ev := fd.Enum().Values().ByName(protoreflect.Name(s))
		if ev == nil {
			return protoreflect.Value{}, fmt.Errorf("%s%q is not a value of enum %s", where(path), s, fd.Enum().FullName())
		}
		return protoreflect.ValueOfEnum(ev.Number()), nil
	}
	return bad()
}

// ToConnect decodes a message with the writer schema from the registry.
func (c *Protobuf) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	id, rest, err := serde.SplitHeader(data)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	f, err := c.readerFile(id)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	idx, payload, err := serde.ReadMessageIndexes(rest)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	md, err := messageByIndexes(f.fd, idx)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: schema id %d: %w", topic, id, err)
	}
	key := fmt.Sprint(idx)
	c.mu.Lock()
	cs, ok := f.schemas[key]
	c.mu.Unlock()
	if !ok {
		if cs, err = connectFromProto(md, map[protoreflect.FullName]*connect.Schema{}); err != nil {
			return nil, nil, fmt.Errorf("topic %q: schema id %d: %w", topic, id, err)
		}
		c.mu.Lock()
		f.schemas[key] = cs
		c.mu.Unlock()
	}
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(payload, m); err != nil {
		return nil, nil, fmt.Errorf("topic %q: decoding Protobuf %s (schema id %d): %w", topic, md.FullName(), id, err)
	}
	v, err := connectFromMessage(m, cs)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	return cs, v, nil
}

func (c *Protobuf) readerFile(id int) (protoReaderFile, error) {
	c.mu.Lock()
	f, ok := c.read[id]
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	ctx, cancel := ctx()
	defer cancel()
	s, err := c.reg.client.SchemaByID(ctx, id)
	if err != nil {
		return f, err
	}
	if s.SchemaType != "PROTOBUF" {
		return f, fmt.Errorf("schema id %d is %q, not PROTOBUF", id, s.SchemaType)
	}
	srcs := map[string]string{protoFile: s.Schema}
	if err := c.resolveRefs(ctx, s.References, srcs, 0); err != nil {
		return f, fmt.Errorf("schema id %d: %w", id, err)
	}
	fd, err := compileProtoFiles(srcs)
	if err != nil {
		return f, fmt.Errorf("schema id %d: %w", id, err)
	}
	f = protoReaderFile{fd: fd, schemas: map[string]*connect.Schema{}}
	c.mu.Lock()
	c.read[id] = f
	c.mu.Unlock()
	return f, nil
}

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

// connectFromMessage converts a decoded message to a struct of schema s.
func connectFromMessage(m protoreflect.Message, s *connect.Schema) (*connect.StructValue, error) {
	sv := connect.NewStruct(s)
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		fs := s.Fields[i].Schema
		if fd.HasPresence() && !m.Has(fd) && !fd.IsList() && !fd.IsMap() {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			if fs.Key.Type == connect.String {
				out := map[string]any{}
				var err error
				v.Map().Range(func(k protoreflect.MapKey, x protoreflect.Value) bool {
					var cv any
					cv, err = connectFromProtoValue(fd.MapValue(), x, fs.Value)
					out[k.String()] = cv
					return err == nil
				})
				if err != nil {
					return nil, err
				}
				sv.Values[i] = out
				continue
			}
			out := map[any]any{}
			var err error
			v.Map().Range(func(k protoreflect.MapKey, x protoreflect.Value) bool {
				var ck, cv any
				if ck, err = connectFromProtoValue(fd.MapKey(), k.Value(), fs.Key); err != nil {
					return false
				}
				cv, err = connectFromProtoValue(fd.MapValue(), x, fs.Value)
				out[ck] = cv
				return err == nil
			})
			if err != nil {
				return nil, err
			}
			sv.Values[i] = out
		case fd.IsList() && fs.Type == connect.Map:
			out := map[any]any{}
			l := v.List()
			for j := 0; j < l.Len(); j++ {
				e, err := connectFromMessage(l.Get(j).Message(), &connect.Schema{Type: connect.Struct,
					Fields: []connect.Field{{Name: "key", Schema: fs.Key}, {Name: "value", Schema: fs.Value}}})
				if err != nil {
					return nil, err
				}
				if !comparable(e.Values[0]) {
					return nil, fmt.Errorf("field %s: map key of type %T cannot be a Go map key", fd.Name(), e.Values[0])
				}
				out[e.Values[0]] = e.Values[1]
			}
			sv.Values[i] = out
		case fd.IsList():
			l := v.List()
			out := make([]any, l.Len())
			for j := range out {
				x, err := connectFromProtoValue(fd, l.Get(j), fs.Value)
				if err != nil {
					return nil, err
				}
				out[j] = x
			}
			sv.Values[i] = out
		default:
			x, err := connectFromProtoValue(fd, v, fs)
			if err != nil {
				return nil, err
			}
			sv.Values[i] = x
		}
	}
	return sv, nil
}

func connectFromProtoValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, s *connect.Schema) (any, error) {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		get := func(name string) protoreflect.Value {
			f := fd.Message().Fields().ByName(protoreflect.Name(name))
			if f == nil {
				return protoreflect.ValueOfInt64(0)
			}
			return m.Get(f)
		}
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp":
			return time.Unix(get("seconds").Int(), get("nanos").Int()).UTC().Truncate(time.Millisecond), nil
		case "google.type.Date":
			return time.Date(int(get("year").Int()), time.Month(get("month").Int()), int(get("day").Int()), 0, 0, 0, 0, time.UTC), nil
		case "google.type.TimeOfDay":
			return time.Date(1970, 1, 1, int(get("hours").Int()), int(get("minutes").Int()), int(get("seconds").Int()),
				int(get("nanos").Int())/1e6*1e6, time.UTC), nil
		case "confluent.type.Decimal":
			d := types.Dec{Unscaled: fromTwosComplement(get("value").Bytes()), Scale: int(get("scale").Int())}
			if scale, err := decimalScale(s); err == nil && scale != d.Scale {
				return decOf(d, scale)
			}
			return d, nil
		}
		return connectFromMessage(m, s)
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return strconv.Itoa(int(v.Enum())), nil
	case protoreflect.BoolKind:
		return v.Bool(), nil
	case protoreflect.StringKind:
		if logicalName(s) == connect.DecimalName {
			scale, err := decimalScale(s)
			if err != nil {
				return nil, err
			}
			return decOf(v.String(), scale)
		}
		return v.String(), nil
	case protoreflect.BytesKind:
		return append([]byte{}, v.Bytes()...), nil
	case protoreflect.FloatKind:
		return float32(v.Float()), nil
	case protoreflect.DoubleKind:
		return v.Float(), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return int64(v.Uint()), nil
	}
	n := v.Int()
	switch logicalName(s) {
	case connect.DateName, connect.TimeName:
		return intToLogical(s.Name, n), nil
	}
	if _, err := intOf(s.Type, n); err != nil {
		return nil, fmt.Errorf("field %s: %w", fd.Name(), err)
	}
	return typedInt(s.Type, n), nil
}

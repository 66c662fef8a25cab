package converters

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
)

// Protobuf is Confluent's ProtobufConverter: a struct is written as a
// proto3 message in the Schema Registry wire format (header, message
// indexes, message bytes), its schema derived from the Connect schema and
// registered.
//
// Mapping: int8/int16/int32 int32, int64 int64, float32 float, float64
// double, boolean bool, string string, bytes bytes, optional primitives
// proto3 optional, arrays repeated, maps with integer, boolean or string
// keys map<K, V> (other maps repeated key/value entry messages), named
// structs top-level messages defined once, unnamed ones nested messages,
// Timestamp google.protobuf.Timestamp, Date and Time int32 (days,
// milliseconds), Decimal string. What proto3 cannot say (int8,
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

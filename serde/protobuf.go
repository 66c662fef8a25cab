package serde

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicedata/sluice/serde/rules"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// DefaultProtobufMessageName is the top-level message name of the schemas
// Protobuf registers: the name Kafka Connect's ProtobufData (which ksqlDB
// uses) gives an unnamed STRUCT. Nested STRUCTs become messages
// ConnectDefault2, ConnectDefault3 ... declared inside their parent, in
// field order (depth first).
const DefaultProtobufMessageName = "ConnectDefault1"

// Protobuf is ksqlDB's PROTOBUF format: Protobuf binary in the Confluent wire
// format (magic byte, schema id, message indexes), schemas kept in a schema
// registry with schemaType PROTOBUF.
//
// Rows are always messages: PROTOBUF has no unwrapped single values (as in
// ksqlDB), so keys and values are written as the row STRUCT, and the type
// given to Serializer and Deserializer must be a STRUCT.
//
// Serializers derive a proto3 schema from the SQL type, field numbers 1..n in
// column order: BOOLEAN bool, INT int32, BIGINT int64, DOUBLE double, STRING
// string, BYTES bytes, DECIMAL string (the plain decimal text, e.g. "1.50",
// lossless and without an import), DATE int32 (days since 1970-01-01), TIME
// int32 (milliseconds since midnight), TIMESTAMP google.protobuf.Timestamp,
// ARRAY repeated, MAP map<string, T>, STRUCT a nested message. Scalar fields
// are proto3 "optional" (ksqlDB's nullable.representation=OPTIONAL) so that
// NULL columns survive; message fields have presence anyway. Protobuf cannot
// hold NULL inside repeated fields and maps: a NULL ARRAY or MAP is written
// as empty (and reads back empty), and a NULL array element or map value is
// an error. ARRAY and MAP values that are themselves ARRAY or MAP have no
// proto3 form and are rejected.
//
// Deserializers read the schema id, fetch the writer schema (cached),
// compile it (the google/protobuf well-known imports are available; schema
// references are not supported yet), pick the message the indexes name, and
// decode with dynamicpb. Columns match fields by name, exactly then
// case-insensitively. A column without a field is NULL; an unset field with
// presence (optional, message, oneof member) is NULL; an unset proto3 field
// without presence reads as its proto3 default (0, "", false, empty). Integer
// fields of any width read as INT (range checked), BIGINT, DOUBLE, DATE, TIME
// or TIMESTAMP (milliseconds); float as DOUBLE; enums as STRING (the value
// name); strings as DECIMAL (parsed, rescaled to the column's scale);
// google.protobuf wrapper messages (Int32Value ...) as their value and
// google.protobuf.Timestamp as TIMESTAMP (truncated to milliseconds).
type Protobuf struct {
	// Client reaches the schema registry. Required.
	Client *srclient.Client
	// Strategy names subjects; nil means TopicName. RecordName and
	// TopicRecordName use the message's full name.
	Strategy SubjectNameStrategy
	// MessageName is the top-level message's full name; a dotted name
	// ("com.acme.Order") sets the package. "" means
	// DefaultProtobufMessageName.
	MessageName string
	// UseLatestVersion and LatestWithMetadata write with the subject's
	// latest registered schema (or the newest with these metadata
	// properties), its id and rules, as Avro's. The message is the one
	// named MessageName, or the file's first; columns match fields by name.
	UseLatestVersion   bool
	LatestWithMetadata map[string]string
	// SchemaIDInHeader puts schema ids (and message indexes) in headers,
	// as Avro.SchemaIDInHeader.
	SchemaIDInHeader bool
	// Rules runs data-contract rules, as Avro.Rules.
	Rules *rules.Executor
}

func (f Protobuf) strategy() SubjectNameStrategy {
	if f.Strategy == nil {
		return TopicName
	}
	return f.Strategy
}

// Name is "PROTOBUF".
func (Protobuf) Name() string { return "PROTOBUF" }

// Serializer implements Format.
func (f Protobuf) Serializer(t types.Type, key bool) (Serializer, error) {
	if f.Client == nil {
		return nil, fmt.Errorf("PROTOBUF needs a schema registry client")
	}
	name := f.MessageName
	if name == "" {
		name = DefaultProtobufMessageName
	}
	text, err := ProtobufSchema(t, name)
	if err != nil {
		return nil, err
	}
	fd, err := compileProto(text, nil)
	if err != nil {
		return nil, fmt.Errorf("PROTOBUF schema for %s: %w", t, err)
	}
	k, err := newContract(f.Client, f.Rules)
	if err != nil {
		return nil, err
	}
	return &protoSerializer{c: f.Client, strategy: f.strategy(), key: key, name: name, t: t, text: text,
		md: fd.Messages().Get(0), k: k, inHeader: f.SchemaIDInHeader, f: f, ids: map[string]int{},
		latest: map[string]latestProto{}}, nil
}

type protoSerializer struct {
	c        *srclient.Client
	strategy SubjectNameStrategy
	key      bool
	name     string
	t        types.Type
	text     string
	md       protoreflect.MessageDescriptor
	k        *contract
	inHeader bool
	f        Protobuf

	mu     sync.Mutex
	ids    map[string]int
	latest map[string]latestProto // subject -> latest schema (UseLatestVersion)
}

type latestProto struct {
	id      int
	md      protoreflect.MessageDescriptor
	indexes []int
}

// latestMessage finds the message to write for subject with
// UseLatestVersion or LatestWithMetadata (once per subject).
func (s *protoSerializer) latestMessage(ctx context.Context, subject string) (latestProto, error) {
	s.mu.Lock()
	l, ok := s.latest[subject]
	s.mu.Unlock()
	if ok {
		return l, nil
	}
	var sv srclient.SubjectVersion
	var err error
	if len(s.f.LatestWithMetadata) > 0 {
		sv, err = s.c.LatestWithMetadata(ctx, subject, s.f.LatestWithMetadata)
	} else {
		sv, err = s.c.Version(ctx, subject, -1)
	}
	if err != nil {
		return l, err
	}
	if sv.SchemaType != "PROTOBUF" {
		return l, fmt.Errorf("PROTOBUF: the latest schema of subject %q is not a Protobuf schema", subject)
	}
	refs, err := fetchRefs(ctx, s.c, sv.References)
	if err != nil {
		return l, fmt.Errorf("PROTOBUF: schema id %d: %w", sv.ID, err)
	}
	fd, err := compileProto(sv.Schema.Schema, protoImports(refs))
	if err != nil {
		return l, fmt.Errorf("PROTOBUF: schema id %d: %w", sv.ID, err)
	}
	md, path, err := messagePath(fd, s.f.MessageName)
	if err != nil {
		return l, fmt.Errorf("PROTOBUF: schema id %d: %w", sv.ID, err)
	}
	l = latestProto{id: sv.ID, md: md, indexes: path}
	s.mu.Lock()
	s.latest[subject] = l
	s.mu.Unlock()
	return l, nil
}

func (s *protoSerializer) Serialize(ctx context.Context, topic string, v types.Value) ([]byte, error) {
	b, _, err := s.serialize(ctx, topic, v, false)
	return b, err
}

// SerializeWithHeaders implements HeaderSerializer.
func (s *protoSerializer) SerializeWithHeaders(ctx context.Context, topic string, v types.Value) ([]byte, []Header, error) {
	return s.serialize(ctx, topic, v, s.inHeader)
}

func (s *protoSerializer) serialize(ctx context.Context, topic string, v types.Value, inHeader bool) ([]byte, []Header, error) {
	if err := check(s.t, v); err != nil {
		return nil, nil, err
	}
	if v == nil {
		return nil, nil, nil
	}
	subject := s.strategy(topic, s.key, s.name)
	useLatest := s.f.UseLatestVersion || len(s.f.LatestWithMetadata) > 0
	var latest latestProto
	var id int
	if useLatest {
		var err error
		if latest, err = s.latestMessage(ctx, subject); err != nil {
			return nil, nil, err
		}
		id = latest.id
	} else {
		s.mu.Lock()
		var ok bool
		id, ok = s.ids[subject]
		s.mu.Unlock()
		if !ok {
			var err error
			if id, err = s.c.Register(ctx, subject, srclient.Schema{Schema: s.text, SchemaType: "PROTOBUF"}); err != nil {
				return nil, nil, err
			}
			s.mu.Lock()
			s.ids[subject] = id
			s.mu.Unlock()
		}
	}
	root, indexes := s.name, []int{0}
	if useLatest {
		root, indexes = string(latest.md.FullName()), latest.indexes
	}
	v, err := s.k.write(ctx, record{id: id, subject: subject, topic: topic, key: s.key, root: root, t: s.t}, v)
	if err != nil {
		return nil, nil, err
	}
	sv, ok := v.(types.StructVal)
	if !ok {
		return nil, nil, fmt.Errorf("PROTOBUF: a rule turned the message into %T", v)
	}
	var m *dynamicpb.Message
	if useLatest {
		m, err = protoMessageAs(latest.md, s.t, sv, "")
	} else {
		m, err = protoMessage(s.md, s.t, sv)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("PROTOBUF: %w", err)
	}
	b, hs, err := schemaIDPrefix(ctx, s.c, id, s.key, inHeader, indexes)
	if err != nil {
		return nil, nil, err
	}
	b, err = proto.MarshalOptions{Deterministic: true}.MarshalAppend(b, m)
	return b, hs, err
}

// Deserializer implements Format.
func (f Protobuf) Deserializer(t types.Type, key bool) (Deserializer, error) {
	if f.Client == nil {
		return nil, fmt.Errorf("PROTOBUF needs a schema registry client")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.Kind != types.Struct {
		return nil, fmt.Errorf("PROTOBUF: a row must be a STRUCT, not %s", t)
	}
	k, err := newContract(f.Client, f.Rules)
	if err != nil {
		return nil, err
	}
	return &protoDeserializer{c: f.Client, strategy: f.strategy(), key: key, t: t, k: k}, nil
}

type protoDeserializer struct {
	c        *srclient.Client
	strategy SubjectNameStrategy
	key      bool
	t        types.Type
	k        *contract
	files    sync.Map // id -> protoreflect.FileDescriptor
}

func (d *protoDeserializer) Deserialize(ctx context.Context, topic string, b []byte) (types.Value, error) {
	return d.DeserializeWithHeaders(ctx, topic, nil, b)
}

// DeserializeWithHeaders implements HeaderDeserializer.
func (d *protoDeserializer) DeserializeWithHeaders(ctx context.Context, topic string, headers []Header, b []byte) (types.Value, error) {
	if b == nil {
		return nil, nil
	}
	loc, err := locateSchemaID(ctx, d.c, d.key, headers, b)
	if err != nil {
		return nil, err
	}
	id, payload := loc.id, loc.payload
	var path []int
	if loc.indexes != nil { // the indexes follow the id in the header
		path, _, err = ReadMessageIndexes(loc.indexes)
	} else {
		path, payload, err = ReadMessageIndexes(payload)
	}
	if err != nil {
		return nil, err
	}
	fd, err := d.file(ctx, id)
	if err != nil {
		return nil, err
	}
	md, err := messageAt(fd, path)
	if err != nil {
		return nil, fmt.Errorf("PROTOBUF (schema id %d): %w", id, err)
	}
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(payload, m); err != nil {
		return nil, fmt.Errorf("PROTOBUF (schema id %d): %w", id, err)
	}
	v, err := protoRead(m, d.t)
	if err != nil {
		return nil, fmt.Errorf("PROTOBUF (schema id %d): %w", id, err)
	}
	name := string(md.FullName())
	return d.k.read(ctx, record{id: id, subject: d.strategy(topic, d.key, name), topic: topic, key: d.key, root: name, t: d.t}, v, b)
}

func (d *protoDeserializer) file(ctx context.Context, id int) (protoreflect.FileDescriptor, error) {
	if fd, ok := d.files.Load(id); ok {
		return fd.(protoreflect.FileDescriptor), nil
	}
	rs, err := d.c.SchemaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if rs.SchemaType != "PROTOBUF" {
		return nil, fmt.Errorf("PROTOBUF: schema id %d is not a Protobuf schema", id)
	}
	refs, err := fetchRefs(ctx, d.c, rs.References)
	if err != nil {
		return nil, fmt.Errorf("PROTOBUF: schema id %d: %w", id, err)
	}
	fd, err := compileProto(rs.Schema, protoImports(refs))
	if err != nil {
		return nil, fmt.Errorf("PROTOBUF: schema id %d: %w", id, err)
	}
	d.files.Store(id, fd)
	return fd, nil
}

func messageAt(fd protoreflect.FileDescriptor, path []int) (protoreflect.MessageDescriptor, error) {
	msgs := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range path {
		if i >= msgs.Len() {
			return nil, fmt.Errorf("message indexes %v name no message", path)
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	return md, nil
}

const protoFileName = "sluice-writer-schema.proto"

// compileProto compiles text; imports maps the paths it imports (other than
// Google's well-known files) to their texts.
func compileProto(text string, imports map[string]string) (protoreflect.FileDescriptor, error) {
	sources := map[string]string{protoFileName: text}
	for name, t := range imports {
		sources[name] = t
	}
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(sources)})}
	files, err := c.Compile(context.Background(), protoFileName)
	if err != nil {
		return nil, err
	}
	return files[0], nil
}

var protoIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ProtobufSchema returns the proto3 schema text Protobuf registers for the
// STRUCT t, with top-level message fullName (see Protobuf).
func ProtobufSchema(t types.Type, fullName string) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	if t.Kind != types.Struct {
		return "", fmt.Errorf("PROTOBUF: a row must be a STRUCT, not %s", t)
	}
	pkg, name := "", fullName
	if i := strings.LastIndexByte(fullName, '.'); i >= 0 {
		pkg, name = fullName[:i], fullName[i+1:]
		for _, p := range strings.Split(pkg, ".") {
			if !protoIdent.MatchString(p) {
				return "", fmt.Errorf("PROTOBUF: invalid message name %q", fullName)
			}
		}
	}
	if !protoIdent.MatchString(name) {
		return "", fmt.Errorf("PROTOBUF: invalid message name %q", fullName)
	}
	g := &protoGen{next: 2}
	body, err := g.message(name, t, "")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("syntax = \"proto3\";\n")
	if pkg != "" {
		fmt.Fprintf(&b, "package %s;\n", pkg)
	}
	if g.timestamp {
		b.WriteString("\nimport \"google/protobuf/timestamp.proto\";\n")
	}
	b.WriteString("\n")
	b.WriteString(body)
	return b.String(), nil
}

type protoGen struct {
	next      int
	timestamp bool
}

func (g *protoGen) message(name string, t types.Type, indent string) (string, error) {
	var fields, nested strings.Builder
	for i, f := range t.Fields {
		if !protoIdent.MatchString(f.Name) {
			return "", fmt.Errorf("PROTOBUF: field name %q is not a valid Protobuf identifier", f.Name)
		}
		label, typ, err := g.fieldType(f.Name, f.Type, indent+"  ", &nested)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&fields, "%s  %s%s %s = %d;\n", indent, label, typ, f.Name, i+1)
	}
	s := fmt.Sprintf("%smessage %s {\n%s", indent, name, fields.String())
	if nested.Len() > 0 {
		s += "\n" + nested.String()
	}
	return s + indent + "}\n", nil
}

// fieldType returns the label ("optional ", "repeated " or "") and type of a
// field of type t, appending any nested message to nested.
func (g *protoGen) fieldType(field string, t types.Type, indent string, nested *strings.Builder) (string, string, error) {
	switch t.Kind {
	case types.Array, types.Map:
		if t.Elem.Kind == types.Array || t.Elem.Kind == types.Map {
			return "", "", fmt.Errorf("PROTOBUF: field %s: %s has no proto3 form (nested ARRAY or MAP)", field, t)
		}
		_, e, err := g.fieldType(field, *t.Elem, indent, nested)
		if err != nil {
			return "", "", err
		}
		if t.Kind == types.Array {
			return "repeated ", e, nil
		}
		return "", "map<string, " + e + ">", nil
	case types.Struct:
		name := fmt.Sprintf("ConnectDefault%d", g.next)
		g.next++
		body, err := g.message(name, t, indent)
		if err != nil {
			return "", "", err
		}
		if nested.Len() > 0 {
			nested.WriteString("\n")
		}
		nested.WriteString(body)
		return "", name, nil
	case types.Timestamp:
		g.timestamp = true
		return "", "google.protobuf.Timestamp", nil
	}
	s, ok := protoScalars[t.Kind]
	if !ok {
		return "", "", fmt.Errorf("PROTOBUF: unsupported type %s", t)
	}
	return "optional ", s, nil
}

var protoScalars = map[types.Kind]string{
	types.Boolean: "bool", types.Int: "int32", types.Bigint: "int64", types.Double: "double",
	types.String: "string", types.Bytes: "bytes", types.Decimal: "string", types.Date: "int32", types.Time: "int32",
}

// protoMessage builds the message md of the STRUCT value v of type t; md's
// fields are t's fields in order.
func protoMessage(md protoreflect.MessageDescriptor, t types.Type, v types.StructVal) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	for i, f := range t.Fields {
		fd := md.Fields().Get(i)
		fv := v[i].Value
		if fv == nil {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for _, e := range fv.([]types.Value) {
				if e == nil {
					return nil, fmt.Errorf("field %s: NULL array elements cannot be written", f.Name)
				}
				pv, err := protoValue(fd, *f.Type.Elem, e)
				if err != nil {
					return nil, err
				}
				l.Append(pv)
			}
		case fd.IsMap():
			mm := m.Mutable(fd).Map()
			for k, e := range fv.(map[string]types.Value) {
				if e == nil {
					return nil, fmt.Errorf("field %s: NULL map values cannot be written", f.Name)
				}
				pv, err := protoValue(fd.MapValue(), *f.Type.Elem, e)
				if err != nil {
					return nil, err
				}
				mm.Set(protoreflect.ValueOfString(k).MapKey(), pv)
			}
		default:
			pv, err := protoValue(fd, f.Type, fv)
			if err != nil {
				return nil, err
			}
			m.Set(fd, pv)
		}
	}
	return m, nil
}

func protoValue(fd protoreflect.FieldDescriptor, t types.Type, v types.Value) (protoreflect.Value, error) {
	switch t.Kind {
	case types.Boolean:
		return protoreflect.ValueOfBool(v.(bool)), nil
	case types.Int:
		return protoreflect.ValueOfInt32(v.(int32)), nil
	case types.Bigint:
		return protoreflect.ValueOfInt64(v.(int64)), nil
	case types.Double:
		return protoreflect.ValueOfFloat64(v.(float64)), nil
	case types.String:
		return protoreflect.ValueOfString(v.(string)), nil
	case types.Bytes:
		return protoreflect.ValueOfBytes(v.([]byte)), nil
	case types.Decimal:
		return protoreflect.ValueOfString(v.(types.Dec).String()), nil
	case types.Date:
		return protoreflect.ValueOfInt32(int32(v.(types.DateVal))), nil
	case types.Time:
		return protoreflect.ValueOfInt32(int32(v.(types.TimeVal))), nil
	case types.Timestamp:
		ms := int64(v.(types.TimestampVal))
		sec, rem := ms/1000, ms%1000
		if rem < 0 {
			sec, rem = sec-1, rem+1000
		}
		m := dynamicpb.NewMessage(fd.Message())
		fs := fd.Message().Fields()
		m.Set(fs.ByName("seconds"), protoreflect.ValueOfInt64(sec))
		m.Set(fs.ByName("nanos"), protoreflect.ValueOfInt32(int32(rem*1e6)))
		return protoreflect.ValueOfMessage(m), nil
	case types.Struct:
		m, err := protoMessage(fd.Message(), t, v.(types.StructVal))
		if err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfMessage(m), nil
	}
	return protoreflect.Value{}, fmt.Errorf("unsupported type %s", t)
}

// protoField finds the field of md for a column: exact name, then
// case-insensitive.
func protoField(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fs := md.Fields()
	if fd := fs.ByName(protoreflect.Name(name)); fd != nil {
		return fd
	}
	for i := 0; i < fs.Len(); i++ {
		if strings.EqualFold(string(fs.Get(i).Name()), name) {
			return fs.Get(i)
		}
	}
	return nil
}

// protoRead maps message m to a value of the STRUCT type t.
func protoRead(m protoreflect.Message, t types.Type) (types.StructVal, error) {
	out := make(types.StructVal, len(t.Fields))
	md := m.Descriptor()
	for i, f := range t.Fields {
		out[i].Name = f.Name
		fd := protoField(md, f.Name)
		if fd == nil {
			continue
		}
		v, err := protoReadField(m, fd, f.Type)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		out[i].Value = v
	}
	return out, nil
}

func protoReadField(m protoreflect.Message, fd protoreflect.FieldDescriptor, t types.Type) (types.Value, error) {
	switch {
	case fd.IsList():
		if t.Kind != types.Array {
			return nil, fmt.Errorf("repeated field read as %s", t)
		}
		l := m.Get(fd).List()
		out := make([]types.Value, l.Len())
		for i := range out {
			v, err := protoConvert(fd, l.Get(i), *t.Elem)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case fd.IsMap():
		if t.Kind != types.Map {
			return nil, fmt.Errorf("map field read as %s", t)
		}
		out := map[string]types.Value{}
		var err error
		m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			var e types.Value
			if e, err = protoConvert(fd.MapValue(), v, *t.Elem); err != nil {
				return false
			}
			out[k.String()] = e
			return true
		})
		return out, err
	}
	if fd.HasPresence() && !m.Has(fd) {
		return nil, nil
	}
	return protoConvert(fd, m.Get(fd), t)
}

var protoWrappers = map[protoreflect.FullName]bool{
	"google.protobuf.DoubleValue": true, "google.protobuf.FloatValue": true, "google.protobuf.Int64Value": true,
	"google.protobuf.UInt64Value": true, "google.protobuf.Int32Value": true, "google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue": true, "google.protobuf.StringValue": true, "google.protobuf.BytesValue": true,
}

// protoConvert maps one singular value of field fd to type t.
func protoConvert(fd protoreflect.FieldDescriptor, v protoreflect.Value, t types.Type) (types.Value, error) {
	bad := func() (types.Value, error) {
		return nil, fmt.Errorf("cannot read Protobuf %s as %s", protoKindName(fd), t)
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if t.Kind == types.Boolean {
			return v.Bool(), nil
		}
		return bad()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoInt(v.Int(), t, bad)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		u := v.Uint()
		if u > math.MaxInt64 {
			return nil, fmt.Errorf("%d overflows %s", u, t)
		}
		return protoInt(int64(u), t, bad)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if t.Kind == types.Double {
			return v.Float(), nil
		}
		return bad()
	case protoreflect.StringKind:
		switch t.Kind {
		case types.String:
			return v.String(), nil
		case types.Decimal:
			d, err := types.ParseDec(v.String())
			if err != nil {
				return nil, err
			}
			r, ok := d.Rescale(t.Scale)
			if !ok {
				return nil, fmt.Errorf("decimal %s does not fit %s", d, t)
			}
			return r, nil
		}
		return bad()
	case protoreflect.BytesKind:
		if t.Kind == types.Bytes {
			return append([]byte{}, v.Bytes()...), nil
		}
		return bad()
	case protoreflect.EnumKind:
		if t.Kind != types.String {
			return bad()
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return fmt.Sprint(int32(v.Enum())), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		md := m.Descriptor()
		switch {
		case md.FullName() == "google.protobuf.Timestamp":
			if t.Kind != types.Timestamp {
				return bad()
			}
			sec := m.Get(md.Fields().ByName("seconds")).Int()
			nanos := m.Get(md.Fields().ByName("nanos")).Int()
			return types.TimestampVal(sec*1000 + nanos/1e6), nil
		case protoWrappers[md.FullName()]:
			vf := md.Fields().ByName("value")
			return protoConvert(vf, m.Get(vf), t)
		case t.Kind == types.Struct:
			return protoRead(m, t)
		}
		return bad()
	}
	return bad()
}

func protoInt(n int64, t types.Type, bad func() (types.Value, error)) (types.Value, error) {
	switch t.Kind {
	case types.Int:
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, fmt.Errorf("%d overflows INT", n)
		}
		return int32(n), nil
	case types.Bigint:
		return n, nil
	case types.Double:
		return float64(n), nil
	case types.Date:
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, fmt.Errorf("%d overflows DATE", n)
		}
		return types.DateVal(n), nil
	case types.Time:
		if n < 0 || n >= types.MillisPerDay {
			return nil, fmt.Errorf("%d is not a TIME", n)
		}
		return types.TimeVal(n), nil
	case types.Timestamp:
		return types.TimestampVal(n), nil
	}
	return bad()
}

func protoKindName(fd protoreflect.FieldDescriptor) string {
	if fd.Message() != nil {
		return string(fd.Message().FullName())
	}
	return fd.Kind().String()
}

package registry

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// protoSchema is a compiled .proto file. References are its imports: a
// reference's name is the import path. The well-known google/protobuf/*.proto
// files need no reference.
type protoSchema struct {
	fd protoreflect.FileDescriptor
}

const protoMainFile = "__sluice_main__.proto"

func parseProtobuf(text string, refs []resolvedRef) (*protoSchema, error) {
	srcs := map[string]string{protoMainFile: text}
	for _, r := range refs {
		if r.Type != TypeProtobuf {
			return nil, fmt.Errorf("reference %q is a %s schema, a Protobuf schema can only import Protobuf schemas", r.Name, r.Type)
		}
		srcs[r.Name] = r.Text
	}
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(srcs)}),
	}
	files, err := c.Compile(context.Background(), protoMainFile)
	if err != nil {
		return nil, fmt.Errorf("%s", strings.ReplaceAll(err.Error(), protoMainFile+":", ""))
	}
	return &protoSchema{fd: files[0]}, nil
}

func (p *protoSchema) compatible(writer parsed) []string {
	w, ok := writer.(*protoSchema)
	if !ok {
		return []string{"the old schema is not a Protobuf schema"}
	}
	return protoCompatible(w.fd, p.fd)
}

// Protobuf compatibility follows the Confluent registry's Protobuf rules
// (schema-evolution docs): the update is compared with the original and
// some kinds of difference are incompatible.
//
// Compatible: message added or moved, enum added or removed, enum constant
// added, changed or removed, field added, removed or renamed, string <->
// bytes, oneof added or removed, field added to a oneof, oneof field moved to
// the top level.
//
// Incompatible: package changed, message removed, field kind changed (scalar,
// enum, message), scalar type changed other than string <-> bytes, named type
// of a field changed, label changed between singular and repeated, required
// field added or removed, field removed from a oneof (while the oneof stays),
// fields moved into a oneof.
func protoCompatible(original, update protoreflect.FileDescriptor) []string {
	var out []string
	fail := func(kind, path, format string, args ...any) {
		out = append(out, fmt.Sprintf("{errorType:'%s', description:'%s', path:'%s'}", kind, fmt.Sprintf(format, args...), path))
	}
	if original.Package() != update.Package() {
		fail("PACKAGE_CHANGED", "#/", "the package changed from '%s' to '%s'", original.Package(), update.Package())
	}
	om, um := protoMessages(original), protoMessages(update)
	names := make([]string, 0, len(om))
	for n := range om {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := om[n]
		u, ok := um[n]
		if !ok {
			// Match a moved message by its simple name after a package change.
			fail("MESSAGE_REMOVED", "#/"+n, "the message '%s' was removed", n)
			continue
		}
		protoCompareFields(o, u, "#/"+n, fail)
	}
	return out
}

// protoMessages lists the messages of a file by full name without the
// package, nested ones included (map entries excluded).
func protoMessages(fd protoreflect.FileDescriptor) map[string]protoreflect.MessageDescriptor {
	out := map[string]protoreflect.MessageDescriptor{}
	pkg := string(fd.Package())
	var walk func(ms protoreflect.MessageDescriptors)
	walk = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			m := ms.Get(i)
			if m.IsMapEntry() {
				continue
			}
			name := strings.TrimPrefix(string(m.FullName()), pkg+".")
			out[name] = m
			walk(m.Messages())
		}
	}
	walk(fd.Messages())
	return out
}

func protoCompareFields(o, u protoreflect.MessageDescriptor, path string, fail func(kind, path, format string, args ...any)) {
	of, uf := o.Fields(), u.Fields()
	for i := 0; i < of.Len(); i++ {
		f := of.Get(i)
		fpath := fmt.Sprintf("%s/%d", path, f.Number())
		g := uf.ByNumber(f.Number())
		if g == nil {
			if f.Cardinality() == protoreflect.Required {
				fail("REQUIRED_FIELD_REMOVED", fpath, "the required field '%s' (%d) was removed", f.Name(), f.Number())
			}
			if oo := realOneof(f); oo != nil && oneofStillThere(u, oo) {
				fail("ONEOF_FIELD_REMOVED", fpath, "the field '%s' (%d) was removed from the oneof '%s'", f.Name(), f.Number(), oo.Name())
			}
			continue
		}
		protoCompareField(f, g, fpath, fail)
	}
	for i := 0; i < uf.Len(); i++ {
		g := uf.Get(i)
		if of.ByNumber(g.Number()) == nil && g.Cardinality() == protoreflect.Required {
			fail("REQUIRED_FIELD_ADDED", fmt.Sprintf("%s/%d", path, g.Number()), "the required field '%s' (%d) was added", g.Name(), g.Number())
		}
	}
	// Fields moved into a oneof: fields outside any oneof before, now in one.
	moved := map[string]int{}
	for i := 0; i < of.Len(); i++ {
		f := of.Get(i)
		g := uf.ByNumber(f.Number())
		if g == nil || realOneof(f) != nil || realOneof(g) == nil {
			continue
		}
		moved[string(realOneof(g).Name())]++
	}
	for name, n := range moved {
		existed := false
		for i := 0; i < o.Oneofs().Len(); i++ {
			if string(o.Oneofs().Get(i).Name()) == name {
				existed = true
			}
		}
		if existed {
			fail("FIELD_MOVED_TO_EXISTING_ONEOF", path, "a field was moved into the existing oneof '%s'", name)
		} else if n > 1 {
			fail("MULTIPLE_FIELDS_MOVED_TO_ONEOF", path, "%d fields were moved into the new oneof '%s'", n, name)
		}
	}
}

func realOneof(f protoreflect.FieldDescriptor) protoreflect.OneofDescriptor {
	if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
		return o
	}
	return nil
}

func oneofStillThere(m protoreflect.MessageDescriptor, o protoreflect.OneofDescriptor) bool {
	u := m.Oneofs().ByName(o.Name())
	return u != nil && !u.IsSynthetic()
}

func protoCompareField(f, g protoreflect.FieldDescriptor, path string, fail func(kind, path, format string, args ...any)) {
	if f.IsList() != g.IsList() || f.IsMap() != g.IsMap() {
		fail("FIELD_LABEL_CHANGED", path, "the field '%s' changed between singular, repeated and map", g.Name())
		return
	}
	if (f.Cardinality() == protoreflect.Required) != (g.Cardinality() == protoreflect.Required) {
		kind := "REQUIRED_FIELD_ADDED"
		if f.Cardinality() == protoreflect.Required {
			kind = "REQUIRED_FIELD_REMOVED"
		}
		fail(kind, path, "the field '%s' changed whether it is required", g.Name())
	}
	if f.IsMap() {
		protoCompareField(f.MapKey(), g.MapKey(), path+"/key", fail)
		protoCompareField(f.MapValue(), g.MapValue(), path+"/value", fail)
		return
	}
	fk, gk := protoKindClass(f.Kind()), protoKindClass(g.Kind())
	if fk != gk {
		fail("FIELD_KIND_CHANGED", path, "the field '%s' changed from %s to %s", g.Name(), f.Kind(), g.Kind())
		return
	}
	switch fk {
	case "message":
		if protoLocalName(f.Message()) != protoLocalName(g.Message()) {
			fail("FIELD_NAMED_TYPE_CHANGED", path, "the field '%s' changed its type from %s to %s", g.Name(), f.Message().FullName(), g.Message().FullName())
		}
	case "enum":
		if protoLocalName(f.Enum()) != protoLocalName(g.Enum()) {
			fail("FIELD_NAMED_TYPE_CHANGED", path, "the field '%s' changed its type from %s to %s", g.Name(), f.Enum().FullName(), g.Enum().FullName())
		}
	default:
		if f.Kind() == g.Kind() {
			return
		}
		if isStringOrBytes(f.Kind()) && isStringOrBytes(g.Kind()) {
			return // FIELD_STRING_OR_BYTES_LABEL_CHANGED is compatible
		}
		fail("FIELD_SCALAR_KIND_CHANGED", path, "the field '%s' changed from %s to %s", g.Name(), f.Kind(), g.Kind())
	}
}

func isStringOrBytes(k protoreflect.Kind) bool {
	return k == protoreflect.StringKind || k == protoreflect.BytesKind
}

func protoKindClass(k protoreflect.Kind) string {
	switch k {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return "message"
	case protoreflect.EnumKind:
		return "enum"
	}
	return "scalar"
}

// protoLocalName is a type's full name without its file's package, so that
// a package change is reported once and not for every field.
func protoLocalName(d protoreflect.Descriptor) string {
	return strings.TrimPrefix(string(d.FullName()), string(d.ParentFile().Package())+".")
}

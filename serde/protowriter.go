package serde

// Writing SQL values as messages of a registered Protobuf schema (for
// serializers with UseLatestVersion): fields matched to columns by name
// (exact, then case-insensitive), values converted to the field's kind where
// nothing is lost.

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicedata/sluice/sql/types"
)

func protoMessageAs(md protoreflect.MessageDescriptor, t types.Type, v types.StructVal, path string) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	for i, f := range t.Fields {
		fd := protoField(md, f.Name)
		where := joinPath(path, f.Name)
		if fd == nil {
			return nil, fmt.Errorf("column %s has no field in message %s", where, md.FullName())
		}
		fv := v[i].Value
		if fv == nil {
			continue
		}
		switch {
		case fd.IsList():
			if f.Type.Kind != types.Array {
				return nil, fmt.Errorf("%s: %s is not an ARRAY for repeated field %s", where, f.Type, fd.Name())
			}
			l := m.Mutable(fd).List()
			for j, e := range fv.([]types.Value) {
				if e == nil {
					return nil, fmt.Errorf("%s[%d]: NULL array elements cannot be written", where, j)
				}
				pv, err := protoValueAs(fd, *f.Type.Elem, e, where)
				if err != nil {
					return nil, err
				}
				l.Append(pv)
			}
		case fd.IsMap():
			if f.Type.Kind != types.Map || fd.MapKey().Kind() != protoreflect.StringKind {
				return nil, fmt.Errorf("%s: %s does not fit map field %s (MAP with string keys)", where, f.Type, fd.Name())
			}
			mm := m.Mutable(fd).Map()
			for k, e := range fv.(map[string]types.Value) {
				if e == nil {
					return nil, fmt.Errorf("%s.%s: NULL map values cannot be written", where, k)
				}
				pv, err := protoValueAs(fd.MapValue(), *f.Type.Elem, e, where+"."+k)
				if err != nil {
					return nil, err
				}
				mm.Set(protoreflect.ValueOfString(k).MapKey(), pv)
			}
		default:
			pv, err := protoValueAs(fd, f.Type, fv, where)
			if err != nil {
				return nil, err
			}
			m.Set(fd, pv)
		}
	}
	return m, nil
}

// protoValueAs converts one non-NULL value to the kind of field fd.
func protoValueAs(fd protoreflect.FieldDescriptor, t types.Type, v types.Value, where string) (protoreflect.Value, error) {
	bad := func() (protoreflect.Value, error) {
		return protoreflect.Value{}, fmt.Errorf("%s: cannot write %s as Protobuf %s", where, t, protoKindName(fd))
	}
	n, isInt := sqlInt(v)
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if b, ok := v.(bool); ok {
			return protoreflect.ValueOfBool(b), nil
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if isInt && n >= math.MinInt32 && n <= math.MaxInt32 {
			return protoreflect.ValueOfInt32(int32(n)), nil
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if isInt {
			return protoreflect.ValueOfInt64(n), nil
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if isInt && n >= 0 && n <= math.MaxUint32 {
			return protoreflect.ValueOfUint32(uint32(n)), nil
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if isInt && n >= 0 {
			return protoreflect.ValueOfUint64(uint64(n)), nil
		}
	case protoreflect.FloatKind:
		if f, ok := v.(float64); ok {
			return protoreflect.ValueOfFloat32(float32(f)), nil
		}
	case protoreflect.DoubleKind:
		if f, ok := v.(float64); ok {
			return protoreflect.ValueOfFloat64(f), nil
		}
	case protoreflect.StringKind:
		switch x := v.(type) {
		case string:
			return protoreflect.ValueOfString(x), nil
		case types.Dec:
			return protoreflect.ValueOfString(x.String()), nil
		}
	case protoreflect.BytesKind:
		if b, ok := v.([]byte); ok {
			return protoreflect.ValueOfBytes(b), nil
		}
	case protoreflect.EnumKind:
		if s, ok := v.(string); ok {
			ev := fd.Enum().Values().ByName(protoreflect.Name(s))
			if ev == nil {
				return protoreflect.Value{}, fmt.Errorf("%s: %q is not a value of enum %s", where, s, fd.Enum().FullName())
			}
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		switch {
		case md.FullName() == "google.protobuf.Timestamp" && t.Kind == types.Timestamp:
			return protoValue(fd, t, v) // seconds and nanos, as derived schemas do
		case isWrapper(md):
			inner := md.Fields().ByName("value")
			pv, err := protoValueAs(inner, t, v, where)
			if err != nil {
				return protoreflect.Value{}, err
			}
			m := dynamicpb.NewMessage(md)
			m.Set(inner, pv)
			return protoreflect.ValueOfMessage(m), nil
		case t.Kind == types.Struct:
			m, err := protoMessageAs(md, t, v.(types.StructVal), where)
			if err != nil {
				return protoreflect.Value{}, err
			}
			return protoreflect.ValueOfMessage(m), nil
		}
	}
	return bad()
}

// sqlInt is the integer of an INT, BIGINT, DATE, TIME or TIMESTAMP value.
func sqlInt(v types.Value) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case types.DateVal:
		return int64(x), true
	case types.TimeVal:
		return int64(x), true
	case types.TimestampVal:
		return int64(x), true
	}
	return 0, false
}

func isWrapper(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.BoolValue", "google.protobuf.Int32Value", "google.protobuf.Int64Value",
		"google.protobuf.UInt32Value", "google.protobuf.UInt64Value", "google.protobuf.FloatValue",
		"google.protobuf.DoubleValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		return true
	}
	return false
}

// messagePath finds the message named name (full name; "" means the first
// top-level message) in fd and returns it with its message indexes.
func messagePath(fd protoreflect.FileDescriptor, name string) (protoreflect.MessageDescriptor, []int, error) {
	var find func(msgs protoreflect.MessageDescriptors, path []int) (protoreflect.MessageDescriptor, []int)
	find = func(msgs protoreflect.MessageDescriptors, path []int) (protoreflect.MessageDescriptor, []int) {
		for i := 0; i < msgs.Len(); i++ {
			md := msgs.Get(i)
			p := append(append([]int(nil), path...), i)
			if string(md.FullName()) == name {
				return md, p
			}
			if m, mp := find(md.Messages(), p); m != nil {
				return m, mp
			}
		}
		return nil, nil
	}
	if name == "" {
		if fd.Messages().Len() == 0 {
			return nil, nil, fmt.Errorf("the schema declares no message")
		}
		return fd.Messages().Get(0), []int{0}, nil
	}
	md, path := find(fd.Messages(), nil)
	if md == nil {
		return nil, nil, fmt.Errorf("the schema has no message %s", name)
	}
	return md, path, nil
}

package converters

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

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
		n, ok := connect.AsInt64(v)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, ok := connect.AsInt64(v)
		if !ok || n < 0 || n > 1<<32-1 {
			return bad()
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, ok := connect.AsInt64(v)
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

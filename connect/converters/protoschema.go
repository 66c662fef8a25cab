package converters

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

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
	g := &protoGen{named: map[string]string{}, used: map[string]bool{}}
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
	g.used[name] = true
	if s.Name != "" {
		g.named[s.Name] = name
	}
	var body strings.Builder
	if err := g.message(&body, name, s, ""); err != nil {
		return "", err
	}
	body.WriteString(g.top.String())
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

// protoGen writes a .proto file: named structs become top-level messages,
// defined once and referenced wherever the struct recurs (Debezium's before
// and after); unnamed structs are nested in their parent.
type protoGen struct {
	timestamp bool
	top       strings.Builder   // named structs' messages, after the main one
	named     map[string]string // Connect name -> message name
	used      map[string]bool   // top-level message names
}

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
		var name string
		if s.Name != "" {
			var ok bool
			if name, ok = g.named[s.Name]; !ok {
				base := protoIdent(s.Name[strings.LastIndex(s.Name, ".")+1:])
				name = base
				for i := 2; g.used[name]; i++ {
					name = base + strconv.Itoa(i)
				}
				g.used[name], g.named[s.Name] = true, name
				var mb strings.Builder
				if err := g.message(&mb, name, s, ""); err != nil {
					return "", "", "", err
				}
				g.top.WriteString("\n" + mb.String())
			}
		} else {
			name = nestedName(nested, camel(field))
			if err := g.message(defs, name, s, indent); err != nil {
				return "", "", "", err
			}
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

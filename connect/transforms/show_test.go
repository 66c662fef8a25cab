package transforms

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// A compact text form of schemas and values, so expected outputs in the
// tables read like Kafka's documentation examples:
//
//	struct<Name>{a:int32,b:string?} {a:1,b:"x"}
//	schemaless {"a":1}

func show(s *connect.Schema, v any) string {
	if s == nil {
		return "schemaless " + showValue(v)
	}
	return showSchema(s) + " " + showValue(v)
}

func showSchema(s *connect.Schema) string {
	var b strings.Builder
	switch {
	case s.Name == connect.TimestampName:
		b.WriteString("timestamp")
	case s.Name == connect.DateName:
		b.WriteString("date")
	case s.Name == connect.TimeName:
		b.WriteString("time")
	case s.Name == connect.DecimalName:
		b.WriteString("decimal(" + s.Parameters["scale"] + ")")
	case s.Type == connect.Struct:
		b.WriteString("struct")
		if s.Name != "" {
			b.WriteString("<" + s.Name + ">")
		}
		if s.Version != 0 {
			b.WriteString("v" + strconv.Itoa(s.Version))
		}
		b.WriteString("{")
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(f.Name + ":" + showSchema(f.Schema))
		}
		b.WriteString("}")
	case s.Type == connect.Array:
		b.WriteString("array<" + showSchema(s.Value) + ">")
	case s.Type == connect.Map:
		b.WriteString("map<" + showSchema(s.Key) + "," + showSchema(s.Value) + ">")
	default:
		b.WriteString(string(s.Type))
		if s.Name != "" {
			b.WriteString("<" + s.Name + ">")
		}
	}
	if s.Optional {
		b.WriteString("?")
	}
	if s.Default != nil {
		b.WriteString("=" + showValue(s.Default))
	}
	return b.String()
}

func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case []byte:
		return fmt.Sprintf("0x%x", x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case types.Dec:
		return x.String()
	case *connect.StructValue:
		var parts []string
		for i, f := range x.Schema.Fields {
			parts = append(parts, f.Name+":"+showValue(x.Values[i]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, strconv.Quote(k)+":"+showValue(x[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, showValue(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32) + "f"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64) + "d"
	case int8:
		return fmt.Sprintf("%db", x)
	case int16:
		return fmt.Sprintf("%ds", x)
	case int64:
		return fmt.Sprintf("%dL", x)
	}
	return fmt.Sprint(v)
}

func showHeaders(hs []connect.Header) string {
	var parts []string
	for _, h := range hs {
		s := "schemaless"
		if h.Schema != nil {
			s = showSchema(h.Schema)
		}
		parts = append(parts, h.Key+"="+s+" "+showValue(h.Value))
	}
	return strings.Join(parts, "; ")
}

// Schema and struct builders for the tables.

func sch(t connect.SchemaType) *connect.Schema { return &connect.Schema{Type: t} }
func opt(t connect.SchemaType) *connect.Schema { return &connect.Schema{Type: t, Optional: true} }

func structOf(name string, fields ...any) *connect.Schema {
	s := &connect.Schema{Type: connect.Struct, Name: name}
	for i := 0; i < len(fields); i += 2 {
		s.Fields = append(s.Fields, connect.Field{Name: fields[i].(string), Schema: fields[i+1].(*connect.Schema)})
	}
	return s
}

func val(s *connect.Schema, values ...any) *connect.StructValue {
	return &connect.StructValue{Schema: s, Values: values}
}

func timestampSchema() *connect.Schema {
	return &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: 1}
}

// newTransform looks a transform up by class name and configures it.
func newTransform(t *testing.T, class string, cfg connect.Config) connect.Transform {
	t.Helper()
	p, ok := connect.Lookup(class)
	if !ok {
		t.Fatalf("%s is not registered", class)
	}
	if p.Spec.Kind != connect.TransformKind {
		t.Fatalf("%s is a %s", class, p.Spec.Kind)
	}
	tr := p.NewTransform()
	if err := tr.Configure(cfg); err != nil {
		t.Fatalf("%s: Configure(%v): %v", class, cfg, err)
	}
	return tr
}

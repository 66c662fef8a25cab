package transforms

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// MaskField replaces fields with a null-like value of their type (0, false,
// "", empty) or with a configured replacement.
type MaskField struct {
	side        side
	fields      map[string]bool
	replacement string
	hasRepl     bool
	replaceNull bool
}

var maskFieldFields = []connect.FieldSpec{
	{Name: "fields", Type: connect.TypeList, Required: true, Importance: "HIGH", Doc: "Names of fields to mask."},
	{Name: "replacement", Type: connect.TypeString, Importance: "LOW",
		Doc: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "MaskField", "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on), or a custom replacement.",
		maskFieldFields, func(key bool) connect.Transform { return &MaskField{side: side(key)} })
}

// Configure reads fields and replacement.
func (t *MaskField) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: maskFieldFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.fields = listSet(cfg.List(s, "fields"))
	t.replacement, t.hasRepl = cfg["replacement"]
	if t.hasRepl && t.replacement == "" {
		return connect.FieldError{Field: "replacement", Message: "String must be non-empty"}
	}
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

// Apply masks the fields.
func (t *MaskField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := requireMap(v, "masking")
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		for name := range t.fields {
			if x, ok := m[name]; ok {
				if out[name], err = t.mask(x); err != nil {
					return nil, fmt.Errorf("MaskField %q: %w", name, err)
				}
			}
		}
		return t.side.with(r, nil, out), nil
	}
	sv, err := requireStruct(schema, v, "masking")
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(schema)
	for i, f := range schema.Fields {
		x := fieldValue(sv, i, t.replaceNull)
		if t.fields[f.Name] {
			if x, err = t.mask(x); err != nil {
				return nil, fmt.Errorf("MaskField %q: %w", f.Name, err)
			}
		}
		out.Values[i] = x
	}
	return t.side.with(r, schema, out), nil
}

func (t *MaskField) mask(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.hasRepl {
		return t.replace(v)
	}
	switch x := v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case int:
		return 0, nil
	case float32:
		return float32(0), nil
	case float64:
		return 0.0, nil
	case string:
		return "", nil
	case []byte:
		return []byte{}, nil
	case types.Dec:
		return types.Dec{Unscaled: types.NewDec(0, 0).Unscaled, Scale: x.Scale}, nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, fmt.Errorf("cannot mask value of type %T", v)
}

func (t *MaskField) replace(v any) (any, error) {
	s := t.replacement
	bad := func(err error) error {
		return fmt.Errorf("unable to convert replacement %q to the field's type %T: %v", s, v, err)
	}
	switch x := v.(type) {
	case string:
		return s, nil
	case int8, int16, int32, int64, int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bad(err)
		}
		switch x.(type) {
		case int8:
			return int8(n), nil
		case int16:
			return int16(n), nil
		case int32:
			return int32(n), nil
		case int:
			return int(n), nil
		}
		return n, nil
	case float32:
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return nil, bad(err)
		}
		return float32(f), nil
	case float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, bad(err)
		}
		return f, nil
	case types.Dec:
		d, err := types.ParseDec(s)
		if err != nil {
			return nil, bad(err)
		}
		if r, ok := d.Rescale(x.Scale); ok {
			return r, nil
		}
		return nil, bad(fmt.Errorf("does not fit scale %d", x.Scale))
	}
	return nil, fmt.Errorf("cannot mask value of type %T with a custom replacement (only numbers and strings)", v)
}

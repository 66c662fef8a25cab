package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// ReplaceField keeps, drops and renames fields.
type ReplaceField struct {
	side    side
	include map[string]bool
	exclude map[string]bool
	renames map[string]string
	// The same names as lists, for ApplyOwned's walk over them.
	excludeList []string
	renameList  [][2]string // from, to; renames onto the same name left out
	replaceNull bool
	cache       schemaCache
}

var replaceFieldFields = []connect.FieldSpec{
	{Name: "exclude", Type: connect.TypeList, Importance: "MEDIUM", Doc: "Fields to exclude. This takes precedence over the fields to include."},
	{Name: "include", Type: connect.TypeList, Importance: "MEDIUM", Doc: "Fields to include. If specified, only these fields will be used."},
	{Name: "renames", Type: connect.TypeList, Importance: "MEDIUM", Doc: "Field rename mappings.",
		Validate: func(v string) error { _, err := parseRenames(v); return err }},
	{Name: "blacklist", Type: connect.TypeList, Importance: "LOW", Doc: "Deprecated. Use exclude instead."},
	{Name: "whitelist", Type: connect.TypeList, Importance: "LOW", Doc: "Deprecated. Use include instead."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "ReplaceField", "Filter or rename fields.",
		replaceFieldFields, func(key bool) connect.Transform { return &ReplaceField{side: side(key)} })
}

func parseRenames(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range splitList(v) {
		from, to, ok := strings.Cut(p, ":")
		if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
			return nil, fmt.Errorf("invalid rename mapping %q: expected old:new", p)
		}
		out[strings.TrimSpace(from)] = strings.TrimSpace(to)
	}
	return out, nil
}

func listSet(items ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range items {
		for _, s := range l {
			m[s] = true
		}
	}
	return m
}

// Configure reads the lists.
func (t *ReplaceField) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: replaceFieldFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.include = listSet(cfg.List(s, "include"), cfg.List(s, "whitelist"))
	t.exclude = listSet(cfg.List(s, "exclude"), cfg.List(s, "blacklist"))
	t.renames, _ = parseRenames(cfg["renames"])
	t.excludeList, t.renameList = nil, nil
	for k := range t.exclude {
		t.excludeList = append(t.excludeList, k)
	}
	for from, to := range t.renames {
		if from != to {
			t.renameList = append(t.renameList, [2]string{from, to})
		}
	}
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

func (t *ReplaceField) keep(name string) bool {
	return !t.exclude[name] && (len(t.include) == 0 || t.include[name])
}

func (t *ReplaceField) rename(name string) string {
	if n, ok := t.renames[name]; ok {
		return n
	}
	return name
}

// Apply filters and renames.
func (t *ReplaceField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := requireMap(v, "field replacement")
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			if t.keep(k) {
				out[t.rename(k)] = x
			}
		}
		return t.side.with(r, nil, out), nil
	}
	sv, err := requireStruct(schema, v, "field replacement")
	if err != nil {
		return nil, err
	}
	ns, err := t.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		ns := copyBasics(s, connect.Struct)
		seen := map[string]bool{}
		for _, f := range s.Fields {
			if t.keep(f.Name) {
				n := t.rename(f.Name)
				if seen[n] {
					return nil, fmt.Errorf("ReplaceField: two fields would be called %q", n)
				}
				seen[n] = true
				ns.Fields = append(ns.Fields, connect.Field{Name: n, Schema: f.Schema})
			}
		}
		return ns, nil
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	j := 0
	for i, f := range schema.Fields {
		if t.keep(f.Name) {
			out.Values[j] = fieldValue(sv, i, t.replaceNull)
			j++
		}
	}
	return t.side.with(r, ns, out), nil
}

// ApplyOwned filters and renames a schemaless value's map in place; with a
// schema it is Apply.
func (t *ReplaceField) ApplyOwned(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema != nil || v == nil {
		return t.Apply(r)
	}
	m, err := requireMap(v, "field replacement")
	if err != nil {
		return nil, err
	}
	// Renamed values are stored once every old name is gone, so a rename
	// onto a name that is renamed in turn (a->b, b->c) moves b's own value,
	// as Apply's copy does.
	var arr [8]renamedField
	moved := arr[:0]
	if len(t.include) == 0 && len(t.exclude)+len(t.renames) < len(m) {
		// Fewer names to look at than fields: go through the names instead
		// of every field. With no include list every field that is not
		// excluded is kept, so this removes and moves what the loop below
		// would.
		for _, k := range t.excludeList {
			delete(m, k)
		}
		for _, r := range t.renameList {
			if x, ok := m[r[0]]; ok {
				moved = append(moved, renamedField{r[1], x})
			}
		}
		for _, r := range t.renameList {
			delete(m, r[0])
		}
		for _, e := range moved {
			m[e.key] = e.value
		}
		return r, nil
	}
	for k, x := range m {
		if !t.keep(k) {
			delete(m, k)
			continue
		}
		if n := t.rename(k); n != k {
			moved = append(moved, renamedField{n, x})
			delete(m, k)
		}
	}
	for _, e := range moved {
		m[e.key] = e.value
	}
	return r, nil
}

// renamedField is a field name and its value.
type renamedField struct {
	key   string
	value any
}

var _ connect.OwnedTransform = (*ReplaceField)(nil)

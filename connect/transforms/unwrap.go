package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// ExtractNewRecordState is Debezium's event flattening SMT ("unwrap"): it
// replaces a change event's envelope {before, after, source, op, ts_ms} by
// the row state after the change, handles deletes and tombstones per
// delete.tombstone.handling.mode, and can copy envelope fields into the
// value (add.fields) or headers (add.headers). Records that are not change
// events (heartbeats, schema changes) pass unchanged.
//
// The modes:
//
//	tombstone (default)     delete event dropped; Debezium's tombstone kept
//	drop                    delete and tombstone dropped
//	rewrite                 delete -> the before row plus __deleted=true; tombstone dropped;
//	                        other events get __deleted=false
//	rewrite-with-tombstone  as rewrite, tombstone kept
//	delete-to-tombstone     delete -> a tombstone (null value and schema); Debezium's tombstone dropped
type ExtractNewRecordState struct {
	keepTombstones     bool
	onDelete           deleteAction
	rewriteRows        bool // add __deleted to every row
	addFields          []fieldRef
	addHeaders         []fieldRef
	deletedField       string
	routeByField       string
	dropHeader         string
	dropFromKey        bool
	dropKeepCompatible bool
	cache              schemaCache
	rewriteSchemaCache schemaCache
}

// deleteAction is what happens to a delete event.
type deleteAction int

const (
	deleteDrop      deleteAction = iota
	deleteRewrite                // the before row (with __deleted=true)
	deleteTombstone              // a tombstone: null value and schema
	deleteNullValue              // legacy delete.handling.mode=none: null value, row schema kept
)

const (
	modeTombstone     = "tombstone"
	modeDrop          = "drop"
	modeRewrite       = "rewrite"
	modeRewriteTomb   = "rewrite-with-tombstone"
	modeDeleteToTombs = "delete-to-tombstone"
)

var unwrapFields = []connect.FieldSpec{
	{Name: "delete.tombstone.handling.mode", Type: connect.TypeString, Default: modeTombstone, Importance: "MEDIUM",
		Recommended: []string{modeTombstone, modeDrop, modeRewrite, modeRewriteTomb, modeDeleteToTombs},
		Doc: "How delete events and tombstones are emitted: tombstone (the delete event is dropped, Debezium's tombstone kept), " +
			"drop (both dropped), rewrite (a delete becomes its before row with __deleted=true, other rows get __deleted=false; tombstones dropped), " +
			"rewrite-with-tombstone (as rewrite, tombstones kept), delete-to-tombstone (a delete becomes a tombstone with null value and schema; Debezium's tombstone dropped)."},
	{Name: "drop.tombstones", Type: connect.TypeBoolean, Default: "true", Importance: "LOW",
		Doc: "Deprecated (use delete.tombstone.handling.mode): drop Debezium's tombstones. Read only when delete.tombstone.handling.mode is not set."},
	{Name: "delete.handling.mode", Type: connect.TypeString, Default: "drop", Importance: "LOW", Recommended: []string{"drop", "rewrite", "none"},
		Doc: "Deprecated (use delete.tombstone.handling.mode): drop delete events, rewrite them (before row plus __deleted), or none (keep them with a null value). Read only when delete.tombstone.handling.mode is not set."},
	{Name: "add.fields", Type: connect.TypeList, Importance: "LOW",
		Doc: "Fields of the change event to add to the value, e.g. op,table,lsn,source.ts_ms. Unqualified names come from the envelope (op, ts_ms, ts_us, ts_ns), " +
			"the transaction block (id, total_order, data_collection_order) or else the source block; struct.field names the block. field:name renames the added field."},
	{Name: "add.fields.prefix", Type: connect.TypeString, Default: "__", Importance: "LOW",
		Doc: "Prefix of the added fields (and of the __deleted field of the rewrite modes)."},
	{Name: "add.headers", Type: connect.TypeList, Importance: "LOW",
		Doc: "Fields of the change event to add as headers, with the same syntax as add.fields. A tombstone gets only the op header, with value d."},
	{Name: "add.headers.prefix", Type: connect.TypeString, Default: "__", Importance: "LOW",
		Doc: "Prefix of the added headers."},
	{Name: "route.by.field", Type: connect.TypeString, Importance: "LOW",
		Doc: "A field of the row (after, or before for deletes) whose value becomes the record's topic."},
	{Name: "drop.fields.header.name", Type: connect.TypeString, Importance: "LOW",
		Doc: "The name of a header holding a list of field names to remove from the value."},
	{Name: "drop.fields.from.key", Type: connect.TypeBoolean, Default: "false", Importance: "LOW",
		Doc: "Remove the fields named by drop.fields.header.name from the key too."},
	{Name: "drop.fields.keep.schema.compatible", Type: connect.TypeBoolean, Default: "true", Importance: "LOW",
		Doc: "With true only optional fields are removed, so schemas stay compatible; with false every named field is removed."},
}

func init() {
	registerOne("io.debezium.transforms.ExtractNewRecordState", "ExtractNewRecordState",
		"Debezium's event flattening: replaces a change event's envelope by the row state after the change.",
		unwrapFields, func() connect.Transform { return &ExtractNewRecordState{} })
}

// fieldRef names a field of the change event to copy: struct is "" for the
// envelope, "source" or "transaction"; out is the name it is written under.
type fieldRef struct {
	struct_, field, out string
}

func parseFieldRefs(prefix, list string) ([]fieldRef, error) {
	var out []fieldRef
	for _, item := range splitList(list) {
		parts := strings.Split(item, ":")
		if len(parts) > 2 {
			return nil, fmt.Errorf("unexpected field name %q: use struct.field or struct.field:newname", item)
		}
		ref := fieldRef{}
		if st, f, ok := strings.Cut(parts[0], "."); ok {
			ref.struct_, ref.field = st, f
			ref.out = prefix + st + "_" + f
		} else {
			ref.field = parts[0]
			ref.out = prefix + parts[0]
			switch parts[0] {
			case "id", "total_order", "data_collection_order":
				ref.struct_ = "transaction"
			case "op", "ts_ms", "ts_us", "ts_ns":
			default:
				ref.struct_ = "source"
			}
		}
		if len(parts) == 2 {
			ref.out = prefix + parts[1]
		}
		if ref.field == "" {
			return nil, fmt.Errorf("empty field name in %q", item)
		}
		out = append(out, ref)
	}
	return out, nil
}

// Configure reads the keys.
func (t *ExtractNewRecordState) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: unwrapFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	mode := strings.ToLower(cfg["delete.tombstone.handling.mode"])
	if mode == "" && (cfg["drop.tombstones"] != "" || cfg["delete.handling.mode"] != "") {
		// Debezium's deprecated pair (drop.tombstones, delete.handling.mode).
		t.keepTombstones = !cfg.Bool(s, "drop.tombstones")
		switch strings.ToLower(cfg.String(s, "delete.handling.mode")) {
		case "rewrite":
			t.onDelete, t.rewriteRows = deleteRewrite, true
		case "none":
			t.onDelete = deleteNullValue
		default:
			t.onDelete = deleteDrop
		}
	} else {
		if mode == "" {
			mode = modeTombstone
		}
		t.keepTombstones = mode == modeTombstone || mode == modeRewriteTomb
		switch mode {
		case modeRewrite, modeRewriteTomb:
			t.onDelete, t.rewriteRows = deleteRewrite, true
		case modeDeleteToTombs:
			t.onDelete = deleteTombstone
		default:
			t.onDelete = deleteDrop
		}
	}
	var err error
	fieldsPrefix := cfg.String(s, "add.fields.prefix")
	if t.addFields, err = parseFieldRefs(fieldsPrefix, cfg["add.fields"]); err != nil {
		return connect.FieldError{Field: "add.fields", Message: err.Error()}
	}
	if t.addHeaders, err = parseFieldRefs(cfg.String(s, "add.headers.prefix"), cfg["add.headers"]); err != nil {
		return connect.FieldError{Field: "add.headers", Message: err.Error()}
	}
	t.deletedField = fieldsPrefix + "deleted"
	t.routeByField = strings.TrimSpace(cfg["route.by.field"])
	t.dropHeader = cfg["drop.fields.header.name"]
	t.dropFromKey = cfg.Bool(s, "drop.fields.from.key")
	t.dropKeepCompatible = cfg.Bool(s, "drop.fields.keep.schema.compatible")
	return nil
}

// envelope is a change event, with or without schema.
type envelope struct {
	schema *connect.Schema // nil when schemaless
	sv     *connect.StructValue
	m      map[string]any
}

func asEnvelope(r *connect.Record) (envelope, bool) {
	if r.ValueSchema == nil {
		m, ok := r.Value.(map[string]any)
		if !ok {
			return envelope{}, false
		}
		_, hasOp := m["op"]
		_, hasAfter := m["after"]
		_, hasBefore := m["before"]
		return envelope{m: m}, hasOp && (hasAfter || hasBefore)
	}
	s := r.ValueSchema
	sv, ok := r.Value.(*connect.StructValue)
	if !ok || s.Type != connect.Struct {
		return envelope{}, false
	}
	_, _, hasOp := s.Field("op")
	_, _, hasAfter := s.Field("after")
	_, _, hasBefore := s.Field("before")
	if !strings.HasSuffix(s.Name, ".Envelope") && !(hasOp && hasAfter && hasBefore) {
		return envelope{}, false
	}
	return envelope{schema: s, sv: sv}, hasAfter || hasBefore
}

// get returns the value and schema of a top-level envelope field.
func (e envelope) get(name string) (any, *connect.Schema, bool) {
	if e.schema == nil {
		v, ok := e.m[name]
		return v, nil, ok
	}
	f, i, ok := e.schema.Field(name)
	if !ok {
		return nil, nil, false
	}
	return e.sv.Values[i], f.Schema, true
}

// ref resolves a fieldRef: the block's field, or the envelope's field of
// that name when the block lacks it (a field added by another SMT).
func (e envelope) ref(r fieldRef) (any, *connect.Schema, bool) {
	if r.struct_ != "" {
		block, bs, ok := e.get(r.struct_)
		if ok {
			if e.schema == nil {
				if m, isMap := block.(map[string]any); isMap {
					if v, ok := m[r.field]; ok {
						return v, nil, true
					}
				} else if block == nil {
					return nil, nil, true
				}
			} else if bs != nil && bs.Type == connect.Struct {
				if f, i, ok := bs.Field(r.field); ok {
					var v any
					if sv, isStruct := block.(*connect.StructValue); isStruct {
						v = sv.Values[i]
					}
					return v, optional(f.Schema), true
				}
			}
		}
	}
	v, s, ok := e.get(r.field)
	return v, optional(s), ok
}

// Apply unwraps the change event.
func (t *ExtractNewRecordState) Apply(r *connect.Record) (*connect.Record, error) {
	if r.Value == nil {
		if !t.keepTombstones {
			return nil, nil
		}
		c := r.Clone()
		for _, h := range t.addHeaders {
			if h.struct_ == "" && h.field == "op" {
				c.Headers = append(c.Headers, connect.Header{Key: h.out, Value: "d", Schema: &connect.Schema{Type: connect.String}})
			}
		}
		return c, nil
	}
	env, ok := asEnvelope(r)
	if !ok {
		return r, nil
	}
	c := r.Clone()
	for _, h := range t.addHeaders {
		if v, s, ok := env.ref(h); ok {
			c.Headers = append(c.Headers, connect.Header{Key: h.out, Value: v, Schema: s})
		}
	}
	after, afterSchema, _ := env.get("after")
	before, beforeSchema, _ := env.get("before")
	if after == nil && before == nil {
		return nil, nil // truncate and message events carry no row
	}
	deleted := after == nil
	row, rowSchema := after, afterSchema
	if deleted {
		switch t.onDelete {
		case deleteDrop:
			return nil, nil
		case deleteTombstone:
			c.ValueSchema, c.Value = nil, nil
			return c, nil
		case deleteNullValue:
			c.ValueSchema, c.Value = afterSchema, nil
			return t.route(c, before)
		}
		row, rowSchema = before, beforeSchema
	}
	c.ValueSchema, c.Value = rowSchema, row
	c, err := t.route(c, row)
	if err != nil {
		return nil, err
	}
	if c, err = t.addRowFields(c, env); err != nil {
		return nil, err
	}
	if c, err = t.dropFields(c); err != nil {
		return nil, err
	}
	if t.rewriteRows {
		flag := "false"
		if deleted {
			flag = "true"
		}
		return t.appendField(c, &t.rewriteSchemaCache, t.deletedField, &connect.Schema{Type: connect.String, Optional: true}, flag)
	}
	return c, nil
}

// route sets the topic from route.by.field of the row.
func (t *ExtractNewRecordState) route(c *connect.Record, row any) (*connect.Record, error) {
	if t.routeByField == "" || row == nil {
		return c, nil
	}
	var v any
	switch x := row.(type) {
	case *connect.StructValue:
		v = x.Get(t.routeByField)
	case map[string]any:
		v = x[t.routeByField]
	}
	if v == nil {
		return c, nil
	}
	topic, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("ExtractNewRecordState: route.by.field %q holds %T, not a string topic name", t.routeByField, v)
	}
	if topic != "" {
		c.Topic = topic
	}
	return c, nil
}

// addRowFields adds the add.fields values to the row.
func (t *ExtractNewRecordState) addRowFields(c *connect.Record, env envelope) (*connect.Record, error) {
	if len(t.addFields) == 0 {
		return c, nil
	}
	if c.ValueSchema == nil {
		m, err := requireMap(c.Value, "source field insertion")
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		for _, f := range t.addFields {
			if v, _, ok := env.ref(f); ok {
				out[f.out] = v
			}
		}
		c.Value = out
		return c, nil
	}
	sv, err := requireStruct(c.ValueSchema, c.Value, "source field insertion")
	if err != nil {
		return nil, err
	}
	type added struct {
		ref    fieldRef
		schema *connect.Schema
		value  any
	}
	var adds []added
	for _, f := range t.addFields {
		if v, s, ok := env.ref(f); ok {
			adds = append(adds, added{f, s, v})
		}
	}
	ns, err := t.cache.get(c.ValueSchema, func(s *connect.Schema) (*connect.Schema, error) {
		ns := copyBasics(s, connect.Struct)
		ns.Fields = append(ns.Fields, s.Fields...)
		for _, a := range adds {
			if _, _, dup := s.Field(a.ref.out); dup {
				return nil, fmt.Errorf("ExtractNewRecordState: add.fields would add %q, which the row already has", a.ref.out)
			}
			ns.Fields = append(ns.Fields, connect.Field{Name: a.ref.out, Schema: a.schema})
		}
		return ns, nil
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	copy(out.Values, sv.Values)
	for j, a := range adds {
		out.Values[len(sv.Values)+j] = a.value
	}
	c.ValueSchema, c.Value = ns, out
	return c, nil
}

// appendField adds one field with a value to the row struct or map.
func (t *ExtractNewRecordState) appendField(c *connect.Record, cache *schemaCache, name string, fs *connect.Schema, v any) (*connect.Record, error) {
	if c.ValueSchema == nil {
		m, ok := c.Value.(map[string]any)
		if !ok {
			return c, nil // a non-map row (MongoDB strings) is left as is, as Debezium does
		}
		out := copyMap(m)
		out[name] = v
		c.Value = out
		return c, nil
	}
	sv, ok := c.Value.(*connect.StructValue)
	if !ok || c.ValueSchema.Type != connect.Struct {
		return c, nil
	}
	ns, err := cache.get(c.ValueSchema, func(s *connect.Schema) (*connect.Schema, error) {
		if _, _, dup := s.Field(name); dup {
			return nil, fmt.Errorf("ExtractNewRecordState: the row already has a field %q", name)
		}
		ns := copyBasics(s, connect.Struct)
		ns.Fields = append(append(ns.Fields, s.Fields...), connect.Field{Name: name, Schema: fs})
		return ns, nil
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	copy(out.Values, sv.Values)
	out.Values[len(sv.Values)] = v
	c.ValueSchema, c.Value = ns, out
	return c, nil
}

// dropFields removes the fields listed in the drop.fields.header.name header.
func (t *ExtractNewRecordState) dropFields(c *connect.Record) (*connect.Record, error) {
	if t.dropHeader == "" {
		return c, nil
	}
	h, ok := c.Header(t.dropHeader)
	if !ok || h.Value == nil {
		return c, nil
	}
	var names []string
	switch x := h.Value.(type) {
	case []any:
		for _, n := range x {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
	case []string:
		names = x
	case string:
		names = splitList(x)
	default:
		return nil, fmt.Errorf("ExtractNewRecordState: header %q must hold a list of field names, got %T", t.dropHeader, h.Value)
	}
	if len(names) == 0 {
		return c, nil
	}
	drop := listSet(names)
	var err error
	if c.ValueSchema, c.Value, err = t.dropFrom(c.ValueSchema, c.Value, drop); err != nil {
		return nil, err
	}
	if t.dropFromKey && c.Key != nil {
		if c.KeySchema, c.Key, err = t.dropFrom(c.KeySchema, c.Key, drop); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (t *ExtractNewRecordState) dropFrom(s *connect.Schema, v any, drop map[string]bool) (*connect.Schema, any, error) {
	if s == nil {
		m, ok := v.(map[string]any)
		if !ok {
			return s, v, nil
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			if !drop[k] {
				out[k] = x
			}
		}
		return nil, out, nil
	}
	sv, ok := v.(*connect.StructValue)
	if !ok || s.Type != connect.Struct {
		return s, v, nil
	}
	ns := copyBasics(s, connect.Struct)
	out := &connect.StructValue{Schema: ns}
	for i, f := range s.Fields {
		if drop[f.Name] && (!t.dropKeepCompatible || f.Schema.Optional) {
			continue
		}
		ns.Fields = append(ns.Fields, f)
		out.Values = append(out.Values, sv.Values[i])
	}
	return ns, out, nil
}

package registry

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// JSON Schema compatibility: a reader schema is compatible with a writer
// schema when every document valid under the writer is valid under the
// reader. The check is structural and conservative (a subset of Confluent's
// JSON Schema diff rules): it walks both schemas side by side and reports each
// place where the reader is stricter. Error types use Confluent's names.
//
// Covered: boolean schemas; type (integer widens to number); enum and const;
// string length and pattern; number bounds and multipleOf; array items,
// length and uniqueness; object properties, required, additionalProperties
// (open vs closed content model), property counts; local $ref (#/...);
// anyOf/oneOf (every writer branch must be read by a reader branch); allOf
// and not are compared for equality. References to other registered schemas
// are compared by their $ref text.

type jsonChecker struct {
	rRoot, wRoot any
	inProgress   map[[2]string]bool
	out          []string
}

func jsonCompatible(reader, writer any) []string {
	c := &jsonChecker{rRoot: reader, wRoot: writer, inProgress: map[[2]string]bool{}}
	c.check(reader, writer, "#/")
	return c.out
}

func (c *jsonChecker) fail(kind, path, format string, args ...any) {
	c.out = append(c.out, fmt.Sprintf("{errorType:'%s', description:'%s', path:'%s'}", kind, fmt.Sprintf(format, args...), path))
}

// resolveRef follows local $refs ("#/..."); others are left in place.
func resolveRef(root, s any) any {
	for range 32 {
		m, ok := s.(map[string]any)
		if !ok {
			return s
		}
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#") {
			return s
		}
		t, ok := jsonPointer(root, strings.TrimPrefix(ref, "#"))
		if !ok {
			return s
		}
		s = t
	}
	return s
}

// nodeID identifies a schema node: maps by address, the rest by value.
func nodeID(s any) string {
	if m, ok := s.(map[string]any); ok {
		return fmt.Sprintf("%p", m)
	}
	return fmt.Sprint(s)
}

func jsonPointer(root any, ptr string) (any, bool) {
	cur := root
	if ptr == "" {
		return cur, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// isAnything reports whether s accepts every document.
func isAnything(s any) bool {
	switch v := s.(type) {
	case bool:
		return v
	case map[string]any:
		for k := range v {
			switch k {
			case "$schema", "$id", "id", "title", "description", "$comment", "default", "examples", "$defs", "definitions":
			default:
				return false
			}
		}
		return true
	}
	return false
}

func (c *jsonChecker) check(r, w any, path string) {
	r, w = resolveRef(c.rRoot, r), resolveRef(c.wRoot, w)
	key := [2]string{nodeID(r), nodeID(w)}
	if c.inProgress[key] {
		return // recursive schemas: assume compatible while the outer check runs
	}
	c.inProgress[key] = true
	defer delete(c.inProgress, key)

	if isAnything(r) {
		return
	}
	if wb, ok := w.(bool); ok && !wb {
		return // the writer accepts nothing
	}
	if rb, ok := r.(bool); ok && !rb {
		c.fail("SCHEMA_NARROWED", path, "the new schema accepts no document")
		return
	}
	rm, _ := r.(map[string]any)
	wm, ok := w.(map[string]any)
	if !ok {
		wm = map[string]any{} // writer true: anything
	}

	// External references: compare the text.
	if rref, ok := rm["$ref"].(string); ok {
		if wref, _ := wm["$ref"].(string); wref != rref {
			c.fail("REFERENCE_CHANGED", path, "the reference changed from '%s' to '%s'", wref, rref)
		}
		return
	}

	// Combined schemas.
	for _, comb := range []string{"anyOf", "oneOf"} {
		if rbs, ok := rm[comb].([]any); ok {
			wbs, ok := wm["anyOf"].([]any)
			if !ok {
				wbs, ok = wm["oneOf"].([]any)
			}
			if !ok {
				wbs = []any{stripKeys(wm, "anyOf", "oneOf")}
			}
			for i, wb := range wbs {
				if !slices.ContainsFunc(rbs, func(rb any) bool {
					sub := &jsonChecker{rRoot: c.rRoot, wRoot: c.wRoot, inProgress: c.inProgress}
					sub.check(rb, wb, path)
					return len(sub.out) == 0
				}) {
					c.fail("COMBINED_TYPE_SUBSCHEMAS_CHANGED", path+comb, "no branch of the new %s accepts branch %d of the old schema", comb, i)
				}
			}
			rm = stripKeys(rm, comb)
		} else if wbs, ok := wm[comb].([]any); ok {
			// Reader is not a union: every writer branch must be accepted.
			for _, wb := range wbs {
				c.check(rm, wb, path)
			}
			return
		}
	}
	for _, k := range []string{"allOf", "not", "if", "then", "else", "dependentSchemas", "dependencies", "patternProperties", "propertyNames", "contains", "prefixItems"} {
		if rv, ok := rm[k]; ok && !reflect.DeepEqual(rv, wm[k]) {
			c.fail("COMBINED_TYPE_CHANGED", path+k, "'%s' changed; only unchanged '%s' is considered compatible", k, k)
		}
	}

	// Types.
	rt, wt := typeSet(rm), typeSet(wm)
	if rt != nil {
		if wt == nil {
			c.fail("TYPE_NARROWED", path+"type", "the new schema restricts the type to %v where the old one allowed any type", keys(rt))
		} else {
			var lost []string
			for t := range wt {
				if !rt[t] && !(t == "integer" && rt["number"]) {
					lost = append(lost, t)
				}
			}
			if len(lost) > 0 {
				sort.Strings(lost)
				c.fail("TYPE_NARROWED", path+"type", "the new schema no longer accepts type %v", lost)
			}
		}
	}

	// enum and const.
	if re, ok := rm["enum"].([]any); ok {
		we, wok := wm["enum"].([]any)
		if cv, ok := wm["const"]; ok && !wok {
			we, wok = []any{cv}, true
		}
		if !wok {
			c.fail("ENUM_ARRAY_NARROWED", path+"enum", "the new schema adds an enum")
		} else {
			for _, v := range we {
				if !slices.ContainsFunc(re, func(x any) bool { return reflect.DeepEqual(x, v) }) {
					c.fail("ENUM_ARRAY_NARROWED", path+"enum", "the new enum lacks the value %s", jsonText(v))
				}
			}
		}
	}
	if rc, ok := rm["const"]; ok {
		wc, wok := wm["const"]
		we, eok := wm["enum"].([]any)
		if !(wok && reflect.DeepEqual(rc, wc) || eok && len(we) == 1 && reflect.DeepEqual(we[0], rc)) {
			c.fail("CONST_CHANGED", path+"const", "the new schema requires the constant %s", jsonText(rc))
		}
	}

	// Strings, numbers, arrays, objects: bounds that may only widen.
	c.upper(rm, wm, path, "maxLength", "MAX_LENGTH")
	c.lower(rm, wm, path, "minLength", "MIN_LENGTH")
	if rp, ok := rm["pattern"]; ok && !reflect.DeepEqual(rp, wm["pattern"]) {
		c.fail("PATTERN_CHANGED", path+"pattern", "the pattern changed to %s", jsonText(rp))
	}
	if rf, ok := rm["format"]; ok && !reflect.DeepEqual(rf, wm["format"]) {
		c.fail("FORMAT_CHANGED", path+"format", "the format changed to %s", jsonText(rf))
	}
	c.upper(rm, wm, path, "maximum", "MAXIMUM")
	c.lower(rm, wm, path, "minimum", "MINIMUM")
	c.upper(rm, wm, path, "exclusiveMaximum", "EXCLUSIVE_MAXIMUM")
	c.lower(rm, wm, path, "exclusiveMinimum", "EXCLUSIVE_MINIMUM")
	if rmo, ok := num(rm["multipleOf"]); ok {
		wmo, wok := num(wm["multipleOf"])
		if !wok || !isMultiple(wmo, rmo) {
			c.fail("MULTIPLE_OF_CHANGED", path+"multipleOf", "multipleOf %s does not divide the old multipleOf", jsonText(rm["multipleOf"]))
		}
	}
	c.upper(rm, wm, path, "maxItems", "MAX_ITEMS")
	c.lower(rm, wm, path, "minItems", "MIN_ITEMS")
	if u, _ := rm["uniqueItems"].(bool); u {
		if wu, _ := wm["uniqueItems"].(bool); !wu {
			c.fail("UNIQUE_ITEMS_ADDED", path+"uniqueItems", "the new schema requires unique items")
		}
	}
	if ri, ok := rm["items"]; ok {
		wi, wok := wm["items"]
		if !wok {
			wi = true
		}
		if _, tuple := ri.([]any); tuple || isSlice(wi) {
			if !reflect.DeepEqual(ri, wi) {
				c.fail("ITEMS_CHANGED", path+"items", "tuple items changed")
			}
		} else {
			c.check(ri, wi, path+"items/")
		}
	}
	c.upper(rm, wm, path, "maxProperties", "MAX_PROPERTIES")
	c.lower(rm, wm, path, "minProperties", "MIN_PROPERTIES")
	c.object(rm, wm, path)
}

func isSlice(v any) bool { _, ok := v.([]any); return ok }

// object applies the content-model rules to properties, required and
// additionalProperties.
func (c *jsonChecker) object(rm, wm map[string]any, path string) {
	rprops, _ := rm["properties"].(map[string]any)
	wprops, _ := wm["properties"].(map[string]any)
	radd, rhas := rm["additionalProperties"]
	wadd, whas := wm["additionalProperties"]
	if !rhas {
		radd = true
	}
	if !whas {
		wadd = true
	}
	names := make([]string, 0, len(rprops)+len(wprops))
	for n := range wprops {
		names = append(names, n)
	}
	for n := range rprops {
		if _, ok := wprops[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		rp, rok := rprops[n]
		wp, wok := wprops[n]
		ppath := path + "properties/" + n + "/"
		switch {
		case rok && wok:
			c.check(rp, wp, ppath)
		case wok: // removed in the reader: old values must fit additionalProperties
			if b, ok := radd.(bool); ok && !b {
				c.fail("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", ppath, "the property '%s' was removed from a closed content model", n)
			} else {
				c.check(radd, wp, ppath)
			}
		default: // added in the reader: old documents held whatever wadd allowed
			if b, ok := wadd.(bool); ok && !b {
				break
			}
			sub := &jsonChecker{rRoot: c.rRoot, wRoot: c.wRoot, inProgress: c.inProgress}
			sub.check(rp, wadd, ppath)
			if len(sub.out) > 0 {
				c.fail("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", ppath, "the property '%s' was added to an open content model, where old documents may hold any value under that name", n)
			}
		}
	}
	wreq := stringSet(wm["required"])
	for _, n := range stringList(rm["required"]) {
		if wreq[n] {
			continue
		}
		if p, ok := rprops[n].(map[string]any); ok {
			if _, hasDefault := p["default"]; hasDefault {
				continue // Confluent: a required property with a default is compatible
			}
		}
		c.fail("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", path+"required", "the property '%s' is now required", n)
	}
	// additionalProperties itself.
	switch {
	case isAnything(radd):
	case isFalse(wadd):
	case isFalse(radd):
		c.fail("ADDITIONAL_PROPERTIES_REMOVED", path+"additionalProperties", "the new schema closes the content model (additionalProperties false)")
	default:
		sub := &jsonChecker{rRoot: c.rRoot, wRoot: c.wRoot, inProgress: c.inProgress}
		sub.check(radd, wadd, path+"additionalProperties/")
		if len(sub.out) > 0 {
			c.fail("ADDITIONAL_PROPERTIES_NARROWED", path+"additionalProperties", "the new additionalProperties schema accepts fewer values")
		}
	}
}

func isFalse(v any) bool { b, ok := v.(bool); return ok && !b }

func (c *jsonChecker) upper(rm, wm map[string]any, path, key, kind string) {
	rv, ok := num(rm[key])
	if !ok {
		return
	}
	wv, wok := num(wm[key])
	if !wok {
		c.fail(kind+"_ADDED", path+key, "the new schema adds %s %s", key, jsonText(rm[key]))
	} else if rv < wv {
		c.fail(kind+"_DECREASED", path+key, "%s decreased from %s to %s", key, jsonText(wm[key]), jsonText(rm[key]))
	}
}

func (c *jsonChecker) lower(rm, wm map[string]any, path, key, kind string) {
	rv, ok := num(rm[key])
	if !ok {
		return
	}
	wv, wok := num(wm[key])
	if !wok {
		trivial := rv <= 0 && (key == "minLength" || key == "minItems" || key == "minProperties")
		if !trivial {
			c.fail(kind+"_ADDED", path+key, "the new schema adds %s %s", key, jsonText(rm[key]))
		}
	} else if rv > wv {
		c.fail(kind+"_INCREASED", path+key, "%s increased from %s to %s", key, jsonText(wm[key]), jsonText(rm[key]))
	}
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// isMultiple reports whether a is a multiple of b.
func isMultiple(a, b float64) bool {
	if b == 0 {
		return false
	}
	q := a / b
	if math.Abs(q-math.Round(q)) < 1e-9 {
		return true
	}
	ra, rb := new(big.Rat).SetFloat64(a), new(big.Rat).SetFloat64(b)
	if ra == nil || rb == nil {
		return false
	}
	return new(big.Rat).Quo(ra, rb).IsInt()
}

func typeSet(m map[string]any) map[string]bool {
	switch t := m["type"].(type) {
	case string:
		return map[string]bool{t: true}
	case []any:
		s := map[string]bool{}
		for _, x := range t {
			if xs, ok := x.(string); ok {
				s[xs] = true
			}
		}
		return s
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func stringList(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func stringSet(v any) map[string]bool {
	s := map[string]bool{}
	for _, x := range stringList(v) {
		s[x] = true
	}
	return s
}

func stripKeys(m map[string]any, ks ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !slices.Contains(ks, k) {
			out[k] = v
		}
	}
	return out
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

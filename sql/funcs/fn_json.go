package funcs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/sluicedata/sluice/sql/types"
)

// JSON text is kept as written where a function returns parts of its input
// (numbers keep their digits), compacted as Jackson prints it.

type jsonMember struct {
	key string
	raw json.RawMessage
}

// jsonObjectMembers parses s as an object, keeping member order; ok is
// false when s is not a JSON object.
func jsonObjectMembers(s string) ([]jsonMember, bool) {
	if !json.Valid([]byte(s)) {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []jsonMember
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		out = append(out, jsonMember{k.(string), raw})
	}
	return out, true
}

// jsonArrayElems parses s as an array; ok is false when s is not one.
func jsonArrayElems(s string) ([]json.RawMessage, bool) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "[") || !json.Valid([]byte(t)) {
		return nil, false
	}
	var out []json.RawMessage
	if err := json.Unmarshal([]byte(t), &out); err != nil {
		return nil, false
	}
	return out, true
}

func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// jsonPath is a parsed EXTRACTJSONFIELD path: object keys and array indexes.
type jsonPath []string

func parseJSONPath(p string) (jsonPath, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("invalid JSON path %q: it must start with $", p)
	}
	var out jsonPath
	s := p[1:]
	for s != "" {
		switch {
		case s[0] == '.':
			s = s[1:]
			i := strings.IndexAny(s, ".[")
			if i < 0 {
				i = len(s)
			}
			if i == 0 {
				return nil, fmt.Errorf("invalid JSON path %q: empty key", p)
			}
			out, s = append(out, s[:i]), s[i:]
		case s[0] == '[':
			j := strings.IndexByte(s, ']')
			if j < 0 {
				return nil, fmt.Errorf("invalid JSON path %q: missing ]", p)
			}
			k := strings.TrimSpace(s[1:j])
			if len(k) >= 2 && (k[0] == '\'' || k[0] == '"') && k[len(k)-1] == k[0] {
				k = k[1 : len(k)-1]
			}
			out, s = append(out, k), s[j+1:]
		default:
			return nil, fmt.Errorf("invalid JSON path %q at %q", p, s)
		}
	}
	return out, nil
}

// extract follows the path through doc; the result is nil when a step is
// missing, a string's text, or compact JSON ("null" for a JSON null, as
// ksqlDB prints Jackson's null node). The first JSON value of doc is
// validated (text after it is ignored, as Jackson's readTree does), then
// scanned without building a tree.
func (p jsonPath) extract(doc string) types.Value {
	i := skipWS(doc, 0)
	if i == len(doc) || !json.Valid([]byte(doc[i:skipValue(doc, i)])) {
		return nil
	}
	for _, step := range p {
		switch doc[i] {
		case '{':
			i = skipWS(doc, i+1)
			for {
				if doc[i] == '}' {
					return nil
				}
				end := skipValue(doc, i)
				key := doc[i+1 : end-1]
				if strings.IndexByte(key, '\\') >= 0 {
					_ = json.Unmarshal([]byte(doc[i:end]), &key)
				}
				i = skipWS(doc, skipWS(doc, end)+1) // past the colon
				if key == step {
					break
				}
				i = skipWS(doc, skipValue(doc, i))
				if doc[i] == ',' {
					i = skipWS(doc, i+1)
				}
			}
		case '[':
			idx, err := strconv.Atoi(step)
			if err != nil || idx < 0 {
				return nil
			}
			i = skipWS(doc, i+1)
			for n := 0; ; n++ {
				if doc[i] == ']' {
					return nil
				}
				if n == idx {
					break
				}
				i = skipWS(doc, skipValue(doc, i))
				if doc[i] == ',' {
					i = skipWS(doc, i+1)
				}
			}
		default:
			return nil
		}
	}
	raw := doc[i:skipValue(doc, i)]
	switch {
	case raw[0] == '"':
		if strings.IndexByte(raw, '\\') < 0 {
			return raw[1 : len(raw)-1]
		}
		var s string
		if json.Unmarshal([]byte(raw), &s) != nil {
			return nil
		}
		return s
	case strings.ContainsAny(raw, " \t\r\n"):
		return compactJSON([]byte(raw))
	}
	return raw
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index after the value starting at i in valid JSON.
func skipValue(s string, i int) int {
	switch s[i] {
	case '"':
		for i++; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return i
	case '{', '[':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			case '"':
				i = skipValue(s, i) - 1
			}
		}
		return i
	}
	for i < len(s) && strings.IndexByte(",}] \t\r\n", s[i]) < 0 {
		i++
	}
	return i
}

func jsonFunctions() []Function {
	arrayContains := func(a []types.Value) (types.Value, error) {
		if a[0] == nil {
			return false, nil
		}
		elems, ok := jsonArrayElems(a[0].(string))
		if !ok {
			return false, nil
		}
		for _, e := range elems {
			if jsonElemEquals(bytes.TrimSpace(e), a[1]) {
				return true, nil
			}
		}
		return false, nil
	}
	var containsVariants []Variant
	for _, t := range []Pattern{PBoolean, PInt, PBigint, PDouble, PString} {
		containsVariants = append(containsVariants, V(PBoolean, lenient(arrayContains), P("jsonArray", PString), P("value", t)))
	}
	return []Function{
		fn("EXTRACTJSONFIELD", CatJSON, "Extracts the value at a JSONPath ($.a.b, $.a[0], $['a']) from a JSON string, as a STRING (a JSON string's text, other values as JSON); NULL when absent or the input is not JSON.",
			V(PString, func(in []types.Type, out types.Type) EvalFunc {
				var paths sync.Map // path text -> jsonPath, per call site
				return strict(func(a []types.Value) (types.Value, error) {
					ps := a[1].(string)
					if p, ok := paths.Load(ps); ok {
						return p.(jsonPath).extract(a[0].(string)), nil
					}
					path, err := parseJSONPath(ps)
					if err != nil {
						return nil, err
					}
					paths.Store(ps, path)
					return path.extract(a[0].(string)), nil
				})(in, out)
			}, P("json", PString), P("path", PString))),
		fn("IS_JSON_STRING", CatJSON, "Returns whether a string parses as a JSON value.",
			V(PBoolean, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return false, nil
				}
				s := strings.TrimSpace(a[0].(string))
				return s != "" && json.Valid([]byte(s)), nil
			}), P("json", PString))),
		fn("JSON_ARRAY_CONTAINS", CatJSON, "Returns whether a JSON array string contains a value of the same JSON type; false when it is not a JSON array.", containsVariants...),
		fn("JSON_ARRAY_LENGTH", CatJSON, "Returns the length of a JSON array string; NULL when it is not a JSON array.",
			V(PInt, strict(func(a []types.Value) (types.Value, error) {
				elems, ok := jsonArrayElems(a[0].(string))
				if !ok {
					return nil, nil
				}
				return int32(len(elems)), nil
			}), P("json", PString))),
		fn("JSON_CONCAT", CatJSON, "Concatenates JSON strings as PostgreSQL's || does: objects merge their keys (later win), anything else concatenates as arrays; NULL when one is NULL or not JSON.",
			VV(PString, lenient(jsonConcat), P("json", PString), P("jsons", PString))),
		fn("JSON_ITEMS", CatJSON, "Returns the elements of a JSON array string as JSON strings; NULL when it is not a JSON array.",
			V(ArrayP(PString), strict(func(a []types.Value) (types.Value, error) {
				elems, ok := jsonArrayElems(a[0].(string))
				if !ok {
					return nil, nil
				}
				out := make([]types.Value, len(elems))
				for i, e := range elems {
					out[i] = compactJSON(e)
				}
				return out, nil
			}), P("json", PString))),
		fn("JSON_KEYS", CatJSON, "Returns the top-level keys of a JSON object string; NULL when it is not a JSON object.",
			V(ArrayP(PString), strict(func(a []types.Value) (types.Value, error) {
				ms, ok := jsonObjectMembers(a[0].(string))
				if !ok {
					return nil, nil
				}
				out := make([]types.Value, len(ms))
				for i, m := range ms {
					out[i] = m.key
				}
				return out, nil
			}), P("json", PString))),
		fn("JSON_RECORDS", CatJSON, "Returns the top-level members of a JSON object string as a map of key to JSON text; NULL when it is not a JSON object.",
			V(MapP(PString), strict(func(a []types.Value) (types.Value, error) {
				ms, ok := jsonObjectMembers(a[0].(string))
				if !ok {
					return nil, nil
				}
				out := make(map[string]types.Value, len(ms))
				for _, m := range ms {
					out[m.key] = compactJSON(m.raw)
				}
				return out, nil
			}), P("json", PString))),
		fn("TO_JSON_STRING", CatJSON, "Returns the JSON text of any value.",
			V(PString, lenient(func(a []types.Value) (types.Value, error) {
				var b strings.Builder
				writeJSON(&b, a[0])
				return b.String(), nil
			}), P("value", Var("T")))),
	}
}

// jsonElemEquals compares a top-level JSON array element with a SQL value
// of the same JSON type only (ksqlDB: 3 does not match 3.0).
func jsonElemEquals(e []byte, v types.Value) bool {
	s := string(e)
	switch x := v.(type) {
	case nil:
		return s == "null"
	case bool:
		return s == strconv.FormatBool(x)
	case int32, int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return false
		}
		if i, ok := x.(int32); ok {
			return n == int64(i)
		}
		return n == x.(int64)
	case float64:
		if !strings.ContainsAny(s, ".eE") {
			return false
		}
		f, err := strconv.ParseFloat(s, 64)
		return err == nil && f == x
	case string:
		var str string
		return len(e) > 0 && e[0] == '"' && json.Unmarshal(e, &str) == nil && str == x
	}
	return false
}

func jsonConcat(a []types.Value) (types.Value, error) {
	var docs []json.RawMessage
	allObjects := true
	for _, v := range a {
		if v == nil {
			return nil, nil
		}
		t := bytes.TrimSpace([]byte(v.(string)))
		if len(t) == 0 || !json.Valid(t) {
			return nil, nil
		}
		allObjects = allObjects && t[0] == '{'
		docs = append(docs, t)
	}
	var b strings.Builder
	if allObjects {
		var keys []string
		vals := map[string]json.RawMessage{}
		for _, d := range docs {
			ms, _ := jsonObjectMembers(string(d))
			for _, m := range ms {
				if _, seen := vals[m.key]; !seen {
					keys = append(keys, m.key)
				}
				vals[m.key] = m.raw
			}
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, k)
			b.WriteByte(':')
			b.WriteString(compactJSON(vals[k]))
		}
		b.WriteByte('}')
		return b.String(), nil
	}
	b.WriteByte('[')
	n := 0
	for _, d := range docs {
		elems := []json.RawMessage{d}
		if d[0] == '[' {
			elems, _ = jsonArrayElems(string(d))
		}
		for _, e := range elems {
			if n > 0 {
				b.WriteByte(',')
			}
			b.WriteString(compactJSON(e))
			n++
		}
	}
	b.WriteByte(']')
	return b.String(), nil
}

func writeJSONString(b *strings.Builder, s string) {
	enc, _ := json.Marshal(s)
	// encoding/json escapes <, > and & for HTML; Jackson does not.
	out := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(enc))
	b.WriteString(out)
}

// writeJSON writes v as Jackson writes ksqlDB values: dates, times and
// timestamps as ISO strings, bytes as base64, decimals as plain numbers,
// map keys sorted.
func writeJSON(b *strings.Builder, v types.Value) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case []byte:
		writeJSONString(b, base64.StdEncoding.EncodeToString(x))
	case types.DateVal, types.TimeVal, types.TimestampVal:
		writeJSONString(b, castString(x))
	case float64:
		if x != x || x-x != 0 { // NaN and infinities are strings in Jackson
			writeJSONString(b, javaDouble(x))
			return
		}
		b.WriteString(javaDouble(x))
	case []types.Value:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]types.Value:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, x[k])
		}
		b.WriteByte('}')
	case types.StructVal:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, f.Name)
			b.WriteByte(':')
			writeJSON(b, f.Value)
		}
		b.WriteByte('}')
	default:
		b.WriteString(castString(x))
	}
}

package registry

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Schema types, as Confluent names them in "schemaType".
const (
	TypeAvro     = "AVRO"
	TypeJSON     = "JSON"
	TypeProtobuf = "PROTOBUF"
)

// Reference names another registered schema that a schema depends on.
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// resolvedRef is a reference with the text of the schema it points to.
type resolvedRef struct {
	Reference
	Type string
	Text string
}

// parsed is a schema that parsed and can be compared with others.
type parsed interface {
	// compatible lists why a reader with this schema cannot read data
	// written with writer; empty means it can.
	compatible(writer parsed) []string
}

func (a *avroSchema) compatible(writer parsed) []string {
	w, ok := writer.(*avroSchema)
	if !ok {
		return []string{"the old schema is not an Avro schema"}
	}
	var out []string
	for _, i := range avroCompatible(a.s, w.s) {
		out = append(out, i.String())
	}
	return out
}

// normType returns the canonical schemaType ("" means AVRO).
func normType(t string) string {
	if t == "" {
		return TypeAvro
	}
	return strings.ToUpper(t)
}

// parseSchema parses text of the given type; refs are its resolved
// references, dependencies first.
func parseSchema(typ, text string, refs []resolvedRef) (parsed, error) {
	switch typ {
	case TypeAvro:
		return parseAvro(text, refs)
	case TypeJSON:
		return parseJSONSchema(text, refs)
	case TypeProtobuf:
		return parseProtobuf(text, refs)
	}
	return nil, fmt.Errorf("unknown schema type %q", typ)
}

// canonicalText is the text the registry stores and returns: the JSON with
// insignificant whitespace removed (key order kept). With normalize, keys are
// also sorted, so that texts differing only in layout share an id.
func canonicalText(typ, text string, normalize bool) (string, error) {
	if typ == TypeProtobuf {
		return strings.TrimSpace(text), nil
	}
	if normalize {
		d := json.NewDecoder(strings.NewReader(text))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return "", err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil {
		// A bare Avro primitive name such as `string` without quotes is not
		// JSON; the parser decides whether it is valid.
		return strings.TrimSpace(text), nil
	}
	return buf.String(), nil
}

// schemaHash is the dedup key of a schema: same type, text and references
// mean the same id.
func schemaHash(typ, text string, refs []Reference, metadata, ruleSet []byte) string {
	h := md5.New()
	fmt.Fprintf(h, "%s\x00%s\x00", typ, text)
	for _, r := range refs {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", r.Name, r.Subject, r.Version)
	}
	fmt.Fprintf(h, "\x00%s\x00%s", canonicalJSON(metadata), canonicalJSON(ruleSet))
	return hex.EncodeToString(h.Sum(nil))
}

// compactObject checks that raw is a JSON object (or absent/null, returned
// as nil) and removes insignificant whitespace.
func compactObject(raw json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, nil
	}
	if t[0] != '{' {
		return nil, fmt.Errorf("want a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, t); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// canonicalJSON re-encodes raw JSON with sorted keys and no HTML escaping,
// so that equal documents compare equal whoever wrote them.
func canonicalJSON(raw []byte) []byte {
	if len(raw) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return raw
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return raw
	}
	return buf.Bytes()
}

// guidOf is the GUID of a schema: its dedup hash (type, text, references,
// metadata, rule set) formatted as a UUID, so that the same schema has the
// same GUID on every node and across restarts, and a GUID names the whole
// schema envelope as Confluent's do. The version nibble says 3 (name-based,
// MD5), the variant bits RFC 4122.
func guidOf(hash string) string {
	b, err := hex.DecodeString(hash)
	if err != nil || len(b) < 16 {
		return ""
	}
	b[6] = b[6]&0x0f | 0x30
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
